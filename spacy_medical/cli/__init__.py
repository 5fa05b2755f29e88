"""`spacy-medical` command line: thin typer commands over importable functions."""
import typer

# A traceback with local variables would print note text (the locals of a failing job).
app = typer.Typer(name="spacy-medical", help="Clinical NLP for spaCy.", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)


@app.callback()
def _commands() -> None:
    """Clinical NER, assertion, sections and summaries for spaCy."""

# Each module adds its commands to `app` when imported.
from . import convert  # noqa: E402,F401
from . import evaluate  # noqa: E402,F401
from . import annotate  # noqa: E402,F401
from . import summarize  # noqa: E402,F401
from . import train  # noqa: E402,F401
from . import serve  # noqa: E402,F401
from . import deidentify  # noqa: E402,F401
from . import details  # noqa: E402,F401
from . import train_classifier  # noqa: E402,F401


def main() -> None:
    app()
