"""scripts/metrics_table.py: the committed README, docs/results.md and docs/experiments.md are what it generates, and
it refuses to put runs scored with different components side by side."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def metrics_table():
    """The shared table helpers (scripts/table_format.py), which every side-by-side table goes through."""
    return load_script("table_format")


def test_the_committed_pages_are_what_the_script_writes():
    """Running it changes nothing: no table was typed or edited by hand, and no metrics file changed unseen."""
    result = subprocess.run([sys.executable, str(SCRIPTS / "metrics_table.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_page_without_its_markers_is_refused(tmp_path):
    sys.path.insert(0, str(SCRIPTS))
    try:
        generator = load_script("metrics_table")
    finally:
        sys.path.remove(str(SCRIPTS))
    assert generator.fill("a\n<!-- metrics:x:start -->\nold\n<!-- metrics:x:end -->\nb", "x", ["new"], tmp_path) == (
        "a\n<!-- metrics:x:start -->\nnew\n<!-- metrics:x:end -->\nb")
    with pytest.raises(SystemExit, match="no <!-- metrics:y:start -->"):
        generator.fill("a", "y", ["new"], tmp_path)


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
