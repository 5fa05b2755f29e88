"""`spacy-medical train`: `spacy train` with a checkpoint at every evaluation, and `--resume`."""
from pathlib import Path

import typer
from spacy.cli._util import parse_config_overrides

from ..training.resumable import train
from .root import app


@app.command("train", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def train_cli(
    ctx: typer.Context,
    config_path: Path = typer.Argument(..., help="Training config", exists=True, dir_okay=False),
    output_path: Path = typer.Option(..., "--output", "-o", help="Folder for model-best, model-last and checkpoint/"),
    resume: bool = typer.Option(False, "--resume", help="Continue the run whose checkpoint is in --output, if the config and data are the same"),
) -> None:
    """Train on CPU like `spacy train` (same loop, same weights); extra options override the config (--paths.train ...)."""
    train(config_path, output_path, overrides=parse_config_overrides(ctx.args), resume=resume)
