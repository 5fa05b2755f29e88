"""`spacy-medical build-kb` and `spacy-medical evaluate-linking`: the concept KB of medical_linker."""
from pathlib import Path
from typing import List, Optional

import srsly
import typer
from wasabi import msg

from ..io.corpora import corpora_dir
from .root import app


@app.command("build-kb")
def build_kb_cli(
    output: Path = typer.Argument(..., help="Folder to write the KB to"),
    pubtator: List[Path] = typer.Option([], "--pubtator", help="BC5CDR PubTator file giving aliases and priors (train, dev; never test; repeatable)"),
    corpora: Optional[Path] = typer.Option(None, "--corpora-dir", help="Corpora folder (default: SPACY_MEDICAL_CORPORA or ../shared/corpora)"),
    report: Optional[Path] = typer.Option(None, "--report", help="JSON file for the build counts"),
) -> None:
    """Build the concept KB from MeSH, Disease Ontology, Symptom Ontology and DrugBank."""
    from ..kb.build import build_kb

    corpora = corpora or corpora_dir()
    if any("test" in path.name.lower() for path in pubtator):
        msg.fail("BC5CDR test is for evaluation only: give train and dev files to --pubtator.", exits=1)
    kb, counts = build_kb(corpora / "lexicons", pubtator)
    kb.to_disk(output)
    if report:
        srsly.write_json(report, counts)
    msg.good(f"Wrote {counts['concepts']} concepts and {counts['aliases']} aliases to {output}")


@app.command("evaluate-linking")
def evaluate_linking_cli(
    kb: Path = typer.Argument(..., help="The shipped KB (build-kb with train and dev)"),
    output: Path = typer.Option(..., "--output", "-o", help="JSON report"),
    model: Optional[str] = typer.Option(None, "--model", help="Pipeline for the end-to-end disease concept P/R/F; 'auto': en_medical when installed"),
    corpora: Optional[Path] = typer.Option(None, "--corpora-dir", help="Corpora folder"),
) -> None:
    """BC5CDR dev/test gold-mention accuracy@1 with a dictionary baseline, and end-to-end P/R/F."""
    from spacy.util import is_package

    from ..evaluate.linking import evaluate_linking

    if model == "auto":
        model = "en_medical" if is_package("en_medical") else None
        if model is None:
            msg.warn("en_medical is not installed: no end-to-end score in this run")
    result = evaluate_linking(corpora or corpora_dir(), kb, model)
    srsly.write_json(output, result)
    for split in ("dev", "test"):
        scores = result[split]
        msg.info(f"{split}: accuracy@1 " + ", ".join(f"{k} {v['accuracy']:.3f}" for k, v in scores["linker"].items())
                 + " | baseline " + ", ".join(f"{k} {v['accuracy']:.3f}" for k, v in scores["baseline_train_dictionary"].items()))
    msg.good(f"Wrote {output}")
