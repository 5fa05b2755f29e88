"""Tests of the batch job: accounting, formats, chunking, failing components, n_process."""
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from spacy.language import Language
from spacy.tokens import Span

from spacy_medical.batch import annotate
from spacy_medical.batch.local import annotate_records, chunk_text
from spacy_medical.io.exports import NoteRecord



def read_jsonl(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def check_offsets(records, texts):
    for rec in records:
        for ent in rec["entities"]:
            assert texts[rec["row"]][ent["start_char"]:ent["end_char"]] == ent["text"]


@pytest.mark.parametrize("output", ["out.jsonl", "out.csv", "out.parquet"])
def test_hostile_csv_every_record_accounted(tmp_path, tiny_model, output, hostile_csv):
    src = hostile_csv(tmp_path / "hostile.csv")
    result = annotate(src, tmp_path / output, model=tiny_model, progress=False, chunk_chars=50_000)
    assert (result.read, result.annotated, result.failed) == (14, 11, 3)
    assert result.exit_code == 1
    errors = read_jsonl(tmp_path / f"{output}.errors.jsonl")
    assert [e["row"] for e in errors] == [4, 7, 8]
    assert all(set(e) == {"row", "note_id", "error"} for e in errors)
    if output.endswith(".jsonl"):
        rows = read_jsonl(tmp_path / output)
        assert sorted([r["row"] for r in rows] + [e["row"] for e in errors]) == list(range(1, 15))
        dup = [r for r in rows if r["row"] == 9][0]
        assert dup["note_id"] == "N1" and "duplicate_id" in dup["flags"]
        assert {r["model"] for r in rows} == {"en_tiny_test"} and {r["model_version"] for r in rows} == {"0.0.1"}
        long = [r for r in rows if r["row"] == 14][0]
        assert long["status"] == "ok" and "chunked" in long["flags"]
    elif output.endswith(".parquet"):
        notes = pq.read_table(tmp_path / output / "notes").to_pylist()
        assert [n["row"] for n in notes] == list(range(1, 15))
        assert [n["status"] for n in notes].count("failed") == 3
        ents = pq.read_table(tmp_path / output / "entities").to_pylist()
        assert {e["label"] for e in ents} == {"SYMPTOM", "DISEASE", "DRUG"}
    else:
        notes = (tmp_path / "out.notes.csv").read_text().splitlines()
        assert len(notes) == 1 + 14


def test_allow_failures_and_limit(tmp_path, tiny_model, hostile_csv):
    src = hostile_csv(tmp_path / "hostile.csv")
    result = annotate(src, tmp_path / "o.jsonl", model=tiny_model, progress=False, allow_failures=True)
    assert result.exit_code == 0 and result.failed == 3
    result = annotate(src, tmp_path / "o.jsonl", model=tiny_model, progress=False, limit=3, overwrite=True)
    assert (result.read, result.annotated, result.failed, result.exit_code) == (3, 3, 0, 0)
    assert [r["row"] for r in read_jsonl(tmp_path / "o.jsonl")] == [1, 2, 3]


def test_jsonl_and_parquet_inputs_same_output(tmp_path, tiny_model):
    notes = [{"note_id": f"P{i}", "text": t} for i, t in enumerate(["asthma and cough", "", "aspirin daily"])]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(n) + "\n" for n in notes))
    pq.write_table(pa.Table.from_pylist(notes), tmp_path / "in.parquet")
    out = {}
    for src in ("in.jsonl", "in.parquet"):
        result = annotate(tmp_path / src, tmp_path / f"{src}.out.jsonl", model=tiny_model, progress=False)
        assert (result.read, result.annotated, result.failed, result.exit_code) == (3, 3, 0, 0)
        out[src] = read_jsonl(tmp_path / f"{src}.out.jsonl")
    assert out["in.jsonl"] == out["in.parquet"]
    assert [len(r["entities"]) for r in out["in.jsonl"]] == [2, 0, 1]


