"""Normalised values of clinical details: pure functions from attribute text to data.

Each `normalize_*` function takes the text of one attribute span and returns a JSON-serializable
dict, or None when the text does not parse. Nothing is guessed: a value whose unit is not a unit
that `pint` understands (with the clinical units defined in `unit_registry`), or that has words
left over that are not part of a known pattern, gives None and stays text (`span.text`).

- VALUE, DOSE: `{"value": 8.2, "unit": "g/dL"}`; ranges `{"low": 5, "high": 10, "unit": "mg"}`;
  a comparator as in "<0.5 mg/dL" adds `"comparator": "<"`; blood pressure "150/90 mmHg" gives
  `{"systolic": 150, "diastolic": 90, "unit": "mmHg"}`. A DOSE may carry its frequency
  ("80 mg daily" adds `"per_day": 1.0`).
- FREQUENCY: `{"per_day": 2.0}` (BID), `{"per_day": 4.0}` (q6h), `{"per_day": 0.5}` (every other
  day); PRN adds `"as_needed": True` (alone, it has no rate).
- DURATION: `{"value": 2, "unit": "week"}`.
- ROUTE: `{"route": "oral"}` from a fixed vocabulary (`ROUTES`).

Units are written in clinical notation ("µg", "mmHg", "10^9/L") and every one parses with
`unit_registry().parse_expression(unit)`.
"""
import re
from functools import lru_cache
from typing import Callable, Dict, Optional, Tuple

import pint

# Clinical units pint lacks. Counts are dimensionless; "unit" is a dose unit (insulin, blood
# products), kept apart from pint's enzyme unit "U" (µmol/min) that lab values use.
CLINICAL_UNITS = (
    "beat = count",
    "breath = count",
    "cell = count",
    "tablet = count = tab",
    "capsule = count = cap",
    "puff = count",
    "drop = count = gtt",
    "unit = [dose_unit]",
    "international_unit = [international_unit] = IU",
    "equivalent = mole = Eq",
)

# Unit spellings -> the unit written in the output (all lower-cased keys are matched
# case-insensitively; pint parses the rest case-sensitively, so "mg" is never "Mg").
UNIT_ALIASES: Dict[str, str] = {
    "mcg": "µg", "μg": "µg", "ug": "µg", "mcgs": "µg", "microgram": "µg", "micrograms": "µg",
    "mg": "mg", "milligram": "mg", "milligrams": "mg", "gram": "g", "grams": "g", "gm": "g",
    "mm hg": "mmHg", "mmhg": "mmHg", "cc": "mL", "ml": "mL", "cmh2o": "cmH2O", "cm h2o": "cmH2O",
    "bpm": "beat/min", "beats per minute": "beat/min", "beats/min": "beat/min", "beats/minute": "beat/min",
    "breaths per minute": "breath/min", "breaths/min": "breath/min", "breaths/minute": "breath/min",
    "tab": "tablet", "tabs": "tablet", "tablets": "tablet", "caps": "capsule", "capsules": "capsule",
    "puffs": "puff", "drops": "drop", "units": "unit", "iu": "IU", "u": "unit",
    "°f": "°F", "degrees f": "°F", "°c": "°C", "degrees c": "°C", "ºc": "°C", "ºf": "°F",
    "percent": "%", "meq/l": "mEq/L", "mmol/l": "mmol/L", "mg/dl": "mg/dL", "g/dl": "g/dL",
    "g/l": "g/L", "u/l": "U/L", "iu/l": "IU/L", "ng/ml": "ng/mL", "pg/ml": "pg/mL", "µmol/l": "µmol/L",
    "μmol/l": "µmol/L", "umol/l": "µmol/L", "mg/l": "mg/L", "ml/min": "mL/min", "fl": "fL",
}
# "×10^9/L", "x 10E9/L", "×109/L" (the superscript lost in PubMed text, accepted only for the
# exponents labs use) -> "10^9/L".
_SCALED = re.compile(r"^[x×*]\s*10\s*(?:\^|e|E|\*\*)?\s*(3|6|9|12|⁹|⁶|³|¹²)\s*(/\s*\w+)$")
_SUPERSCRIPTS = {"⁹": "9", "⁶": "6", "³": "3", "¹²": "12"}

