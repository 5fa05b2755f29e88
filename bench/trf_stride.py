"""Test-split F1 of en_medical's transformer NER read with wider window strides than it was trained with.

The encoder reads 128-wordpiece windows every 96 wordpieces (configs/trf.cfg). A wider stride
means fewer windows, so less work (speed: `bench/trf_speed.py`, rows trf_stride*), but less
context at window edges. This measures what that costs against the gold test splits:

    python bench/trf_stride.py [--model training/trf_restored] [--stride 96 --stride 112 --stride 128]

Writes metrics/trf_stride.json: per corpus, per stride, per-label F (and DISEASE with SYMPTOM merged).
To read with another stride: spacy.load("en_medical", config={"components": {"transformer":
{"model": {"get_spans": {"stride": 112}}}}}).
"""
import argparse
import json
from pathlib import Path

import spacy

from spacy_medical.evaluate.ner import evaluate_ner

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ("maccrobat", "bc5cdr", "ncbi")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="training/trf_restored")
    parser.add_argument("--stride", type=int, action="append")
    parser.add_argument("--corpus-dir", type=Path, default=ROOT / "corpus" / "test")
    parser.add_argument("--output", type=Path, default=ROOT / "metrics" / "trf_stride.json")
    args = parser.parse_args()
    report = {"model": args.model, "window": None, "strides": {}}
    for stride in args.stride or [96, 112, 128]:
        nlp = spacy.load(args.model, config={"components": {"transformer": {"model": {"get_spans": {"stride": stride}}}}})
        report["window"] = nlp.config["components"]["transformer"]["model"]["get_spans"]["window"]
        report["strides"][str(stride)] = {}
        for corpus in CORPORA:
            result = evaluate_ner(nlp, args.corpus_dir / f"{corpus}.spacy", merges={"SYMPTOM": "DISEASE"})
            scores = {label: s["f"] for label, s in result["scores"]["ents_per_type"].items()}
            scores["DISEASE, SYMPTOM merged"] = result["merged"]["scores"]["ents_per_type"].get("DISEASE", {}).get("f")
            report["strides"][str(stride)][corpus] = scores
            print(json.dumps({"stride": stride, "corpus": corpus, "f": scores}), flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf8")


if __name__ == "__main__":
    main()
