"""Reader of ACI-Bench (dialogue -> clinical note), the corpus of the summary evaluation.

Each CSV file holds rows with `encounter_id`, `dialogue` (a transcript with "[doctor]" /
"[patient]" speaker tags) and `note` (the reference clinical note).
"""
import csv
from pathlib import Path
from typing import Dict, List, Union

from ..errors import Errors

ACI_TEST_SPLITS = {
    "test1": "clinicalnlp_taskB_test1.csv",
    "test2": "clinicalnlp_taskC_test2.csv",
    "test3": "clef_taskC_test3.csv",
}
ACI_SPLITS = {"valid": "valid.csv", **ACI_TEST_SPLITS}


def read_aci(path: Union[str, Path]) -> List[Dict[str, str]]:
    """Read one ACI-Bench CSV file: rows with encounter_id, dialogue and note."""
    with open(path, newline="", encoding="utf8") as f:
        reader = csv.DictReader(f)
        for column in ("encounter_id", "dialogue", "note"):
            if column not in (reader.fieldnames or []):
                raise ValueError(Errors.E206.format(path=path, column=column))
        return [{k: row[k] for k in ("encounter_id", "dialogue", "note")} for row in reader]
