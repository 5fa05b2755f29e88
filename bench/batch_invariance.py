"""Does a note's annotation depend on the other notes of its batch? Agreement and speed per encoder.

For en_medical's encoder variants (float; int8 with activation scales per padded batch, the
`.v1` callback; int8 one window at a time, `.v2`, what en_medical predicts with), annotates the
same ACI-Bench reference notes one at a time and through `nlp.pipe` with batch sizes 8 and 64,
and counts the notes (and entities) whose entities differ from the one-at-a-time run. Words/s are
measured in the same process with batch size 64, after a warm-up.

    python bench/batch_invariance.py [--model training/trf_restored] [--notes 20]

Writes metrics/batch_invariance.json. The model read here has a float encoder; each variant is
applied to a fresh copy of it.
"""
import argparse
import csv
import json
import time
from pathlib import Path

import spacy

from spacy_medical.io.corpora import corpora_dir
from spacy_medical.ml.encoder import quantize_transformer

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {
    "float": None,
    "int8, scales per batch (v1)": {"per_sequence": False},
    "int8, one window at a time (v2, en_medical)": {"per_sequence": True},
}


def notes(n: int) -> list:
    with open(corpora_dir() / "aci_bench" / "valid.csv", newline="", encoding="utf8") as handle:
        return [row["note"] for row in csv.DictReader(handle)][:n]


def entities(doc) -> list:
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents]


def measure(nlp, texts: list) -> dict:
    alone = [entities(nlp(text)) for text in texts]
    report = {}
    for batch_size in (8, 64):
        batched = [entities(doc) for doc in nlp.pipe(texts, batch_size=batch_size)]
        report[f"notes differing at batch size {batch_size}"] = sum(a != b for a, b in zip(alone, batched))
        report[f"entities differing at batch size {batch_size}"] = sum(len(set(a) ^ set(b)) for a, b in zip(alone, batched))
    report["entities"] = sum(len(a) for a in alone)
    words = sum(len(text.split()) for text in texts)
    start = time.perf_counter()
    list(nlp.pipe(texts, batch_size=64))
    report["words_per_second"] = round(words / (time.perf_counter() - start))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="training/trf_restored", help="path of a pipeline with a float transformer")
    parser.add_argument("--notes", type=int, default=20)
    parser.add_argument("--output", type=Path, default=ROOT / "metrics" / "batch_invariance.json")
    args = parser.parse_args()
    texts = notes(args.notes)
    report = {"model": args.model, "notes": len(texts), "words": sum(len(t.split()) for t in texts), "variants": {}}
    for name, options in VARIANTS.items():
        nlp = spacy.load(args.model)
        if options is not None:
            quantize_transformer(nlp, **options)
        list(nlp.pipe(texts[:4]))  # warm-up
        report["variants"][name] = measure(nlp, texts)
        print(json.dumps({name: report["variants"][name]}), flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf8")


if __name__ == "__main__":
    main()
