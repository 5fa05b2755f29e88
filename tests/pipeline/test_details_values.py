"""Normalised values of clinical details (spacy_medical.pipeline.details_values)."""
import pytest

from spacy_medical.pipeline.details_values import (
    normalize,
    normalize_amount,
    normalize_duration,
    normalize_frequency,
    normalize_route,
    normalize_unit,
    parse_number,
    unit_registry,
)


@pytest.mark.parametrize("text,expected", [
    ("8.2 g/dL", {"value": 8.2, "unit": "g/dL"}),
    ("8.2g/dl", {"value": 8.2, "unit": "g/dL"}),
    ("140 mEq/L", {"value": 140.0, "unit": "mEq/L"}),
    ("100%", {"value": 100.0, "unit": "%"}),
    ("97.9°F", {"value": 97.9, "unit": "°F"}),
    ("36.5 °C", {"value": 36.5, "unit": "°C"}),
    ("85 beats per minute", {"value": 85.0, "unit": "beat/min"}),
    ("16 breaths/min", {"value": 16.0, "unit": "breath/min"}),
    ("1,000 cells/mm3", {"value": 1000.0, "unit": "cells/mm^3"}),
    ("2.3×109/L", {"value": 2.3, "unit": "10^9/L"}),
    ("2.5 x 10^9/L", {"value": 2.5, "unit": "10^9/L"}),
    ("164×109/L.", {"value": 164.0, "unit": "10^9/L"}),
    ("<0.5 mg/dL", {"value": 0.5, "unit": "mg/dL", "comparator": "<"}),
    ("150/90 mmHg", {"systolic": 150.0, "diastolic": 90.0, "unit": "mmHg"}),
    ("107/66 mm Hg", {"systolic": 107.0, "diastolic": 66.0, "unit": "mmHg"}),
    ("30–90 μmol/l", {"low": 30.0, "high": 90.0, "unit": "µmol/L"}),
])
def test_lab_values(text, expected):
    assert normalize("VALUE", text) == expected


@pytest.mark.parametrize("text,expected", [
    ("25 mg", {"value": 25.0, "unit": "mg"}),
    ("5-10 mg", {"low": 5.0, "high": 10.0, "unit": "mg"}),
    ("5 to 10 mg", {"low": 5.0, "high": 10.0, "unit": "mg"}),
    ("½ tab", {"value": 0.5, "unit": "tablet"}),
    ("1 ½ tablets", {"value": 1.5, "unit": "tablet"}),
    ("1/2 tab", {"value": 0.5, "unit": "tablet"}),
    ("44 μg", {"value": 44.0, "unit": "µg"}),
    ("25 mcg", {"value": 25.0, "unit": "µg"}),
    ("7 mcg/kg/min", {"value": 7.0, "unit": "µg/kg/min"}),
    ("7 μg/kg/min", {"value": 7.0, "unit": "µg/kg/min"}),
    ("100 mg/m2", {"value": 100.0, "unit": "mg/m^2"}),
    ("6 U", {"value": 6.0, "unit": "unit"}),
    ("10 units", {"value": 10.0, "unit": "unit"}),
    ("80–160 mg daily", {"low": 80.0, "high": 160.0, "unit": "mg", "per_day": 1.0}),
    ("12.5 mg two times a day", {"value": 12.5, "unit": "mg", "per_day": 2.0}),
    ("daily dose 80 mg", {"value": 80.0, "unit": "mg"}),
])
def test_doses(text, expected):
    assert normalize("DOSE", text) == expected


def test_micrograms_are_one_unit():
    assert normalize("DOSE", "25 mcg") == normalize("DOSE", "25 µg") == normalize("DOSE", "25 ug")


