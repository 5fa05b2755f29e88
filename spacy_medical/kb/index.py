"""`ConceptKB`: concepts, their aliases, and candidate generation for a mention.

Candidates come from two sources, so that an exact name is never lost and a variant is still
found:
- an alias table keyed by a normalised form (lowercase, punctuation and hyphens folded to
  spaces, a plural "s" stripped, words sorted), so "Cancer of the breast"-style word-order
  variants and "anti-inflammatory"/"anti inflammatory" meet;
- character trigram TF-IDF over every alias with cosine nearest neighbours (a sparse matrix
  product), which finds misspellings and partial names.
The search runs over the aliases of the mention's semantic groups only (a DISEASE mention never
spends time on the 70% of the index that names drugs), so the nearest neighbours are the nearest
compatible ones.
Each candidate concept is scored by its best cosine (1 for an exact alias-table hit) plus a
weighted prior: the share of training mentions with the same normalised surface that were annotated with
it (BC5CDR train and dev, never test).

Stored as plain files (JSON, and the TF-IDF matrix as numpy arrays in an `.npz`): never pickle.
scikit-learn fits the TF-IDF when the KB is built; a loaded KB applies it with numpy alone
(`char_trigrams`, `_neighbours`), because importing scikit-learn costs several seconds of
pipeline load time. tests/pipeline/test_linker.py checks that both give the same cosines.
"""
import bisect
import heapq
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

import numpy
import srsly

from ..errors import Errors

# scikit-learn (the `linking` extra) is imported only to build a KB.

GROUPS = ("disease", "symptom", "drug")
# A set of groups as bits, so that a concept's groups are checked with one `&`.
GROUP_BITS = {group: 1 << i for i, group in enumerate(GROUPS)}
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


def char_trigrams(text: str) -> List[str]:
    """The terms of scikit-learn's `analyzer="char_wb", ngram_range=(3, 3)`: trigrams of each
    whitespace-separated word padded with one space on each side."""
    grams: List[str] = []
    for word in text.split():
        padded = f" {word} "
        grams.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def group_bits(groups: Iterable[str]) -> int:
    """Semantic groups as GROUP_BITS (names outside GROUPS add nothing)."""
    return sum(GROUP_BITS.get(group, 0) for group in set(groups))


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


class ConceptTable(Sequence[dict]):
    """The concepts as columns of strings, each record built when it is read.

    Parsing 41,000 small JSON objects took most of the KB's load time; lists of strings parse
    several times faster, and a mention only ever reads the records of its few candidates.
    """

    def __init__(self, ids: List[str], names: List[str], groups: List[str], codes: List[str]):
        self.columns = {"ids": ids, "names": names, "groups": groups, "codes": codes}

    @classmethod
    def from_records(cls, records: Iterable[dict]) -> "ConceptTable":
        records = list(records)
        return cls(
            [r["id"] for r in records], [r["name"] for r in records], [" ".join(r["groups"]) for r in records],
            ["\t".join(f"{vocabulary}={code}" for vocabulary, code in r["codes"].items()) for r in records],
        )

    def __len__(self) -> int:
        return len(self.columns["ids"])

    def __getitem__(self, index: int) -> dict:  # type: ignore[override]
        return {
            "id": self.columns["ids"][index], "name": self.columns["names"][index],
            "groups": self.columns["groups"][index].split(), "codes": self.codes(index),
        }

    def codes(self, index: int) -> Dict[str, str]:
        """The concept's codes (vocabulary -> id), without building the whole record."""
        codes = self.columns["codes"][index]
        return dict(pair.split("=", 1) for pair in codes.split("\t")) if codes else {}


