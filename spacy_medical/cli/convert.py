"""`spacy-medical convert`: corpora -> `.spacy` files."""
from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from ..io.convert import CHEMICAL_CHOICES, CORPORA, NCBI_OUTSIDE_CHOICES, SYMPTOM_CHOICES, convert_benchmark, convert_corpora
from .root import app


@app.command("convert")
def convert_cli(
    output_dir: Path = typer.Argument(..., help="Folder for {split}/{corpus}.spacy (or {split}.spacy with --benchmark)"),
    corpus: List[str] = typer.Option(list(CORPORA), "--corpus", "-c", help="Corpora to convert (repeatable)"),
    benchmark: Optional[str] = typer.Option(None, "--benchmark", help="Convert this benchmark (bc5cdr, ncbi) with its own labels instead"),
    chemicals: str = typer.Option("drugbank", help=f"BC5CDR chemicals as DRUG: {', '.join(CHEMICAL_CHOICES)}"),
    symptom_mentions: str = typer.Option("relabel", help=f"Disease mentions that are Symptom Ontology terms: {', '.join(SYMPTOM_CHOICES)}"),
    mask_unannotated: bool = typer.Option(True, help="Mark lexicon matches of labels a corpus does not annotate as missing"),
    ncbi_sentences_per_doc: int = typer.Option(1, min=1, help="NCBI-disease sentences per Doc (its IOB release has no abstract boundaries; an abstract has about 9)"),
    ncbi_outside: str = typer.Option("o", help=f"NCBI-disease tokens outside a Disease mention: {', '.join(NCBI_OUTSIDE_CHOICES)} (edges: missing, except next to a mention)"),
    limit: Optional[int] = typer.Option(None, help="At most this many documents per file"),
    corpora_dir: Optional[Path] = typer.Option(None, envvar="SPACY_MEDICAL_CORPORA", help="Folder of the corpora"),
) -> None:
    """Convert the public corpora to spaCy training data, with a report of every skipped span."""
    # Only non-default NCBI-disease options are passed, so that the reports of default conversions stay as they were.
    ncbi_options = {"ncbi_sentences_per_doc": ncbi_sentences_per_doc} if ncbi_sentences_per_doc != 1 else {}
    if ncbi_outside != "o":
        ncbi_options["ncbi_outside"] = ncbi_outside
    if benchmark:
        report = convert_benchmark(output_dir, benchmark, limit=limit, root=corpora_dir, **ncbi_options)
    else:
        report = convert_corpora(output_dir, corpus, limit=limit, root=corpora_dir, chemicals=chemicals, symptom_mentions=symptom_mentions,
                                 mask_unannotated=mask_unannotated, **ncbi_options)
    for key, counts in report["corpora"].items():
        skipped = sum(counts["skipped_spans"].values())
        msg.info(f"{key}: {counts['docs']} docs, entities {counts['entities']}, skipped/adjusted spans {skipped}")
    msg.good(f"Wrote {output_dir} (report: {Path(output_dir) / 'conversion_report.json'})")
