"""Symptom2Disease (1,200 patient-voice descriptions, 24 diagnoses) and the out-of-distribution
set `corpus/dx_ood.jsonl`, for the diagnosis suggester `en_medical_dx`.

The corpus has no official split and many rows paraphrase each other: `labelled_text.split_rows`
keeps exact and near duplicates on one side.
"""
import json
from pathlib import Path
from typing import Dict, List, Optional, Union

from ..errors import Errors
from .corpora import corpora_dir
from .labelled_text import LabelledText, read_labelled_csv, split_rows

FILE = "symptom2disease/Symptom2Disease.csv"
OOD_PATH = Path(__file__).resolve().parents[2] / "corpus" / "dx_ood.jsonl"


def read_symptom2disease(path: Optional[Union[str, Path]] = None) -> List[LabelledText]:
    """All rows of Symptom2Disease.csv (columns index, label, text); ids are the `index` column."""
    path = Path(path) if path else corpora_dir() / FILE
    rows = read_labelled_csv(path, text_col="text", label_col="label")
    return rows


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