_COUNTED_UNITS = {"tablet", "capsule", "puff", "drop", "unit"}
_VULGAR = {"½": 0.5, "¼": 0.25, "¾": 0.75, "⅓": 1 / 3, "⅔": 2 / 3, "⅛": 0.125}
_WORD_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "single": 1, "once": 1, "twice": 2, "thrice": 3,
}
_NUMBER = r"(?:\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)"
_FRACTION = rf"(?:\d+\s*[½¼¾⅓⅔⅛]|[½¼¾⅓⅔⅛]|\d+/\d+|{_NUMBER})"
_RANGE = re.compile(rf"^(?P<cmp>[<>≤≥]=?)?\s*(?P<low>{_FRACTION})(?:\s*(?:-|–|—|to)\s*(?P<high>{_FRACTION}))?\s*(?P<rest>.*)$")
_PRESSURE = re.compile(r"^(?P<sys>\d{2,3})\s*/\s*(?P<dia>\d{2,3})\s*(?P<rest>.*)$")
_DOSE_LEADS = re.compile(r"^(?:(?:a |the )?(?:daily |total |maximum |single )?dose (?:of )?|total of |up to )", re.I)


@lru_cache(maxsize=1)
def unit_registry() -> pint.UnitRegistry:
    """The pint registry with the clinical units defined; built once (it takes about a second)."""
    registry = pint.UnitRegistry()
    for definition in CLINICAL_UNITS:
        registry.define(definition)
    return registry


def parse_number(text: str) -> Optional[float]:
    """A number: "8.2", "1,000", "½", "1 ½", "1/2", "two"; None if the text is not one."""
    text = text.strip().lower()
    if text in _WORD_NUMBERS:
        return float(_WORD_NUMBERS[text])
    if text and text[-1] in _VULGAR:
        whole = text[:-1].strip()
        if whole and not whole.isdigit():
            return None
        return (float(whole) if whole else 0.0) + _VULGAR[text[-1]]
    if re.fullmatch(r"\d+/\d+", text):
        numerator, denominator = (int(x) for x in text.split("/"))
        # A fraction of a tablet or a dose ("1/2 tab"), never a ratio such as 150/90.
        return numerator / denominator if 0 < numerator < denominator <= 10 else None
    if re.fullmatch(_NUMBER, text):
        return float(text.replace(",", ""))
    return None


def normalize_unit(text: str) -> Optional[str]:
    """The clinical spelling of a unit if pint understands it, else None ("g/dl" -> "g/dL")."""
    text = re.sub(r"\s+", " ", text.strip().rstrip(".,;:)"))
    if not text:
        return None
    scaled = _SCALED.match(text)
    if scaled:
        exponent = _SUPERSCRIPTS.get(scaled.group(1), scaled.group(1))
        text = f"10^{exponent}{scaled.group(2).replace(' ', '')}"
    unit = UNIT_ALIASES.get(text.lower(), text)
    # Inside compound units too: "mcg/kg/min" and Greek "μg/kg" -> "µg/kg/min", "µg/kg".
    unit = re.sub(r"^(?:mcg|ug|μg)(?=/)", "µg", unit.replace("μ", "µ"))
    # Spaces would make pint multiply words ("mg a day" = mg * year * day): multi-word units
    # come only from the alias table.
    if " " in unit:
        return None
    unit = re.sub(r"(?<=[a-zA-Z])([23])$", r"^\1", unit)  # "mg/m2" -> "mg/m^2", "/mm3" -> "/mm^3"
    try:
        unit_registry().parse_expression(unit)
    except Exception:  # pint raises several error types for text that is not a unit
        return None
    return unit


def _split_unit(rest: str) -> Tuple[Optional[str], str]:
    """Split "mg PO daily" into ("mg", "PO daily"); the longest alias wins, else the first word."""
    words = rest.split()
    for size in (3, 2):
        if len(words) >= size and " ".join(words[:size]).lower() in UNIT_ALIASES:
            return normalize_unit(" ".join(words[:size])), " ".join(words[size:])
    if not words:
        return None, ""
    scaled = re.match(r"^([x×*]\s*10\s*\S*?/\s*\w+)\s*(.*)$", rest)
    if scaled:
        return normalize_unit(scaled.group(1)), scaled.group(2)
    return normalize_unit(words[0]), " ".join(words[1:])


