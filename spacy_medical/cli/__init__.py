"""`spacy-medical` command line: thin typer commands over importable functions."""
from .root import app

# Each module adds its commands to `app` when imported.
from . import convert  # noqa: E402,F401
from . import evaluate  # noqa: E402,F401
from . import annotate  # noqa: E402,F401
from . import summarize  # noqa: E402,F401
from . import train  # noqa: E402,F401


def main() -> None:
    app()