class ConceptKB:
    """Concepts with names, semantic groups and codes, their aliases and the candidate index.

    concepts (Sequence[dict]): One dict per concept (or a ConceptTable of them): `id` (CURIE),
        `name`, `groups` (subset of GROUPS) and `codes` (vocabulary -> id, cross-references included).
    alias_texts (List[str]): Alias surfaces, folded (`fold_text`).
    alias_concepts (List[int]): The concept index of each alias.
    priors (Dict[str, Dict[int, int]]): alias key -> concept index -> count of training mentions.
    """

    def __init__(
        self,
        concepts: Sequence[dict],
        alias_texts: List[str],
        alias_concepts: List[int],
        priors: Dict[str, Dict[int, int]],
        *,
        alias_keys: Optional[List[str]] = None,
        tfidf: Optional[Dict[str, Any]] = None,
    ):
        self.concepts = concepts if isinstance(concepts, ConceptTable) else ConceptTable.from_records(concepts)
        self.alias_texts = alias_texts
        self.alias_concepts = numpy.asarray(alias_concepts, dtype=numpy.int32)
        self.priors = priors
        self.prior_weight = 0.25
        # Stored with the KB: computing them again costs more than a second at every load.
        self.alias_keys = alias_keys if alias_keys is not None else [alias_key(text) for text in alias_texts]
        # The alias table: alias keys in sorted order, searched by bisection (a dict of 140,000
        # keys took over a second to build at every load).
        order = sorted(range(len(self.alias_keys)), key=self.alias_keys.__getitem__)
        self._sorted_keys = [self.alias_keys[i] for i in order]
        self._sorted_concepts = self.alias_concepts[order].tolist() if order else []
        # The TF-IDF: term -> column, idf per term, and the alias matrix transposed as CSR arrays
        # (terms x aliases, alias rows L2-normalised): a query row times it gives the cosines.
        tfidf = tfidf or self._fit_tfidf(alias_texts)
        self.vocabulary: Dict[str, int] = tfidf["vocabulary"]
        self.idf = numpy.asarray(tfidf["idf"], dtype=numpy.float32)
        self.term_ptr, self.term_aliases, self.term_weights = tfidf["indptr"], tfidf["indices"], tfidf["data"]
        self._scores: Optional[numpy.ndarray] = None  # one cosine per alias, reused across queries
        # Per concept its groups as GROUP_BITS (a list: read one at a time while ranking).
        self._concept_groups = [group_bits(groups.split()) for groups in self.concepts.columns["groups"]]
        # The TF-IDF postings restricted to the aliases of some groups, built on first use.
        self._postings: Dict[int, Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]] = {}
        self._cache: Dict[Tuple[str, Tuple[str, ...]], List[Candidate]] = {}

    def set_prior_weight(self, weight: float) -> None:
        """Weight the priors by `weight` in the score from now on."""
        self.prior_weight = weight
        self.clear_cache()

    def clear_cache(self) -> None:
        """Forget the memo of ranked candidates (results computed with the old weight, or a benchmark's warm-up)."""
        self._cache.clear()

    @staticmethod
    def _fit_tfidf(alias_texts: List[str]) -> Dict[str, Any]:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), lowercase=False, dtype=numpy.float32)
        matrix_t = vectorizer.fit_transform(alias_texts).T.tocsr()
        matrix_t.sort_indices()
        vocabulary = {term: int(i) for term, i in vectorizer.vocabulary_.items()}
        return {"vocabulary": vocabulary, "idf": vectorizer.idf_, "indptr": matrix_t.indptr.astype(numpy.int64),
                "indices": matrix_t.indices.astype(numpy.int32), "data": matrix_t.data.astype(numpy.float32)}

    def query_vector(self, text: str) -> Dict[int, float]:
        """The L2-normalised TF-IDF of a folded text: term column -> weight (unknown terms dropped)."""
        weights: Dict[int, float] = {}
        for gram in char_trigrams(text):
            column = self.vocabulary.get(gram)
            if column is not None:
                weights[column] = weights.get(column, 0.0) + float(self.idf[column])
        norm = sum(w * w for w in weights.values()) ** 0.5
        return {column: w / norm for column, w in weights.items()} if norm else {}

    def __len__(self) -> int:
        return len(self.concepts)

    def exact(self, key: str) -> Set[int]:
        """Concepts with an alias, or a training mention, of this alias key."""
        found = set(self.priors.get(key, ()))
        i = bisect.bisect_left(self._sorted_keys, key)
        while i < len(self._sorted_keys) and self._sorted_keys[i] == key:
            found.add(self._sorted_concepts[i])
            i += 1
        return found

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
        """`candidates` for many mentions, each distinct one searched once (see `candidates`)."""
        keys = [(fold_text(t[:MAX_QUERY_CHARS]), tuple(sorted(g)) if g is not None else ()) for t, g in zip(texts, groups)]
        todo = sorted({key for key in keys if key not in self._cache})
        bits = {key: group_bits(key[1]) if key[1] else None for key in todo}
        # A mention with an exact alias of a compatible concept skips the nearest-neighbour
        # search: no other concept can outrank it (similarity below 1, and priors are only
        # kept for exact keys), and the search is most of the linker's time.
        search = [key for key in todo if not self._compatible(self.exact(alias_key(key[0])), bits[key])]
        sims: Dict[Tuple[str, Tuple[str, ...]], Dict[int, float]] = {}
        for groups_bits in set(bits[key] for key in search):
            same_groups = [key for key in search if bits[key] == groups_bits]
            sims.update(zip(same_groups, self._neighbours([query for query, _ in same_groups], groups_bits)))
        for key in todo:
            self._cache[key] = self._rank(key[0], sims.get(key, {}), bits[key], k)
        result = [self._cache[key][:k] for key in keys]
        if len(self._cache) > 100_000:
            self._cache.clear()  # A bounded memo: clinical notes repeat the same few mentions.
        return result

    def _postings_of(self, groups: Optional[int]) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
        """The TF-IDF matrix (term_ptr, term_aliases, term_weights) without the aliases of concepts
        outside `groups` (GROUP_BITS; None: every alias). Alias indices stay those of the KB."""
        if groups is None:
            return self.term_ptr, self.term_aliases, self.term_weights
        if groups not in self._postings:
            # Few and small temporaries: the allocator keeps large freed blocks as RSS.
            alias_kept = (numpy.asarray(self._concept_groups, dtype=numpy.uint8)[self.alias_concepts] & groups) != 0
            keep = alias_kept[self.term_aliases]
            kept_before = numpy.zeros(len(keep) + 1, dtype=numpy.int32)
            numpy.cumsum(keep, out=kept_before[1:])
            self._postings[groups] = (kept_before[self.term_ptr].astype(numpy.int64), self.term_aliases[keep], self.term_weights[keep])
        return self._postings[groups]

    def _neighbours(self, queries: List[str], groups: Optional[int] = None) -> List[Dict[int, float]]:
        """Per query: concept index -> best cosine among (at least) its NEIGHBOURS nearest aliases
        of concepts in `groups` (GROUP_BITS; None: any concept)."""
        if self._scores is None:
            self._scores = numpy.zeros(len(self.alias_concepts), dtype=numpy.float32)
        term_ptr, term_aliases, term_weights = self._postings_of(groups)
        scores, result = self._scores, []
        for query in queries:
            touched = []
            for column, weight in self.query_vector(query).items():
                row = slice(term_ptr[column], term_ptr[column + 1])
                if row.start == row.stop:
                    continue
                # Aliases are unique within a term's row, so this adds each product once.
                scores[term_aliases[row]] += weight * term_weights[row]
                touched.append(term_aliases[row])
            if not touched:
                result.append({})
                continue
            aliases = numpy.concatenate(touched)
            sims = scores[aliases]
            scores[aliases] = 0.0  # ready for the next query
            # An alias appears once per query term it shares, so the top NEIGHBOURS x terms
            # entries hold at least the NEIGHBOURS nearest distinct aliases.
            keep = NEIGHBOURS * len(touched)
            if len(sims) > keep:
                top = numpy.argpartition(-sims, keep)[:keep]
                aliases, sims = aliases[top], sims[top]
            best: Dict[int, float] = {}
            for concept, sim in zip(self.alias_concepts[aliases].tolist(), sims.tolist()):
                if sim > best.get(concept, 0.0):
                    best[concept] = sim
            result.append(best)
        return result

    def _compatible(self, concepts: Iterable[int], groups: Optional[int]) -> bool:
        return any(groups is None or self._concept_groups[c] & groups for c in concepts)

    def _rank(self, query: str, sims: Dict[int, float], groups: Optional[int], k: int) -> List[Candidate]:
        key = alias_key(query)
        exact = self.exact(key)
        counts = self.priors.get(key, {})
        total = sum(counts.values()) or 1
        scored = []
        # The neighbours are all of `groups` already (see _neighbours); exact hits may not be.
        for concept in set(sims).union(c for c in exact if self._compatible((c,), groups)):
            similarity = 1.0 if concept in exact else sims.get(concept, 0.0)
            prior = counts.get(concept, 0) / total
            scored.append((-(similarity + self.prior_weight * prior), concept, similarity, prior))
        # Ties: MeSH first (built first). Keep a few more than asked, so that a later call with
        # a larger k is still served; only those become Candidates.
        ids, names = self.concepts.columns["ids"], self.concepts.columns["names"]
        return [
            Candidate(concept, ids[concept], names[concept], -negated, similarity, prior, concept in exact)
            for negated, concept, similarity, prior in heapq.nsmallest(max(k, 10), scored)
        ]

    # --- storage -----------------------------------------------------------------------------
    def to_disk(self, path: Union[str, Path]) -> None:
        """Write the KB as KB_FILES into the folder `path`."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        # One JSON document each: parsed several times faster than JSONL's one call per line.
        srsly.write_json(path / "concepts.json", self.concepts.columns)
        aliases = {"texts": self.alias_texts, "keys": self.alias_keys, "concepts": self.alias_concepts.tolist()}
        srsly.write_json(path / "aliases.json", aliases)
        srsly.write_json(path / "priors.json", {key: {str(c): n for c, n in counts.items()} for key, counts in self.priors.items()})
        srsly.write_json(path / "tfidf.json", {"vocabulary": self.vocabulary, "idf": self.idf.tolist()})
        # Uncompressed: a quarter of a second faster to load than compressed, for ~9 MB more.
        numpy.savez(path / "tfidf_matrix.npz", indptr=self.term_ptr, indices=self.term_aliases, data=self.term_weights)

    @classmethod
    def from_disk(cls, path: Union[str, Path]) -> "ConceptKB":
        """Read a KB written by `to_disk`; errors name the missing or malformed file."""
        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(Errors.E500.format(path=path))
        missing = [name for name in KB_FILES if not (path / name).is_file()]
        if missing:
            raise FileNotFoundError(Errors.E501.format(path=path, missing=", ".join(missing)))
        try:
            concepts = ConceptTable(**srsly.read_json(path / "concepts.json"))
            aliases = srsly.read_json(path / "aliases.json")
            priors = {key: {int(c): n for c, n in counts.items()} for key, counts in srsly.read_json(path / "priors.json").items()}
            tfidf = srsly.read_json(path / "tfidf.json")
            with numpy.load(path / "tfidf_matrix.npz", allow_pickle=False) as arrays:
                tfidf.update(indptr=arrays["indptr"], indices=arrays["indices"], data=arrays["data"])
            texts, keys, alias_concepts = aliases["texts"], aliases["keys"], aliases["concepts"]
        except (ValueError, OSError, KeyError, TypeError) as error:
            raise ValueError(Errors.E502.format(path=path, reason=type(error).__name__)) from None
        if not (len(texts) == len(keys) == len(alias_concepts)) or len(tfidf["indptr"]) != len(tfidf["vocabulary"]) + 1 \
                or len(tfidf["idf"]) != len(tfidf["vocabulary"]) or (len(tfidf["indices"]) and tfidf["indices"].max() >= len(texts)):
            raise ValueError(Errors.E502.format(path=path, reason="the TF-IDF matrix does not fit the aliases"))
        return cls(concepts, texts, alias_concepts, priors, alias_keys=keys, tfidf=tfidf)
