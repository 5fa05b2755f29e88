"""Tests for the checkpointable writers and the HTML report."""
import json

import pyarrow.parquet as pq
import pytest

from spacy_medical.io.render import render_report
from spacy_medical.io.writers import (
    ENTITY_COLUMNS, CsvWriter, ErrorsWriter, JsonlWriter, ParquetWriter, detect_output_format,
    entity_rows, neutralise_formula, note_row, output_paths,
)

OK = {
    "row": 1, "note_id": "A", "status": "ok", "flags": ["duplicate_id"],
    "entities": [
        {"text": "chest pain", "label": "SYMPTOM", "start_char": 7, "end_char": 17, "negated": True},
        {"text": "asthma", "label": "DISEASE", "start_char": 23, "end_char": 29, "negated": False},
    ],
    "sections": [], "summary": {"text": "Asthma; no chest pain.", "problems": [{"text": "asthma"}]},
    "model": "en_test", "model_version": "0.0.1",
}
EMPTY = dict(OK, row=2, note_id="B", flags=[], entities=[], summary=None)
FAILED = {"row": 3, "note_id": None, "status": "failed", "error": "x.csv, row 3 (line 4): field 'note_id' is missing or empty.", "flags": []}


def test_detect_output_format():
    assert [detect_output_format(p) for p in ("a.jsonl", "a.csv", "a.parquet")] == ["jsonl", "csv", "parquet"]
    assert detect_output_format("a.out", "csv") == "csv"
    with pytest.raises(ValueError, match="--output-format"):
        detect_output_format("a.txt")


def test_rows():
    rows = entity_rows(OK)
    assert [list(r) for r in rows] == [ENTITY_COLUMNS, ENTITY_COLUMNS]
    assert rows[0]["negated"] is True and rows[0]["uncertain"] is None and rows[1]["ent_index"] == 1
    assert note_row(EMPTY)["n_entities"] == 0 and note_row(EMPTY)["status"] == "ok"
    assert note_row(FAILED)["n_entities"] is None and note_row(FAILED)["status"] == "failed"
    assert note_row(OK)["flags"] == "duplicate_id"


def test_jsonl_checkpoint_truncates_on_resume(tmp_path):
    path = tmp_path / "o.jsonl"
    writer = JsonlWriter(path)
    writer.open()
    writer.write(OK)
    state = writer.checkpoint()
    writer.write(EMPTY)  # written after the checkpoint: lost in a crash, rewritten on resume
    writer.checkpoint()
    writer.close()
    resumed = JsonlWriter(path)
    resumed.open(state)
    resumed.write(EMPTY)
    resumed.close()
    assert [json.loads(line)["row"] for line in path.read_text().splitlines()] == [1, 2]
    with pytest.raises(ValueError, match="checkpoint"):
        JsonlWriter(tmp_path / "missing.jsonl").open({"offset": 10})


def test_errors_writer_fields(tmp_path):
    writer = ErrorsWriter(tmp_path / "e.jsonl")
    writer.open()
    writer.write(FAILED)
    writer.close()
    assert json.loads((tmp_path / "e.jsonl").read_text()) == {"row": 3, "note_id": None, "error": FAILED["error"]}


def test_csv_header_once_and_resume(tmp_path):
    path = tmp_path / "o.csv"
    writer = CsvWriter(path)
    writer.open()
    writer.write(OK)
    state = writer.checkpoint()
    writer.write_failed(FAILED)
    writer.close()
    resumed = CsvWriter(path)
    resumed.open(state)
    resumed.write(EMPTY)
    resumed.write_failed(FAILED)
    resumed.close()
    ents = path.read_text().splitlines()
    notes = output_paths(path, "csv")["notes"].read_text().splitlines()
    assert ents[0].startswith("row,note_id,ent_index,text,label") and len(ents) == 3
    assert [n.split(",")[0] for n in notes] == ["row", "1", "2", "3"]


def test_parquet_parts_and_resume(tmp_path):
    path = tmp_path / "o.parquet"
    writer = ParquetWriter(path)
    writer.open()
    writer.write(OK)
    state = writer.checkpoint()
    writer.write(EMPTY)
    writer.checkpoint()  # a part written after `state`: removed on resume
    resumed = ParquetWriter(path)
    resumed.open(state)
    resumed.write(EMPTY)
    resumed.write_failed(FAILED)
    assert resumed.checkpoint() == {"parts": 2}
    notes = pq.read_table(path / "notes").to_pylist()
    assert [n["row"] for n in notes] == [1, 2, 3]
    assert pq.read_table(path / "entities").num_rows == 2
    # A fresh run clears old parts.
    fresh = ParquetWriter(path)
    fresh.open()
    assert list((path / "notes").iterdir()) == []


def test_html_report_marks_negated_and_shows_summary(tmp_path):
    text = "Denies chest pain. Asthma."
    ok = dict(OK, entities=[dict(OK["entities"][0], start_char=7, end_char=17), dict(OK["entities"][1], text="Asthma", start_char=19, end_char=25)])
    render_report([{"text": text, "result": ok}, {"text": "", "result": EMPTY}], tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text()
    assert '<mark data-label="SYMPTOM" class="ent negated"' in page and "q-negated" in page
    assert '<mark data-label="DISEASE"' in page and "note B" in page and "Asthma; no chest pain." in page
    assert "units" not in page and "{" not in page.split("<body>")[1]  # readable text, no raw dicts
    assert (tmp_path / "r.html").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"])
def test_formula_cells_get_a_quote(cell):
    assert neutralise_formula(cell) == "'" + cell
    assert neutralise_formula("a" + cell) == "a" + cell and neutralise_formula(-1) == -1


def test_csv_writer_escapes_entity_text_and_errors(tmp_path):
    hostile = dict(OK, note_id="=cmd|' /C calc'!A0", entities=[dict(OK["entities"][0], text="+chest pain")])
    writer = CsvWriter(tmp_path / "o.csv")
    writer.open()
    writer.write(hostile)
    writer.write_failed(dict(FAILED, error="-error"))
    writer.close()
    ents, notes = (tmp_path / "o.csv").read_text(), (tmp_path / "o.notes.csv").read_text()
    assert ",'+chest pain," in ents and "'=cmd|" in ents and "'=cmd|" in notes and ",'-error," in notes


def test_parquet_writer_scrubs_lone_surrogates(tmp_path):
    writer = ParquetWriter(tmp_path / "o.parquet")
    writer.open()
    writer.write(dict(OK, note_id="A\ud83d", entities=[dict(OK["entities"][0], text="x\udfff")]))
    writer.checkpoint()
    assert pq.read_table(tmp_path / "o.parquet" / "notes").to_pylist()[0]["note_id"] == "A\ufffd"
    assert pq.read_table(tmp_path / "o.parquet" / "entities").to_pylist()[0]["text"] == "x\ufffd"
