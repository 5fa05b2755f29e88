"""`spacy-medical annotate` and `spacy-medical demo`: batch annotation of EMR exports."""
from pathlib import Path
from typing import Any, Dict, Optional

import typer
from wasabi import msg

from ..batch.annotate import EXIT_MISMATCH, annotate, annotate_preview
from ..deidentify import deid_pipeline
from ..errors import Errors
from . import app

_FLAG_NAMES = ("negated", "uncertain", "historical", "hypothetical", "family")


@app.command("annotate")
def annotate_cli(
    input_path: Path = typer.Argument(..., help="EMR export: .csv, .tsv, .jsonl or .parquet"),
    output_path: Path = typer.Argument(..., help="Output: .jsonl, .csv (+ .notes.csv) or a .parquet folder"),
    model: str = typer.Option("en_medical", "--model", "-m", help="Pipeline package name or path"),
    id_col: str = typer.Option("note_id", "--id-col", help="Column/field of the note id"),
    text_col: str = typer.Option("text", "--text-col", help="Column/field of the note text"),
    input_format: str = typer.Option("auto", "--input-format", help="auto|csv|tsv|jsonl|parquet"),
    output_format: str = typer.Option("auto", "--output-format", help="auto|jsonl|csv|parquet"),
    errors: Optional[Path] = typer.Option(None, "--errors", help="Errors JSONL (default: OUTPUT stem + .errors.jsonl)"),
    n_process: int = typer.Option(1, "--n-process", help="Worker processes (local engine; -1: one per CPU)"),
    batch_size: int = typer.Option(64, "--batch-size", help="nlp.pipe batch size"),
    engine: str = typer.Option("local", "--engine", help="local|spark"),
    spark_master: Optional[str] = typer.Option(None, "--spark-master", help="Spark master URL (default local[*])"),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted job from its checkpoint"),
    html: Optional[Path] = typer.Option(None, "--html", help="Write a displaCy HTML report of the first notes"),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N input records"),
    allow_failures: bool = typer.Option(False, "--allow-failures", help="Exit 0 even if some records failed"),
    deidentify: bool = typer.Option(False, "--deidentify", help="Run on de-identified text (medical_deid first): no entity, section or summary holds PHI"),
) -> None:
    """Annotate every record of an EMR export; every record ends up in the output or the errors file."""
    try:
        if deidentify:
            # The HTML report shows the input text: refused until the batch job renders the
            # de-identified text instead (docs/deidentification.md).
            if html:
                raise ValueError(Errors.E557)
        pipeline = deid_pipeline(model) if deidentify else model
        result = annotate(
            input_path, output_path, model=pipeline, id_col=id_col, text_col=text_col,
            input_format=input_format, output_format=output_format, errors_path=errors,
            n_process=n_process, batch_size=batch_size, engine=engine, spark_master=spark_master,
            resume=resume, html_path=html, limit=limit, allow_failures=allow_failures,
        )
    except (ValueError, FileNotFoundError, OSError, RuntimeError) as err:
        msg.fail(str(err))
        raise typer.Exit(EXIT_MISMATCH)
    if result.exit_code == 0:
        msg.good(result.accounting)
    else:
        msg.fail(result.accounting)
        if result.failed:
            msg.text(f"See {result.errors} for a reason per failed record; --allow-failures exits 0.")
    if html:
        msg.info(f"HTML report: {html}")
    raise typer.Exit(result.exit_code)


def _describe(ent: Dict[str, Any]) -> str:
    flags = [name for name in _FLAG_NAMES if ent.get(name)]
    if ent.get("section"):
        flags.append(f"section={ent['section']}")
    extra = f" [{', '.join(flags)}]" if flags else ""
    return f"{ent['label']:<8} {ent['text']!r} ({ent['start']}-{ent['end']}){extra}"


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
