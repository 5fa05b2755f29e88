"""Dictionary features for the ner: is a token inside a Disease Ontology, Symptom Ontology or
DrugBank name?

A transformer that was never trained on biomedical text has seen few of the rare disease and
drug names that the benchmarks are full of; a curated vocabulary has. The published systems
that do best on these corpora use encoders pre-trained on PubMed, which cannot be fetched here;
dictionary features are the older, cheap way to bring that knowledge in. A match is a hint that
the ner learns to weigh, not a label: the lexicons miss spellings and modifiers, and a name can
be a disease in one corpus' convention and not in another's.

`lexicon_tags(width)` marks each token, for each of the three lexicons, as outside, beginning or
inside the longest match starting there (3 ** 3 = 27 tags) and embeds the tag. Matching is on
lowercase tokens with a trailing plural "s" removed on both sides ("tumors" matches "tumor").
The terms are read from the corpora folder once, when the model is initialized for training,
and are saved in the model (its `attrs`), so a trained pipeline needs no corpora to run.
"""
from typing import Dict, FrozenSet, List, Tuple

import numpy
from spacy.lang.en import English
from spacy.tokens import Doc
from thinc.api import Embed, Model, chain, with_array
from thinc.types import Floats2d

LEXICONS = ("disease", "symptom", "drug")
# Longer names are rare and would make every token try more lookups.
MAX_TERM_TOKENS = 8

Index = Dict[str, Tuple[FrozenSet[str], FrozenSet[str], Tuple[int, ...]]]
# By Model.id (unique in the process; a Model takes no weak references): a pipeline holds one
# such layer, so the cache stays as small as the number of pipelines loaded.
_INDEXES: Dict[int, Tuple[object, Index]] = {}


def lexicon_tags(width: int) -> Model[List[Doc], List[Floats2d]]:
    """Embed each token's lexicon tag in `width` dimensions."""
    matches = Model("lexicon_matches", _matches_forward, init=_matches_init, attrs={"lexicon_terms": {}})
    return chain(matches, with_array(Embed(nO=width, nV=3 ** len(LEXICONS), column=0)))


def normalize_word(word: str) -> str:
    """Lowercase, and drop a plural "s" (not the "ss" of "illness") from words over 4 letters."""
    word = word.lower()
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


def tokenize_terms(terms: Dict[str, List[str]]) -> Dict[str, List[str]]:
    """Lexicon terms as the tokenizer splits them, normalized words joined by spaces.

    terms (Dict[str, List[str]]): Raw terms per lexicon name.
    RETURNS (Dict[str, List[str]]): Sorted, deduplicated, at most MAX_TERM_TOKENS words each.
    """
    tokenizer = English().tokenizer
    tokenized = {}
    for name, names in terms.items():
        words = (tuple(normalize_word(t.text) for t in tokenizer(term)) for term in names)
        tokenized[name] = sorted({" ".join(w) for w in words if 0 < len(w) <= MAX_TERM_TOKENS})
    return tokenized


def tag_ids(doc: Doc, index: Index) -> numpy.ndarray:
    """Each token's tag: sum over lexicons k of state * 3 ** k, state 0 outside, 1 begin, 2 inside."""
    words = [normalize_word(t.text) for t in doc]
    ids = numpy.zeros((len(words), 1), dtype="int32")
    for k, name in enumerate(LEXICONS):
        terms, first_words, lengths = index.get(name, (frozenset(), frozenset(), ()))
        i = 0
        while i < len(words):
            length = 0
            if words[i] in first_words:
                length = next((n for n in lengths if i + n <= len(words) and " ".join(words[i:i + n]) in terms), 0)
            if length:
                ids[i, 0] += 3 ** k
                ids[i + 1:i + length, 0] += 2 * 3 ** k
                i += length
            else:
                i += 1
    return ids


def _index(model: Model) -> Index:
    """The lookup sets of the model's terms, rebuilt when `from_bytes` replaced the terms."""
    terms = model.attrs["lexicon_terms"]
    cached = _INDEXES.get(model.id)
    if cached is None or cached[0] is not terms:
        cached = _INDEXES[model.id] = (terms, build_index(terms))
    return cached[1]


def build_index(terms: Dict[str, List[str]]) -> Index:
    """Per lexicon: the terms, their first words, and their lengths in words, longest first."""
    index = {}
    for name, names in terms.items():
        lengths = tuple(sorted({n.count(" ") + 1 for n in names}, reverse=True))
        index[name] = (frozenset(names), frozenset(n.split(" ", 1)[0] for n in names), lengths)
    return index


def _matches_forward(model: Model, docs: List[Doc], is_train: bool):
    index = _index(model)
    return [model.ops.asarray2i(tag_ids(doc, index)) for doc in docs], lambda d_tags: []


def _matches_init(model: Model, X=None, Y=None) -> None:
    """Read the three lexicons from the corpora folder, unless the model already holds terms
    (set by a caller, or loaded with the model)."""
    if model.attrs["lexicon_terms"]:
        return
    from ..io.lexicons import disease_terms, drug_terms, symptom_terms

    raw = {"disease": disease_terms(), "symptom": symptom_terms(), "drug": drug_terms()}
    model.attrs["lexicon_terms"] = tokenize_terms({name: sorted(terms) for name, terms in raw.items()})
