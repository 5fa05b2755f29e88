"""scripts/metrics_table.py refuses to put runs scored with different components side by side."""
import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "metrics_table.py"


@pytest.fixture(scope="module")
def metrics_table():
    spec = importlib.util.spec_from_file_location("metrics_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def report(pipeline, disease_f):
    scores = {"ents_per_type": {"DISEASE": {"p": disease_f, "r": disease_f, "f": disease_f}}}
    corpus = {"pipeline": pipeline, "scores": scores, "merged": {"scores": scores}}
    return {"maccrobat": corpus, "bc5cdr": corpus, "ncbi": corpus}


def test_corpora_f_table_puts_arms_of_one_pipeline_side_by_side(metrics_table):
    pipeline = ["transformer", "ner"]
    rows = metrics_table.corpora_f_table("**Arms** (x):", (("a", report(pipeline, 0.5)), ("b", report(pipeline, 0.625))))
    assert "| ncbi | DISEASE | 50.0 | 62.5 |" in rows


def test_corpora_f_table_rejects_arms_scored_with_different_components(metrics_table):
    with_component = report(["transformer", "ner", "medical_abbreviations"], 0.6)
    with pytest.raises(ValueError, match="different pipelines"):
        metrics_table.corpora_f_table("**Arms** (x):", (("a", report(["transformer", "ner"], 0.5)), ("b", with_component)))


def test_reports_from_before_the_pipeline_was_recorded_are_not_checked(metrics_table):
    metrics_table.check_same_pipeline("**Arms** (x):", [{"scores": {}}, {"pipeline": ["tok2vec", "ner"], "scores": {}}])
    with pytest.raises(ValueError, match="different pipelines"):
        metrics_table.check_same_pipeline("**Arms** (x):", [{"pipeline": ["ner"]}, {"pipeline": ["tok2vec", "ner"]}])


def test_corpora_f_table_gives_the_mean_of_seeds(metrics_table):
    pipeline = ["transformer", "ner"]
    rows = metrics_table.corpora_f_table(
        "**Seeds** (x):", (("seed 0", report(pipeline, 0.5)), ("seed 1", report(pipeline, 0.625))), mean=True)
    assert rows[2] == "| corpus | label | seed 0 | seed 1 | mean |"
    assert "| bc5cdr | DISEASE, SYMPTOM merged | 50.0 | 62.5 | 56.2 |" in rows
