"""Tests for the streaming EMR export readers: every record yields one record or one error."""
import json

import pytest

from spacy_medical.io.exports import ExportReader, NoteRecord, detect_format, read_export


def test_hostile_csv_every_record_accounted(tmp_path, hostile_csv):
    HOSTILE_ROWS = hostile_csv.rows
    path = hostile_csv(tmp_path / "hostile.csv")
    records = list(read_export(path))
    assert [r.row for r in records] == list(range(1, len(HOSTILE_ROWS) + 1))
    for record, (_, note_id, ok, flag) in zip(records, HOSTILE_ROWS):
        assert record.ok is ok, (record.row, record.error)
        if ok:
            assert record.note_id == note_id
            assert isinstance(record.text, str)
            if flag:
                assert flag in record.flags, (record.row, record.flags)
        else:
            assert record.text is None
            assert str(path) in record.error and f"row {record.row}" in record.error
    assert sum(r.ok for r in records) == 11
    # The embedded CRLF is kept in the text, so offsets point into the exported text.
    assert records[0].text == "Patient denies chest pain.\r\nHas diabetes."
    assert "\ufffd" in records[4].text
    assert len(records[13].text) == 200_000


def test_errors_never_contain_note_text(tmp_path, hostile_csv):
    path = hostile_csv(tmp_path / "hostile.csv")
    errors = [r.error for r in read_export(path) if not r.ok]
    assert len(errors) == 3
    for error in errors:  # the texts of the failed rows are "no id here, has asthma" and "too,many,fields"
        assert "asthma" not in error and "no id" not in error and "many" not in error


def test_missing_column_is_fatal_and_actionable(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("id,body\n1,asthma\n")
    with pytest.raises(ValueError, match="--text-col|--id-col"):
        list(read_export(path))
    records = list(read_export(path, id_col="id", text_col="body"))
    assert records == [NoteRecord(row=1, note_id="1", text="asthma")]


def test_tsv_and_blank_lines(tmp_path):
    path = tmp_path / "notes.tsv"
    path.write_text("note_id\ttext\nA\tasthma\n\nB\tcough\n")
    records = list(read_export(path))
    assert [(r.row, r.note_id, r.text) for r in records] == [(1, "A", "asthma"), (2, "B", "cough")]


def test_jsonl_hostile(tmp_path):
    path = tmp_path / "notes.jsonl"
    lines = [
        json.dumps({"note_id": "A", "text": "asthma"}).encode(),
        b"",
        b'{"note_id": "B", "text": "bad \xff byte"}',
        b"{not json",
        b"[1, 2]",
        json.dumps({"note_id": 7, "text": "numeric id"}).encode(),
        json.dumps({"note_id": "C"}).encode(),
        json.dumps({"note_id": "D", "text": 12}).encode(),
        json.dumps({"note_id": None, "text": "x"}).encode(),
    ]
    path.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\n")
    records = list(read_export(path))
    assert [r.row for r in records] == list(range(1, 9))
    assert [r.ok for r in records] == [True, True, False, False, True, False, False, False]
    assert records[1].flags == ["invalid_utf8"] and "\ufffd" in records[1].text
    assert records[4].note_id == "7"
    assert "line 4" in records[2].error


def test_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({"note_id": ["A", None, "C", "A"], "text": ["asthma", "x", None, "cough"]})
    path = tmp_path / "notes.parquet"
    pq.write_table(table, path)
    reader = ExportReader(path)
    records = list(reader)
    assert [r.ok for r in records] == [True, False, False, True]
    assert records[3].flags == ["duplicate_id"]
    assert reader.progress() == (4, 4, "rows")


@pytest.mark.parametrize(
    "name,expected",
    [("a.csv", "csv"), ("a.TSV", "tsv"), ("a.jsonl", "jsonl"), ("x.y.parquet", "parquet")],
)
def test_detect_format(name, expected):
    assert detect_format(name) == expected


def test_detect_format_unknown():
    with pytest.raises(ValueError, match="--input-format"):
        detect_format("notes.xlsx")


def test_broken_quotes_fail_loudly_not_swallow(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_bytes(b'note_id,text\nA,"ok"x\nB,"cough"\nC,"asthma\n')
    reader = ExportReader(path)
    records = list(reader)
    assert [(r.row, r.ok) for r in records] == [(1, False), (2, True), (3, False)]
    assert "line 2" in records[0].error and "lines 4-4" in records[2].error
    assert reader.unread == "lines 4-4 unread (a quote never closed)"


def test_utf16_csv_is_decoded(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("note_id,text\r\nA,asthma é\r\n".encode("utf-16"))
    assert [(r.note_id, r.text, r.flags) for r in read_export(path)] == [("A", "asthma é", [])]
