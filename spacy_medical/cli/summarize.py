"""`spacy-medical summarize`: print the summary of one note or transcript."""
from pathlib import Path
from typing import Optional

import srsly
import typer
from wasabi import msg

from ..errors import Errors
from ..pipeline.summary_lists import format_summary
from ..pipeline.summary_pipeline import load_summary_pipeline
from .root import app


def summarize_file(path: Path, model: Optional[str] = None, dialogue_model: Optional[Path] = None, max_sentences: Optional[int] = None) -> dict:
    """Run the pipeline over one UTF-8 text file and return `doc._.summary`.

    path (Path): The note or transcript.
    model (Optional[str]): Pipeline name or folder (default: en_medical).
    dialogue_model (Optional[Path]): Dialogue section classifier, if the pipeline lacks one.
    RETURNS (dict): The summary dict.
    """
    try:
        text = Path(path).read_text(encoding="utf8")
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(Errors.E208.format(path=path, reason=type(err).__name__)) from None
    nlp = load_summary_pipeline(model or "en_medical", dialogue_model=dialogue_model, max_sentences=max_sentences)
    return nlp(text)._.summary


@app.command("summarize")
def summarize_cli(
    path: Path = typer.Argument(..., help="Text file with one note or transcript", exists=True, dir_okay=False),
    model: str = typer.Option("en_medical", "--model", "-m", help="Pipeline name or folder ('lexicon' for the lexicon stand-in)"),
    dialogue_model: Optional[Path] = typer.Option(None, help="Dialogue section classifier folder, if the pipeline has none"),
    max_sentences: Optional[int] = typer.Option(None, help="Summary length in sentences/turns"),
    as_json: bool = typer.Option(False, "--json", help="Print the summary dict as JSON"),
) -> None:
    """Print the summary of one note or transcript: key sentences by section, problems,
    symptoms, pertinent negatives and medications."""
    try:
        summary = summarize_file(path, model, dialogue_model, max_sentences)
    except ValueError as err:
        msg.fail(str(err), exits=1)
    if as_json:
        print(srsly.json_dumps(summary, indent=2))
    else:
        msg.divider(f"Summary of {path.name}")
        print(format_summary(summary))
