"""Evaluate the diagnosis suggesters and write metrics/dx.json + metrics/dx.md.

Every system is scored in this one run on the same three sets: the in-distribution dev and
test splits of Symptom2Disease (corpus/dx/split.json, from `spacy project run train-dx`) and the
out-of-distribution set corpus/dx_ood.jsonl (written before any training, never tuned on).
Systems: the TF-IDF + logistic regression baseline (fit here on the train split) and each
trained spaCy pipeline given with --model NAME=PATH. For the pipeline named by --ship, the
"no suggestion" threshold is chosen on the dev split (keep 98% of the right top-1 answers) and
reported on test and OOD; throughput (descriptions/s) is measured in this run for the baseline, the CNN and the shipped
pipeline (the other frozen-encoder variants share its architecture).

Usage: python scripts/evaluate_dx.py --model trf=training/dx_trf/model-best --model cnn=... --ship trf
"""
import argparse
import json
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence

import spacy

import spacy_medical  # noqa: F401  (registers the components when not installed)
from spacy_medical.evaluate.classification import (
    Scores,
    choose_threshold,
    classification_report,
    confusions_markdown,
    pipeline_scores,
    report_markdown,
    selective_report,
)
from spacy_medical.io.labelled_text import LabelledText
from spacy_medical.io.symptom2disease import OOD_PATH, read_labelled_jsonl, read_symptom2disease
from spacy_medical.train_classifier import rows_of_split

KEEP_RIGHT = 0.98
CURVE = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
OOD_COMMIT = "a36e9ce"


