"""Words/s of a pipeline without and with the clinical details, in the same run.

Arms, all on the same texts (MACCROBAT's 160 documents when the corpora are present, else a
repeated invented note), each `--rounds` times, interleaved; the best round counts:
- "base": the pipeline given (`--model`; default: a blank English pipeline with medical_sentences);
- "rules": base + medical_details with every label from the rules;
- "model": base + the details span model + medical_details with the sources chosen on dev
  (`--details-model`; default: the span model chosen on dev, "model" in `--sources`).
Prints words/s and the ratio to base; writes metrics/details_speed.json. Run on demand, never as a test.

Usage: python bench/details_speed.py [--model training/en_medical] [--details-model training/details_ner/model-best]
       [--sources metrics/details.json] [--rounds 3] [--limit 0]
"""
import argparse
import json
import platform
import time
from pathlib import Path

import spacy

import spacy_medical.registry  # noqa: F401
from spacy_medical.evaluate.details import add_details_model
from spacy_medical.io.corpora import corpora_dir
from spacy_medical.io.maccrobat import read_maccrobat

NOTE = "Metoprolol 25 mg PO BID for 2 weeks. BP 150/90 mmHg, HR 88 bpm, hemoglobin 9.7 g/dL.\n"


def load_base(model):
    if model:
        return spacy.load(model)
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_sentences")
    nlp.initialize()
    return nlp


def words_per_second(nlp, texts, n_words) -> float:
    start = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=16):
        pass
    return n_words / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--details-model", type=Path, default=None)
    parser.add_argument("--sources", type=Path, default=Path("metrics/details.json"), help="metrics/details.json holding chosen_sources")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="Only the first N MACCROBAT documents (0: all)")
    parser.add_argument("--output", type=Path, default=Path("metrics/details_speed.json"))
    args = parser.parse_args()
    if (corpora_dir(required=False) / "maccrobat" / "brat").is_dir():
        texts = [d.text for d in read_maccrobat()][: args.limit or None]
        source = f"MACCROBAT ({len(texts)} documents)"
    else:
        texts, source = [NOTE * 20] * 50, "invented note x 1000"
    arms = {"base": load_base(args.model)}
    rules = load_base(args.model)
    rules.add_pipe("medical_details", config={"sources": {label: "rules" for label in ("DOSE", "ROUTE", "FREQUENCY", "DURATION", "VALUE", "TEST")}})
    rules.get_pipe("medical_details").initialize()
    arms["rules"] = rules
    report = json.loads(args.sources.read_text()) if args.sources.exists() else {}
    details_model = args.details_model or report.get("model")
    if details_model:
        chosen = report["chosen_sources"]
        model = load_base(args.model)
        add_details_model(model, details_model)
        model.add_pipe("medical_details", config={"sources": chosen})
        model.get_pipe("medical_details").initialize()
        arms["model"] = model
    n_words = sum(len(d) for d in arms["base"].tokenizer.pipe(texts))
    best = {name: 0.0 for name in arms}
    for _ in range(args.rounds):
        for name, nlp in arms.items():
            best[name] = max(best[name], words_per_second(nlp, texts, n_words))
    report = {
        "texts": source, "words": n_words, "details_model": str(details_model) if details_model else None, "rounds": args.rounds, "base_model": args.model or "blank en + medical_sentences",
        "words_per_second": {k: round(v) for k, v in best.items()},
        "ratio_to_base": {k: round(v / best["base"], 3) for k, v in best.items()},
        "machine": platform.platform(), "python": platform.python_version(),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
