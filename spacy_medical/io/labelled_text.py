"""Labelled texts for text classification: a CSV reader with strict checks, and a fixed split
that keeps duplicates and near-duplicates on one side.

Used by `spacy-medical train-classifier` (a user's CSV) and by the `dx` workflow
(Symptom2Disease, see `spacy_medical.io.symptom2disease`). Error messages name the file, row and
column, never the text: the text may be patient data.
"""
import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Union

from ..errors import Errors
from .exports import describe_columns

SPLITS = ("train", "dev", "test")
WORD = re.compile(r"[a-z0-9]+")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class LabelledText:
    """One labelled row; `row` is the 1-based data row in the source (header not counted)."""

    text: str
    label: str
    row: int
    id: str = ""


def read_labelled_csv(
    path: Union[str, Path], text_col: str = "text", label_col: str = "label", min_per_label: int = 2
) -> List[LabelledText]:
    """Read a CSV of (text, label) rows and refuse anything a classifier cannot learn from.

    path (Union[str, Path]): The CSV file (UTF-8, a header row).
    text_col (str): Column holding the text.
    label_col (str): Column holding the label (exactly one per row).
    min_per_label (int): Fewest rows a label may have; with one example a label can be in train
        or in test, never both.
    RETURNS (List[LabelledText]): Every row, in file order.
    RAISES (ValueError): A missing column, an empty text or label (file, row, column named), or a
        label with fewer than `min_per_label` rows.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(Errors.E650.format(path=path))
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        for column, option in ((text_col, "--text-col"), (label_col, "--label-col")):
            if column not in columns:
                raise ValueError(Errors.E302.format(path=path, column=column, option=option, count=len(columns),
                                                        columns=describe_columns(columns)))
        rows = []
        for row_number, record in enumerate(reader, start=1):
            for column in (text_col, label_col):
                if not (record.get(column) or "").strip():
                    raise ValueError(Errors.E651.format(path=path, row=row_number, line=reader.line_num, column=column))
            rows.append(LabelledText(record[text_col], record[label_col].strip(), row_number, str(row_number)))
    if not rows:
        raise ValueError(Errors.E652.format(path=path))
    check_label_counts(rows, path, min_per_label)
    return rows


def check_label_counts(rows: Sequence[LabelledText], path: Union[str, Path], min_per_label: int = 2) -> None:
    """Raise if a label has fewer than `min_per_label` rows or if there is only one label."""
    counts: Dict[str, int] = {}
    for item in rows:
        counts[item.label] = counts.get(item.label, 0) + 1
    rare = sorted(label for label, n in counts.items() if n < min_per_label)
    if rare:
        first = {label: next(item.row for item in rows if item.label == label) for label in rare}
        where = ", ".join(f"'{label}' (row {first[label]})" for label in rare)
        raise ValueError(Errors.E653.format(path=path, labels=where, n=min_per_label))
    if len(counts) < 2:
        raise ValueError(Errors.E654.format(path=path))


def normalise(text: str) -> str:
    """Lower-cased words joined by single spaces: what a duplicate means here."""
    return " ".join(WORD.findall(text.lower()))


def near_duplicate_groups(rows: Sequence[LabelledText], min_overlap: float = 0.6) -> List[int]:
    """Group rows of one label whose normalised texts are equal or share most of their words.

    Two rows join a group when the Jaccard overlap of their word sets is at least `min_overlap`
    (paraphrases that swap a few words); groups are closed transitively (union-find). Rows are
    compared within a label only (a paraphrase with another label is a labelling question, not a
    leak), so the cost is quadratic in the rows of the largest label; with `min_overlap` > 1
    only exact duplicates are grouped (linear).

    rows (Sequence[LabelledText]): The rows.
    min_overlap (float): Jaccard overlap of word sets that makes two rows near-duplicates.
    RETURNS (List[int]): Per row, the index of its group's first row.
    """
    normalised = [normalise(item.text) for item in rows]
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_text: Dict[str, int] = {}
    by_label: Dict[str, List[int]] = {}
    for i, item in enumerate(rows):
        if normalised[i] in by_text:
            parent[find(i)] = find(by_text[normalised[i]])
        else:
            by_text[normalised[i]] = i
            by_label.setdefault(item.label, []).append(i)
    if min_overlap <= 1.0:
        words = [frozenset(text.split()) for text in normalised]
        for members in by_label.values():
            for a, i in enumerate(members):
                for j in members[:a]:
                    union = len(words[i] | words[j])
                    if union and len(words[i] & words[j]) / union >= min_overlap:
                        parent[find(i)] = find(j)
    roots = [find(i) for i in range(len(rows))]
    first: Dict[int, int] = {}
    for i, root in enumerate(roots):
        first.setdefault(root, i)
    return [first[root] for root in roots]


def assign_splits(
    rows: Sequence[LabelledText], dev_share: float = 0.15, test_share: float = 0.15, min_overlap: float = 0.6
) -> List[str]:
    """The fixed split: near-duplicate groups go whole to train, dev or test, per label.

    Within each label (of the group's first row), groups are ordered by the SHA-1 of their first
    row's normalised text; test takes groups from the front until it holds `test_share` of the
    label's rows, then dev until `dev_share`, and train the rest, always keeping at least one group
    for train; a group that would overshoot a quota by half goes to train. The split depends on the data alone (not on row order or a seed), duplicates
    never straddle two splits, and every label is in train.

    RETURNS (List[str]): Per row, "train", "dev" or "test".
    """
    groups = near_duplicate_groups(rows, min_overlap)
    members: Dict[int, List[int]] = {}
    for i, group in enumerate(groups):
        members.setdefault(group, []).append(i)
    by_label: Dict[str, List[int]] = {}
    for group in members:
        by_label.setdefault(rows[group].label, []).append(group)
    out = ["train"] * len(rows)
    for label_groups in by_label.values():
        label_groups.sort(key=lambda g: hashlib.sha1(normalise(rows[g].text).encode("utf8")).hexdigest())
        total = sum(len(members[g]) for g in label_groups)
        wanted = {"test": round(total * test_share), "dev": round(total * dev_share)}
        taken = {"test": 0, "dev": 0}
        for position, group in enumerate(label_groups[:-1]):
            size = len(members[group])
            # A group that would overshoot a quota by half goes to train: one chain of 40
            # paraphrases must not become a label's whole test set.
            split = next(
                (name for name in ("test", "dev") if taken[name] < wanted[name] and taken[name] + size <= 1.5 * wanted[name]),
                "train",
            )
            taken[split] = taken.get(split, 0) + size
            for i in members[group]:
                out[i] = split
    return out


def split_rows(rows: Sequence[LabelledText], **split_settings: float) -> Dict[str, List[LabelledText]]:
    """`assign_splits` as lists: {"train": [...], "dev": [...], "test": [...]}."""
    parts: Dict[str, List[LabelledText]] = {name: [] for name in SPLITS}
    for item, split in zip(rows, assign_splits(rows, **split_settings)):
        parts[split].append(item)
    return parts


def labels_of(rows: Iterable[LabelledText]) -> List[str]:
    """The sorted label set."""
    return sorted({item.label for item in rows})


def sentence_halves(rows: Sequence[LabelledText]) -> List[LabelledText]:
    """Deterministic augmentation: each row of 2+ sentences, rewritten as its first and its second half.

    Patients often write one or two complaints, not the full picture a corpus row paints; a
    half keeps the label (every sentence describes the same condition). Only for training rows:
    never augment dev or test.
    RETURNS (List[LabelledText]): The new rows only (ids "<id>/a" and "<id>/b").
    """
    out = []
    for item in rows:
        sentences = [part for part in SENTENCE_END.split(item.text.strip()) if part]
        if len(sentences) < 2:
            continue
        middle = (len(sentences) + 1) // 2
        for suffix, part in (("a", sentences[:middle]), ("b", sentences[middle:])):
            out.append(LabelledText(" ".join(part), item.label, item.row, f"{item.id}/{suffix}"))
    return out
