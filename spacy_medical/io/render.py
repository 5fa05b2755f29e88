"""One HTML renderer of annotated records, for the service's page and for `annotate --html`.

A record is an output record of the batch annotator (see `spacy_medical.batch.local`). The
renderer shows the note text with every entity in a `<mark data-label="...">` whose classes name
its qualifiers (negated, uncertain, historical, hypothetical, family); each qualifier is also
written as a small word after the entity, so it is visible without relying on colour. Sections
become blocks with their name; the summary is shown as readable text and lists (never its
internal `units`); codes from the concept linker appear on hover (`title=`).

Everything taken from the note or the record is HTML-escaped, so a note holding markup cannot
inject anything into the page.
"""
import html
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from ..labels import ASSERTIONS
from .writers import DEFAULT_FILE_MODE, create_private

# How each qualifier is written after an entity (a word, not only a colour).
QUALIFIER_WORDS = {
    "negated": "negated",
    "uncertain": "uncertain",
    "historical": "historical",
    "hypothetical": "hypothetical",
    "family": "family",
}
# Summary lists in reading order, with the heading a person sees.
SUMMARY_HEADINGS = {
    "problems": "Problems",
    "symptoms": "Symptoms",
    "negatives": "Ruled out (negated)",
    "medications": "Medications",
    "measurements": "Measurements",
}
# Keys of the summary that are internal (sentence selection scores), never shown.
_HIDDEN_SUMMARY_KEYS = {"units", "text"}
STYLESHEET = Path(__file__).parent.parent / "service" / "static" / "record.css"


def entity_offsets(item: Dict[str, Any]) -> Tuple[int, int]:
    """The char offsets of an entity or section item, from `start_char`/`end_char` or `start`/`end`.

    item (Dict[str, Any]): An entity, section or summary item of a record.
    RETURNS (Tuple[int, int]): (start, end) character offsets into the note text.
    """
    start = item["start_char"] if "start_char" in item else item["start"]
    end = item["end_char"] if "end_char" in item else item["end"]
    return int(start), int(end)


def qualifiers(item: Dict[str, Any]) -> List[str]:
    """RETURNS (List[str]): The qualifiers (negated, uncertain, ...) that are true for an item."""
    return [name for name in ASSERTIONS if item.get(name)]


def _section_name(label: Optional[str]) -> str:
    return (label or "").replace("_", " ")


def _hover(ent: Dict[str, Any]) -> str:
    """The title text of an entity: label, qualifiers, section and linked codes."""
    parts = [ent.get("label", "")]
    parts += qualifiers(ent)
    if ent.get("section"):
        parts.append(f"section: {_section_name(ent['section'])}")
    if ent.get("kb_id"):
        concept = f" {ent['concept_name']}" if ent.get("concept_name") else ""
        parts.append(f"{ent['kb_id']}{concept}")
    codes = ent.get("codes") or {}
    if isinstance(codes, dict):
        parts += [f"{vocab}:{code}" for vocab, code in codes.items() if f"{vocab}:{code}" != ent.get("kb_id")]
    return " \u00b7 ".join(str(p) for p in parts if p)


def _mark(text: str, ent: Dict[str, Any]) -> str:
    flags = qualifiers(ent)
    classes = " ".join(["ent", *flags])
    words = "".join(f'<span class="q q-{name}">{QUALIFIER_WORDS[name]}</span>' for name in flags)
    attrs = f'data-label="{html.escape(str(ent.get("label", "")))}" class="{classes}"'
    if ent.get("kb_id"):
        attrs += f' data-kb-id="{html.escape(str(ent["kb_id"]))}"'
    return (f'<mark {attrs} title="{html.escape(_hover(ent))}">{html.escape(text)}'
            f'<span class="label">{html.escape(str(ent.get("label", "")))}</span>{words}</mark>')


def _marked_text(text: str, start: int, end: int, entities: Sequence[Dict[str, Any]]) -> str:
    """The text between `start` and `end` with the entities in it marked (clipped to the range)."""
    out, pos = [], start
    for ent in entities:
        ent_start, ent_end = entity_offsets(ent)
        ent_start, ent_end = max(ent_start, pos), min(ent_end, end)
        if ent_end <= ent_start:
            continue
        out.append(html.escape(text[pos:ent_start]))
        out.append(_mark(text[ent_start:ent_end], ent))
        pos = ent_end
    out.append(html.escape(text[pos:end]))
    return "".join(out)


def _blocks(text: str, sections: Sequence[Dict[str, Any]]) -> List[Tuple[int, int, Optional[str]]]:
    """The note cut into (start, end, section label) blocks; text outside sections has label None."""
    blocks, pos = [], 0
    for section in sorted(sections, key=entity_offsets):
        start, end = entity_offsets(section)
        start, end = max(start, pos), min(end, len(text))
        if end <= start:
            continue
        if start > pos:
            blocks.append((pos, start, None))
        blocks.append((start, end, section.get("label")))
        pos = end
    if pos < len(text) or not blocks:
        blocks.append((pos, len(text), None))
    return blocks


