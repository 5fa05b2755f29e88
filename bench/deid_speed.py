"""Words/s of a pipeline with and without `medical_deid`, same texts, same process.

Texts: the ACI-Bench reference notes. The pipeline is loaded twice; `medical_deid` (mask mode)
is removed from one copy (or added to the other) so both differ only by it. Rounds alternate;
the best round of each is reported, and the cost is 1 - (words/s with) / (words/s without).

    python bench/deid_speed.py [--model en_medical_sm] [--rounds 3] [--output metrics/deid_speed.json]
"""
import argparse
import json
import os
import sys
from pathlib import Path

import spacy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _notes import aci_notes  # noqa: E402
from speed import words_per_second  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="en_medical_sm", help="pipeline name or path")
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--output", type=Path, default=Path("metrics/deid_speed.json"))
    args = parser.parse_args()

    texts = aci_notes()[: args.limit]
    without, with_deid = spacy.load(args.model), spacy.load(args.model)
    if "medical_deid" in without.pipe_names:
        without.remove_pipe("medical_deid")
    else:
        with_deid.add_pipe("medical_deid").initialize()
    words = sum(len(d) for d in without.tokenizer.pipe(texts))
    best = {"without": 0.0, "with": 0.0}
    for _ in range(args.rounds):
        best["without"] = max(best["without"], words_per_second(without, texts, words, args.batch_size))
        best["with"] = max(best["with"], words_per_second(with_deid, texts, words, args.batch_size))
    meta = with_deid.meta
    result = {
        "model": f"{meta['lang']}_{meta['name']} {meta['version']} ({args.model})",
        "pipeline_with": with_deid.pipe_names,
        "texts": len(texts),
        "words": words,
        "cores": os.cpu_count(),
        "rounds": args.rounds,
        "wps_without_deid": round(best["without"], 1),
        "wps_with_deid": round(best["with"], 1),
        "cost": round(1 - best["with"] / best["without"], 3),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
