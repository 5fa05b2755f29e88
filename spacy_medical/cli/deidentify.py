"""`spacy-medical deidentify` and `spacy-medical evaluate-deid`."""
from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from ..batch.annotate import annotate
from ..batch.deidentify import deid_pipeline
from ..evaluate.deid import evaluate_deid_to_file
from .annotate import job_errors, report_result
from .root import app


@app.command("deidentify")
def deidentify_cli(
    input_path: Path = typer.Argument(..., help="EMR export: .csv, .tsv, .jsonl or .parquet"),
    output_path: Path = typer.Argument(..., help="Output: .jsonl, .csv (+ .notes.csv) or a .parquet folder"),
    model: str = typer.Option("blank", "--model", "-m", help="Pipeline package name or path; 'blank' = medical_deid alone"),
    id_col: str = typer.Option("note_id", "--id-col", help="Column/field of the note id"),
    text_col: str = typer.Option("text", "--text-col", help="Column/field of the note text"),
    mode: str = typer.Option("mask", "--mode", help="mask ([NAME], [DATE] ...) or surrogate"),
    key_env: Optional[str] = typer.Option(None, "--key-env", help="Environment variable holding the surrogate key (reproducible surrogates)"),
    phi_model: Optional[Path] = typer.Option(None, "--phi-model", help="A trained PHI tagger unioned with the rules (training/deid_ner/model-best)"),
    errors: Optional[Path] = typer.Option(None, "--errors", help="Errors JSONL (default: OUTPUT stem + .errors.jsonl)"),
    n_process: int = typer.Option(1, "--n-process", help="Worker processes (local engine)"),
    batch_size: int = typer.Option(64, "--batch-size", help="nlp.pipe batch size"),
    engine: str = typer.Option("local", "--engine", help="local (spark: see docs/deidentification.md)"),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted job from its checkpoint"),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the outputs of an earlier job (refused by default)"),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N input records"),
    allow_failures: bool = typer.Option(False, "--allow-failures", help="Exit 0 even if some records failed"),
) -> None:
    """De-identify every record of an EMR export; every record ends up in the output or the errors file."""
    with job_errors():
        nlp = deid_pipeline(model, mode=mode, key_env=key_env, phi_model=phi_model)
        result = annotate(input_path, output_path, model=nlp, id_col=id_col, text_col=text_col,
                          errors_path=errors, n_process=n_process, batch_size=batch_size, engine=engine,
                          resume=resume, overwrite=overwrite, limit=limit, allow_failures=allow_failures)
    report_result(result)
    raise typer.Exit(result.exit_code)


@app.command("evaluate-deid")
def evaluate_deid_cli(
    sets: List[str] = typer.Argument(..., help="NAME=PATH of PHI JSONL sets, e.g. handwritten=corpus/deid/handwritten.jsonl"),
    output: Path = typer.Option(Path("metrics/deid.json"), "--output", "-o", help="JSON report"),
    model: str = typer.Option("blank", "--model", "-m", help="Pipeline package name or path; 'blank' = medical_deid alone"),
    phi_model: Optional[Path] = typer.Option(None, "--phi-model", help="A trained PHI tagger unioned with the rules (training/deid_ner/model-best)"),
) -> None:
    """Per-type PHI recall and precision (span and character level), leaks and kept clinical terms."""
    named = dict(s.split("=", 1) for s in sets)
    report = evaluate_deid_to_file(deid_pipeline(model, replace_doc=False, phi_model=phi_model), named, str(output),
                                  phi_model=str(phi_model) if phi_model else None)
    for name, scores in report["sets"].items():
        overall = scores["overall"]
        per_type = {label: s["char_recall"] for label, s in scores["per_type"].items()}
        msg.info(f"{name}: char recall {overall['char_recall']}, precision {overall['char_precision']}, "
                 f"leaked/100 {scores['leaked_per_100_spans']}, notes with a leak {scores['notes_with_leak']}/"
                 f"{scores['notes']}, terms kept {scores['clinical_terms_kept']}; recall per type {per_type}")
    msg.good(f"Wrote {output}")