@pytest.mark.parametrize("text,per_day", [
    ("BID", 2.0), ("b.i.d.", 2.0), ("twice daily", 2.0), ("TID", 3.0), ("QID", 4.0), ("q.i.d.", 4.0),
    ("daily", 1.0), ("once a day", 1.0), ("qhs", 1.0), ("q6h", 4.0), ("q 8 h", 3.0), ("every 12 hours", 2.0),
    ("every other day", 0.5), ("QOD", 0.5), ("weekly", 1 / 7), ("3 times a week", 3 / 7), ("every 3 weeks", 1 / 21),
])
def test_frequency_per_day(text, per_day):
    assert normalize_frequency(text)["per_day"] == pytest.approx(per_day)


def test_as_needed():
    assert normalize_frequency("PRN") == {"as_needed": True}
    assert normalize_frequency("q4h prn") == {"per_day": 6.0, "as_needed": True}


@pytest.mark.parametrize("text,expected", [
    ("2 weeks", {"value": 2.0, "unit": "week"}), ("for 10 days", {"value": 10.0, "unit": "day"}),
    ("4 year", {"value": 4.0, "unit": "year"}), ("6-year", {"value": 6.0, "unit": "year"}),
    ("two day", {"value": 2.0, "unit": "day"}), ("3 months", {"value": 3.0, "unit": "month"}),
])
def test_durations(text, expected):
    assert normalize_duration(text) == expected


@pytest.mark.parametrize("text,route", [
    ("PO", "oral"), ("orally", "oral"), ("by mouth", "oral"), ("IV", "IV"), ("intravenously", "IV"),
    ("continuous infusion", "IV"), ("IM", "IM"), ("SC", "SC"), ("subcutaneously", "SC"), ("SQ", "SC"),
    ("topical", "topical"), ("inhaled", "inhaled"), ("SL", "sublingual"), ("IT", "intrathecal"),
])
def test_routes(text, route):
    assert normalize_route(text) == {"route": route}


@pytest.mark.parametrize("label,text", [
    # Malformed or unparseable values stay text: None, never a guess.
    ("VALUE", ""), ("VALUE", "negative"), ("VALUE", "elevated"), ("VALUE", "5 foo"), ("VALUE", "abc mg"),
    ("VALUE", "150/90"), ("VALUE", "12 mg a day"), ("VALUE", "1.2.3 mg/dL"), ("VALUE", "8.2"),
    ("VALUE", "3/4 mmHg"), ("VALUE", "×109/L"), ("VALUE", "5 × 107/L"),
    ("DOSE", "100 mg/m2 body surface area"), ("DOSE", "25 mg PO"), ("DOSE", "mg"), ("DOSE", "3/2 tablets"),
    ("DOSE", "5--10 mg"), ("DOSE", "1/2 mg"),
    ("FREQUENCY", "monthly"), ("FREQUENCY", "rarely"), ("FREQUENCY", "q0h"), ("FREQUENCY", ""),
    ("DURATION", "several days"), ("DURATION", "2 fortnights"), ("DURATION", "for a while"),
    ("ROUTE", "in"), ("ROUTE", "it"), ("ROUTE", "by magic"),
])
def test_unparseable_values_are_none(label, text):
    assert normalize(label, text) is None


def test_blood_pressure_without_unit_needs_a_bp_test():
    assert normalize("VALUE", "150/90", test="BP") == {"systolic": 150.0, "diastolic": 90.0, "unit": "mmHg"}
    assert normalize("VALUE", "150/90", test="blood pressure") is not None
    assert normalize("VALUE", "150/90", test="platelets") is None


@pytest.mark.parametrize("text,expected", [("8.2", 8.2), ("1,000", 1000.0), ("½", 0.5), ("1 ½", 1.5), ("1/2", 0.5), ("two", 2.0), ("150/90", None), ("x", None)])
def test_parse_number(text, expected):
    assert parse_number(text) == expected


def test_every_unit_written_parses_with_pint():
    registry = unit_registry()
    for text in ("8.2 g/dL", "85 bpm", "2.3×109/L", "44 μg", "½ tab", "6 U", "140 mEq/L", "98.6 °F", "1,000 cells/mm3"):
        unit = normalize_amount(text)["unit"]
        assert registry.parse_expression(unit) is not None
    assert normalize_unit("not-a-unit") is None
