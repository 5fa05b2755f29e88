"""The `spacy-medical annotate` and `demo` commands: exit codes and accounting line."""
from pathlib import Path

import pytest
from typer.testing import CliRunner

SAMPLE = Path(__file__).resolve().parents[2] / "corpus" / "sample_notes.csv"


@pytest.fixture(scope="module")
def app():
    from spacy_medical.cli import app

    return app


def test_annotate_exit_codes(app, tmp_path, tiny_model, hostile_csv):
    src = hostile_csv(tmp_path / "hostile.csv")
    runner = CliRunner()
    args = ["annotate", str(src), str(tmp_path / "o.jsonl"), "--model", str(tiny_model)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "read 14, annotated 11, failed 3" in result.output.replace("\n", " ")
    result = runner.invoke(app, args + ["--allow-failures", "--output-format", "csv", "--html", str(tmp_path / "r.html"), "--overwrite"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.html").exists() and (tmp_path / "o.notes.csv").read_text().count("\n") == 15
    # A job that cannot read its input fails before --overwrite deletes anything.
    before = (tmp_path / "o.jsonl").read_bytes()
    result = runner.invoke(app, args + ["--text-col", "body", "--overwrite"])
    assert result.exit_code == 2 and "--text-col" in result.output
    assert (tmp_path / "o.jsonl").read_bytes() == before


def test_demo_prints_entities_of_sample_notes(app, tiny_model):
    result = CliRunner().invoke(app, ["demo", str(SAMPLE), "--model", str(tiny_model)])
    assert result.exit_code == 0, result.output
    assert "note S001" in result.output and "note S012" in result.output
    assert "SYMPTOM" in result.output and "'chest pain'" in result.output


def test_sample_notes_are_a_dozen_with_sections():
    import csv

    with open(SAMPLE, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 12 and len({r["note_id"] for r in rows}) == 12
    assert sum("FAMILY HISTORY:" in r["text"] for r in rows) >= 3
    assert any("[doctor]" in r["text"] and "[patient]" in r["text"] for r in rows)
