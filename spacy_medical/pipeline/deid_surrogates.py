"""Surrogates for `medical_deid` in `surrogate` mode: realistic, consistent, keyed replacements.

Every choice is drawn from a random generator seeded with HMAC-SHA256(key, scope | label | original),
so the same original string gets the same surrogate within a patient (the scope), and the same
key gives the same surrogates in every run. Dates move by one offset per patient (so intervals
between dates stay true) and keep their written format. Without a key from the user, a random
key lives only in the process: nothing that could re-identify a surrogate is ever stored.
"""
import datetime
import hashlib
import hmac
import random
import re
from typing import List, Optional, Sequence, Tuple

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTH_WORD = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?", re.IGNORECASE)
_WEEKDAY_WORD = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*\b\.?", re.IGNORECASE)
_PLACE_ENDINGS = ("ville", "ton", "field", "port", "wood", "ford", "bury", "dale")
_STATES = ["CA", "NY", "TX", "FL", "IL", "WA", "GA", "NC", "VA", "AZ", "MI", "MN", "WI", "CT", "NJ"]
MAX_SHIFT_DAYS = 365


class Surrogates:
    """Keyed surrogate generator.

    key (bytes): The secret; the same key gives the same surrogates.
    first_names (Sequence[str]): Surrogate first names.
    last_names (Sequence[str]): Surrogate surnames.
    """

    def __init__(self, key: bytes, first_names: Sequence[str], last_names: Sequence[str]) -> None:
        self.key = key
        self.first_names = sorted(first_names)
        self.last_names = sorted(last_names)
        self._first_set = {name.lower() for name in first_names}

    def rng(self, *parts: str) -> random.Random:
        digest = hmac.new(self.key, "\x1f".join(parts).encode("utf-8"), hashlib.sha256).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def date_shift(self, scope: str) -> int:
        """Days every date of this patient moves by (never 0)."""
        shift = self.rng(scope, "date-shift").randint(1, MAX_SHIFT_DAYS)
        return shift if self.rng(scope, "date-sign").random() < 0.5 else -shift

    def replace(self, label: str, original: str, scope: str) -> str:
        """A surrogate for `original` (of PHI type `label`) within the patient `scope`."""
        if label == "NAME":
            return self.name(original, scope)
        if label == "DATE":
            return self.date(original, scope) or "[DATE]"
        if label == "AGE":
            # HIPAA safe harbour: ages of 90 and over are one category.
            return "90+"
        if label == "CONTACT":
            return self.contact(original, scope)
        if label == "LOCATION":
            return self.location(original, scope)
        return self.shape(original, self.rng(scope, label, original.lower()))

    def name(self, original: str, scope: str) -> str:
        words = re.split(r"([ ,.]+)", original)
        out = []
        for word in words:
            if not word or not word[0].isalpha() or len(word) == 1:
                out.append(word)
                continue
            rng = self.rng(scope, "NAME", word.lower())
            pool = self.first_names if word.lower() in self._first_set else self.last_names
            out.append(_same_case(rng.choice(pool), word))
        return "".join(out)

    def date(self, original: str, scope: str) -> Optional[str]:
        parsed = _parse_date(original)
        if parsed is None:
            return None
        year, month, day = parsed
        reference = datetime.date(year or 2000, month or 1, min(day or 15, 28 if not year and not month else 31))
        shifted = reference + datetime.timedelta(days=self.date_shift(scope))
        return _format_like(original, shifted, has_year=year is not None)

    def contact(self, original: str, scope: str) -> str:
        rng = self.rng(scope, "CONTACT", original.lower())
        if "@" in original:
            return f"{rng.choice(self.first_names).lower()}.{rng.choice(self.last_names).lower()}@example.org"
        if re.match(r"(?i)https?://|www\.", original):
            return f"https://example.org/{rng.randrange(16**6):06x}"
        return self.shape(original, rng)

    def location(self, original: str, scope: str) -> str:
        rng = self.rng(scope, "LOCATION", original.lower())
        if re.fullmatch(r"\d{5}(?:-\d{4})?", original):
            return self.shape(original, rng)
        if re.fullmatch(r"[A-Z]{2}", original):
            return rng.choice(_STATES)
        words = original.split()
        if original[:1].isdigit():
            return f"{rng.randint(1, 999)} {rng.choice(self.last_names)} {words[-1]}"
        if len(words) > 1:
            # Keep the kind of place ("... Clinic", "... Hospital"): it is not identifying.
            return f"{rng.choice(self.last_names)} {words[-1]}"
        return rng.choice(self.last_names) + rng.choice(_PLACE_ENDINGS)

    @staticmethod
    def shape(original: str, rng: random.Random) -> str:
        """Same shape: each digit a random digit, each letter a random letter of the same case."""
        out = []
        for char in original:
            if char.isdigit():
                out.append(str(rng.randrange(10)))
            elif char.isalpha() and char.isascii():
                letter = chr(ord("A") + rng.randrange(26))
                out.append(letter if char.isupper() else letter.lower())
            else:
                out.append(char)
        return "".join(out)


