"""Lexicons from `corpora/lexicons`: Symptom Ontology terms, DrugBank open vocabulary names and
Disease Ontology labels.

Used in conversion to decide which BC5CDR chemicals count as drugs, which gold "Disease"
mentions are symptoms by the Symptom Ontology's definition, and which unlabelled tokens of a
corpus that does not annotate a label could be that label (and are marked missing). The
Symptom Ontology also gives en_medical its `symptom_lexicon` (`symptom_patterns`): an
entity_ruler after `ner` that adds symptoms the model missed, never overriding it. All three
give the ner's dictionary features (spacy_medical/ml/lexicon_features.py). The readers that keep
ids (`read_mesh`, `read_disease_ontology`, `read_symptom_ontology`, `read_drugbank`) feed the
concept KB of `medical_linker` (spacy_medical/kb); the term sets are derived from them.
"""
import csv
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import spacy
import srsly
from spacy.lang.en import English
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from ..errors import Errors
from .corpora import corpora_dir

_SYNONYM = re.compile(r'^synonym:\s+"(.+?)"\s+EXACT')


class LexiconConcept(NamedTuple):
    """One concept of a vocabulary, with its id as the source writes it."""

    id: str  # "D003920" (MeSH), "DOID:9352", "SYMP:0000614", "DB00945"
    name: str
    synonyms: Tuple[str, ...]
    extra: Dict[str, str]  # source-specific fields: MeSH tree numbers, DrugBank CAS and UNII


def normalize_term(text: str) -> str:
    """Lowercase and collapse whitespace, so lexicon and corpus surfaces compare equal."""
    return " ".join(text.lower().split())


def _lexicon_path(path: Optional[Path], *parts: str) -> Path:
    path = Path(path) if path else corpora_dir().joinpath("lexicons", *parts)
    if not path.is_file():
        raise FileNotFoundError(Errors.E503.format(path=path))
    return path


def _read_table(path: Path, columns: Sequence[str], delimiter: str = ",") -> Iterator[Tuple[int, Dict[str, str]]]:
    """(line number, row) of a CSV/TSV file with a header; errors name the file and line.

    A header without one of `columns`, a row with more or fewer fields than the header, or an
    empty id or name field (the first two of `columns`) is an error, not a row to skip.
    """
    with path.open(encoding="utf8", newline="") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        if not reader.fieldnames:
            raise ValueError(Errors.E504.format(path=path))
        lacking = [c for c in columns if c not in reader.fieldnames]
        if lacking:
            raise ValueError(Errors.E505.format(path=path, line=1, reason=f"the header lacks the column(s) {', '.join(lacking)}"))
        for row in reader:
            if None in row or None in row.values():
                raise ValueError(Errors.E505.format(path=path, line=reader.line_num, reason=f"expected {len(reader.fieldnames)} fields"))
            if not all(row[c].strip() for c in columns[:2]):
                raise ValueError(Errors.E505.format(path=path, line=reader.line_num, reason=f"empty '{columns[0]}' or '{columns[1]}'"))
            yield reader.line_num, row


