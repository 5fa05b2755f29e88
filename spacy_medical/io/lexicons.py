"""Lexicons from `corpora/lexicons`: Symptom Ontology terms and DrugBank open vocabulary names.

Used in conversion to decide which BC5CDR chemicals count as drugs, which gold "Disease"
mentions are symptoms by the Symptom Ontology's definition, and which unlabelled tokens of a
corpus that does not annotate a label could be that label (and are marked missing).
"""
import csv
import re
from functools import lru_cache
from pathlib import Path
from typing import FrozenSet

from .corpora import corpora_dir

_SYNONYM = re.compile(r'^synonym:\s+"(.+?)"\s+EXACT')


def normalize_term(text: str) -> str:
    """Lowercase and collapse whitespace, so lexicon and corpus surfaces compare equal."""
    return " ".join(text.lower().split())


@lru_cache(maxsize=4)
def symptom_terms(path: Path = None) -> FrozenSet[str]:
    """Names and EXACT synonyms of active (non-obsolete) Symptom Ontology terms.

    path (Path): The `symp.obo` file; defaults to the one in the corpora folder.
    RETURNS (FrozenSet[str]): Normalized terms.
    """
    path = Path(path) if path else corpora_dir() / "lexicons" / "symptom_ontology" / "symp.obo"
    terms, current, obsolete, in_term = set(), [], False, False
    with path.open(encoding="utf8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                if in_term and not obsolete:
                    terms.update(current)
                in_term, current, obsolete = line == "[Term]", [], False
            elif in_term and line.startswith("name:"):
                current.append(normalize_term(line[5:]))
            elif in_term and line.startswith("synonym:"):
                match = _SYNONYM.match(line)
                if match:
                    current.append(normalize_term(match.group(1)))
            elif in_term and line == "is_obsolete: true":
                obsolete = True
    if in_term and not obsolete:
        terms.update(current)
    # The ontology's root and grouping classes are not findings.
    return frozenset(t for t in terms if t and t not in {"symptom"})


@lru_cache(maxsize=4)
def drug_terms(path: Path = None) -> FrozenSet[str]:
    """Common names and synonyms from the DrugBank open vocabulary.

    path (Path): `drugbank_vocabulary.csv`; defaults to the one in the corpora folder.
    RETURNS (FrozenSet[str]): Normalized names.
    """
    path = Path(path) if path else corpora_dir() / "lexicons" / "drugbank_open_vocabulary" / "drugbank_vocabulary.csv"
    terms = set()
    with path.open(encoding="utf8", newline="") as f:
        for row in csv.DictReader(f):
            terms.add(normalize_term(row["Common name"]))
            for synonym in (row.get("Synonyms") or "").split(" | "):
                if synonym.strip():
                    terms.add(normalize_term(synonym))
    return frozenset(t for t in terms if len(t) > 2)