def test_long_note_chunked_offsets_into_original(tmp_path, tiny_model):
    line = "Patient reports cough. No chest pain today, takes aspirin.\n"
    text = line * (3_000_000 // len(line)) + "x" * 200_000 + " final diabetes"
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps({"note_id": "L1", "text": text}) + "\n" + json.dumps({"note_id": "L2", "text": "asthma"}) + "\n")
    result = annotate(path, tmp_path / "long.out.jsonl", model=tiny_model, progress=False)
    assert (result.read, result.annotated, result.failed) == (2, 2, 0)
    rec = read_jsonl(tmp_path / "long.out.jsonl")[0]
    assert "chunked" in rec["flags"]
    assert len(rec["entities"]) == 3 * (3_000_000 // len(line)) + 1
    check_offsets([rec], {1: text})
    assert rec["entities"][-1]["end_char"] == len(text)


@pytest.mark.parametrize("max_chars", [7, 40, 1000])
def test_chunk_text_covers_text(max_chars):
    text = "line one\nline two. And more\r\nabcdefghijklmnopqrstuvwxyz" * 5
    chunks = chunk_text(text, max_chars)
    assert "".join(c for _, c in chunks) == text
    assert all(len(c) <= max_chars for _, c in chunks)
    assert all(text[o:o + len(c)] == c for o, c in chunks)


@Language.component("test_boom")
def _boom(doc):
    if "BOOM" in doc.text:
        raise ValueError("kaboom")
    return doc


@pytest.mark.parametrize("n_process", [1, 2])
def test_failing_component_fails_only_its_record(n_process, tiny_nlp):
    nlp = tiny_nlp()
    nlp.add_pipe("test_boom")
    texts = ["asthma", "BOOM secret note text", "cough", "BOOM", "aspirin"] * 3
    records = [NoteRecord(row=i + 1, note_id=f"B{i}", text=t) for i, t in enumerate(texts)]
    results = [r for _, r in annotate_records(nlp, records, batch_size=2, n_process=n_process)]
    assert [r["row"] for r in results] == list(range(1, 16))
    failed = [r for r in results if r["status"] == "failed"]
    assert [r["row"] for r in failed] == [2, 4, 7, 9, 12, 14]
    assert all("test_boom" in r["error"] and "secret" not in r["error"] for r in failed)


def test_parallel_workers_without_fork_get_a_pickled_pipeline(monkeypatch, tiny_nlp):
    # As on macOS and Windows: no fork, so workers are spawned and the pipeline is pickled.
    import spacy_medical.batch.local as local

    monkeypatch.setattr(local.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    texts = ["asthma and cough", "", "aspirin", "nothing here"]
    records = [NoteRecord(row=i + 1, note_id=f"P{i}", text=t) for i, t in enumerate(texts)]
    results = [r for _, r in annotate_records(tiny_nlp(), records, batch_size=1, n_process=2)]
    assert [r["row"] for r in results] == [1, 2, 3, 4]
    assert [[e["text"] for e in r["entities"]] for r in results] == [["asthma", "cough"], [], ["aspirin"], []]


def test_parallel_workers_answer_records_read_before_a_fatal_input_error(tiny_nlp):
    texts = ["asthma", "cough", "aspirin", "pneumonia", "diabetes"]

    def records():
        yield from (NoteRecord(row=i + 1, note_id=f"R{i}", text=t) for i, t in enumerate(texts))
        raise KeyError("text column vanished")

    seen = []
    with pytest.raises(KeyError):
        for record, result in annotate_records(tiny_nlp(), records(), batch_size=2, n_process=2):
            seen.append((record.row, result["row"], [e["text"] for e in result["entities"]]))
    assert [row for row, _, _ in seen] == [1, 2, 3, 4, 5]
    assert all(row == answered for row, answered, _ in seen)
    assert [ents for _, _, ents in seen] == [["asthma"], ["cough"], ["aspirin"], ["pneumonia"], ["diabetes"]]


def test_abbreviations_flow_through_to_every_format(tmp_path, tiny_nlp):
    import csv

    nlp = tiny_nlp()
    nlp.get_pipe("entity_ruler").add_patterns([{"label": "DISEASE", "pattern": "congestive heart failure"}])
    nlp.add_pipe("medical_abbreviations")
    src = tmp_path / "in.csv"
    src.write_text('note_id,text\nA,"Known congestive heart failure (CHF). CHF stable."\nB,"asthma"\n')
    assert annotate(src, tmp_path / "o.jsonl", model=nlp, progress=False).exit_code == 0
    first, second = read_jsonl(tmp_path / "o.jsonl")
    chf = [{"short_form": "CHF", "long_form": "congestive heart failure", "start_char": s, "end_char": s + 3} for s in (32, 38)]
    assert first["abbreviations"] == chf and second["abbreviations"] == []
    assert [(e["text"], e["label"], e["start_char"]) for e in first["entities"]][1:] == [("CHF", "DISEASE", 32), ("CHF", "DISEASE", 38)]
    assert annotate(src, tmp_path / "o.csv", model=nlp, progress=False).exit_code == 0
    with open(tmp_path / "o.notes.csv", newline="") as f:
        assert [json.loads(row["abbreviations"]) for row in csv.DictReader(f)] == [chf, []]
    assert annotate(src, tmp_path / "o.parquet", model=nlp, progress=False).exit_code == 0
    notes = pq.read_table(tmp_path / "o.parquet" / "notes").to_pylist()
    assert [json.loads(row["abbreviations"]) for row in notes] == [chf, []]


@Language.component("test_context", assigns=["span._.negated", "span._.section", "doc._.summary"])
def _context(doc):
    for ent in doc.ents:
        ent._.negated = "denies" in doc.text[: ent.start_char]
        ent._.section = "hpi"
    doc.spans["sections"] = [Span(doc, 0, len(doc), label="history_of_present_illness")] if len(doc) else []
    doc._.summary = {"text": f"{len(doc.ents)} findings", "problems": [{"text": e.text, "start_char": e.start_char, "end_char": e.end_char} for e in doc.ents]}
    return doc


class _BoomPipe:
    """A component whose pipe() raises for the whole batch (like spaCy's ner, no error handler)."""

    def __call__(self, doc):
        if "BOOM" in doc.text:
            raise ValueError("kaboom")
        return doc

    def pipe(self, docs, batch_size=128):
        for doc in docs:
            yield self(doc)


@Language.factory("test_boom_pipe")
def _make_boom_pipe(nlp, name):
    return _BoomPipe()


@pytest.mark.parametrize("n_process", [1, 2])
def test_component_without_error_handler_fails_only_its_record(n_process, tiny_nlp):
    nlp = tiny_nlp()
    nlp.add_pipe("test_boom_pipe")
    texts = ["asthma", "BOOM", "cough " * 30, "aspirin"] * 4
    records = [NoteRecord(row=i + 1, note_id=f"B{i}", text=t) for i, t in enumerate(texts)]
    results = [r for _, r in annotate_records(nlp, records, batch_size=3, n_process=n_process, chunk_chars=50)]
    assert [r["row"] for r in results] == list(range(1, 17))
    assert [r["row"] for r in results if r["status"] == "failed"] == [2, 6, 10, 14]
    assert all("test_boom_pipe" in r["error"] for r in results if r["status"] == "failed")
    assert [len(r["entities"]) for r in results if r["row"] in (3, 7)] == [30, 30]


def test_assertions_sections_summary_flow_through(tmp_path, tiny_nlp):
    import spacy_medical  # noqa: F401  (installs the extensions)

    nlp = tiny_nlp()
    nlp.add_pipe("test_context")
    src = tmp_path / "in.csv"
    src.write_text('note_id,text\nA,"denies chest pain, has asthma"\nB,""\n')
    result = annotate(src, tmp_path / "o.jsonl", model=nlp, progress=False, html_path=tmp_path / "r.html")
    assert result.exit_code == 0
    rec = read_jsonl(tmp_path / "o.jsonl")[0]
    assert [(e["text"], e["negated"], e["section"]) for e in rec["entities"]] == [("chest pain", True, "hpi"), ("asthma", True, "hpi")]
    assert "uncertain" not in rec["entities"][0]
    assert rec["sections"] == [{"label": "history_of_present_illness", "start_char": 0, "end_char": 29}]
    assert rec["summary"]["text"] == "2 findings"
    html = (tmp_path / "r.html").read_text()
    assert "negated" in html and "2 findings" in html and "repeating-linear-gradient" in html


def test_n_process_2_equals_1(tmp_path, tiny_model, notes_csv):
    src = notes_csv(tmp_path / "notes.csv", 300)
    outs = []
    for n in (1, 2):
        result = annotate(src, tmp_path / f"o{n}.jsonl", model=tiny_model, n_process=n, batch_size=16, progress=False)
        assert (result.read, result.annotated, result.failed) == (300, 300, 0)
        outs.append((tmp_path / f"o{n}.jsonl").read_bytes())
    assert outs[0] == outs[1]


def test_progress_log_lines_have_no_text(tmp_path, tiny_model, notes_csv):
    import io

    src = notes_csv(tmp_path / "notes.csv", 30)
    stream = io.StringIO()
    from spacy_medical.batch.progress import Progress

    annotate(src, tmp_path / "o.jsonl", model=tiny_model, progress=True, progress_stream=stream)
    progress = Progress(lambda: (5, 10, "B"), stream=stream, interval=0)
    progress.update(3, 2, 1, 3)
    lines = stream.getvalue()
    assert "annotate: row 3, 2 annotated, 1 failed" in lines and "notes/s" in lines and "ETA" in lines
    assert "asthma" not in lines and "patient" not in lines


def test_engine_losing_a_record_is_a_mismatch(tmp_path, tiny_model, notes_csv, monkeypatch):
    import importlib

    job = importlib.import_module("spacy_medical.batch.annotate")

    real = job.annotate_records

    def lossy(nlp, records, **kwargs):
        for record, result in real(nlp, records, **kwargs):
            if record.row != 5:
                yield record, result

    monkeypatch.setattr(job, "annotate_records", lossy)
    src = notes_csv(tmp_path / "notes.csv", 10)
    result = annotate(src, tmp_path / "o.jsonl", model=tiny_model, progress=False)
    assert (result.read, result.annotated, result.failed, result.exit_code) == (10, 9, 0, 2)
    assert "COUNTS DO NOT ADD UP" in result.accounting
