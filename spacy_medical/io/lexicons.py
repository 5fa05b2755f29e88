"""Lexicons from `corpora/lexicons`: Symptom Ontology terms, DrugBank open vocabulary names and
Disease Ontology labels.

Used in conversion to decide which BC5CDR chemicals count as drugs, which gold "Disease"
mentions are symptoms by the Symptom Ontology's definition, and which unlabelled tokens of a
corpus that does not annotate a label could be that label (and are marked missing). The
Symptom Ontology also gives en_medical its `symptom_lexicon` (`symptom_patterns`): an
entity_ruler after `ner` that adds symptoms the model missed, never overriding it. All three
give the ner's dictionary features (spacy_medical/ml/lexicon_features.py).
"""
import csv
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Tuple

import srsly
from spacy.lang.en import English
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

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


@lru_cache(maxsize=4)
def disease_terms(path: Path = None) -> FrozenSet[str]:
    """Labels of Human Disease Ontology terms (the release has no synonyms column).

    path (Path): `HumanDO.tsv`; defaults to the one in the corpora folder.
    RETURNS (FrozenSet[str]): Normalized labels.
    """
    path = Path(path) if path else corpora_dir() / "lexicons" / "disease_ontology" / "HumanDO.tsv"
    with path.open(encoding="utf8", newline="") as f:
        terms = {normalize_term(row["label"]) for row in csv.DictReader(f, delimiter="\t")}
    # The ontology's root is not a diagnosis.
    return frozenset(t for t in terms if len(t) > 2 and t != "disease")


def symptom_patterns(terms: Iterable[str], docs: Iterable[Doc], min_precision: float = 0.3) -> Tuple[List[Dict[str, str]], Dict[str, Any]]:
    """entity_ruler patterns for Symptom Ontology terms, filtered by how a gold corpus uses them.

    A term is kept unless it occurs in the gold docs and is an exact gold SYMPTOM span in fewer
    than `min_precision` of its occurrences (e.g. "blood pressure", or "abdominal pain", which
    MACCROBAT annotates as a body part plus "pain"). Terms of two characters or less are dropped.

    terms (Iterable[str]): Normalized lexicon terms (`symptom_terms()`).
    docs (Iterable[Doc]): Gold-annotated docs (the MACCROBAT train split; never dev or test).
    min_precision (float): The lowest share of occurrences that must be gold SYMPTOM spans.
    RETURNS (Tuple[List[Dict[str, str]], Dict[str, Any]]): The patterns (label SYMPTOM, lowercase
        phrase), and a report: counts kept/dropped/unseen and the dropped terms with their counts.
    """
    terms = sorted(t for t in set(terms) if len(t) > 2)
    docs = list(docs)
    vocab = docs[0].vocab if docs else English().vocab
    matcher = PhraseMatcher(vocab, attr="LOWER")
    make_doc = English(vocab).make_doc
    for term in terms:
        matcher.add(term, [make_doc(term)])
    seen: Counter = Counter()
    gold_hits: Counter = Counter()
    for doc in docs:
        gold = {(e.start, e.end) for e in doc.ents if e.label_ == "SYMPTOM"}
        for match_id, start, end in matcher(doc):
            term = vocab.strings[match_id]
            seen[term] += 1
            gold_hits[term] += (start, end) in gold
    dropped = {t: {"seen": seen[t], "gold_symptom": gold_hits[t]} for t in terms
               if seen[t] and gold_hits[t] / seen[t] < min_precision}
    kept = [t for t in terms if t not in dropped]
    report = {"kept": len(kept), "dropped": len(dropped), "unseen": sum(1 for t in kept if not seen[t]),
              "min_precision": min_precision, "dropped_terms": dropped}
    return [{"label": "SYMPTOM", "pattern": t} for t in kept], report


def read_patterns(path: Path) -> List[Dict[str, Any]]:
    """`spacy-medical.read_patterns.v1`: entity_ruler patterns from a JSONL file, as a list.

    srsly.read_jsonl.v1 yields a generator, which entity_ruler's `initialize` rejects.
    """
    return list(srsly.read_jsonl(path))