def normalize_amount(text: str, allow_frequency: bool = False, pressure: bool = False) -> Optional[Dict]:
    """A number or range with a unit: a lab VALUE or a DOSE.

    text (str): The attribute text, e.g. "8.2 g/dL", "5-10 mg", "½ tab", "150/90 mmHg".
    allow_frequency (bool): Accept a trailing frequency ("80 mg daily"), as DOSE spans carry one.
    pressure (bool): Read a unitless "150/90" as mmHg (the value of a blood pressure test).
    RETURNS (Optional[Dict]): The value, or None if the text does not parse.
    """
    text = text.strip().rstrip(".,;:")
    text = _DOSE_LEADS.sub("", text) if allow_frequency else text
    bp = _PRESSURE.match(text)
    if bp:
        unit, rest = _split_unit(bp.group("rest"))
        if rest or not (unit == "mmHg" or (unit is None and pressure and not bp.group("rest"))):
            return None
        return {"systolic": float(bp.group("sys")), "diastolic": float(bp.group("dia")), "unit": "mmHg"}
    match = _RANGE.match(text)
    if not match:
        return None
    low = parse_number(match.group("low"))
    high = parse_number(match.group("high")) if match.group("high") else None
    if low is None or (match.group("high") and high is None):
        return None
    unit, rest = _split_unit(match.group("rest"))
    if unit is None:
        return None
    if "/" in match.group("low") + (match.group("high") or "") and unit not in _COUNTED_UNITS:
        return None  # "1/2 tab" is half a tablet; "3/4 mmHg" is not a pressure of 0.75
    result: Dict = {"value": low} if high is None else {"low": low, "high": high}
    result["unit"] = unit
    if match.group("cmp"):
        result["comparator"] = match.group("cmp")
    if rest:
        frequency = normalize_frequency(rest) if allow_frequency else None
        if frequency is None:
            return None
        result.update(frequency)
    return result


# Frequency phrases -> times per day. Matched on the whole lower-cased text, dots removed.
_FIXED_FREQUENCIES: Dict[str, float] = {
    **{k: 1.0 for k in ("daily", "qd", "od", "once daily", "once a day", "once per day", "every day", "per day", "a day",
                        "qam", "qpm", "qhs", "nightly", "at night", "at bedtime", "every morning", "every night",
                        "every evening", "each day", "once a day at bedtime", "q24h", "q24 h")},
    **{k: 2.0 for k in ("bid", "twice daily", "twice a day", "twice per day", "every 12 hours", "q12h")},
    **{k: 3.0 for k in ("tid", "thrice daily", "three times daily")},
    **{k: 4.0 for k in ("qid", "four times daily")},
    **{k: 0.5 for k in ("every other day", "qod", "alternate days", "on alternate days", "every second day")},
    **{k: 1 / 7 for k in ("weekly", "once weekly", "once a week", "every week", "per week", "qw", "qwk")},
    **{k: 2 / 7 for k in ("twice weekly", "twice a week", "biweekly")},
    **{k: 3 / 7 for k in ("thrice weekly", "three times weekly")},
}
_AS_NEEDED = re.compile(r"\s*\b(?:prn|as needed|when needed|if needed)\b\s*")
_EVERY_HOURS = re.compile(r"^(?:q|every)\s*(?P<n>\S+)\s*(?:h|hr|hrs|hour|hours)$")
_TIMES_PER = re.compile(r"^(?P<n>\S+)\s*(?:times|x)\s*(?:a|per|/|each)?\s*(?P<period>day|daily|week|weekly)$")
_EVERY_PERIOD = re.compile(r"^every\s+(?P<n>\S+)\s+(?P<period>days?|weeks?)$")
_DAYS = {"day": 1.0, "daily": 1.0, "days": 1.0, "week": 7.0, "weekly": 7.0, "weeks": 7.0}


def normalize_frequency(text: str) -> Optional[Dict]:
    """Times per day: "BID" -> {"per_day": 2.0}, "q6h" -> 4.0, "every other day" -> 0.5.

    "PRN" adds {"as_needed": True}; a frequency without a fixed rate ("monthly", "rarely")
    gives None.
    """
    text = re.sub(r"\s+", " ", text.lower().replace(".", "").strip(" ,;"))
    as_needed = bool(_AS_NEEDED.search(text))
    text = _AS_NEEDED.sub(" ", text).strip()
    per_day = _per_day(text) if text else None
    if per_day is None and not (as_needed and not text):
        return None
    result: Dict = {} if per_day is None else {"per_day": per_day}
    if as_needed:
        result["as_needed"] = True
    return result


def _per_day(text: str) -> Optional[float]:
    if text in _FIXED_FREQUENCIES:
        return _FIXED_FREQUENCIES[text]
    hours = _EVERY_HOURS.match(text)
    if hours:
        n = parse_number(hours.group("n"))
        return 24.0 / n if n else None
    times = _TIMES_PER.match(text)
    if times:
        n = parse_number(times.group("n"))
        return n / _DAYS[times.group("period")] if n else None
    every = _EVERY_PERIOD.match(text)
    if every:
        n = parse_number(every.group("n"))
        return 1.0 / (n * _DAYS[every.group("period")]) if n else None
    return None


