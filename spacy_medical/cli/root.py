"""The root typer app of `spacy-medical`: each command module adds its commands to it.

A module of its own, so that command modules import it without importing the `cli` package
that imports them (no import cycle).
"""
import typer

app = typer.Typer(name="spacy-medical", help="Clinical NLP for spaCy.", no_args_is_help=True)


@app.callback()
def _commands() -> None:
    """Clinical NER, assertion, sections and summaries for spaCy."""
