"""`ConceptKB`: concepts, their aliases, and candidate generation for a mention.

Candidates come from two sources, so that an exact name is never lost and a variant is still
found:
- an alias table keyed by a normalised form (lowercase, punctuation and hyphens folded to
  spaces, a plural "s" stripped, words sorted), so "Cancer of the breast"-style word-order
  variants and "anti-inflammatory"/"anti inflammatory" meet;
- character trigram TF-IDF over every alias with cosine nearest neighbours (a sparse matrix
  product), which finds misspellings and partial names.
Each candidate concept is scored by its best cosine (1 for an exact alias-table hit) plus a
weighted prior: the share of training mentions with the same normalised surface that were annotated with
it (BC5CDR train and dev, never test).

Stored as plain files (JSON/JSONL, and the TF-IDF matrix as a scipy `.npz`): never pickle.
"""
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

import numpy
import srsly

from ..errors import Errors

# scipy and scikit-learn (the `linking` extra) are imported where used, so that importing the
# package's registry does not need them.

GROUPS = ("disease", "symptom", "drug")
# Longer mentions are cut before candidate generation: no concept name is that long, and a
# runaway span (a whole paragraph tagged as one entity) must not cost seconds.
MAX_QUERY_CHARS = 200
NEIGHBOURS = 32
KB_FILES = ("concepts.json", "aliases.json", "priors.json", "tfidf.json", "tfidf_matrix.npz")

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def fold_text(text: str) -> str:
    """Lowercase, punctuation and hyphens to single spaces: the form TF-IDF sees."""
    return _NON_ALNUM.sub(" ", text.lower()).strip()


def _singular(word: str) -> str:
    # Plain English plurals only; "-ss", "-us", "-is" words (abscess, virus, psoriasis) stay.
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def alias_key(text: str) -> str:
    """The alias-table key: folded text, plurals stripped, words sorted."""
    return " ".join(sorted(_singular(w) for w in fold_text(text).split()))


@dataclass
class Candidate:
    """A concept proposed for a mention, with the evidence behind its score."""

    concept: int
    id: str
    name: str
    score: float
    similarity: float
    prior: float
    exact: bool

    def to_dict(self) -> Dict[str, Union[str, float]]:
        return {"id": self.id, "name": self.name, "score": round(self.score, 4)}


