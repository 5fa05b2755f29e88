"""Per-label NER precision/recall/F1 of a pipeline on a `.spacy` corpus, with spaCy's scorer.

Corpora define labels differently (BC5CDR calls "hypotension" a Disease, en_medical a SYMPTOM),
so besides the scores on the corpus as converted, a *merged* view maps labels on both sides
before scoring (e.g. SYMPTOM -> DISEASE), which makes the DISEASE score comparable with results
published on the corpus' own definition.
"""
import json
import time
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple, Union

import spacy
from spacy.language import Language
from spacy.scorer import get_ner_prf
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example


def relabel(doc: Doc, mapping: Dict[str, str]) -> Doc:
    """Rename entity labels in place, keeping tokens marked missing as missing."""
    if not mapping:
        return doc
    missing = [doc[i : i + 1] for i, token in enumerate(doc) if token.ent_iob == 0]
    ents = [Span(doc, e.start, e.end, label=mapping.get(e.label_, e.label_)) for e in doc.ents]
    doc.set_ents(ents, missing=missing, default="outside")
    return doc


def _round(scores: dict) -> dict:
    out = {k: round(v, 4) for k, v in scores.items() if not isinstance(v, dict)}
    out["ents_per_type"] = {
        label: {k: round(v, 4) for k, v in prf.items()} for label, prf in sorted((scores.get("ents_per_type") or {}).items())
    }
    return out


def feature_widths(nlp: Language) -> Dict[str, int]:
    """Widths of the ner's spelling encoder and dictionary features (spacy_medical.ml.spelling);
    0 where it reads none."""
    tok2vec = nlp.config["components"]["ner"]["model"].get("tok2vec", {}) if "ner" in nlp.pipe_names else {}
    return {name: int(tok2vec.get(name, 0)) for name in ("spelling_width", "lexicon_width")}


def evaluate_ner(nlp: Union[str, Path, Language], data: Union[str, Path], *, merges: Optional[Dict[str, str]] = None, batch_size: int = 64) -> dict:
    """Score a pipeline's entities against a gold `.spacy` file.

    nlp (Union[str, Path, Language]): Pipeline or its name/path.
    data (Union[str, Path]): The gold DocBin.
    merges (Optional[Dict[str, str]]): Label renames for the merged view, e.g. {"SYMPTOM": "DISEASE"}.
    RETURNS (dict): `scores` (P/R/F overall and per type), `merged` (if merges), docs, words, words/s,
        the pipeline's components and the ner's `spelling_width` and `lexicon_width`, so that a
        table can say which architecture it reports.
    """
    if not isinstance(nlp, Language):
        nlp = spacy.load(nlp)
    gold_docs: List[Doc] = list(DocBin().from_disk(data).get_docs(nlp.vocab))
    started = time.perf_counter()
    predicted = list(nlp.pipe((d.text for d in gold_docs), batch_size=batch_size))
    seconds = time.perf_counter() - started
    examples = [Example(p, g) for p, g in zip(predicted, gold_docs)]
    words = sum(len([t for t in d if not t.is_space]) for d in gold_docs)
    result = {
        "model": f"{nlp.meta.get('lang')}_{nlp.meta.get('name')}-{nlp.meta.get('version')}",
        "data": Path(data).name,
        "pipeline": nlp.pipe_names,
        **feature_widths(nlp),
        "docs": len(gold_docs),
        "words": words,
        "words_per_second": round(words / seconds, 1) if seconds else None,
        "scores": _round(get_ner_prf(examples)),
    }
    if merges:
        merged = [Example(relabel(p, merges), relabel(g, merges)) for p, g in zip(predicted, gold_docs)]
        result["merged"] = {"labels": merges, "scores": _round(get_ner_prf(merged))}
    return result


def evaluate_to_file(
    model: Union[str, Path], data_files: Iterable[Path], output: Path, merges: Optional[Dict[str, str]] = None, exclude: Iterable[str] = ()
) -> dict:
    """Evaluate one model on several files and write one JSON report keyed by file stem.

    exclude (Iterable[str]): Pipes to load without, e.g. to score the trained ner alone with the
        same encoder settings as the full pipeline.
    """
    nlp = spacy.load(model, exclude=list(exclude))
    report = {Path(f).stem: evaluate_ner(nlp, f, merges=merges) for f in data_files}
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf8")
    return report


def error_kinds(predicted: Iterable[Doc], gold: Iterable[Doc]) -> Dict[str, Dict[str, int]]:
    """Split exact-match NER errors by kind, per label, so span-convention gaps show apart from misses.

    Exact-match scoring counts a mention found with other edges as one false negative and one
    false positive. Here each gold mention is `correct`, found with `other_label` (same span),
    found with `other_edges` (an overlapping prediction) or `missed`; each wrong prediction has
    `other_label`, `other_edges` or is `spurious` (overlaps no gold mention). Predictions touching
    tokens the gold marks missing are skipped, as spaCy's scorer skips them. Docs are paired by
    position and compared by character offsets, so they may be tokenized differently.

    RETURNS (Dict[str, Dict[str, int]]): {label: {"gold": n, "correct": n, "gold_other_label": n,
        "gold_other_edges": n, "missed": n, "pred_other_label": n, "pred_other_edges": n, "spurious": n}}.
    """
    kinds: Dict[str, Dict[str, int]] = {}

    def count(label: str, kind: str) -> None:
        kinds.setdefault(label, dict.fromkeys(("gold", "correct", "gold_other_label", "gold_other_edges", "missed",
                                               "pred_other_label", "pred_other_edges", "spurious"), 0))[kind] += 1

    for pred_doc, gold_doc in zip(predicted, gold):
        gold_spans = {(e.start_char, e.end_char): e.label_ for e in gold_doc.ents}
        pred_spans = {(e.start_char, e.end_char): e.label_ for e in pred_doc.ents}
        unknown = [(t.idx, t.idx + len(t)) for t in gold_doc if t.ent_iob == 0]

        for span, label in gold_spans.items():
            count(label, "gold")
            count(label, _match(span, label, pred_spans, "gold"))
        for span, label in pred_spans.items():
            kind = _match(span, label, gold_spans, "pred")
            if kind != "correct" and not _overlaps(span, unknown):
                count(label, kind)
    return kinds


def _overlaps(span: Tuple[int, int], others: Iterable[Tuple[int, int]]) -> bool:
    return any(a < span[1] and span[0] < b for a, b in others)


def _match(span: Tuple[int, int], label: str, others: Dict[Tuple[int, int], str], side: str) -> str:
    """How a mention of one side (gold or pred) is matched by the other side's mentions."""
    if others.get(span) == label:
        return "correct"
    if span in others:
        return f"{side}_other_label"
    if _overlaps(span, others):
        return f"{side}_other_edges"
    return "missed" if side == "gold" else "spurious"
