"""The typer app that every `spacy-medical` command module adds its commands to."""
import typer

# A traceback with local variables would print note text (the locals of a failing job).
app = typer.Typer(name="spacy-medical", help="Clinical NLP for spaCy.", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)


@app.callback()
def _commands() -> None:
    """Clinical NER, assertion, sections, concept codes, de-identification and summaries for spaCy."""
