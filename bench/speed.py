"""Words/s of en_medical and en_medical_sm against a blank spaCy CNN `ner`, same texts, same process.

Texts: the ACI-Bench reference notes (realistic clinical notes). The baseline is
`spacy.blank("en")` + a default CNN `ner` with the same labels, initialized but untrained
(inference cost does not depend on the weights). All pipelines run over the same texts in
alternating rounds; the best round of each is reported, with its ratio to the baseline.

    python bench/speed.py [--model en_medical --model en_medical_sm] [--rounds 3] [--output metrics/speed.json]
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
    parser.add_argument("--model", action="append", help="pipeline name or path; repeat for several (default: en_medical, en_medical_sm)")
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--output", type=Path, default=Path("metrics/speed.json"))
    args = parser.parse_args()

    texts = aci_notes()[: args.limit]
    models = {name: spacy.load(name) for name in args.model or ["en_medical", "en_medical_sm"]}
    baseline = blank_cnn_ner(next(iter(models.values())).get_pipe("ner").labels)
    words = sum(len(d) for d in baseline.tokenizer.pipe(texts))
    best = dict.fromkeys(["baseline", *models], 0.0)
    for _ in range(args.rounds):
        best["baseline"] = max(best["baseline"], words_per_second(baseline, texts, words, args.batch_size))
        for name, model in models.items():
            best[name] = max(best[name], words_per_second(model, texts, words, args.batch_size))
    result = {
        "texts": len(texts),
        "words": words,
        "cores": os.cpu_count(),
        "rounds": args.rounds,
        "baseline_wps": round(best["baseline"], 1),
        "models": [
            {
                "model": f"{m.meta['lang']}_{m.meta['name']} {m.meta['version']} ({', '.join(m.pipe_names)})",
                "wps": round(best[name], 1),
                "ratio": round(best[name] / best["baseline"], 3),
            }
            for name, m in models.items()
        ],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
