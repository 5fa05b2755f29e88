"""Data for `medical_deid`: the marked-up evaluation notes and the PHI generator.

Hand-written notes are kept as marked-up text (`[[NAME:John Smith]]` for PHI, `{{Foley catheter}}`
for a clinical term that must survive) so that no character offset is ever typed by hand;
`markup_to_records` turns them into JSONL records with offsets.

The generator writes invented PHI (Faker, seeded) of many surface forms into real clinical texts
of the shared corpora, so that a model or the rules can be measured on text that looks like notes.
The same seed always gives the same files.
"""
import json
import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, Tuple, Union

from .errors import Errors

PHI_LABELS = ("NAME", "DATE", "AGE", "CONTACT", "ID", "LOCATION")
_MARK = re.compile(r"\[\[([A-Z]+):(.+?)\]\]|\{\{(.+?)\}\}")


def parse_markup(marked: str, where: str = "<text>") -> Tuple[str, List[Dict[str, Any]], List[Dict[str, Any]]]:
    """Strip the markup of one note and compute character offsets.

    marked (str): Text with `[[LABEL:phi]]` and `{{term}}` marks.
    where (str): Names the note in errors.
    RETURNS (Tuple[str, List[Dict], List[Dict]]): The plain text, the PHI spans
        (start, end, label) and the clinical-term spans (start, end).
    """
    parts: List[str] = []
    phi: List[Dict[str, Any]] = []
    terms: List[Dict[str, Any]] = []
    length, last = 0, 0
    for match in _MARK.finditer(marked):
        before = marked[last : match.start()]
        parts.append(before)
        length += len(before)
        label, value, term = match.group(1), match.group(2), match.group(3)
        inner = value if label else term
        if label and label not in PHI_LABELS:
            raise ValueError(Errors.E003.format(path=where, label=label, known=", ".join(PHI_LABELS)))
        target = phi if label else terms
        target.append({"start": length, "end": length + len(inner), **({"label": label} if label else {})})
        parts.append(inner)
        length += len(inner)
        last = match.end()
    parts.append(marked[last:])
    text = "".join(parts)
    if "[[" in text or "{{" in text:
        raise ValueError(Errors.E550.format(where=where))
    return text, phi, terms


def markup_to_records(path: Union[str, Path]) -> List[Dict[str, Any]]:
    """Read a marked-up notes file: `#` comment lines, then notes each opened by `=== note_id`.

    path (Union[str, Path]): The marked-up file.
    RETURNS (List[Dict[str, Any]]): One record per note: note_id, text, phi, terms.
    """
    records: List[Dict[str, Any]] = []
    note_id, lines = None, []  # type: ignore[var-annotated]

    def flush() -> None:
        if note_id is not None:
            text, phi, terms = parse_markup("\n".join(lines).strip("\n"), where=f"{path}, note {note_id}")
            records.append({"note_id": note_id, "text": text, "phi": phi, "terms": terms})

    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith("=== "):
            flush()
            note_id, lines = line[4:].strip(), []
        elif note_id is not None:
            lines.append(line)
        elif line.strip() and not line.startswith("#"):
            raise ValueError(Errors.E002.format(path=path, line=len(records) + 1, reason="text before the first '=== note_id'"))
    flush()
    return records


def read_phi_records(path: Union[str, Path]) -> List[Dict[str, Any]]:
    """Read a PHI JSONL file (note_id, text, phi, optional terms), checking every offset.

    path (Union[str, Path]): The JSONL file.
    RETURNS (List[Dict[str, Any]]): The records.
    """
    records = []
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(Errors.E002.format(path=path, line=number, reason=f"not JSON ({err.msg})")) from None
            if not isinstance(record.get("text"), str) or not isinstance(record.get("phi"), list):
                raise ValueError(Errors.E002.format(path=path, line=number, reason="needs a string 'text' and a list 'phi'"))
            for span in record["phi"] + record.get("terms", []):
                if not 0 <= span["start"] < span["end"] <= len(record["text"]):
                    raise ValueError(Errors.E004.format(path=path, line=number, start=span["start"],
                                                       end=span["end"], length=len(record["text"])))
                if "label" in span and span["label"] not in PHI_LABELS:
                    raise ValueError(Errors.E003.format(path=path, label=span["label"], known=", ".join(PHI_LABELS)))
            records.append(record)
    return records


def write_jsonl(records: Iterable[Dict[str, Any]], path: Union[str, Path]) -> int:
    """Write records as JSONL; RETURNS (int): the number written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