def read_symptom_ontology(path: Path = None) -> List[LexiconConcept]:
    """Active (non-obsolete) Symptom Ontology terms with their EXACT synonyms.

    path (Path): The `symp.obo` file; defaults to the one in the corpora folder.
    RETURNS (List[LexiconConcept]): Raises ValueError if the file holds no [Term] with an id and name.
    """
    path = _lexicon_path(path, "symptom_ontology", "symp.obo")
    concepts: List[LexiconConcept] = []
    term: Dict[str, Any] = {}

    def close() -> None:
        if term.get("id") and term.get("name") and not term.get("obsolete"):
            concepts.append(LexiconConcept(term["id"], term["name"], tuple(term["synonyms"]), {}))

    with path.open(encoding="utf8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                close()
                term = {"synonyms": []} if line == "[Term]" else {}
            elif term and line.startswith("id:"):
                term["id"] = line[3:].strip()
            elif term and line.startswith("name:"):
                term["name"] = line[5:].strip()
            elif term and line.startswith("synonym:"):
                match = _SYNONYM.match(line)
                if match:
                    term["synonyms"].append(match.group(1))
            elif term and line == "is_obsolete: true":
                term["obsolete"] = True
    close()
    if not concepts:
        raise ValueError(Errors.E504.format(path=path))
    return concepts


def read_drugbank(path: Path = None) -> List[LexiconConcept]:
    """DrugBank open vocabulary: id, common name, synonyms, CAS and UNII.

    path (Path): `drugbank_vocabulary.csv`; defaults to the one in the corpora folder.
    """
    path = _lexicon_path(path, "drugbank_open_vocabulary", "drugbank_vocabulary.csv")
    return [
        LexiconConcept(
            row["DrugBank ID"].strip(), row["Common name"].strip(),
            tuple(s.strip() for s in (row.get("Synonyms") or "").split(" | ") if s.strip()),
            {"CAS": row.get("CAS", "").strip(), "UNII": row.get("UNII", "").strip()},
        )
        for _, row in _read_table(path, ["DrugBank ID", "Common name"])
    ]


def read_disease_ontology(path: Path = None, mesh_path: Path = None) -> List[LexiconConcept]:
    """Human Disease Ontology labels (no synonyms in this release) with their MeSH xrefs.

    path (Path): `HumanDO.tsv` (one row per parent class); mesh_path (Path): `MESHinDO.tsv`.
    RETURNS (List[LexiconConcept]): One per DOID; `extra["MESH"]` holds the MeSH ids, "|"-joined.
    """
    path = _lexicon_path(path, "disease_ontology", "HumanDO.tsv")
    labels = {row["id"].strip(): row["label"].strip() for _, row in _read_table(path, ["id", "label"], "\t")}
    xrefs: Dict[str, List[str]] = {}
    if mesh_path is not None or (path.parent / "MESHinDO.tsv").is_file():
        mesh_path = _lexicon_path(mesh_path or path.parent / "MESHinDO.tsv")
        for _, row in _read_table(mesh_path, ["id", "xrefs"], "\t"):
            xrefs.setdefault(row["id"].strip(), []).extend(x[5:] for x in row["xrefs"].split("|") if x.startswith("MESH:"))
    return [LexiconConcept(doid, label, (), {"MESH": "|".join(xrefs.get(doid, ()))}) for doid, label in labels.items()]


def read_mesh(path: Path = None) -> List[LexiconConcept]:
    """MeSH descriptors: id, name, entry terms, and tree numbers (";"-joined in `extra`).

    path (Path): `mesh_descriptors.tsv`; defaults to the one in the corpora folder.
    """
    path = _lexicon_path(path, "mesh", "mesh_descriptors.tsv")
    return [
        LexiconConcept(row["id"].strip(), row["name"].strip(),
                       tuple(s.strip() for s in row["synonyms"].split("|") if s.strip()),
                       {"tree_numbers": row["tree_numbers"].strip()})
        for _, row in _read_table(path, ["id", "name", "tree_numbers", "synonyms"], "\t")
    ]


@lru_cache(maxsize=4)
def symptom_terms(path: Path = None) -> FrozenSet[str]:
    """Names and EXACT synonyms of active (non-obsolete) Symptom Ontology terms.

    path (Path): The `symp.obo` file; defaults to the one in the corpora folder.
    RETURNS (FrozenSet[str]): Normalized terms.
    """
    terms = {normalize_term(t) for c in read_symptom_ontology(path) for t in (c.name, *c.synonyms)}
    # The ontology's root and grouping classes are not findings.
    return frozenset(t for t in terms if t and t not in {"symptom"})


@lru_cache(maxsize=4)
def drug_terms(path: Path = None) -> FrozenSet[str]:
    """Common names and synonyms from the DrugBank open vocabulary.

    path (Path): `drugbank_vocabulary.csv`; defaults to the one in the corpora folder.
    RETURNS (FrozenSet[str]): Normalized names.
    """
    terms = {normalize_term(t) for c in read_drugbank(path) for t in (c.name, *c.synonyms)}
    return frozenset(t for t in terms if len(t) > 2)


@lru_cache(maxsize=4)
def disease_terms(path: Path = None) -> FrozenSet[str]:
    """Labels of Human Disease Ontology terms (the release has no synonyms column).

    path (Path): `HumanDO.tsv`; defaults to the one in the corpora folder.
    RETURNS (FrozenSet[str]): Normalized labels.
    """
    path = _lexicon_path(path, "disease_ontology", "HumanDO.tsv")
    terms = {normalize_term(row["label"]) for _, row in _read_table(path, ["id", "label"], "\t")}
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


def read_token_patterns(path: Path, lang: str = "en") -> List[Dict[str, Any]]:
    """`spacy-medical.read_patterns.v2`: as `.v1`, with each phrase pattern turned into the token
    pattern that matches the same lower-cased tokens (for an entity_ruler with
    `phrase_matcher_attr = "LOWER"`).

    An entity_ruler runs every component before it over its phrase patterns whenever it loads
    them: in en_medical, the transformer over a thousand symptom terms at each `spacy.load`
    (16 of its 18 seconds). Token patterns need only the tokenizer, once, when they are read.
    """
    tokenizer = spacy.blank(lang).tokenizer
    patterns = read_patterns(path)
    for pattern in patterns:
        if isinstance(pattern.get("pattern"), str):
            pattern["pattern"] = [{"LOWER": token.lower_} for token in tokenizer(pattern["pattern"])]
    return patterns