def _same_case(name: str, like: str) -> str:
    if like.isupper():
        return name.upper()
    if like.islower():
        return name.lower()
    return name


def _parse_date(text: str) -> Optional[Tuple[Optional[int], Optional[int], Optional[int]]]:
    """(year, month, day), each None when the text does not give it; None when unreadable."""
    month_match = _MONTH_WORD.search(text)
    numbers = [int(n) for n in re.findall(r"\d+", _WEEKDAY_WORD.sub("", text))]
    year = next((n for n in numbers if n >= 1900), None)
    small = [n for n in numbers if n < 100 and n != year]
    if re.fullmatch(r"\D*\d{4}-\d{1,2}-\d{1,2}\D*", text):
        month, day = small[0], small[1]
    elif month_match:
        month = [m[:3].lower() for m in MONTHS].index(month_match.group(1)[:3].lower()) + 1
        day = small[0] if small else None
    elif re.search(r"\d{1,2}\.\d{1,2}\.\d{4}", text):
        day, month = small[0], small[1]
    elif len(small) >= 2:
        month, day = small[0], small[1]
        if len(small) == 3 and year is None:
            year = 2000 + small[2] if small[2] < 50 else 1900 + small[2]
    elif len(small) == 1:
        month, day = None, small[0]
    else:
        return None
    try:
        datetime.date(year or 2000, month or 1, day or 1)
    except ValueError:
        return None
    return year, month, day


def _format_like(original: str, date: datetime.date, has_year: bool) -> str:
    """Write `date` in the format of `original`, replacing its parts in place."""
    text = _WEEKDAY_WORD.sub(lambda m: _same_case(WEEKDAYS[date.weekday()][: len(m.group(0).rstrip("."))], m.group(0)), original) if has_year else original
    month_match = _MONTH_WORD.search(text)
    if month_match:
        word = month_match.group(0)
        full = MONTHS[date.month - 1]
        new = full if len(word.rstrip(".")) > 3 else full[:3] + ("." if word.endswith(".") else "")
        text = text[: month_match.start()] + _same_case(new, word.rstrip(".") or word) + text[month_match.end():]
    parts: List[str] = []
    numbers = list(re.finditer(r"\d+", text))
    values = _number_values(text, numbers, date)
    last = 0
    for m, value in zip(numbers, values):
        parts.append(text[last : m.start()])
        parts.append(str(value).zfill(len(m.group(0))) if len(m.group(0)) == 2 or m.group(0).startswith("0") else str(value))
        last = m.end()
    parts.append(text[last:])
    return re.sub(r"(\d+)(st|nd|rd|th)\b", lambda m: m.group(1) + _ordinal_suffix(int(m.group(1))), "".join(parts))


def _ordinal_suffix(day: int) -> str:
    if 10 <= day % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _number_values(text: str, numbers: List[re.Match], date: datetime.date) -> List[int]:
    """The new value of each number in a date string, by the role it plays there."""
    raw = [int(m.group(0)) for m in numbers]
    if re.search(r"\d{4}-\d{1,2}-\d{1,2}", text):
        roles = ["year", "month", "day"]
    elif _MONTH_WORD.search(text):
        roles = ["year" if n >= 100 or len(m.group(0)) == 4 else "day" for n, m in zip(raw, numbers)]
    elif re.search(r"\d{1,2}\.\d{1,2}\.\d{4}", text):
        roles = ["day", "month", "year"]
    elif len(raw) == 1:
        roles = ["day"]
    else:
        roles = ["month", "day", "year"][: len(raw)]
    values = []
    for role, m in zip(roles, numbers):
        if role == "year":
            values.append(date.year if len(m.group(0)) == 4 else date.year % 100)
        else:
            values.append(getattr(date, role))
    return values
