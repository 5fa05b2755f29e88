"""The output record of one note: the single definition of the batch record schema.

Every engine (local, Spark) and every service that must answer like the batch job builds its
records with these functions, so their outputs agree byte for byte. Schema version 2: every
character offset in a record (entities, sections, abbreviations, summary items) is named
`start_char`/`end_char` and points into the note text as read from the export.

Entities carry `kb_id`, `concept_name` and `codes` when the pipeline has `medical_linker`, and
`attributes` (dose, route, frequency, duration, value) when it has `medical_details`.

- annotated: schema_version, row, note_id, status="ok", flags, entities, sections,
  abbreviations, summary, model, model_version
- failed: schema_version, row, note_id, status="failed", error, flags
"""
from typing import Any, Dict, List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..io.exports import NoteRecord
from ..labels import ASSERTIONS
from ..pipeline.summary_lists import linked_details

SCHEMA_VERSION = 2
_ENTITY_FIELDS = (*ASSERTIONS, "section")
_OFFSET_KEYS = ("start_char", "end_char")


def entity_fields(nlp: Language) -> List[str]:
    """The entity attributes (assertions, section) that some component of `nlp` assigns.

    nlp (Language): The pipeline.
    RETURNS (List[str]): Names among negated/uncertain/historical/hypothetical/family/section.
    """
    assigns: set = set()
    for name in nlp.pipe_names:
        try:
            assigns.update(nlp.get_pipe_meta(name).assigns)
        except (ValueError, KeyError):
            continue
    return [f for f in _ENTITY_FIELDS if f"span._.{f}" in assigns and Span.has_extension(f)]


def model_info(nlp: Language) -> Tuple[str, str]:
    """RETURNS (Tuple[str, str]): the model name (lang_name) and version from nlp.meta."""
    meta = nlp.meta
    return f"{meta.get('lang', nlp.lang)}_{meta.get('name', 'pipeline')}", str(meta.get("version", "0.0.0"))


def _shift(value: Any, offset: int) -> Any:
    """Shift char offsets inside summary items by `offset` (for chunked notes)."""
    if isinstance(value, dict):
        return {k: (v + offset if k in _OFFSET_KEYS and isinstance(v, int) else _shift(v, offset)) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, offset) for v in value]
    return value


def _span_offsets(span: Span, offset: int) -> Dict[str, int]:
    return {"start_char": span.start_char + offset, "end_char": span.end_char + offset}


def doc_parts(doc: Doc, fields: List[str], offset: int = 0) -> Dict[str, Any]:
    """The entities, sections, abbreviations and summary of a doc, with char offsets shifted by `offset`.

    doc (Doc): An annotated doc (a whole note, or one chunk of a long note).
    fields (List[str]): The entity attributes to copy (see `entity_fields`).
    offset (int): Where the doc's text starts in the note text.
    RETURNS (Dict[str, Any]): The parts of a record; `annotated_record` joins them.
    """
    entities = []
    for ent in doc.ents:
        item: Dict[str, Any] = {"text": ent.text, "label": ent.label_, **_span_offsets(ent, offset)}
        for name in fields:
            value = getattr(ent._, name)
            item[name] = bool(value) if name != "section" else value
        entities.append({**item, **_shift(linked_details(ent), offset)})
    sections = [{"label": span.label_, **_span_offsets(span, offset)} for span in doc.spans.get("sections", [])]
    # Each occurrence of a short form the note defines (medical_abbreviations), so that an auditor
    # sees why "CHF" is a DISEASE.
    abbreviations = [
        {"short_form": span.text, "long_form": span.label_, **_span_offsets(span, offset)}
        for span in doc.spans.get("abbreviations", [])
    ]
    summary = doc._.summary if Doc.has_extension("summary") else None
    parts = {"entities": entities, "sections": sections, "abbreviations": abbreviations,
             "summary": _shift(summary, offset) if summary else summary}
    if Doc.has_extension("deidentified") and doc._.deidentified is not None and doc.text == doc._.deidentified:
        # `annotate --deidentify`: the doc *is* the de-identified text (medical_deid with
        # replace_doc), so the record carries that text and every offset points into it.
        from .deidentify import deid_parts

        deid = deid_parts(doc)
        phi = [{"label": p["label"], "start_char": p["start"] + offset, "end_char": p["end"] + offset} for p in deid["phi"]]
        parts.update({"text": deid["text"], "phi": phi, "offset": offset})
    return parts


def _merge_summaries(summaries: List[Any]) -> Any:
    present = [s for s in summaries if s]
    if len(present) <= 1:
        return present[0] if present else None
    merged: Dict[str, Any] = {}
    for summary in present:
        for key, value in summary.items():
            if isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            elif isinstance(value, str) and key in merged and isinstance(merged[key], str):
                merged[key] = (merged[key] + " " + value).strip()
            else:
                merged.setdefault(key, value)
    return merged


def _deidentified_text(parts: List[Dict[str, Any]]) -> Tuple[List[Dict[str, Any]], Dict[str, Any]]:
    """Chunks of a de-identified note: their offsets moved from the input's chunk starts to the
    starts of the de-identified chunks (which differ in length), and the note's text and PHI."""
    if not parts or "text" not in parts[0]:
        return parts, {}
    moved, start = [], 0
    for part in parts:
        delta = start - part["offset"]
        moved.append({k: _shift(v, delta) for k, v in part.items() if k not in ("text", "offset")})
        start += len(part["text"])
    return moved, {"text": "".join(p["text"] for p in parts), "phi": [s for p in moved for s in p["phi"]]}


def make_result(record: NoteRecord, parts: List[Dict[str, Any]], model: Tuple[str, str], chunked: bool) -> Dict[str, Any]:
    """Build the output record of an annotated note from the parts of its chunks."""
    flags = list(record.flags) + (["chunked"] if chunked else [])
    parts, deidentified = _deidentified_text(parts)
    return {
        "schema_version": SCHEMA_VERSION,
        "row": record.row,
        "note_id": record.note_id,
        "status": "ok",
        "flags": flags,
        "entities": [e for part in parts for e in part["entities"]],
        "sections": [s for part in parts for s in part["sections"]],
        "abbreviations": [a for part in parts for a in part["abbreviations"]],
        "summary": _merge_summaries([part["summary"] for part in parts]),
        "model": model[0],
        "model_version": model[1],
        **deidentified,
    }


def failed_result(record: NoteRecord, error: str) -> Dict[str, Any]:
    """Build the output record of a record that could not be annotated."""
    return {"schema_version": SCHEMA_VERSION, "row": record.row, "note_id": record.note_id,
            "status": "failed", "error": error, "flags": list(record.flags)}


def annotated_record(nlp: Language, doc: Doc, *, row: int = 1, note_id: Optional[str] = None,
                     flags: Optional[List[str]] = None) -> Dict[str, Any]:
    """The batch output record of one note annotated in one piece (for the HTTP service).

    nlp (Language): The pipeline that made `doc` (its meta names the model in the record).
    doc (Doc): The annotated note.
    row (int): The note's position in its request or export (1-based).
    note_id (Optional[str]): The note id.
    flags (Optional[List[str]]): Oddities of the input (e.g. `invalid_utf8`).
    RETURNS (Dict[str, Any]): The record, exactly as `spacy-medical annotate` writes it.
    """
    note = NoteRecord(row=row, note_id=note_id, text=doc.text, flags=list(flags or []))
    return make_result(note, [doc_parts(doc, entity_fields(nlp))], model_info(nlp), chunked=False)
