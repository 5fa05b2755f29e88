"""The structured part of `doc._.summary`: entity items grouped into clinical lists.

`problems` (affirmed DISEASE), `symptoms` (affirmed SYMPTOM), `negatives` (negated DISEASE or
SYMPTOM) and `medications` (DRUG) hold one item per normalized text (the first mention), each
{text, label, start_char, end_char, section, negated, uncertain, historical, hypothetical,
family}, plus codes and attributes when the pipeline links (medical_linker) or reads doses and
values (medical_details). Also the one-line text of a summary unit and a terminal rendering of a summary.
"""
import re
from typing import Any, Dict, List, Set

from spacy.tokens import Doc, Span
from wasabi import table

from ..labels import ASSERTIONS, DISEASE, DRUG, SYMPTOM
from .details import entity_details
from .dialogue import strip_speakers
from .linker import linked_fields

NORM = re.compile(r"[^a-z0-9]+")
LISTS = ("problems", "symptoms", "negatives", "medications")


def normalize(text: str) -> str:
    """The de-duplication key of a mention: lower case, punctuation and spacing collapsed."""
    return NORM.sub(" ", text.lower()).strip()


def flag(span: Span, name: str) -> bool:
    """A boolean extension of a span; False when no component registered it."""
    return bool(getattr(span._, name, False)) if Span.has_extension(name) else False


def entity_item(ent: Span) -> Dict[str, Any]:
    """The summary item of one entity."""
    section = getattr(ent._, "section", None) if Span.has_extension("section") else None
    item: Dict[str, Any] = {
        "text": ent.text,
        "label": ent.label_,
        "start_char": ent.start_char,
        "end_char": ent.end_char,
        "section": section,
    }
    for name in ASSERTIONS:
        item[name] = flag(ent, name)
    return {**item, **linked_details(ent)}


def linked_details(ent: Span) -> Dict[str, Any]:
    """The codes (medical_linker) and the dose, route, value... (medical_details) of an entity,
    for summary items and batch records; {} when the pipeline has neither component."""
    fields: Dict[str, Any] = {}
    if Span.has_extension("codes") and ent._.codes is not None:
        fields.update(linked_fields(ent))
    if Span.has_extension("attributes") and ent._.attributes:
        fields["attributes"] = entity_details(ent)
    return fields


def structured_lists(doc: Doc) -> Dict[str, List[Dict[str, Any]]]:
    """problems / symptoms / negatives / medications, de-duplicated by normalized text."""
    lists: Dict[str, List[Dict[str, Any]]] = {key: [] for key in LISTS}
    seen: Dict[str, Set[str]] = {key: set() for key in lists}
    for ent in doc.ents:
        if ent.label_ == DRUG:
            key = "medications"
        elif ent.label_ in (DISEASE, SYMPTOM):
            if flag(ent, "negated"):
                key = "negatives"
            else:
                key = "problems" if ent.label_ == DISEASE else "symptoms"
        else:
            continue
        norm = normalize(ent.text)
        if not norm or norm in seen[key]:
            continue
        seen[key].add(norm)
        lists[key].append(entity_item(ent))
    return lists


def unit_text(text: str, unit: Dict[str, Any]) -> str:
    """The text of a summary unit on one line, speaker tags removed."""
    return strip_speakers(text[unit["start_char"] : unit["end_char"]])


def format_summary(summary: Dict[str, Any]) -> str:
    """A terminal rendering of `doc._.summary`: the text, then one table per list."""
    parts = [summary.get("text") or "(no summary sentences)"]
    for key in LISTS:
        items = summary.get(key) or []
        parts.append(f"\n{key.upper()} ({len(items)})")
        if items:
            rows = []
            for item in items:
                flags = ",".join(name for name in ASSERTIONS if item.get(name)) or "-"
                rows.append((item["text"], item["label"], item.get("section") or "-", flags, f"{item['start_char']}-{item['end_char']}"))
            parts.append(table(rows, header=("text", "label", "section", "flags", "chars"), divider=True))
    return "\n".join(parts)