def render_note_text(text: str, record: Dict[str, Any]) -> str:
    """The note text as HTML: section blocks with their names, entities marked.

    text (str): The note text the record's offsets refer to.
    record (Dict[str, Any]): An annotated output record.
    RETURNS (str): An HTML fragment.
    """
    entities = sorted(record.get("entities") or [], key=entity_offsets)
    parts = []
    for start, end, label in _blocks(text, record.get("sections") or []):
        inside = [e for e in entities if entity_offsets(e)[1] > start and entity_offsets(e)[0] < end]
        body = _marked_text(text, start, end, inside)
        if label:
            parts.append(f'<section data-section="{html.escape(label)}"><span class="section-name">'
                         f'{html.escape(_section_name(label))}</span>{body}</section>')
        elif text[start:end].strip():
            parts.append(f"<span>{body}</span>")
        # Whitespace between two sections is not shown: the section blocks already break lines.
    return f'<div class="note-text">{"".join(parts)}</div>'


def _summary_item(item: Any) -> str:
    if not isinstance(item, dict):
        return f"<li>{html.escape(str(item))}</li>"
    details = [*qualifiers(item)]
    if item.get("section"):
        details.append(_section_name(item["section"]))
    if item.get("kb_id"):
        details.append(str(item["kb_id"]))
    extra = f' <small>({html.escape(", ".join(details))})</small>' if details else ""
    return f"<li>{html.escape(str(item.get('text', '')))}{extra}</li>"


def render_summary(record: Dict[str, Any]) -> str:
    """The summary of a record as readable HTML: its text, then one list per kind of item.

    record (Dict[str, Any]): An annotated output record.
    RETURNS (str): An HTML fragment (a note when the pipeline has no summarizer).
    """
    summary = record.get("summary")
    if not summary:
        return '<div class="summary"><p class="empty">This pipeline writes no summary.</p></div>'
    out = ['<div class="summary">']
    if summary.get("text"):
        out.append(f'<p class="summary-text">{html.escape(str(summary["text"]))}</p>')
    keys = [k for k in SUMMARY_HEADINGS if k in summary]
    keys += [k for k in summary if k not in SUMMARY_HEADINGS and k not in _HIDDEN_SUMMARY_KEYS]
    for key in keys:
        value = summary[key]
        if not isinstance(value, list) or not value:
            continue
        heading = SUMMARY_HEADINGS.get(key, key.replace("_", " ").capitalize())
        items = "".join(_summary_item(item) for item in value)
        out.append(f'<h3 data-list="{html.escape(key)}">{html.escape(heading)}</h3><ul>{items}</ul>')
    out.append("</div>")
    return "".join(out)


def render_record(text: str, record: Dict[str, Any], max_chars: Optional[int] = None) -> str:
    """One record as an HTML fragment: the marked note beside its summary (or its error).

    text (str): The note text.
    record (Dict[str, Any]): The output record of the note (annotated or failed).
    max_chars (Optional[int]): Show at most this many characters of the note.
    RETURNS (str): An HTML `<article>` fragment.
    """
    title = f"note {html.escape(str(record.get('note_id')))}"
    if record.get("row") is not None:
        title = f"row {record['row']} \u00b7 {title}"
    head = f'<h2>{title}</h2>'
    flags = record.get("flags") or []
    if flags:
        head += f'<p class="flags">flags: {html.escape(", ".join(flags))}</p>'
    if record.get("status") != "ok":
        error = html.escape(str(record.get("error", "failed")))
        return f'<article class="record failed">{head}<p class="error">{error}</p></article>'
    shown, more = text, ""
    if max_chars is not None and len(text) > max_chars:
        shown = text[:max_chars]
        more = f'<p class="more">({len(text) - max_chars} more characters not shown)</p>'
    clipped = dict(record, entities=[e for e in record.get("entities") or [] if entity_offsets(e)[1] <= len(shown)])
    return (f'<article class="record">{head}<div class="columns"><div class="text">'
            f'{render_note_text(shown, clipped)}{more}</div>'
            f'<aside><h3>Summary</h3>{render_summary(record)}</aside></div></article>')


def legend() -> str:
    """RETURNS (str): An HTML legend of the labels and qualifier marks."""
    labels = "".join(f'<mark data-label="{label}" class="ent">{label.lower()}</mark> '
                     for label in ("DISEASE", "SYMPTOM", "DRUG"))
    marks = "".join(f'<mark data-label="DISEASE" class="ent {q}">example<span class="q q-{q}">{q}</span></mark> '
                    for q in ASSERTIONS)
    return f'<p class="legend">{labels}{marks}</p>'


def render_report(notes: List[Dict[str, Any]], path: Union[str, Path], max_chars: int = 20_000,
                  file_mode: int = DEFAULT_FILE_MODE) -> None:
    """Write a standalone HTML report of annotated notes (for `annotate --html`).

    notes (List[Dict[str, Any]]): dicts with `text` and `result` (an output record).
    path (Union[str, Path]): The HTML file to write.
    max_chars (int): Longer notes are shown up to this many characters.
    file_mode (int): Permission bits of the file (it holds whole notes).
    """
    articles = "".join(render_record(n["text"], n["result"], max_chars) for n in notes)
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>spacy-medical annotate</title>"
            f"<style>{STYLESHEET.read_text(encoding='utf-8')}</style></head><body>"
            f"<h1>spacy-medical annotate: first {len(notes)} notes</h1>{legend()}{articles}</body></html>")
    with create_private(Path(path), file_mode) as handle:
        handle.write(page.encode("utf-8", errors="replace"))