class ConceptKB:
    """Concepts with names, semantic groups and codes, their aliases and the candidate index.

    concepts (List[dict]): One dict per concept: `id` (CURIE), `name`, `groups` (subset of
        GROUPS) and `codes` (vocabulary -> id, cross-references included).
    alias_texts (List[str]): Alias surfaces, folded (`fold_text`).
    alias_concepts (List[int]): The concept index of each alias.
    priors (Dict[str, Dict[int, int]]): alias key -> concept index -> count of training mentions.
    """

    def __init__(
        self,
        concepts: List[dict],
        alias_texts: List[str],
        alias_concepts: List[int],
        priors: Dict[str, Dict[int, int]],
        *,
        alias_keys: Optional[List[str]] = None,
        vectorizer: Optional[Any] = None,
        matrix_t: Optional[Any] = None,
    ):
        self.concepts = concepts
        self.alias_texts = alias_texts
        self.alias_concepts = numpy.asarray(alias_concepts, dtype=numpy.int32)
        self.priors = priors
        self.prior_weight = 0.25
        # Stored with the KB: computing them again costs more than a second at every load.
        self.alias_keys = alias_keys if alias_keys is not None else [alias_key(text) for text in alias_texts]
        self.exact: Dict[str, Set[int]] = {}
        for key, concept in zip(self.alias_keys, alias_concepts):
            self.exact.setdefault(key, set()).add(int(concept))
        for key, counts in priors.items():
            self.exact.setdefault(key, set()).update(counts)
        if vectorizer is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), lowercase=False, dtype=numpy.float32)
            matrix_t = vectorizer.fit_transform(alias_texts).T.tocsr()
        self.vectorizer = vectorizer
        # TfidfVectorizer fitted on the aliases, and its matrix transposed (terms x aliases, rows
        # L2-normalised before the transpose): a query row times it gives the cosine with every alias.
        self.matrix_t = matrix_t
        self._cache: Dict[Tuple[str, Tuple[str, ...]], List[Candidate]] = {}

    def __len__(self) -> int:
        return len(self.concepts)

    def candidates(self, text: str, groups: Optional[Iterable[str]] = None, k: int = 5) -> List[Candidate]:
        """The best `k` concepts for a mention, best first.

        text (str): The mention (or the long form of an abbreviation).
        groups (Optional[Iterable[str]]): Semantic groups the concept must share (None: any).
        k (int): How many to return.
        RETURNS (List[Candidate]): Possibly empty.
        """
        return self.candidates_batch([text], [groups], k=k)[0]

    def candidates_batch(
        self, texts: Sequence[str], groups: Sequence[Optional[Iterable[str]]], k: int = 5
    ) -> List[List[Candidate]]:
        """`candidates` for many mentions with one matrix product (see `candidates`)."""
        keys = [(fold_text(t[:MAX_QUERY_CHARS]), tuple(sorted(g)) if g is not None else ()) for t, g in zip(texts, groups)]
        todo = sorted({key for key in keys if key not in self._cache})
        if todo:
            sims = self._neighbours([query for query, _ in todo])
            for key, concept_sims in zip(todo, sims):
                self._cache[key] = self._rank(key[0], concept_sims, set(key[1]), k)
            if len(self._cache) > 100_000:
                self._cache.clear()  # A bounded memo: clinical notes repeat the same few mentions.
        return [self._cache[key][:k] for key in keys]

    def _neighbours(self, queries: List[str]) -> List[Dict[int, float]]:
        """Per query: concept index -> best cosine among the TF-IDF nearest aliases."""
        product = (self.vectorizer.transform(queries) @ self.matrix_t).tocsr()
        result = []
        for row in range(product.shape[0]):
            start, end = product.indptr[row], product.indptr[row + 1]
            data, aliases = product.data[start:end], product.indices[start:end]
            if len(data) > NEIGHBOURS:
                top = numpy.argpartition(-data, NEIGHBOURS)[:NEIGHBOURS]
                data, aliases = data[top], aliases[top]
            best: Dict[int, float] = {}
            for alias, sim in zip(aliases.tolist(), data.tolist()):
                concept = int(self.alias_concepts[alias])
                if sim > best.get(concept, 0.0):
                    best[concept] = sim
            result.append(best)
        return result

    def _rank(self, query: str, sims: Dict[int, float], groups: Set[str], k: int) -> List[Candidate]:
        key = alias_key(query)
        exact = self.exact.get(key, set())
        counts = self.priors.get(key, {})
        total = sum(counts.values()) or 1
        ranked = []
        for concept in set(sims) | exact:
            record = self.concepts[concept]
            if groups and not groups.intersection(record["groups"]):
                continue
            similarity = 1.0 if concept in exact else sims.get(concept, 0.0)
            prior = counts.get(concept, 0) / total
            score = similarity + self.prior_weight * prior
            ranked.append(Candidate(concept, record["id"], record["name"], score, similarity, prior, concept in exact))
        ranked.sort(key=lambda c: (-c.score, c.concept))  # ties: MeSH first (built first)
        # Keep a few more than asked, so that a later call with a larger k is still served.
        return ranked[: max(k, 10)]

    # --- storage -----------------------------------------------------------------------------
    def to_disk(self, path: Union[str, Path]) -> None:
        """Write the KB as KB_FILES into the folder `path`."""
        import scipy.sparse

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        # One JSON document each: parsed several times faster than JSONL's one call per line.
        srsly.write_json(path / "concepts.json", self.concepts)
        aliases = {"texts": self.alias_texts, "keys": self.alias_keys, "concepts": self.alias_concepts.tolist()}
        srsly.write_json(path / "aliases.json", aliases)
        srsly.write_json(path / "priors.json", {key: {str(c): n for c, n in counts.items()} for key, counts in self.priors.items()})
        tfidf = {"vocabulary": {term: int(i) for term, i in self.vectorizer.vocabulary_.items()}, "idf": self.vectorizer.idf_.tolist()}
        srsly.write_json(path / "tfidf.json", tfidf)
        scipy.sparse.save_npz(path / "tfidf_matrix.npz", self.matrix_t, compressed=True)

    @classmethod
    def from_disk(cls, path: Union[str, Path]) -> "ConceptKB":
        """Read a KB written by `to_disk`; errors name the missing or malformed file."""
        import scipy.sparse
        from sklearn.feature_extraction.text import TfidfVectorizer

        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(Errors.E500.format(path=path))
        missing = [name for name in KB_FILES if not (path / name).is_file()]
        if missing:
            raise FileNotFoundError(Errors.E501.format(path=path, missing=", ".join(missing)))
        try:
            concepts = srsly.read_json(path / "concepts.json")
            aliases = srsly.read_json(path / "aliases.json")
            priors = {key: {int(c): n for c, n in counts.items()} for key, counts in srsly.read_json(path / "priors.json").items()}
            tfidf = srsly.read_json(path / "tfidf.json")
            matrix_t = scipy.sparse.load_npz(path / "tfidf_matrix.npz").tocsr()
        except (ValueError, OSError, KeyError, json.JSONDecodeError) as error:
            raise ValueError(Errors.E502.format(path=path, reason=type(error).__name__)) from None
        vectorizer = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 3), lowercase=False, dtype=numpy.float32, vocabulary=tfidf["vocabulary"]
        )
        vectorizer.idf_ = numpy.asarray(tfidf["idf"], dtype=numpy.float32)
        if matrix_t.shape != (len(tfidf["vocabulary"]), len(aliases["texts"])) or not len(aliases["texts"]) == len(aliases["keys"]) == len(aliases["concepts"]):
            raise ValueError(Errors.E502.format(path=path, reason="the TF-IDF matrix does not fit the aliases"))
        return cls(concepts, aliases["texts"], aliases["concepts"], priors, alias_keys=aliases["keys"], vectorizer=vectorizer, matrix_t=matrix_t)
