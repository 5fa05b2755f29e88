"""`spacy-medical` command line: thin typer commands over importable functions."""
import typer

app = typer.Typer(name="spacy-medical", help="Clinical NLP for spaCy.", no_args_is_help=True)


@app.callback()
def _commands() -> None:
    """Clinical NER, assertion, sections and summaries for spaCy."""

# Each module adds its commands to `app` when imported.
from . import convert  # noqa: E402,F401
from . import evaluate  # noqa: E402,F401
from . import annotate  # noqa: E402,F401
from . import summarize  # noqa: E402,F401
from . import train  # noqa: E402,F401
from . import linking  # noqa: E402,F401


def main() -> None:
    app()
