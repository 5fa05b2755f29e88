"""Scores of `medical_deid` against gold PHI spans: what leaks, what is over-removed.

Recall counts a gold character as caught when any predicted PHI span covers it, whatever its
label: a NAME masked as [LOCATION] has not leaked. Precision counts a predicted character as
right when it lies inside any gold PHI span. The label-strict character recall is reported
beside them. Whitespace characters are not counted. A leaked span is a gold span whose string
is still in `doc._.deidentified` as a whole word.
"""
import re
from collections import defaultdict
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from spacy.language import Language

from ..training.deid_data import PHI_LABELS
from ..pipeline.deid import deidentify_doc_record


def _chars(text: str, spans: Iterable[Dict[str, Any]]) -> Dict[int, str]:
    """Character index -> label of every non-blank character inside `spans`."""
    out: Dict[int, str] = {}
    for span in spans:
        for i in range(span["start"], span["end"]):
            if not text[i].isspace():
                out[i] = span["label"]
    return out


def _ratio(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 1.0


def _leaked(original: str, deidentified: str) -> bool:
    pattern = r"(?<!\w)" + re.escape(original) + r"(?!\w)"
    return re.search(pattern, deidentified) is not None


def evaluate_deid(nlp: Language, records: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Per-type and overall scores of the pipeline's `medical_deid` on gold records.

    nlp (Language): A pipeline with `medical_deid` (not in `replace_doc` mode).
    records (List[Dict[str, Any]]): Records with text, phi (start, end, label) and optional terms.
    RETURNS (Dict[str, Any]): The scores (see the module doc).
    """
    counts: Dict[str, Dict[str, int]] = defaultdict(lambda: defaultdict(int))
    leaked_spans, notes_with_leak, terms_total, terms_kept = 0, 0, 0, 0
    leaks_by_type: Dict[str, int] = defaultdict(int)
    docs = nlp.pipe(r["text"] for r in records)
    for record, doc in zip(records, docs):
        text = record["text"]
        deidentified, predicted = deidentify_doc_record(doc)
        gold_chars, pred_chars = _chars(text, record["phi"]), _chars(text, predicted)
        for i, label in gold_chars.items():
            counts[label]["gold_chars"] += 1
            counts[label]["caught_chars"] += i in pred_chars
            counts[label]["caught_chars_same_label"] += pred_chars.get(i) == label
        for i, label in pred_chars.items():
            counts[label]["pred_chars"] += 1
            counts[label]["pred_chars_right"] += i in gold_chars
        pred_ranges = [(p["start"], p["end"]) for p in predicted]
        gold_ranges = [(g["start"], g["end"]) for g in record["phi"]]
        note_leaked = False
        for gold in record["phi"]:
            label = gold["label"]
            counts[label]["gold_spans"] += 1
            span_chars = {i for i in range(gold["start"], gold["end"]) if not text[i].isspace()}
            counts[label]["caught_spans"] += span_chars <= set(pred_chars)
            if _leaked(text[gold["start"]:gold["end"]], deidentified):
                leaked_spans += 1
                leaks_by_type[label] += 1
                note_leaked = True
        for pred in predicted:
            counts[pred["label"]]["pred_spans"] += 1
            counts[pred["label"]]["pred_spans_right"] += _overlaps_any((pred["start"], pred["end"]), gold_ranges)
        notes_with_leak += note_leaked
        for term in record.get("terms", []):
            terms_total += 1
            terms_kept += text[term["start"]:term["end"]] in deidentified and not _overlaps_any(
                (term["start"], term["end"]), pred_ranges)
    return _summarize(counts, leaked_spans, dict(leaks_by_type), notes_with_leak, len(records), terms_kept, terms_total)


def _overlaps_any(span: Tuple[int, int], others: List[Tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


def _summarize(counts: Dict[str, Dict[str, int]], leaked: int, leaks_by_type: Dict[str, int], notes_with_leak: int,
               notes: int, terms_kept: int, terms_total: int) -> Dict[str, Any]:
    per_type: Dict[str, Any] = {}
    total: Dict[str, int] = defaultdict(int)
    for label in PHI_LABELS:
        c = counts.get(label, {})
        for key, value in c.items():
            total[key] += value
        per_type[label] = _scores(c) | {"leaked_spans": leaks_by_type.get(label, 0)}
    gold_spans = total["gold_spans"]
    return {
        "notes": notes,
        "overall": _scores(total),
        "per_type": per_type,
        "leaked_spans": leaked,
        "leaked_per_100_spans": round(100 * leaked / gold_spans, 2) if gold_spans else 0.0,
        "notes_with_leak": notes_with_leak,
        "clinical_terms": terms_total,
        "clinical_terms_kept": _ratio(terms_kept, terms_total) if terms_total else None,
    }


def _scores(c: Dict[str, int]) -> Dict[str, Any]:
    return {
        "gold_spans": c.get("gold_spans", 0),
        "pred_spans": c.get("pred_spans", 0),
        "char_recall": _ratio(c.get("caught_chars", 0), c.get("gold_chars", 0)),
        "char_recall_same_label": _ratio(c.get("caught_chars_same_label", 0), c.get("gold_chars", 0)),
        "char_precision": _ratio(c.get("pred_chars_right", 0), c.get("pred_chars", 0)),
        "span_recall": _ratio(c.get("caught_spans", 0), c.get("gold_spans", 0)),
        "span_precision": _ratio(c.get("pred_spans_right", 0), c.get("pred_spans", 0)),
    }


def leak_report(nlp: Language, records: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Where the misses and false alarms are, by note id, label and offsets (no text), for review."""
    report: List[Dict[str, Any]] = []
    for record, doc in zip(records, nlp.pipe(r["text"] for r in records)):
        _, predicted = deidentify_doc_record(doc)
        covered: Set[int] = {i for p in predicted for i in range(p["start"], p["end"])}
        gold: Set[int] = {i for g in record["phi"] for i in range(g["start"], g["end"])}
        for g in record["phi"]:
            if not set(range(g["start"], g["end"])) <= covered:
                report.append({"note_id": record.get("note_id"), "kind": "missed", **g})
        for p in predicted:
            if not set(range(p["start"], p["end"])) & gold:
                report.append({"note_id": record.get("note_id"), "kind": "false_alarm", **p})
    return report


def evaluate_deid_to_file(nlp: Language, sets: Dict[str, str], output: str,
                          phi_model: Optional[str] = None) -> Dict[str, Any]:
    """Score each named PHI JSONL set and write one JSON report (`metrics/deid.json`).

    nlp (Language): A pipeline with `medical_deid`.
    sets (Dict[str, str]): Set name -> JSONL path (see `spacy_medical.training.deid_data.read_phi_records`).
    output (str): The JSON report.
    phi_model (Optional[str]): The PHI tagger unioned with the rules, named in the report.
    RETURNS (Dict[str, Any]): The report.
    """
    import srsly

    from ..training.deid_data import read_phi_records
    from ..errors import Errors

    report: Dict[str, Any] = {"pipeline": nlp.pipe_names, "sets": {}}
    if phi_model:
        report["phi_model"] = phi_model
    for name, path in sets.items():
        records = read_phi_records(path)
        if not records:
            raise ValueError(Errors.E556.format(path=path))
        report["sets"][name] = {"path": str(path), **evaluate_deid(nlp, records)}
    srsly.write_json(output, report)
    return report
