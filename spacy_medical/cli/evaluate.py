"""`spacy-medical evaluate-ner`: per-label scores of a pipeline on converted corpora."""
from pathlib import Path
from typing import List

import typer
from wasabi import msg

from ..evaluate.ner import evaluate_to_file
from .root import app


@app.command("evaluate-ner")
def evaluate_ner_cli(
    model: str = typer.Argument(..., help="Pipeline name or path"),
    data: List[Path] = typer.Argument(..., help="Gold .spacy files"),
    output: Path = typer.Option(..., "--output", "-o", help="JSON report"),
    merge: List[str] = typer.Option([], "--merge", help="SRC:DST label merge for an extra view, e.g. SYMPTOM:DISEASE"),
    exclude: List[str] = typer.Option([], "--exclude", help="Pipe to load the pipeline without (repeatable)"),
) -> None:
    """Score entities per label, optionally also with labels merged on both sides."""
    merges = dict(m.split(":", 1) for m in merge)
    report = evaluate_to_file(model, data, output, merges=merges or None, exclude=exclude)
    for name, result in report.items():
        per_type = {label: round(s["f"], 3) for label, s in result["scores"]["ents_per_type"].items()}
        msg.info(f"{name}: F {result['scores']['ents_f']:.3f} {per_type}")
    msg.good(f"Wrote {output}")
