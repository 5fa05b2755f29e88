"""Export safety of the batch job (issue 29): nothing destroyed, nothing skipped, nothing leaked."""
import csv
import json
import os
import stat
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
from spacy.language import Language

from spacy_medical.batch import AnnotateOptions, annotate, annotated_record
from spacy_medical.batch.annotate import EXIT_MISMATCH
from spacy_medical.batch.checkpoint import pipeline_identity
from spacy_medical.batch.local import annotate_records
from spacy_medical.io.exports import NoteRecord


def read_jsonl(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def write_jsonl(path, notes):
    path.write_text("".join(json.dumps(n) + "\n" for n in notes), encoding="utf-8")
    return path


NOTES = [{"note_id": f"J{i}", "text": t} for i, t in enumerate(["asthma and cough", "aspirin daily", "no findings"])]


# --- item 1: an output path equal to the input --------------------------------------------------
@pytest.mark.parametrize("target", ["output", "errors_path", "html_path"])
def test_an_output_that_is_the_input_is_refused_and_the_input_kept(tmp_path, tiny_nlp, target):
    src = write_jsonl(tmp_path / "notes.jsonl", NOTES)
    before = src.read_bytes()
    output = src if target == "output" else tmp_path / "out.jsonl"
    extra = {} if target == "output" else {target: src}
    with pytest.raises(ValueError, match="is the input file"):
        annotate(src, output, model=tiny_nlp(), progress=False, **extra)
    assert src.read_bytes() == before
    assert not (tmp_path / "out.jsonl").exists()


def test_csv_notes_table_hard_link_and_parquet_folder_holding_the_input_are_refused(tmp_path, tiny_nlp, notes_csv):
    src = notes_csv(tmp_path / "o.notes.csv", 5)
    before = src.read_bytes()
    with pytest.raises(ValueError, match="output notes table"):
        annotate(src, tmp_path / "o.csv", model=tiny_nlp(), progress=False)
    os.link(src, tmp_path / "link.csv")
    with pytest.raises(ValueError, match="is the input file"):
        annotate(src, tmp_path / "link.csv", model=tiny_nlp(), progress=False, overwrite=True)
    inside = tmp_path / "o.parquet" / "notes" / "part-000000.parquet"
    inside.parent.mkdir(parents=True)
    pq.write_table(_table(NOTES), inside)
    with pytest.raises(ValueError, match="is the input file"):
        annotate(inside, tmp_path / "o.parquet", model=tiny_nlp(), progress=False, overwrite=True)
    assert inside.exists() and src.read_bytes() == before


def _table(notes):
    import pyarrow as pa

    return pa.Table.from_pylist(notes)


def test_the_cli_refuses_with_exit_2_and_keeps_the_input(tmp_path, tiny_model):
    from typer.testing import CliRunner

    from spacy_medical.cli import app

    src = write_jsonl(tmp_path / "notes.jsonl", NOTES)
    before = src.read_bytes()
    result = CliRunner().invoke(app, ["annotate", str(src), str(src), "--model", str(tiny_model)])
    assert result.exit_code == 2 and "input file" in result.output
    assert src.read_bytes() == before


# --- item 2: an unterminated quote -----------------------------------------------------------
def test_unterminated_quote_names_the_unread_lines_and_exits_2_whatever_the_flags(tmp_path, tiny_nlp):
    rows = [f"N{i},note {i} asthma" for i in range(1, 201)]
    rows[5] = 'N6,"open quote, cough'
    src = tmp_path / "broken.csv"
    src.write_text("note_id,text\n" + "\n".join(rows) + "\n")
    result = annotate(src, tmp_path / "o.jsonl", model=tiny_nlp(), progress=False, allow_failures=True)
    assert (result.read, result.annotated, result.failed) == (6, 5, 1)
    assert result.exit_code == EXIT_MISMATCH
    assert result.unread == "lines 7-201 unread (a quote never closed)"
    assert "INPUT NOT FULLY READ" in result.accounting and "all accounted for" not in result.accounting
    [error] = read_jsonl(tmp_path / "o.jsonl.errors.jsonl")
    assert error["row"] == 6 and "lines 7-201" in error["error"]
    # Resuming the finished job reports the same, instead of a clean exit.
    again = annotate(src, tmp_path / "o.jsonl", model=tiny_nlp(), progress=False, allow_failures=True, resume=True)
    assert again.exit_code == EXIT_MISMATCH and again.unread == result.unread


def test_jsonl_count_is_independent_of_the_reader(tmp_path, tiny_nlp, monkeypatch):
    src = write_jsonl(tmp_path / "notes.jsonl", NOTES)
    result = annotate(src, tmp_path / "o.jsonl", model=tiny_nlp(), progress=False)
    assert result.exit_code == 0 and result.expected == 3
    assert "3 records in the input by an independent count" in result.accounting
    from spacy_medical.io.exports import ExportReader

    real = ExportReader._iter_jsonl
    monkeypatch.setattr(ExportReader, "_iter_jsonl", lambda self: (r for r in real(self) if r.row != 2))
    result = annotate(src, tmp_path / "o.jsonl", model=tiny_nlp(), progress=False, overwrite=True)
    assert (result.read, result.expected, result.exit_code) == (2, 3, EXIT_MISMATCH)
    assert "COUNTS DO NOT ADD UP" in result.accounting


# --- item 3: one bad record never aborts the job --------------------------------------------
def test_deep_nesting_and_lone_surrogates_become_records(tmp_path, tiny_nlp):
    lines = [
        json.dumps(NOTES[0]),
        '{"note_id": "deep", "text": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"note_id": "X\\ud83d", "text": "asthma \\ud83d and \\udfff cough"}',
        json.dumps(NOTES[1]),
    ]
    src = tmp_path / "hostile.jsonl"
    src.write_text("\n".join(lines) + "\n")
    for output in ("o.jsonl", "o.parquet", "o.csv"):
        result = annotate(src, tmp_path / output, model=tiny_nlp(), progress=False)
        assert (result.read, result.annotated, result.failed, result.exit_code) == (4, 3, 1, 1), output
        [error] = read_jsonl(tmp_path / f"{output}.errors.jsonl")
        assert error["row"] == 2 and "RecursionError" in error["error"]
    notes = pq.read_table(tmp_path / "o.parquet" / "notes").to_pylist()
    assert notes[2]["note_id"] == "X\ufffd" and notes[2]["flags"] == "invalid_utf8"
    record = read_jsonl(tmp_path / "o.jsonl")[1]
    assert [e["text"] for e in record["entities"]] == ["asthma", "cough"]


@Language.component("test_deep_recursion")
def _deep_recursion(doc):
    if "RECURSE" in doc.text:
        raise RecursionError("maximum recursion depth exceeded")
    return doc


def test_any_exception_of_a_component_fails_only_its_record(tiny_nlp):
    nlp = tiny_nlp()
    nlp.add_pipe("test_deep_recursion")
    records = [NoteRecord(row=i + 1, note_id=str(i), text=t) for i, t in enumerate(["asthma", "RECURSE", "cough"])]
    results = [r for _, r in annotate_records(nlp, records, batch_size=8)]
    assert [r["status"] for r in results] == ["ok", "failed", "ok"]
    assert "RecursionError" in results[1]["error"] and "test_deep_recursion" in results[1]["error"]


# --- item 4: resume refuses another model or another input ----------------------------------
def _start_job(src, out, model, **kwargs):
    return annotate(src, out, model=model, progress=False, limit=5, **kwargs)


def test_resume_refuses_a_model_rebuilt_in_place(tmp_path, tiny_nlp, notes_csv):
    src = notes_csv(tmp_path / "notes.csv", 20)
    model = tmp_path / "model"
    tiny_nlp().to_disk(model)
    _start_job(src, tmp_path / "o.jsonl", model)
    other = tiny_nlp()
    other.get_pipe("entity_ruler").add_patterns([{"label": "SYMPTOM", "pattern": "denies"}])
    other.to_disk(model)  # same path, same name and version, other labels
    with pytest.raises(ValueError, match=r"differs: pipeline config, pipeline weights|differs: pipeline weights"):
        annotate(src, tmp_path / "o.jsonl", model=model, progress=False, resume=True)


def test_resume_refuses_an_edited_input_of_same_size_and_mtime(tmp_path, tiny_nlp, notes_csv):
    src = notes_csv(tmp_path / "notes.csv", 20)
    nlp = tiny_nlp()
    _start_job(src, tmp_path / "o.jsonl", nlp)
    stat_before = src.stat()
    data = src.read_bytes()
    src.write_bytes(data.replace(b"asthma", b"ASTHMA", 1))
    os.utime(src, ns=(stat_before.st_atime_ns, stat_before.st_mtime_ns))
    assert src.stat().st_size == stat_before.st_size
    with pytest.raises(ValueError, match="differs: input content"):
        annotate(src, tmp_path / "o.jsonl", model=nlp, progress=False, resume=True)


def test_resume_through_the_python_api_checks_the_language_object(tmp_path, tiny_nlp, notes_csv):
    src = notes_csv(tmp_path / "notes.csv", 20)
    _start_job(src, tmp_path / "o.jsonl", tiny_nlp())
    other = tiny_nlp()
    other.get_pipe("entity_ruler").add_patterns([{"label": "DRUG", "pattern": "insulin"}])
    with pytest.raises(ValueError, match="pipeline weights"):
        annotate(src, tmp_path / "o.jsonl", model=other, progress=False, resume=True)
    # An equal pipeline (even one that has seen other text) resumes.
    same = tiny_nlp()
    same("unseen words grow the string store")
    result = annotate(src, tmp_path / "o.jsonl", model=same, progress=False, resume=True)
    assert (result.read, result.annotated, result.resumed_after_row, result.exit_code) == (20, 20, 5, 0)


def test_pipeline_identity_is_the_same_in_another_process(tiny_model):
    import spacy

    code = ("import json, sys, spacy; from spacy_medical.batch.checkpoint import pipeline_identity; "
            "print(json.dumps(pipeline_identity(spacy.load(sys.argv[1]))))")
    env = dict(os.environ, PYTHONHASHSEED="123")
    out = subprocess.run([sys.executable, "-c", code, str(tiny_model)], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == pipeline_identity(spacy.load(tiny_model))


# --- item 5: nothing overwritten or deleted without asking ----------------------------------
def test_existing_outputs_are_refused_unless_overwrite_or_resume(tmp_path, tiny_nlp, notes_csv):
    src = notes_csv(tmp_path / "notes.csv", 10)
    out = tmp_path / "o.jsonl"
    _start_job(src, out, tiny_nlp())  # a partial run (as after a crash)
    partial = out.read_bytes()
    with pytest.raises(ValueError, match="--overwrite .* or --resume"):
        annotate(src, out, model=tiny_nlp(), progress=False)
    assert out.read_bytes() == partial
    with pytest.raises(OSError):  # a job that cannot start deletes nothing, even with --overwrite
        annotate(src, out, model=tmp_path / "no_such_model", progress=False, overwrite=True)
    assert out.read_bytes() == partial
    assert annotate(src, out, model=tiny_nlp(), progress=False, resume=True).read == 10
    assert annotate(src, out, model=tiny_nlp(), progress=False, overwrite=True).read == 10
    with pytest.raises(ValueError, match="contradict"):
        annotate(src, out, model=tiny_nlp(), progress=False, overwrite=True, resume=True)
    foreign = tmp_path / "f.jsonl"
    foreign.write_text("someone else's file\n")
    with pytest.raises(ValueError, match="no checkpoint"):
        annotate(src, foreign, model=tiny_nlp(), progress=False, resume=True)
    assert foreign.read_text() == "someone else's file\n"


def test_each_output_gets_its_own_errors_file(tmp_path, tiny_nlp, hostile_csv):
    src = hostile_csv(tmp_path / "hostile.csv")
    for output in ("out.jsonl", "out.csv", "out.parquet"):
        result = annotate(src, tmp_path / output, model=tiny_nlp(), progress=False)
        assert result.errors == tmp_path / f"{output}.errors.jsonl"
    assert len({(tmp_path / f"{o}.errors.jsonl").read_bytes() for o in ("out.jsonl", "out.csv", "out.parquet")}) == 1


def test_parquet_overwrite_deletes_only_its_part_files(tmp_path, tiny_nlp, notes_csv):
    src = notes_csv(tmp_path / "notes.csv", 10)
    out = tmp_path / "o.parquet"
    annotate(src, out, model=tiny_nlp(), progress=False)
    keep = [out / "notes" / "README.txt", out / "entities" / "part-1.parquet", out / "notes.md"]
    for path in keep:
        path.write_text("not the job's")
    with pytest.raises(ValueError, match="already exist"):
        annotate(src, out, model=tiny_nlp(), progress=False)
    assert annotate(src, out, model=tiny_nlp(), progress=False, overwrite=True).exit_code == 0
    assert all(path.read_text() == "not the job's" for path in keep)
    assert [p.name for p in sorted((out / "notes").glob("part-*.parquet"))] == ["part-000000.parquet"]


# --- item 7: no note text in messages or ids --------------------------------------------------
def test_headerless_csv_error_and_ragged_rows_hold_no_note_text(tmp_path, tiny_nlp):
    src = tmp_path / "headerless.csv"
    secret = "Patient Jane Roe reports crushing chest pain radiating to the left arm since Monday"
    src.write_text(f'N1,"{secret}"\nN2,"cough"\n')
    with pytest.raises(ValueError) as err:
        annotate(src, tmp_path / "o.jsonl", model=tiny_nlp(), progress=False)
    assert "2 fields" in str(err.value) and "Jane" not in str(err.value) and "crushing" not in str(err.value)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text('note_id,text\nA,"asthma"\nJane Roe has asthma,second field,third\n')
    result = annotate(ragged, tmp_path / "r.jsonl", model=tiny_nlp(), progress=False)
    [error] = read_jsonl(tmp_path / "r.jsonl.errors.jsonl")
    assert result.failed == 1 and error["note_id"] is None and "Jane" not in json.dumps(error)


# --- item 8: spreadsheet formulas ------------------------------------------------------------
FORMULA_IDS = ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "plain"]


@pytest.mark.parametrize("raw_csv", [False, True])
def test_csv_cells_that_start_a_formula_are_neutralised_unless_raw(tmp_path, tiny_nlp, raw_csv):
    src = write_jsonl(tmp_path / "in.jsonl", [{"note_id": i, "text": "asthma"} for i in FORMULA_IDS])
    assert annotate(src, tmp_path / "o.csv", model=tiny_nlp(), progress=False, raw_csv=raw_csv).exit_code == 0
    expected = [i if raw_csv or i == "plain" else "'" + i for i in FORMULA_IDS]
    for name in ("o.csv", "o.notes.csv"):
        with open(tmp_path / name, newline="", encoding="utf-8") as handle:
            assert [row["note_id"] for row in csv.DictReader(handle)] == expected
    # JSONL is not a spreadsheet format: its values stay exact.
    annotate(src, tmp_path / "o.jsonl", model=tiny_nlp(), progress=False)
    assert [r["note_id"] for r in read_jsonl(tmp_path / "o.jsonl")] == FORMULA_IDS


# --- item 9: smaller ------------------------------------------------------------------------------
def test_files_are_created_owner_only(tmp_path, tiny_nlp, notes_csv):
    src = notes_csv(tmp_path / "notes.csv", 5)
    os.chmod(src, 0o644)
    annotate(src, tmp_path / "o.csv", model=tiny_nlp(), progress=False, html_path=tmp_path / "r.html")
    annotate(src, tmp_path / "o.parquet", model=tiny_nlp(), progress=False)
    written = ["o.csv", "o.notes.csv", "o.csv.errors.jsonl", "o.csv.checkpoint.json", "r.html",
               "o.parquet/notes/part-000000.parquet", "o.parquet/entities/part-000000.parquet"]
    assert {name: stat.S_IMODE((tmp_path / name).stat().st_mode) for name in written} == {name: 0o600 for name in written}
    annotate(src, tmp_path / "g.jsonl", model=tiny_nlp(), progress=False, file_mode=0o640)
    assert stat.S_IMODE((tmp_path / "g.jsonl").stat().st_mode) == 0o640


def test_nan_id_is_missing_not_nan(tmp_path, tiny_nlp):
    src = tmp_path / "nan.jsonl"
    src.write_text('{"note_id": NaN, "text": "asthma"}\n{"note_id": 3.0, "text": "cough"}\n')
    result = annotate(src, tmp_path / "o.jsonl", model=tiny_nlp(), progress=False)
    assert (result.annotated, result.failed) == (1, 1)
    [error] = read_jsonl(tmp_path / "o.jsonl.errors.jsonl")
    assert error["note_id"] is None and "'note_id' is missing" in error["error"]
    assert read_jsonl(tmp_path / "o.jsonl")[0]["note_id"] == "3"


def test_unwritable_html_is_found_before_the_job_starts(tmp_path, tiny_nlp, notes_csv):
    src = notes_csv(tmp_path / "notes.csv", 5)
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(ValueError, match="HTML report .* cannot be written"):
        annotate(src, tmp_path / "o.jsonl", model=tiny_nlp(), progress=False, html_path=tmp_path / "a_file" / "r.html")
    (tmp_path / "folder").mkdir()
    with pytest.raises(ValueError, match="HTML report .* cannot be written .*folder"):
        annotate(src, tmp_path / "o.jsonl", model=tiny_nlp(), progress=False, html_path=tmp_path / "folder")
    assert not (tmp_path / "o.jsonl").exists() and not (tmp_path / "o.jsonl.checkpoint.json").exists()


def test_cli_any_exception_exits_2_without_its_message(tmp_path, tiny_model, monkeypatch):
    from typer.testing import CliRunner

    import spacy_medical.cli.annotate as cli
    from spacy_medical.cli import app

    def boom(*args, **kwargs):
        raise KeyError("Patient Jane Roe")

    monkeypatch.setattr(cli, "annotate", boom)
    src = write_jsonl(tmp_path / "notes.jsonl", NOTES)
    result = CliRunner().invoke(app, ["annotate", str(src), str(tmp_path / "o.jsonl"), "--model", str(tiny_model)])
    assert result.exit_code == 2 and "KeyError" in result.output and "Jane" not in result.output
    assert app.pretty_exceptions_show_locals is False


def test_spark_local_master_binds_to_loopback():
    from spacy_medical.batch.spark import session_config

    for master in (None, "local", "local[2]"):
        config = session_config(master)
        assert config["spark.driver.bindAddress"] == config["spark.driver.host"] == "127.0.0.1"
    assert "spark.driver.bindAddress" not in session_config("spark://cluster:7077")


# --- issue 30: one options object, no side effects, one offset convention ---------------------
def test_options_object_and_keyword_overrides_are_the_same_job(tmp_path, tiny_nlp, notes_csv):
    src = notes_csv(tmp_path / "notes.csv", 6)
    options = AnnotateOptions(model=tiny_nlp(), progress=False, limit=4)
    by_object = annotate(src, tmp_path / "a.jsonl", options)
    by_keywords = annotate(src, tmp_path / "b.jsonl", model=tiny_nlp(), progress=False, limit=4)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert by_object.read == by_keywords.read == 4
    with pytest.raises(TypeError, match="Unknown annotate option"):
        annotate(src, tmp_path / "c.jsonl", options, resmue=True)


def test_the_callers_error_handlers_are_restored(tiny_nlp):
    nlp = tiny_nlp()

    def mine(proc_name, proc, docs, error):
        raise error

    nlp.set_error_handler(mine)
    records = [NoteRecord(row=1, note_id="A", text="asthma")]
    assert [r["status"] for _, r in annotate_records(nlp, records)] == ["ok"]
    assert nlp.default_error_handler is mine
    assert nlp.get_pipe("entity_ruler").get_error_handler() is mine


def test_csv_field_limit_is_not_changed_by_import_or_reading(tmp_path):
    code = ("import csv; before = csv.field_size_limit(); import spacy_medical.io.exports as e; "
            "assert csv.field_size_limit() == before; import sys; "
            "recs = list(e.read_export(sys.argv[1])); assert len(recs[0].text) == 200000, len(recs[0].text); "
            "assert csv.field_size_limit() == before; print('ok')")
    src = tmp_path / "big.csv"
    src.write_text('note_id,text\nA,"' + "x" * 200_000 + '"\n')
    out = subprocess.run([sys.executable, "-c", code, str(src)], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr[-500:]


def test_records_have_schema_2_and_start_char_offsets_everywhere(tmp_path, tiny_nlp):
    nlp = tiny_nlp()
    src = write_jsonl(tmp_path / "in.jsonl", NOTES + [{"note_id": "bad"}])
    annotate(src, tmp_path / "o.jsonl", model=nlp, progress=False, allow_failures=True)
    records = read_jsonl(tmp_path / "o.jsonl")
    assert {r["schema_version"] for r in records} == {2}
    assert set(records[0]["entities"][0]) == {"text", "label", "start_char", "end_char"}
    # The function the service imports builds the very same record.
    doc = nlp(NOTES[0]["text"])
    assert annotated_record(nlp, doc, row=1, note_id="J0") == records[0]
    annotate(src, tmp_path / "o.csv", model=nlp, progress=False, allow_failures=True)
    header = (tmp_path / "o.csv").read_text().splitlines()[0]
    assert "start_char,end_char" in header and ",start," not in header


def test_records_are_byte_identical_whatever_the_batch_size(tmp_path, tiny_nlp, hostile_csv):
    src = hostile_csv(tmp_path / "hostile.csv")
    outputs = set()
    for batch_size in (1, 8, 64):
        annotate(src, tmp_path / f"b{batch_size}.jsonl", model=tiny_nlp(), progress=False, batch_size=batch_size,
                 chunk_chars=50_000)
        outputs.add((tmp_path / f"b{batch_size}.jsonl").read_bytes())
    assert len(outputs) == 1


def test_two_job_files_on_one_path_are_refused(tmp_path, tiny_nlp):
    src = write_jsonl(tmp_path / "notes.jsonl", NOTES)
    with pytest.raises(ValueError, match="The output and the errors file are the same file"):
        annotate(src, tmp_path / "o.jsonl", model=tiny_nlp(), progress=False, errors_path=tmp_path / "o.jsonl")
    assert not (tmp_path / "o.jsonl").exists()


def test_errors_file_inside_a_parquet_output_folder_is_a_file(tmp_path, tiny_nlp, hostile_csv):
    src = hostile_csv(tmp_path / "hostile.csv")
    errors = tmp_path / "o.parquet" / "errors.jsonl"
    result = annotate(src, tmp_path / "o.parquet", model=tiny_nlp(), progress=False, errors_path=errors)
    assert result.failed == 3 and len(read_jsonl(errors)) == 3
    with pytest.raises(ValueError, match="already exist"):
        annotate(src, tmp_path / "o.parquet", model=tiny_nlp(), progress=False, errors_path=errors)
