"""`spacy-medical` command line: thin typer commands over importable functions."""
# Each module adds its commands to `app` when imported.
from . import annotate, convert, deidentify, details, evaluate, linking, serve, summarize, train, train_classifier  # noqa: F401
from .root import app


def main() -> None:
    app()