_DURATION_UNITS = {"s": "second", "sec": "second", "min": "minute", "h": "hour", "hr": "hour", "d": "day", "wk": "week", "mo": "month", "yr": "year"}
_DURATION = re.compile(r"^(?:for |over |(?:the )?(?:last|past) )?(?P<n>.+?)[\s-]*(?P<unit>[a-z]+?)s?$")


def normalize_duration(text: str) -> Optional[Dict]:
    """A duration: "2 weeks" -> {"value": 2.0, "unit": "week"}; "for 10 days", "4-year", "two day"."""
    match = _DURATION.match(re.sub(r"\s+", " ", text.lower().strip(" .,;")))
    if not match:
        return None
    unit = _DURATION_UNITS.get(match.group("unit"), match.group("unit"))
    value = parse_number(match.group("n"))
    if value is None or unit not in ("second", "minute", "hour", "day", "week", "month", "year"):
        return None
    return {"value": value, "unit": unit}


# Route spellings -> the fixed vocabulary.
ROUTES: Dict[str, str] = {
    **{k: "oral" for k in ("po", "p.o.", "oral", "orally", "by mouth", "per os", "per oral", "enteral")},
    **{k: "IV" for k in ("iv", "i.v.", "intravenous", "intravenously", "infusion", "infusions", "intravenous infusion",
                         "intravenous infusions", "continuous infusion", "iv infusion", "iv push", "bolus", "transfusion",
                         "transfusions", "intravenous injection", "intravenous bolus", "drip", "intravenous drip",
                         "intravenous guttae", "intravenously guttae")},
    **{k: "IM" for k in ("im", "i.m.", "intramuscular", "intramuscularly", "intramuscular injection")},
    **{k: "SC" for k in ("sc", "sq", "subq", "s.c.", "subcut", "subcutaneous", "subcutaneously", "subcutaneous injection")},
    **{k: "topical" for k in ("topical", "topically", "top", "cream", "ointment")},
    **{k: "inhaled" for k in ("inhaled", "inhalation", "inh", "nebulized", "nebulised", "via nebulizer", "inhaler")},
    **{k: "sublingual" for k in ("sl", "sublingual", "sublingually")},
    **{k: "rectal" for k in ("pr", "rectal", "rectally", "per rectum")},
    **{k: "transdermal" for k in ("transdermal", "td", "patch")},
    **{k: "intranasal" for k in ("intranasal", "nasal", "in", "intranasally")},
    **{k: "ophthalmic" for k in ("ophthalmic", "eye drops", "topical ophthalmic")},
    **{k: "intrathecal" for k in ("intrathecal", "intrathecally", "it")},
    **{k: "epidural" for k in ("epidural",)},
    **{k: "intravitreal" for k in ("intravitreal", "intravitreally")},
    **{k: "intra-arterial" for k in ("intra-arterial", "intraarterial", "ia")},
}
# Abbreviations that are ordinary words in other contexts: accepted only in upper case.
_UPPER_ONLY = {"in", "it", "top", "ia", "td", "pr", "sl", "im", "sc"}


def normalize_route(text: str) -> Optional[Dict]:
    """A route from the fixed vocabulary: "PO" -> {"route": "oral"}, "intravenously" -> "IV"."""
    key = re.sub(r"\s+", " ", text.strip(" .,;()")).lower()
    if key in _UPPER_ONLY and not text.strip(" .,;()").isupper():
        return None
    route = ROUTES.get(key)
    return {"route": route} if route else None


NORMALIZERS: Dict[str, Callable[[str], Optional[Dict]]] = {
    "VALUE": normalize_amount,
    "DOSE": lambda text: normalize_amount(text, allow_frequency=True),
    "FREQUENCY": normalize_frequency,
    "DURATION": normalize_duration,
    "ROUTE": normalize_route,
}


def normalize(label: str, text: str, test: Optional[str] = None) -> Optional[Dict]:
    """The normalised value of an attribute span, or None.

    label (str): DOSE, ROUTE, FREQUENCY, DURATION or VALUE.
    text (str): The span text.
    test (Optional[str]): The text of the TEST a VALUE belongs to; a blood pressure test lets a
        unitless "150/90" read as mmHg.
    """
    if label == "VALUE" and test is not None and is_blood_pressure(test):
        return normalize_amount(text, pressure=True)
    normalizer = NORMALIZERS.get(label)
    return normalizer(text) if normalizer else None


def is_blood_pressure(test: str) -> bool:
    return test.strip().lower().replace(".", "") in ("bp", "blood pressure", "arterial pressure", "arterial blood pressure", "sbp/dbp")

