"""Chars/s of `medical_sentences` on one-line notes from 10k to 1M characters.

Issue 29: header detection was quadratic on single-line notes with many colons (100,000
characters took 4.5 s). The note here is vitals repeated on one line ("BP: 120/80 HR: 72 ..."),
a colon every few tokens and no line break. For each size the doc is tokenized once (not timed)
and only the component call is timed, best of `--rounds`; spaCy's `sentencizer` runs on the same
doc in the same run as a linear baseline. A linear splitter keeps its chars/s (and its ratio to
the baseline) flat as the size grows. Run on demand; never as a test.

Usage: python bench/sentences_scaling.py [--sizes 10000 100000 1000000] [--rounds 3] [--output FILE]
"""
import argparse
import json
import time
from pathlib import Path
from typing import Callable, Optional

import spacy
from spacy.tokens import Doc

import spacy_medical.registry  # noqa: F401  (registers medical_sentences)

UNIT = "BP: 120/80 HR: 72 RR: 16 Temp: 37.0 SpO2: 98% pain: 3/10 "


def best_seconds(component: Callable[[Doc], Doc], doc: Doc, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        copy = doc.copy()
        start = time.perf_counter()
        component(copy)
        best = min(best, time.perf_counter() - start)
    return best


def main(sizes, rounds: int, output: Optional[Path]) -> None:
    nlp = spacy.blank("en")
    ours = nlp.add_pipe("medical_sentences")
    baseline = spacy.blank("en").add_pipe("sentencizer")
    rows = []
    print(f"{'chars':>9} {'tokens':>8} {'medical_sentences chars/s':>26} {'sentencizer chars/s':>20} {'ratio':>6}")
    for size in sizes:
        text = (UNIT * (size // len(UNIT) + 1))[:size]
        doc = nlp.make_doc(text)
        ours_s, base_s = best_seconds(ours, doc, rounds), best_seconds(baseline, doc, rounds)
        row = {"chars": size, "tokens": len(doc), "chars_per_s": round(size / ours_s), "baseline_chars_per_s": round(size / base_s)}
        row["ratio_to_baseline"] = round(row["chars_per_s"] / row["baseline_chars_per_s"], 3)
        rows.append(row)
        print(f"{size:>9} {len(doc):>8} {row['chars_per_s']:>26,} {row['baseline_chars_per_s']:>20,} {row['ratio_to_baseline']:>6}")
    flat = rows[-1]["chars_per_s"] / rows[0]["chars_per_s"]
    print(f"chars/s at {sizes[-1]:,} chars / chars/s at {sizes[0]:,} chars: {flat:.2f} (1.0 = linear)")
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps({"unit": UNIT, "rounds": rounds, "sizes": rows, "largest_over_smallest": round(flat, 3)}, indent=2) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    main(args.sizes, args.rounds, args.output)
