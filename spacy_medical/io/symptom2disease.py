"""Symptom2Disease (1,200 patient-voice descriptions, 24 diagnoses) and the out-of-distribution
set `corpus/dx_ood.jsonl`, for the diagnosis suggester `en_medical_dx`.

The corpus has no official split and many rows paraphrase each other: `labelled_text.split_rows`
keeps exact and near duplicates on one side.
"""
import hashlib
import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import srsly

from ..errors import Errors
from .corpora import corpora_dir
from .labelled_text import LabelledText, read_labelled_csv, split_rows

FILE = "symptom2disease/Symptom2Disease.csv"
OOD_PATH = Path(__file__).resolve().parents[2] / "corpus" / "dx_ood.jsonl"
CONTEXT_PATH = Path(__file__).resolve().parents[1] / "rules" / "dx_context.jsonl"


def read_symptom2disease(path: Optional[Union[str, Path]] = None) -> List[LabelledText]:
    """All rows of Symptom2Disease.csv (columns index, label, text); ids are 1-based data row numbers."""
    path = Path(path) if path else corpora_dir() / FILE
    return read_labelled_csv(path, text_col="text", label_col="label")


def symptom2disease_splits(path: Optional[Union[str, Path]] = None) -> Dict[str, List[LabelledText]]:
    """The fixed train/dev/test split of Symptom2Disease (70/15/15 of near-duplicate groups)."""
    return split_rows(read_symptom2disease(path))


def read_labelled_jsonl(path: Union[str, Path] = OOD_PATH) -> List[LabelledText]:
    """Rows {"id", "label", "text"} of a JSONL file such as the out-of-distribution set."""
    path = Path(path)
    rows = []
    with path.open(encoding="utf8") as f:
        for line_number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise ValueError(Errors.E659.format(path=path, line=line_number)) from None
            if not (isinstance(record, dict) and isinstance(record.get("text"), str) and isinstance(record.get("label"), str)):
                raise ValueError(Errors.E659.format(path=path, line=line_number))
            rows.append(LabelledText(record["text"], record["label"], line_number, str(record.get("id", line_number))))
    return rows


def context_sentences(rows: Sequence[LabelledText], path: Union[str, Path] = CONTEXT_PATH) -> List[LabelledText]:
    """Deterministic augmentation: each row with one sentence of context for its label appended.

    Symptom2Disease rows describe symptoms only; real messages add who, where and since when
    ("since I came back from Ghana", "after I started a new antibiotic"). The sentences
    (rules/dx_context.jsonl, risk factors and exposures per label, written by hand) are picked by
    a hash of the row id. Only for training rows; labels without context give no rows.
    RETURNS (List[LabelledText]): The new rows only (ids "<id>/context").
    """
    table = {}
    for line, record in enumerate(srsly.read_jsonl(path), start=1):
        if not (isinstance(record, dict) and isinstance(record.get("label"), str) and isinstance(record.get("context"), list)):
            raise ValueError(Errors.E662.format(path=path, line=line))
        table[record["label"]] = record["context"]
    out = []
    for item in rows:
        sentences = table.get(item.label)
        if sentences:
            pick = int(hashlib.sha1(item.id.encode("utf8")).hexdigest()[:8], 16) % len(sentences)
            out.append(LabelledText(f"{item.text.rstrip()} {sentences[pick]}", item.label, item.row, f"{item.id}/context"))
    return out
