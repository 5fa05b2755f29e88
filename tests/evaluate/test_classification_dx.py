"""Tests of the per-label classification report on hand-made scores."""
import pytest

from spacy_medical.evaluate.classification import choose_threshold, classification_report, report_markdown, selective_report

LABELS = ["A", "B", "C", "D"]
GOLD = ["A", "A", "B", "C"]
SCORES = [
    {"A": 0.9, "B": 0.05, "C": 0.03, "D": 0.02},  # right
    {"A": 0.3, "B": 0.4, "C": 0.2, "D": 0.1},  # wrong, A second
    {"A": 0.1, "B": 0.6, "C": 0.2, "D": 0.1},  # right
    {"A": 0.4, "B": 0.3, "C": 0.1, "D": 0.2},  # wrong, C fourth
]


def test_per_label_averages_top_k_and_confusion():
    report = classification_report(GOLD, SCORES, LABELS)
    assert report["accuracy"] == 0.5 and report["top3"] == 0.75
    assert report["per_label"]["A"] == {"p": 0.5, "r": 0.5, "f1": 0.5, "support": 2}
    assert report["per_label"]["B"] == {"p": 0.5, "r": 1.0, "f1": 0.6667, "support": 1}
    assert report["per_label"]["D"]["support"] == 0
    assert report["macro"]["f1"] == pytest.approx((0.5 + 0.6667 + 0 + 0) / 4, abs=1e-3)
    assert report["weighted"]["r"] == 0.5
    assert report["confusion"] == {"A": {"A": 1, "B": 1}, "B": {"B": 1}, "C": {"A": 1}}
    assert "| B | 0.50 | 1.00 | 0.67 | 1 |" in report_markdown(report)


def test_threshold_keeps_the_right_answers_and_reports_coverage():
    threshold = choose_threshold(GOLD, SCORES, keep=0.5)
    assert threshold == 0.9
    assert choose_threshold(GOLD, SCORES, keep=1.0) == 0.6
    assert selective_report(GOLD, SCORES, 0.5) == {"threshold": 0.5, "coverage": 0.5, "accuracy_when_suggesting": 1.0, "top3_when_suggesting": 1.0}
