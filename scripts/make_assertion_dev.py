"""Build corpus/assertion_dev.jsonl from the hand-written markup in scripts/assertion_dev_source.txt.

The sentences are invented (no patient data). Markup: `[entity text](LABEL:flags)`, LABEL `D`
(DISEASE) or `S` (SYMPTOM), flags from `n` negated, `u` uncertain, `h` historical,
`y` hypothetical, `f` family; an optional `section|` prefix sets the section of the line.
The script computes character offsets, so they cannot drift from the text.

Usage: python scripts/make_assertion_dev.py [SOURCE] [OUTPUT]
"""
import json
import re
import sys
from pathlib import Path
from typing import Any, Dict, Iterator

ROOT = Path(__file__).resolve().parents[1]
LABELS = {"D": "DISEASE", "S": "SYMPTOM"}
FLAGS = {"n": "negated", "u": "uncertain", "h": "historical", "y": "hypothetical", "f": "family"}
MARK = re.compile(r"\[([^\]]+)\]\(([DS])(?::([nuhyf,]+))?\)")
SECTION = re.compile(r"^([a-z_]+)\|")


def parse_line(line: str, number: int) -> Dict[str, Any]:
    """Turn one markup line into a dev-set record with character offsets."""
    section = None
    match = SECTION.match(line)
    if match:
        section = match.group(1)
        line = line[match.end():]
    text, spans, pos = "", [], 0
    for m in MARK.finditer(line):
        text += line[pos : m.start()]
        start = len(text)
        text += m.group(1)
        flags = set((m.group(3) or "").replace(",", ""))
        unknown = flags - set(FLAGS)
        if unknown:
            raise ValueError(f"line {number}: unknown flags {sorted(unknown)}")
        span = {"start": start, "end": len(text), "label": LABELS[m.group(2)]}
        span.update({name: key in flags for key, name in FLAGS.items()})
        spans.append(span)
        pos = m.end()
    text += line[pos:]
    if "[" in text and "](" in text:
        raise ValueError(f"line {number}: unparsed markup")
    if not spans:
        raise ValueError(f"line {number}: no entity")
    record: Dict[str, Any] = {"text": text, "spans": spans}
    if section:
        record["section"] = section
    return record


def read_source(path: Path) -> Iterator[Dict[str, Any]]:
    for number, raw in enumerate(path.read_text(encoding="utf8").splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield parse_line(line, number)


def main(source: Path = ROOT / "scripts" / "assertion_dev_source.txt",
         output: Path = ROOT / "corpus" / "assertion_dev.jsonl") -> None:
    records = list(read_source(source))
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    counts = {name: sum(s[name] for r in records for s in r["spans"]) for name in FLAGS.values()}
    n_spans = sum(len(r["spans"]) for r in records)
    print(f"{len(records)} sentences, {n_spans} entities, qualifiers: {counts} -> {output}")


if __name__ == "__main__":
    main(*[Path(a) for a in sys.argv[1:3]])
