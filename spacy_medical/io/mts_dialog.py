"""Reader of MTS-Dialog (doctor-patient dialogue -> note section), the training data of the
dialogue section classifier (spacy_medical.training.dialogue)."""
import csv
from pathlib import Path
from typing import List, Tuple, Union

from ..errors import Errors

MTS_FILES = {
    "train": "MTS-Dialog-TrainingSet.csv",
    "valid": "MTS-Dialog-ValidationSet.csv",
    "test1": "MTS-Dialog-TestSet-1-MEDIQA-Chat-2023.csv",
    "test2": "MTS-Dialog-TestSet-2-MEDIQA-Sum-2023.csv",
}


def read_mts_dialog(path: Union[str, Path]) -> List[Tuple[str, str]]:
    """Read one MTS-Dialog CSV file.

    path (Union[str, Path]): The CSV file (columns ID, section_header, section_text, dialogue).
    RETURNS (List[Tuple[str, str]]): (dialogue, section_header) per row.
    """
    with open(path, newline="", encoding="utf8") as f:
        reader = csv.DictReader(f)
        for column in ("dialogue", "section_header"):
            if column not in (reader.fieldnames or []):
                raise ValueError(Errors.E205.format(path=path, column=column))
        return [(row["dialogue"], row["section_header"].strip()) for row in reader]