def tfidf_baseline(train: Sequence[LabelledText]) -> Callable[[Sequence[str]], List[Scores]]:
    """TF-IDF (word 1-2 grams, sublinear tf) + logistic regression, fit on the train split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LogisticRegression(C=10, max_iter=2000))
    model.fit([item.text for item in train], [item.label for item in train])
    classes = list(model.classes_)

    def scores(texts: Sequence[str]) -> List[Scores]:
        return [dict(zip(classes, map(float, row))) for row in model.predict_proba(list(texts))]

    return scores


def throughput(score: Callable[[Sequence[str]], Any], texts: Sequence[str], min_docs: int = 400) -> float:
    """Descriptions per second over `texts` repeated to at least `min_docs` (after one warm-up)."""
    score(texts[:16])
    batch = list(texts) * (min_docs // len(texts) + 1)
    start = time.perf_counter()
    score(batch)
    return round(len(batch) / (time.perf_counter() - start), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=[], help="NAME=PATH of a trained pipeline (repeatable)")
    parser.add_argument("--ship", default="", help="NAME of the pipeline that en_medical_dx packages")
    parser.add_argument("--split", default="corpus/dx/split.json")
    parser.add_argument("--ood", default=str(OOD_PATH))
    parser.add_argument("--output", default="metrics/dx.json")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(2)
    rows = read_symptom2disease()
    manifest = json.loads(Path(args.split).read_text(encoding="utf8"))
    labels = manifest["labels"]
    sets = {name: rows_of_split(rows, manifest, name) for name in ("train", "dev", "test")}
    sets["ood"] = read_labelled_jsonl(args.ood)
    unknown = {item.label for item in sets["ood"]} - set(labels)
    if unknown:
        raise SystemExit(f"{args.ood}: labels not in the corpus: {sorted(unknown)}")

    systems: Dict[str, Callable[[Sequence[str]], List[Scores]]] = {"tfidf_logreg": tfidf_baseline(sets["train"])}
    for spec in args.model:
        name, path = spec.split("=", 1)
        nlp = spacy.load(path)
        systems[name] = lambda texts, nlp=nlp: pipeline_scores(nlp, texts)

    bench_texts = [item.text for item in sets["test"] + sets["ood"]]
    metrics: Dict[str, Any] = {
        "data": {
            "corpus": "symptom2disease/Symptom2Disease.csv",
            "split_rule": "near-duplicate groups (word-set Jaccard >= 0.6, within a label) kept whole; per label 70/15/15 by SHA-1 of normalised text",
            "split": {name: len(sets[name]) for name in ("train", "dev", "test")},
            "ood": {"path": "corpus/dx_ood.jsonl", "n": len(sets["ood"]), "written_in_commit": OOD_COMMIT},
        },
        "systems": {},
        "throughput": {"unit": "descriptions/s", "torch_threads": torch.get_num_threads(), "texts": "test + OOD, repeated to >= 400"},
    }
    scored: Dict[str, Dict[str, List[Scores]]] = {}
    for name, score in systems.items():
        scored[name] = {split: score([item.text for item in sets[split]]) for split in ("dev", "test", "ood")}
        metrics["systems"][name] = {
            split: classification_report([item.label for item in sets[split]], scored[name][split], labels)
            for split in ("dev", "test", "ood")
        }
        # The transformer variants share one architecture at prediction time: time the shipped one only.
        if name == args.ship or "trf" not in name:
            metrics["throughput"][name] = throughput(score, bench_texts)
        print(name, {split: (r["accuracy"], r["top3"], r["macro"]["f1"]) for split, r in metrics["systems"][name].items()}, metrics["throughput"].get(name), "desc/s")

    if args.ship:
        gold = {split: [item.label for item in sets[split]] for split in ("dev", "test", "ood")}
        threshold = choose_threshold(gold["dev"], scored[args.ship]["dev"], KEEP_RIGHT)
        metrics["shipped"] = {
            "system": args.ship,
            "threshold_rule": f"highest threshold keeping {KEEP_RIGHT:.0%} of the right top-1 answers on dev",
            "threshold": threshold,
            **{split: selective_report(gold[split], scored[args.ship][split], threshold) for split in ("dev", "test", "ood")},
            "ood_curve": [selective_report(gold["ood"], scored[args.ship]["ood"], t) for t in CURVE],
        }
        print("threshold", threshold, metrics["shipped"]["ood"])

    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(metrics, indent=1), encoding="utf8")
    output.with_suffix(".md").write_text(markdown(metrics), encoding="utf8")


def markdown(metrics: Dict[str, Any]) -> str:
    """The results tables for docs/diagnoses.md."""
    # Dev first: the shipped system is chosen on dev, never on test or OOD.
    lines = [
        "| system | dev top-1 | dev macro F1 | test top-1 | test macro F1 | OOD top-1 | OOD top-3 | OOD macro F1 | descriptions/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    shipped_name = metrics.get("shipped", {}).get("system", "")
    for name, report in metrics["systems"].items():
        dev, test, ood = report["dev"], report["test"], report["ood"]
        lines.append(
            f"| {name} | {dev['accuracy']:.3f} | {dev['macro']['f1']:.3f} | {test['accuracy']:.3f} | {test['macro']['f1']:.3f} "
            f"| {ood['accuracy']:.3f} | {ood['top3']:.3f} | {ood['macro']['f1']:.3f} | {metrics['throughput'].get(name, f'as {shipped_name}')} |"
        )
    lines.append("")
    shipped = metrics.get("shipped")
    if shipped:
        lines += [f"Shipped: `{shipped['system']}`, threshold {shipped['threshold']} ({shipped['threshold_rule']}).", ""]
        lines += ["| set | coverage | top-1 when suggesting | top-3 when suggesting |", "|---|---:|---:|---:|"]
        for split in ("dev", "test", "ood"):
            row = shipped[split]
            lines.append(f"| {split} | {row['coverage']:.3f} | {row['accuracy_when_suggesting']:.3f} | {row['top3_when_suggesting']:.3f} |")
        lines.append("")
        report = metrics["systems"][shipped["system"]]
        lines.append(report_markdown(report["ood"], title=f"{shipped['system']}, out-of-distribution set"))
        lines.append(report_markdown(report["test"], title=f"{shipped['system']}, in-distribution test split"))
        lines += [f"#### {shipped['system']}, most frequent OOD confusions", "", confusions_markdown(report["ood"])]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
