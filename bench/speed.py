"""Words/s of en_medical against a blank spaCy CNN `ner` pipeline, same texts, same process.

Texts: the ACI-Bench reference notes (realistic clinical notes). The baseline is
`spacy.blank("en")` + a default CNN `ner` with the same labels, initialized but untrained
(inference cost does not depend on the weights). Both pipelines run over the same texts in
alternating rounds; the best round of each is reported, with the ratio.

    python bench/speed.py [--model en_medical] [--rounds 3] [--output metrics/speed.json]
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import spacy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _notes import aci_notes  # noqa: E402

def blank_cnn_ner(labels):
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    for label in labels:
        ner.add_label(label)
    nlp.initialize()
    return nlp


def words_per_second(nlp, texts, words, batch_size):
    start = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=batch_size):
        pass
    return words / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="en_medical")
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--output", type=Path, default=Path("metrics/speed.json"))
    args = parser.parse_args()

    texts = aci_notes()[: args.limit]
    model = spacy.load(args.model)
    baseline = blank_cnn_ner(model.get_pipe("ner").labels)
    words = sum(len(d) for d in baseline.tokenizer.pipe(texts))
    best = {"baseline": 0.0, "model": 0.0}
    for _ in range(args.rounds):
        best["baseline"] = max(best["baseline"], words_per_second(baseline, texts, words, args.batch_size))
        best["model"] = max(best["model"], words_per_second(model, texts, words, args.batch_size))
    result = {
        "model": f"{model.meta['lang']}_{model.meta['name']} {model.meta['version']} ({', '.join(model.pipe_names)})",
        "texts": len(texts),
        "words": words,
        "cores": os.cpu_count(),
        "rounds": args.rounds,
        "baseline_wps": round(best["baseline"], 1),
        "model_wps": round(best["model"], 1),
        "ratio": round(best["model"] / best["baseline"], 3),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
