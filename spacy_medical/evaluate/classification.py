"""The per-label report of a text classifier (train-classifier, en_medical_dx).

For one labelled set: precision, recall, F1 and support of every label (scikit-learn's
`precision_recall_fscore_support`, zero_division=0), macro and weighted averages, top-1 and top-3
accuracy, and a confusion table. The same functions score the TF-IDF + logistic regression
baseline, so both sit in one JSON from one run. Reports hold labels and counts, never texts.
"""
from typing import Any, Dict, List, Optional, Sequence

from spacy.language import Language

from ..errors import Errors

Scores = Dict[str, float]


def require_sklearn() -> None:
    """Raise a clear error when the `evaluation` extra is not installed."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise ImportError(Errors.E661) from None


def pipeline_scores(nlp: Language, texts: Sequence[str], batch_size: int = 64) -> List[Scores]:
    """`doc.cats` of every text."""
    return [dict(doc.cats) for doc in nlp.pipe(texts, batch_size=batch_size)]


def ranked(scores: Scores) -> List[str]:
    """Labels from the highest score down (ties by name, so the order is fixed)."""
    return [label for label, _ in sorted(scores.items(), key=lambda item: (-item[1], item[0]))]


def classification_report(gold: Sequence[str], scores: Sequence[Scores], labels: Sequence[str]) -> Dict[str, Any]:
    """Score one set of predictions.

    gold (Sequence[str]): The gold label of each text.
    scores (Sequence[Dict[str, float]]): The label scores of each text (doc.cats).
    labels (Sequence[str]): Every label of the classifier, in report order.
    RETURNS (Dict[str, Any]): n, accuracy (= top-1), top3, macro and weighted P/R/F1,
        per_label {label: {p, r, f1, support}} and confusion {gold: {predicted: count}}.
    """
    require_sklearn()
    from sklearn.metrics import precision_recall_fscore_support

    labels = list(labels)
    rankings = [ranked(s) for s in scores]
    predicted = [r[0] for r in rankings]
    p, r, f, support = precision_recall_fscore_support(gold, predicted, labels=labels, zero_division=0)
    per_label = {
        label: {"p": round(float(p[i]), 4), "r": round(float(r[i]), 4), "f1": round(float(f[i]), 4), "support": int(support[i])}
        for i, label in enumerate(labels)
    }
    averages = {}
    for average in ("macro", "weighted"):
        ap, ar, af, _ = precision_recall_fscore_support(gold, predicted, labels=labels, average=average, zero_division=0)
        averages[average] = {"p": round(float(ap), 4), "r": round(float(ar), 4), "f1": round(float(af), 4)}
    confusion: Dict[str, Dict[str, int]] = {}
    for g, guess in zip(gold, predicted):
        row = confusion.setdefault(g, {})
        row[guess] = row.get(guess, 0) + 1
    n = len(gold)
    return {
        "n": n,
        "accuracy": round(sum(g == guess for g, guess in zip(gold, predicted)) / max(n, 1), 4),
        "top3": round(sum(g in rank[:3] for g, rank in zip(gold, rankings)) / max(n, 1), 4),
        **averages,
        "per_label": per_label,
        "confusion": confusion,
    }


def best_scores(gold: Sequence[str], scores: Sequence[Scores]) -> List[float]:
    """The top score of each text (what the "no suggestion" threshold is compared with)."""
    return [max(s.values()) if s else 0.0 for s in scores]


def choose_threshold(gold: Sequence[str], scores: Sequence[Scores], keep: float = 0.98) -> float:
    """The highest threshold that still keeps `keep` of the right top-1 answers on this set.

    Answers whose best score falls below the threshold become "no suggestion"; on dev, this
    gives up at most 1 - `keep` of the correct suggestions and whatever wrong ones score lower.
    RETURNS (float): The threshold, rounded down to 2 decimals (0.0 with no right answer).
    """
    right = sorted(max(s.values()) for g, s in zip(gold, scores) if s and ranked(s)[0] == g)
    if not right:
        return 0.0
    index = int((1.0 - keep) * len(right))
    return int(right[index] * 100) / 100


def selective_report(gold: Sequence[str], scores: Sequence[Scores], threshold: float) -> Dict[str, float]:
    """Coverage (share of texts with a suggestion) and accuracy among them at `threshold`."""
    kept = [(g, s) for g, s in zip(gold, scores) if s and max(s.values()) >= threshold]
    right = sum(ranked(s)[0] == g for g, s in kept)
    return {
        "threshold": threshold,
        "coverage": round(len(kept) / max(len(gold), 1), 4),
        "accuracy_when_suggesting": round(right / len(kept), 4) if kept else 0.0,
        "top3_when_suggesting": round(sum(g in ranked(s)[:3] for g, s in kept) / len(kept), 4) if kept else 0.0,
    }


def report_markdown(report: Dict[str, Any], title: Optional[str] = None) -> str:
    """One report as a Markdown per-label table plus its averages (for the results docs)."""
    lines = [f"#### {title}", ""] if title else []
    lines += ["| label | P | R | F1 | support |", "|---|---:|---:|---:|---:|"]
    for label, row in report["per_label"].items():
        lines.append(f"| {label} | {row['p']:.2f} | {row['r']:.2f} | {row['f1']:.2f} | {row['support']} |")
    for average in ("macro", "weighted"):
        row = report[average]
        lines.append(f"| *{average}* | {row['p']:.2f} | {row['r']:.2f} | {row['f1']:.2f} | {report['n']} |")
    lines += ["", f"top-1 {report['accuracy']:.3f}, top-3 {report['top3']:.3f} (n = {report['n']})", ""]
    return "\n".join(lines)


def confusions_markdown(report: Dict[str, Any], limit: int = 15) -> str:
    """The most frequent confusions (gold -> predicted, count) as a Markdown table."""
    pairs = [
        (count, g, p) for g, row in report["confusion"].items() for p, count in row.items() if g != p
    ]
    pairs.sort(key=lambda item: (-item[0], item[1], item[2]))
    lines = ["| gold | predicted | count |", "|---|---|---:|"]
    lines += [f"| {g} | {p} | {count} |" for count, g, p in pairs[:limit]]
    return "\n".join(lines) + "\n"
