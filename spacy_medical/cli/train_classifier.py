"""`spacy-medical train-classifier`: a text classifier from a labelled CSV, with its report."""
from pathlib import Path
from typing import Optional

import typer
from spacy.cli._util import parse_config_overrides
from wasabi import msg

from ..train_classifier import BASE_CONFIGS, train_classifier
from .root import app


@app.command("train-classifier", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def train_classifier_cli(
    ctx: typer.Context,
    data_path: Path = typer.Argument(..., help="Labelled CSV (UTF-8, header row)", dir_okay=False),
    output_dir: Path = typer.Argument(..., help="Folder for corpus/, model-best/, model-last/, report.json, report.md"),
    text_col: str = typer.Option("text", "--text-col", help="Column of the texts"),
    label_col: str = typer.Option("label", "--label-col", help="Column of the labels (one per row)"),
    base: str = typer.Option("en_medical_sm", "--base", help=f"Encoder: {' (CNN) | '.join(BASE_CONFIGS)} (frozen MiniLM)"),
    config_path: Optional[Path] = typer.Option(None, "--config", help="Training config to use instead of --base's", exists=True, dir_okay=False),
) -> None:
    """Train an exclusive-class text classifier; extra options override the config (--training.max_epochs 5)."""
    try:
        report = train_classifier(
            data_path, output_dir, text_col=text_col, label_col=label_col, base=base,
            config_path=config_path, overrides=parse_config_overrides(ctx.args),
        )
    except (ValueError, FileNotFoundError, ImportError) as error:
        msg.fail(str(error), exits=1)
    test = report["test"]
    msg.good(
        f"Pipeline in {output_dir / 'model-best'}; test top-1 {test['accuracy']:.3f}, "
        f"macro F1 {test['macro']['f1']:.3f} (n = {test['n']}); report in {output_dir / 'report.md'}"
    )
