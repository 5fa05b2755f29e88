"""Links from attribute spans to the DRUG or TEST they modify.

`link_nearest` is the rule: each attribute links to the nearest entity of a label it can modify
(DOSE, ROUTE, FREQUENCY, DURATION -> DRUG; VALUE -> TEST) in the same sentence, measured in
tokens between the spans; on a tie the entity before the attribute wins, as in "metoprolol
25 mg" and "hemoglobin 9.7 g/dL". Attributes with no such entity in their sentence stay unlinked.
"""
import math
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from spacy.tokens import Doc, Span

# Which entity labels each attribute label can modify (MACCROBAT's MODIFY relations: Dosage,
# Administration, Frequency, Duration -> Medication; Lab_value -> Diagnostic_procedure).
LINKABLE: Dict[str, Tuple[str, ...]] = {
    "DOSE": ("DRUG",),
    "ROUTE": ("DRUG",),
    "FREQUENCY": ("DRUG",),
    "DURATION": ("DRUG",),
    "VALUE": ("TEST",),
}
LINKED_ENTITY_LABELS = ("DRUG", "TEST")


def token_gap(a: Span, b: Span) -> int:
    """Tokens strictly between two spans (0 when adjacent or overlapping)."""
    return max(0, b.start - a.end, a.start - b.end)


def _sentence_id(doc: Doc) -> Optional[List[int]]:
    if not doc.has_annotation("SENT_START"):
        return None
    ids, current = [], -1
    for token in doc:
        if token.is_sent_start:
            current += 1
        ids.append(current)
    return ids


def candidate_pairs(doc: Doc, attributes: Iterable[Span], entities: Iterable[Span], max_gap: int) -> Dict[Span, List[Span]]:
    """Entities each attribute could modify: a linkable label, the same sentence, at most `max_gap` tokens away.

    Without sentence boundaries on the Doc, the whole Doc counts as one sentence.
    """
    sentence_of = _sentence_id(doc)
    targets = [e for e in entities if e.label_ in LINKED_ENTITY_LABELS]
    pairs = {}
    for attribute in attributes:
        allowed = LINKABLE.get(attribute.label_, ())
        pairs[attribute] = [
            entity for entity in targets
            if entity.label_ in allowed
            and token_gap(attribute, entity) <= max_gap
            and (sentence_of is None or sentence_of[attribute.start] == sentence_of[entity.start])
        ]
    return pairs


def link_nearest(doc: Doc, attributes: Sequence[Span], entities: Sequence[Span], max_gap: int = 10) -> List[Tuple[Span, Span]]:
    """Link each attribute to its nearest candidate entity (ties: the entity before it).

    doc (Doc): The document.
    attributes (Sequence[Span]): Attribute spans (DOSE, ROUTE, FREQUENCY, DURATION, VALUE).
    entities (Sequence[Span]): Entities (only DRUG and TEST are linked).
    max_gap (int): Most tokens between an attribute and its entity.
    RETURNS (List[Tuple[Span, Span]]): (attribute, entity) pairs, at most one per attribute.
    """
    links = []
    for attribute, candidates in candidate_pairs(doc, attributes, entities, max_gap).items():
        if candidates:
            best = min(candidates, key=lambda e: (token_gap(attribute, e), e.start > attribute.start))
            links.append((attribute, best))
    return links


# --- learned linker --------------------------------------------------------------------------
# A logistic pair classifier over the candidates of `candidate_pairs`, trained on MACCROBAT's
# MODIFY relations (`train_link_weights`). Its weights are a small JSON object (feature name ->
# coefficient, plus "__intercept__"), so prediction needs no scikit-learn and the weights are
# saved with the pipeline. Unlike the rule, one attribute may link to several entities, as in
# "positive for vimentin, CD10 and S-100" where MACCROBAT links "positive" to each test.
_GAP_BUCKETS = ((0, "0"), (1, "1"), (2, "2"), (4, "3-4"), (7, "5-7"))


def _gap_bucket(gap: int) -> str:
    for limit, name in _GAP_BUCKETS:
        if gap <= limit:
            return name
    return "8+"


