"""Links from attribute spans to the DRUG or TEST they modify.

`link_nearest` is the rule: each attribute links to the nearest entity of a label it can modify
(DOSE, ROUTE, FREQUENCY, DURATION -> DRUG; VALUE -> TEST) in the same sentence, measured in
tokens between the spans; on a tie the entity before the attribute wins, as in "metoprolol
25 mg" and "hemoglobin 9.7 g/dL". Attributes with no such entity in their sentence stay unlinked.
"""
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

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
