"""Tests for the assertion evaluation (medical_context vs negspacy's Negex). Invented text."""
import json

import pytest

import spacy_medical.registry  # noqa: F401
from spacy_medical.evaluate.assertion import (
    DEV_PATH, compare, evaluate_assertion, format_table, read_dev_set, read_maccrobat_gold,
)
from spacy_medical.io.corpora import corpora_dir
from spacy_medical.labels import ASSERTIONS


def _span(text, phrase, **flags):
    start = text.index(phrase)
    return {"start": start, "end": start + len(phrase), "label": "SYMPTOM",
            **{q: flags.get(q, False) for q in ASSERTIONS}}


@pytest.fixture
def tiny_dev(tmp_path):
    rows = []
    for text, spans in [
        ("He does not take aspirin, has headache.", [("headache", {})]),
        ("Edema is absent.", [("Edema", {"negated": True})]),
        ("Denies fever, chills, or cough.", [(w, {"negated": True}) for w in ("fever", "chills", "cough")]),
    ]:
        rows.append({"text": text, "spans": [_span(text, p, **f) for p, f in spans]})
    rows.append({"text": "Diabetes.", "spans": [_span("Diabetes.", "Diabetes")], "section": "family_history"})
    rows[-1]["spans"][0]["family"] = True
    path = tmp_path / "dev.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf8")
    return path


def test_compare_beats_negex_on_hard_cases(tiny_dev):
    result = compare(read_dev_set(tiny_dev))
    ours, theirs = result["medical_context"], result["negspacy"]
    # Negex negates "headache" (scope to the sentence end) and misses "is absent".
    assert (ours["assertion_negated_p"], ours["assertion_negated_r"]) == (1.0, 1.0)
    assert theirs["assertion_negated_p"] == 0.75 and theirs["assertion_negated_r"] == 0.75
    assert ours["assertion_family_f"] == 1.0  # from the section
    assert "assertion_family_f" not in theirs
    assert result["counts"]["entities"] == 6 and result["counts"]["gold_negated"] == 4


def test_evaluate_assertion_writes_json(tiny_dev, tmp_path):
    out = tmp_path / "metrics" / "assertion.json"
    metrics = evaluate_assertion(tiny_dev, output=out, with_maccrobat=False, holdout_path=None)
    assert json.loads(out.read_text()) == metrics
    assert "| negated | 4 | medical_context | 1.000 | 1.000 | 1.000 |" in format_table(metrics)


def test_read_dev_set_names_bad_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "x", "spans": []}\n{"text": "y"}\n', encoding="utf8")
    with pytest.raises(ValueError, match="line 2"):
        read_dev_set(path)


def test_shipped_dev_set_is_valid():
    items = read_dev_set(DEV_PATH)
    assert len(items) >= 300
    for text, spans, _ in items:
        for start, end, label, _ in spans:
            assert 0 <= start < end <= len(text) and text[start:end].strip() == text[start:end]
            assert label in ("DISEASE", "SYMPTOM")
    for q in ASSERTIONS:
        assert sum(f[q] for _, spans, _ in items for *_, f in spans) >= 40, q


@pytest.mark.corpora
def test_maccrobat_gold_has_negations():
    if not (corpora_dir(required=False) / "maccrobat" / "brat").is_dir():
        pytest.skip("MACCROBAT not found under the corpora folder (set SPACY_MEDICAL_CORPORA)")
    items, counts = read_maccrobat_gold("test")
    assert counts["documents"] == 32
    assert sum(f["negated"] for _, spans, _ in items for *_, f in spans) > 50
