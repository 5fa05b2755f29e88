"""`spacy-medical annotate` and `spacy-medical demo`: batch annotation of EMR exports."""
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import typer
from wasabi import msg

from ..batch.annotate import EXIT_JOB_ERROR, AnnotateResult, annotate, annotate_preview
from ..batch.deidentify import deid_pipeline
from ..batch.options import AnnotateOptions
from .root import app

_FLAG_NAMES = ("negated", "uncertain", "historical", "hypothetical", "family")
# Exit code of a job stopped by Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
# Errors whose messages this package writes (file, row, field; never note text). Any other
# exception may carry text from a library: only its type is shown.
_OWN_ERRORS = (ValueError, OSError, RuntimeError, TypeError)


@app.command("annotate")
def annotate_cli(
    input_path: Path = typer.Argument(..., help="EMR export: .csv, .tsv, .jsonl or .parquet"),
    output_path: Path = typer.Argument(..., help="Output: .jsonl, .csv (+ .notes.csv) or a .parquet folder"),
    model: str = typer.Option("en_medical", "--model", "-m", help="Pipeline package name or path"),
    id_col: str = typer.Option("note_id", "--id-col", help="Column/field of the note id"),
    text_col: str = typer.Option("text", "--text-col", help="Column/field of the note text"),
    input_format: str = typer.Option("auto", "--input-format", help="auto|csv|tsv|jsonl|parquet"),
    output_format: str = typer.Option("auto", "--output-format", help="auto|jsonl|csv|parquet|fhir (NDJSON, one FHIR R4 Bundle per note)"),
    errors: Optional[Path] = typer.Option(None, "--errors", help="Errors JSONL (default: OUTPUT + .errors.jsonl)"),
    n_process: int = typer.Option(1, "--n-process", help="Worker processes (local engine; -1: one per CPU)"),
    batch_size: int = typer.Option(64, "--batch-size", help="nlp.pipe batch size"),
    engine: str = typer.Option("local", "--engine", help="local|spark"),
    spark_master: Optional[str] = typer.Option(None, "--spark-master", help="Spark master URL (default local[*], bound to 127.0.0.1)"),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted job from its checkpoint"),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the outputs of an earlier job (refused by default)"),
    html: Optional[Path] = typer.Option(None, "--html", help="Write a displaCy HTML report of the first notes"),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N input records"),
    allow_failures: bool = typer.Option(False, "--allow-failures", help="Exit 0 even if some records failed"),
    raw_csv: bool = typer.Option(False, "--raw-csv", help="Write CSV cells raw: do not neutralise spreadsheet formulas"),
    file_mode: str = typer.Option("600", "--file-mode", help="Octal permission bits of the files written (default 600)"),
    deidentify: bool = typer.Option(False, "--deidentify", help="Run on de-identified text (medical_deid first): no entity, section or summary holds PHI"),
) -> None:
    """Annotate every record of an EMR export; every record ends up in the output or the errors file.

    Exit codes: 0 every record annotated (or failures allowed); 1 some records failed (see the
    errors file); 2 the job could not start or run, or could not account for its whole input.
    """
    with job_errors():
        options = AnnotateOptions(
            model=deid_pipeline(model) if deidentify else model, id_col=id_col, text_col=text_col, input_format=input_format,
            output_format=output_format, errors_path=errors, n_process=n_process, batch_size=batch_size,
            engine=engine, spark_master=spark_master, resume=resume, overwrite=overwrite, html_path=html,
            limit=limit, allow_failures=allow_failures, raw_csv=raw_csv, file_mode=int(file_mode, 8),
        )
        result = annotate(input_path, output_path, options)
    report_result(result, html)
    raise typer.Exit(result.exit_code)


@contextmanager
def job_errors() -> Iterator[None]:
    """Turn an error that stops a batch job (`annotate`, `deidentify`) into exit code 2, or 130 on
    Ctrl-C, with no traceback: this package's own messages name a file, row or field and are shown;
    any other exception may carry note text from a library, so only its type is shown.
    """
    try:
        yield
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        msg.fail("Interrupted. Run the same command with --resume to continue from the last checkpoint.")
        raise typer.Exit(EXIT_INTERRUPTED)
    except _OWN_ERRORS as err:
        msg.fail(str(err))
        raise typer.Exit(EXIT_JOB_ERROR)
    except Exception as err:  # whatever failed, the job exits 2 without a traceback of note text
        msg.fail(f"The job stopped on an unexpected {type(err).__name__}; its message is not shown (it may "
                 "hold note text). Run the job from Python to see the traceback. Rerun with --resume.")
        raise typer.Exit(EXIT_JOB_ERROR)


def report_result(result: AnnotateResult, html: Optional[Path] = None) -> None:
    """Print a finished job's accounting line (and where its failures and HTML report are)."""
    if result.exit_code == 0:
        msg.good(result.accounting)
    else:
        msg.fail(result.accounting)
        if result.failed:
            msg.text(f"See {result.errors} for a reason per failed record; --allow-failures exits 0.")
    if html:
        msg.info(f"HTML report: {html}")


def _describe(ent: Dict[str, Any]) -> str:
    flags = [name for name in _FLAG_NAMES if ent.get(name)]
    if ent.get("section"):
        flags.append(f"section={ent['section']}")
    extra = f" [{', '.join(flags)}]" if flags else ""
    return f"{ent['label']:<8} {ent['text']!r} ({ent['start_char']}-{ent['end_char']}){extra}"


@app.command("demo")
def demo_cli(
    path: Path = typer.Argument(..., help="A small export, e.g. corpus/sample_notes.csv"),
    model: str = typer.Option("en_medical", "--model", "-m", help="Pipeline package name or path"),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N notes"),
) -> None:
    """Annotate a small export and print the entities of each note (invented notes only)."""
    try:
        results = annotate_preview(path, model=model, limit=limit)
    except OSError as err:
        msg.fail(f"Cannot load the model '{model}': {type(err).__name__}. Build it with `make demo` "
                 "or pass --model PATH.")
        raise typer.Exit(1)
    for record, result in results:
        msg.divider(f"row {record.row} - note {record.note_id}")
        if result["status"] != "ok":
            msg.fail(result["error"])
            continue
        if result.get("flags"):
            msg.text(f"flags: {', '.join(result['flags'])}")
        for ent in result["entities"]:
            print("  " + _describe(ent))
        if not result["entities"]:
            print("  (no entities)")
        summary = result.get("summary")
        if summary and summary.get("text"):
            print(f"  summary: {summary['text']}")
