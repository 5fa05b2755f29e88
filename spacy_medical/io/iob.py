"""Reader for two-column IOB2 files (`token<TAB>tag`, blank line between sentences)."""
from pathlib import Path
from typing import Iterator, List, Set, Tuple

from ..errors import Errors


def read_iob(path: Path, known_types: Set[str]) -> Iterator[Tuple[int, List[str], List[str]]]:
    """Yield sentences as (first line number, words, IOB2 tags).

    path (Path): The file.
    known_types (Set[str]): Entity types allowed after "B-"/"I-".
    RETURNS (Iterator): Raises ValueError naming file and line on a line without exactly two
        fields or a tag that is not O, B-<type> or I-<type> of a known type.
    """
    path = Path(path)
    words, tags, first = [], [], None
    with path.open(encoding="utf8") as f:
        for line_no, raw in enumerate(f, start=1):
            line = raw.rstrip("\n").rstrip("\r")
            if not line.strip():
                if words:
                    yield first, words, tags
                words, tags, first = [], [], None
                continue
            parts = line.split("\t")
            if len(parts) != 2 or not parts[0]:
                raise ValueError(Errors.E002.format(path=path, line=line_no, reason="expected 'token<TAB>tag'"))
            word, tag = parts
            if tag != "O" and (tag[:2] not in ("B-", "I-") or tag[2:] not in known_types):
                raise ValueError(Errors.E003.format(path=f"{path}, line {line_no}", label=tag, known="O, " + ", ".join(f"B-/I-{t}" for t in sorted(known_types))))
            first = first or line_no
            words.append(word)
            tags.append(tag)
    if words:
        yield first, words, tags
