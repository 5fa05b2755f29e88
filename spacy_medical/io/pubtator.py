"""Reader for PubTator files (BC5CDR): title, abstract and mention lines per document."""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, NamedTuple

from ..errors import Errors

PUBTATOR_TYPES = ("Chemical", "Disease")


class PubtatorMention(NamedTuple):
    start: int
    end: int
    type: str
    surface: str
    concept: str  # MeSH id(s) as written ("D012640", "D001|D002"; "-1" or "" when none)
    line: int


@dataclass
class PubtatorDocument:
    doc_id: str
    text: str  # title + " " + abstract, the text the offsets refer to
    mentions: List[PubtatorMention] = field(default_factory=list)


def read_pubtator(path: Path) -> Iterator[PubtatorDocument]:
    """Yield the documents of a PubTator file.

    path (Path): The file.
    RETURNS (Iterator[PubtatorDocument]): Raises ValueError naming file and line on a
        truncated or malformed line, an unknown mention type or offsets that do not
        reproduce the mention's surface string.
    """
    path = Path(path)
    doc, title = None, None
    with path.open(encoding="utf8") as f:
        for line_no, raw in enumerate(f, start=1):
            line = raw.rstrip("\n")
            if not line.strip():
                if doc is not None:
                    yield doc
                doc, title = None, None
                continue
            if "|t|" in line[:20]:
                title = line.split("|t|", 1)[1]
                continue
            if "|a|" in line[:20]:
                if title is None:
                    raise ValueError(Errors.E002.format(path=path, line=line_no, reason="abstract line without a title line"))
                doc_id = line.split("|a|", 1)[0]
                doc = PubtatorDocument(doc_id=doc_id, text=title + " " + line.split("|a|", 1)[1])
                continue
            parts = line.split("\t")
            if doc is None:
                raise ValueError(Errors.E002.format(path=path, line=line_no, reason="annotation line before the document's text"))
            if len(parts) == 4 and parts[1] in ("CID",):
                continue  # chemical-induced-disease relation: not used for NER
            if len(parts) < 5:
                raise ValueError(Errors.E002.format(path=path, line=line_no, reason="mention line needs at least 5 tab-separated fields"))
            try:
                start, end = int(parts[1]), int(parts[2])
            except ValueError:
                raise ValueError(Errors.E002.format(path=path, line=line_no, reason="offsets are not integers")) from None
            if parts[4] not in PUBTATOR_TYPES:
                raise ValueError(Errors.E003.format(path=f"{path}, line {line_no}", label=parts[4], known=", ".join(PUBTATOR_TYPES)))
            if not 0 <= start < end <= len(doc.text):
                raise ValueError(Errors.E004.format(path=path, line=line_no, start=start, end=end, length=len(doc.text)))
            if doc.text[start:end] != parts[3]:
                raise ValueError(Errors.E002.format(path=path, line=line_no, reason="offsets do not reproduce the mention's surface"))
            concept = parts[5] if len(parts) > 5 else ""
            doc.mentions.append(PubtatorMention(start, end, parts[4], parts[3], concept, line_no))
    if doc is not None:
        yield doc
