"""Glue for `spacy project run evaluate-summary`: score `medical_summarizer` against lead-N and
TextRank on ACI-Bench (same run, same length) and section header P/R on the reference notes.
Writes metrics/summary.json and metrics/sections.json."""
from pathlib import Path
from typing import Optional

import srsly
import typer

from spacy_medical.evaluate.summary import evaluate_summaries
from spacy_medical.io.corpora import corpora_dir


def default_model() -> str:
    try:
        import en_medical  # noqa: F401

        return "en_medical"
    except ImportError:
        return "training/en_medical"


def main(
    model: Optional[str] = typer.Option(None, help="NER pipeline: en_medical (default if installed), a folder, or 'lexicon'"),
    dialogue_model: Path = typer.Option(Path("training/dialogue_sections"), help="Dialogue section classifier (train-dialogue-sections)"),
    summary_out: Path = typer.Option(Path("metrics/summary.json")),
    sections_out: Path = typer.Option(Path("metrics/sections.json")),
    max_sentences: Optional[int] = typer.Option(None, help="Override the summarizer's length"),
    limit: Optional[int] = typer.Option(None, help="Only the first N encounters per split (quick check)"),
    corpora: Optional[Path] = typer.Option(None, help="Corpora folder (default: SPACY_MEDICAL_CORPORA or ../shared/corpora)"),
):
    model = model or default_model()
    result = evaluate_summaries(
        model,
        (corpora or corpora_dir()) / "aci_bench",
        dialogue_model=dialogue_model if dialogue_model.exists() else None,
        max_sentences=max_sentences,
        limit=limit,
    )
    splits = [k for k in ("valid", "test1", "test2", "test3") if k in result]
    sections = {
        "gold": "ACI-Bench reference-note header lines (see spacy_medical.evaluate.summary.ACI_HEADERS)",
        **{s: {"n_notes": result[s]["n"], **result[s].pop("sections")} for s in splits},
    }
    for path, data in ((summary_out, result), (sections_out, sections)):
        path.parent.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path, data)
    print(f"model={model} max_sentences={result['max_sentences']}")
    print(f"{'split':6} {'system':11} {'R-1':>6} {'R-2':>6} {'R-L':>6} {'concept':>8}")
    for s in splits:
        for system in ("summarizer", "lead_n", "textrank"):
            r = result[s][system]
            print(f"{s:6} {system:11} {r['rouge1']:6.3f} {r['rouge2']:6.3f} {r['rougeL']:6.3f} {r['concept_recall']:8.3f}")
        sec = sections[s]
        print(f"{s:6} sections   P {sec['sections_header_p']:.3f} R {sec['sections_header_r']:.3f}")


if __name__ == "__main__":
    typer.run(main)
