"""Kinds of NER errors (other edges, other label, missed, spurious) per corpus and label.

    python scripts/ner_errors.py [--model training/en_medical] [--split test] -> metrics/ner_errors.json

Shows whether an exact-match F1 gap is a matter of span conventions (a mention found with other
edges) or of mentions not found at all; see `spacy_medical.evaluate.ner.error_kinds`.
"""
import argparse
import json
from pathlib import Path

import spacy
from spacy.tokens import DocBin

from spacy_medical.evaluate.ner import error_kinds
from spacy_medical.io.convert import CORPORA

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="training/en_medical")
    parser.add_argument("--split", default="test")
    parser.add_argument("--output", type=Path, default=ROOT / "metrics" / "ner_errors.json")
    args = parser.parse_args()
    nlp = spacy.load(args.model)
    report = {"model": args.model, "split": args.split, "corpora": {}}
    for corpus in CORPORA:
        gold = list(DocBin().from_disk(ROOT / "corpus" / args.split / f"{corpus}.spacy").get_docs(nlp.vocab))
        predicted = nlp.pipe((doc.text for doc in gold), batch_size=64)
        report["corpora"][corpus] = error_kinds(predicted, gold)
        print(corpus, json.dumps(report["corpora"][corpus]), flush=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf8")


if __name__ == "__main__":
    main()
