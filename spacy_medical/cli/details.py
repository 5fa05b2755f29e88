"""`spacy-medical convert-details` and `evaluate-details`: MACCROBAT clinical details (issue 32)."""
import json
from pathlib import Path
from typing import Optional

import spacy
import typer
from wasabi import msg

from ..evaluate.details import evaluate_details_to_file, results_markdown, train_linker
from ..io.maccrobat_details import convert_details
from .root import app


@app.command("convert-details")
def convert_details_cli(
    output_dir: Path = typer.Argument(..., help="Folder for details_{train,dev,test}.spacy"),
    report: Optional[Path] = typer.Option(None, "--report", help="JSON file for the counts per split and label"),
) -> None:
    """Write MACCROBAT's attribute and TEST/PROCEDURE spans (doc.spans['details']) for training the details span model."""
    counts = convert_details(spacy.blank("en"), output_dir)
    if report:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(counts, indent=2), encoding="utf8")
    for split, labels in counts.items():
        msg.info(f"{split}: {labels}")


@app.command("evaluate-details")
def evaluate_details_cli(
    output: Path = typer.Option(..., "--output", "-o", help="JSON report"),
    model: Optional[Path] = typer.Option(None, "--model", help="Trained details span model (configs/details_spancat.cfg)"),
    link_weights: Optional[Path] = typer.Option(None, "--link-weights", help="Learned linker weights (train-details-linker)"),
    ner_model: Optional[Path] = typer.Option(None, "--ner-model", help="NER pipeline whose entities the details start from (default: gold DRUG)"),
    details_ner: Optional[Path] = typer.Option(None, "--details-ner", help="Second details span model, the CNN NER (configs/details_ner.cfg)"),
) -> None:
    """Strict P/R/F per label and link P/R/F on MACCROBAT dev and test: rules, model and the per-label choice."""
    report = evaluate_details_to_file(output, model, link_weights, ner_model=ner_model, details_ner=details_ner)
    for split in ("dev", "test"):
        for system in ("rules", "model", "ner", "chosen", "chosen_learned_links"):
            if system in report[split]:
                scores = report[split][system]
                spans = {label: round(s["f"], 3) for label, s in scores["spans"].items()}
                msg.info(f"{split} {system}: {spans} links F {scores['links']['f']:.3f}")
    msg.info(f"chosen sources: {report['chosen_sources']}")
    msg.good(f"Wrote {output}")


@app.command("train-details-linker")
def train_details_linker_cli(output: Path = typer.Argument(..., help="JSON file for the pair classifier's weights")) -> None:
    """Fit the attribute -> DRUG/TEST pair classifier on MACCROBAT train's MODIFY relations."""
    weights = train_linker(output)
    msg.good(f"Wrote {len(weights)} weights to {output}")


@app.command("details-table")
def details_table_cli(
    report: Path = typer.Argument(Path("metrics/details.json"), help="evaluate-details output"),
    speed: Optional[Path] = typer.Option(Path("metrics/details_speed.json"), "--speed", help="bench/details_speed.py output"),
    output: Path = typer.Option(Path("metrics/details.md"), "--output", "-o", help="Markdown file"),
) -> None:
    """Render the details results (spans per label, links, speed) as Markdown tables."""
    speed_report = json.loads(speed.read_text()) if speed and speed.exists() else None
    output.write_text(results_markdown(json.loads(report.read_text()), speed_report) + "\n", encoding="utf8")
    msg.good(f"Wrote {output}")
