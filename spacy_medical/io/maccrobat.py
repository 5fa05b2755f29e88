"""MACCROBAT (BRAT case reports) -> DISEASE / SYMPTOM / DRUG spans, and its fixed split.

Mapping: Sign_symptom -> SYMPTOM, Disease_disorder -> DISEASE, Medication -> DRUG; the 38 other
types are not entities of this pipeline.

Rules for spans that a flat NER cannot hold (counted in the conversion report):
- discontinuous spans are not converted; their tokens are marked missing, so the model is
  neither taught that they are entities nor that they are not;
- overlapping spans: the longest wins (then the earlier start, then DISEASE > SYMPTOM > DRUG);
  the losers are counted as dropped.
"""
import hashlib
from pathlib import Path
from typing import Dict, Iterator, List, Sequence

from ..labels import DISEASE, DRUG, SYMPTOM
from .brat import BratDocument, read_brat
from .corpora import corpora_dir

LABEL_MAP = {"Sign_symptom": SYMPTOM, "Disease_disorder": DISEASE, "Medication": DRUG}
SPLIT_SALT = "spacy-medical-maccrobat-split-v1:"
# 160 documents -> 104 train / 24 dev / 32 test
SPLIT_SIZES = {"dev": 24, "test": 32}


def maccrobat_dir() -> Path:
    return corpora_dir() / "maccrobat" / "brat"


def split_ids(doc_ids: Sequence[str]) -> Dict[str, List[str]]:
    """Assign document ids to train/dev/test deterministically.

    Ids are ordered by sha256(SPLIT_SALT + id); the first 24 are dev, the next 32 test, the
    rest train. The order does not depend on which other ids are present, so adding documents
    never moves an existing one to another split.

    doc_ids (Sequence[str]): Document ids.
    RETURNS (Dict[str, List[str]]): Sorted ids per split.
    """
    ordered = sorted(doc_ids, key=lambda i: hashlib.sha256((SPLIT_SALT + i).encode()).hexdigest())
    dev = ordered[: SPLIT_SIZES["dev"]]
    test = ordered[SPLIT_SIZES["dev"] : SPLIT_SIZES["dev"] + SPLIT_SIZES["test"]]
    train = ordered[SPLIT_SIZES["dev"] + SPLIT_SIZES["test"] :]
    return {"train": sorted(train), "dev": sorted(dev), "test": sorted(test)}


def read_maccrobat(folder: Path = None, split: str = None) -> Iterator[BratDocument]:
    """Yield the MACCROBAT documents, optionally only those of one split.

    folder (Path): Folder of `.txt`/`.ann` pairs; defaults to the corpora folder's.
    split (str): "train", "dev", "test" or None for all.
    """
    folder = Path(folder) if folder else maccrobat_dir()
    ids = sorted(p.stem for p in folder.glob("*.txt"))
    if split is not None:
        ids = split_ids(ids)[split]
    for doc_id in ids:
        yield read_brat(folder / f"{doc_id}.txt", folder / f"{doc_id}.ann")
