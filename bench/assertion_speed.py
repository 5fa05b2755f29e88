"""Words/s of `medical_context` alone against negspacy's Negex alone, in the same run.

Both components get the same documents: tokenized, sentence-split by `medical_sentences`,
with the same gold DISEASE/SYMPTOM entities (MACCROBAT, all 160 documents, when the corpora
are present; the assertion dev set otherwise). Only the component call is timed; each system
runs `--rounds` times, interleaved, and the best round counts. Prints the ratio and writes
metrics/assertion_speed.json. Run on demand; never as a test.

Usage: python bench/assertion_speed.py [--rounds 5] [--output metrics/assertion_speed.json]
"""
import argparse
import json
import platform
import time
from pathlib import Path

import spacy

import spacy_medical.registry  # noqa: F401
from spacy_medical.evaluate.assertion import _negex_nlp, make_docs, read_dev_set, read_maccrobat_gold


def timed(component, docs) -> float:
    copies = [d.copy() for d in docs]
    start = time.perf_counter()
    for doc in copies:
        component(doc)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--output", type=Path, default=Path("metrics/assertion_speed.json"))
    args = parser.parse_args()
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_sentences")
    context = nlp.add_pipe("medical_context")
    nlp.initialize()
    try:
        items, _ = read_maccrobat_gold("all")
        source = "maccrobat (all documents, gold entities)"
    except (FileNotFoundError, OSError):
        items, source = read_dev_set(), "assertion dev set (gold entities)"
    docs, _, _ = make_docs(nlp, items)
    words = sum(len(d) for d in docs)
    negex = _negex_nlp(nlp).get_pipe("negex")
    context(docs[0].copy())  # build the matchers outside the timing
    best = {"medical_context": float("inf"), "negspacy_negex": float("inf")}
    for _ in range(args.rounds):
        best["medical_context"] = min(best["medical_context"], timed(context, docs))
        best["negspacy_negex"] = min(best["negspacy_negex"], timed(negex, docs))
    wps = {name: round(words / secs) for name, secs in best.items()}
    result = {
        "source": source, "documents": len(docs), "words": words,
        "entities": sum(len(d.ents) for d in docs), "rounds": args.rounds,
        "words_per_second": wps,
        "ratio_medical_context_to_negspacy": round(wps["medical_context"] / wps["negspacy_negex"], 3),
        "machine": f"{platform.machine()}, {platform.python_version()}, spacy {spacy.__version__}",
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
