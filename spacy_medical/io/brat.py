"""Reader for BRAT standoff annotations (`.txt` + `.ann`), as used by MACCROBAT."""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

from ..errors import Errors


@dataclass
class BratSpan:
    """A text-bound annotation (`T` line); discontinuous spans have several fragments."""

    id: str
    type: str
    fragments: List[Tuple[int, int]]
    text: str
    line: int

    @property
    def start(self) -> int:
        return self.fragments[0][0]

    @property
    def end(self) -> int:
        return self.fragments[-1][1]

    @property
    def discontinuous(self) -> bool:
        return len(self.fragments) > 1


@dataclass
class BratDocument:
    doc_id: str
    text: str
    spans: List[BratSpan] = field(default_factory=list)
    # event id (E..) -> the id of its trigger span (T..)
    events: Dict[str, str] = field(default_factory=dict)
    # annotation id (E.. or T..) -> {attribute name: value}, e.g. {"POLARITY": "NEG"}
    attributes: Dict[str, Dict[str, str]] = field(default_factory=dict)

    def span_attributes(self, span_id: str) -> Dict[str, str]:
        """Attributes of a text-bound span, including those set on events it triggers."""
        merged = dict(self.attributes.get(span_id, {}))
        for event_id, trigger in self.events.items():
            if trigger == span_id:
                merged.update(self.attributes.get(event_id, {}))
        return merged


def read_brat(txt_path: Path, ann_path: Path = None) -> BratDocument:
    """Read one BRAT document.

    txt_path (Path): The `.txt` file.
    ann_path (Path): The `.ann` file; defaults to the `.txt` path with suffix `.ann`.
    RETURNS (BratDocument): Text, spans, events and attributes. Raises ValueError naming the
        file and line on a malformed or out-of-range annotation.
    """
    txt_path = Path(txt_path)
    ann_path = Path(ann_path) if ann_path else txt_path.with_suffix(".ann")
    text = txt_path.read_text(encoding="utf8")
    doc = BratDocument(doc_id=txt_path.stem, text=text)
    with ann_path.open(encoding="utf8") as f:
        for line_no, raw in enumerate(f, start=1):
            line = raw.rstrip("\n")
            if not line.strip() or line[0] in "#*R":
                continue
            parts = line.split("\t")
            kind = line[0]
            if kind == "T":
                if len(parts) < 3:
                    raise ValueError(Errors.E002.format(path=ann_path, line=line_no, reason="text-bound annotation needs 3 tab-separated fields"))
                doc.spans.append(_parse_span(parts, text, ann_path, line_no))
            elif kind == "E":
                if len(parts) < 2 or ":" not in parts[1]:
                    raise ValueError(Errors.E002.format(path=ann_path, line=line_no, reason="event needs TYPE:TRIGGER"))
                trigger = parts[1].split()[0].split(":", 1)[1]
                doc.events[parts[0]] = trigger
            elif kind in "AM":
                fields = parts[1].split() if len(parts) > 1 else []
                if len(fields) < 2:
                    raise ValueError(Errors.E002.format(path=ann_path, line=line_no, reason="attribute needs NAME TARGET [VALUE]"))
                value = fields[2] if len(fields) > 2 else "true"
                doc.attributes.setdefault(fields[1], {})[fields[0]] = value
            else:
                raise ValueError(Errors.E002.format(path=ann_path, line=line_no, reason=f"unknown annotation kind '{kind}'"))
    return doc


def _parse_span(parts: List[str], text: str, path: Path, line_no: int) -> BratSpan:
    head = parts[1].split(" ", 1)
    if len(head) != 2:
        raise ValueError(Errors.E002.format(path=path, line=line_no, reason="text-bound annotation needs TYPE START END"))
    fragments = []
    for frag in head[1].split(";"):
        try:
            start, end = (int(x) for x in frag.split())
        except ValueError:
            raise ValueError(Errors.E002.format(path=path, line=line_no, reason="offsets are not two integers")) from None
        if not 0 <= start < end <= len(text):
            raise ValueError(Errors.E004.format(path=path, line=line_no, start=start, end=end, length=len(text)))
        fragments.append((start, end))
    surface = parts[2]
    expected = " ".join(text[s:e] for s, e in fragments)
    # Upstream surfaces sometimes carry trailing whitespace (MACCROBAT 25661749 T145).
    if surface.strip() != expected.strip() and surface.split() != expected.split():
        raise ValueError(Errors.E002.format(path=path, line=line_no, reason="surface string does not match the offsets"))
    return BratSpan(id=parts[0], type=head[0], fragments=fragments, text=expected, line=line_no)
