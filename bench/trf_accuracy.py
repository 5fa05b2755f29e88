"""Test-split F1 of en_medical's transformer NER under its CPU speed options.

The speed options (`bench/trf_speed.py`) change what the encoder computes, so each needs its
accuracy measured against the gold test splits, not only its agreement with the default:

- a wider window stride: the encoder reads 128-wordpiece windows every 96 wordpieces
  (configs/trf.cfg); a wider stride means fewer windows but less context at window edges;
- int8 dynamic quantization of the encoder (`spacy_medical.ml.encoder.quantize_transformer`,
  FFN output layers kept in float), with one scale per output row (what en_medical predicts
  with) or one per weight matrix; with activation scales per window (what en_medical predicts
  with) or per padded batch (`.v1`); and int8 of every Linear layer, FFN outputs included (the
  fastest variant in bench/trf_speed.py).

    python bench/trf_accuracy.py [--model training/trf_restored] [--stride 96 --stride 112 --stride 128]
    python bench/trf_accuracy.py --corpus-dir corpus/dev --output metrics/trf_accuracy_dev.json
    python bench/trf_accuracy.py --only int8 --only "int8, scales per batch (v1)" --output metrics/int8_batch_invariance_accuracy.json

Writes metrics/trf_accuracy.json: per variant, per corpus, per-label F (and DISEASE with SYMPTOM
merged). The model read here (training/trf_restored) has a float encoder. To use a stride:
spacy.load("en_medical", config={"components": {"transformer": {"model": {"get_spans": {"stride":
112}}}}}); for the float encoder: config={"nlp": {"after_pipeline_creation": None}}.
"""
import argparse
import json
from pathlib import Path

import spacy

from spacy_medical.evaluate.ner import evaluate_ner
from spacy_medical.io.convert import CORPORA
from spacy_medical.ml.encoder import quantize_transformer

ROOT = Path(__file__).resolve().parents[1]


def f_per_corpus(nlp, corpus_dir: Path) -> dict:
    out = {}
    for corpus in CORPORA:
        result = evaluate_ner(nlp, corpus_dir / f"{corpus}.spacy", merges={"SYMPTOM": "DISEASE"})
        scores = {label: s["f"] for label, s in result["scores"]["ents_per_type"].items()}
        scores["DISEASE, SYMPTOM merged"] = result["merged"]["scores"]["ents_per_type"].get("DISEASE", {}).get("f")
        out[corpus] = scores
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="training/trf_restored", help="path of a trained transformer pipeline")
    parser.add_argument("--stride", type=int, action="append", help="strides to read with, in float (default 96, 112, 128)")
    parser.add_argument("--corpus-dir", type=Path, default=ROOT / "corpus" / "test")
    parser.add_argument("--output", type=Path, default=ROOT / "metrics" / "trf_accuracy.json")
    parser.add_argument("--only", action="append", help="run only the int8 variants with these names (and no stride)")
    args = parser.parse_args()
    # The saved config is enough: no need to load the pipeline's weights for it.
    trained = spacy.util.load_config(Path(args.model) / "config.cfg")["components"]["transformer"]["model"]["get_spans"]
    report = {"model": args.model, "split": args.corpus_dir.name, "window": trained["window"], "trained_stride": trained["stride"], "variants": {}}
    for stride in [] if args.only else args.stride or [96, 112, 128]:
        nlp = spacy.load(args.model, config={"components": {"transformer": {"model": {"get_spans": {"stride": stride}}}}})
        report["variants"][f"stride {stride}"] = f_per_corpus(nlp, args.corpus_dir)
        print(json.dumps({"stride": stride, "f": report["variants"][f"stride {stride}"]}), flush=True)
    # en_medical's default (one scale per output row), one scale per weight matrix, and every
    # Linear layer in int8 (nothing kept in float).
    int8_variants = (
        ("int8", {}),
        ("int8, scales per batch (v1)", {"per_sequence": False}),
        ("int8, one scale per matrix", {"per_channel": False}),
        ("int8, every Linear layer", {"keep_float": ()}),
    )
    for name, options in int8_variants:
        if args.only and name not in args.only:
            continue
        nlp = quantize_transformer(spacy.load(args.model), **options)
        report["variants"][name] = f_per_corpus(nlp, args.corpus_dir)
        print(json.dumps({"variant": name, "f": report["variants"][name]}), flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf8")


if __name__ == "__main__":
    main()