def pair_features(doc: Doc, attribute: Span, entity: Span, candidates: Sequence[Span], attributes: Sequence[Span]) -> Dict[str, float]:
    """Binary features of one (attribute, candidate entity) pair."""
    before = entity.start < attribute.start
    gap = token_gap(attribute, entity)
    left, right = (entity.end, attribute.start) if before else (attribute.end, entity.start)
    between = doc[left:right] if right > left else doc[0:0]
    words = {t.lower_ for t in between}
    direction = "before" if before else "after"
    rank = sorted(token_gap(attribute, c) for c in candidates).index(gap)
    same_side = [c for c in candidates if (c.start < attribute.start) == before]
    side_rank = sorted(token_gap(attribute, c) for c in same_side).index(gap)
    entities_between = sum(1 for c in candidates if left <= c.start and c.end <= right)
    attributes_between = sum(1 for a in attributes if a.label_ == attribute.label_ and left <= a.start and a.end <= right)
    in_list = bool(between) and all(t.is_punct or t.lower_ in ("and", "or") or any(c.start <= t.i < c.end for c in candidates) for t in between)
    features = {
        f"pair={attribute.label_}-{entity.label_}": 1.0,
        f"{direction}": 1.0,
        f"{direction}_gap={_gap_bucket(gap)}": 1.0,
        f"rank={min(rank, 2)}": 1.0,
        f"{direction}_side_rank={min(side_rank, 2)}": 1.0,
        f"entities_between={min(entities_between, 2)}": 1.0,
        f"attributes_between={min(attributes_between, 1)}": 1.0,
        f"{direction}_in_list": float(in_list),
        "semicolon_between": float(";" in words),
        "period_between": float("." in words),
        "paren_between": float("(" in words or ")" in words),
        "comma_between": float("," in words),
        "verb_between": float(bool(words & {"was", "were", "is", "are", "showed", "revealed", "of", "at"})),
    }
    return {name: value for name, value in features.items() if value}


def link_learned(doc: Doc, attributes: Sequence[Span], entities: Sequence[Span], weights: Dict[str, float], max_gap: int = 10, threshold: float = 0.5) -> List[Tuple[Span, Span]]:
    """Link each attribute to every candidate entity the pair classifier scores >= threshold.

    weights (Dict[str, float]): Feature coefficients and "__intercept__" (`train_link_weights`).
    RETURNS (List[Tuple[Span, Span]]): (attribute, entity) pairs.
    """
    links = []
    for attribute, candidates in candidate_pairs(doc, attributes, entities, max_gap).items():
        for entity in candidates:
            features = pair_features(doc, attribute, entity, candidates, attributes)
            score = weights.get("__intercept__", 0.0) + sum(weights.get(name, 0.0) * value for name, value in features.items())
            if 1.0 / (1.0 + math.exp(-score)) >= threshold:
                links.append((attribute, entity))
    return links


def train_link_weights(examples: Iterable[Tuple[Doc, Sequence[Span], Sequence[Span], Set[Tuple[Span, Span]]]], max_gap: int = 10, C: float = 1.0) -> Dict[str, float]:
    """Fit the pair classifier (scikit-learn's LogisticRegression) on gold spans and links.

    examples: (doc, attribute spans, entity spans, gold (attribute, entity) pairs) per document;
        pairs compare by (start, end, label), so gold and candidate Span objects may differ.
    RETURNS (Dict[str, float]): Coefficients per feature name and "__intercept__".
    """
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    rows, targets = [], []
    for doc, attributes, entities, gold in examples:
        gold_keys = {(_key(a), _key(e)) for a, e in gold}
        for attribute, candidates in candidate_pairs(doc, attributes, entities, max_gap).items():
            for entity in candidates:
                rows.append(pair_features(doc, attribute, entity, candidates, attributes))
                targets.append((_key(attribute), _key(entity)) in gold_keys)
    vectorizer = DictVectorizer()
    model = LogisticRegression(C=C, max_iter=2000).fit(vectorizer.fit_transform(rows), targets)
    weights = {name: float(w) for name, w in zip(vectorizer.get_feature_names_out(), model.coef_[0])}
    weights["__intercept__"] = float(model.intercept_[0])
    return weights


def _key(span: Span) -> Tuple[int, int, str]:
    return (span.start, span.end, span.label_)
