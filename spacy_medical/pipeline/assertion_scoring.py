"""Assertion scores: per-qualifier precision, recall and F of `medical_context`'s flags.

`assertion_score` is what `MedicalContext.score` (and so `nlp.evaluate`) calls through the
registered scorer `spacy-medical.assertion_scorer.v1`; the evaluation scripts call it directly.
"""
from typing import Any, Callable, Dict, Iterable, Optional, Sequence

from spacy.training import Example

from ..labels import ASSERTIONS


def assertion_score(examples: Iterable[Example], *, ent_types: Optional[Sequence[str]] = None,
                    qualifiers: Sequence[str] = ASSERTIONS, **kwargs: Any) -> Dict[str, Any]:
    """Per-qualifier precision, recall and F on entities present in both docs.

    Predicted and gold entities are paired by character offsets and label; a qualifier is
    scored only on pairs, so NER errors do not count as assertion errors.

    examples (Iterable[Example]): Examples whose reference entities carry the gold qualifiers.
    ent_types (Optional[Sequence[str]]): Labels to score; None means all.
    qualifiers (Sequence[str]): Which qualifiers to score.
    RETURNS (Dict[str, Any]): `assertion_<q>_p/_r/_f` for each qualifier, None where undefined.
    """
    counts = {q: [0, 0, 0] for q in qualifiers}  # tp, fp, fn
    for eg in examples:
        gold = {(e.start_char, e.end_char, e.label_): e for e in eg.reference.ents
                if ent_types is None or e.label_ in ent_types}
        for pred in eg.predicted.ents:
            ref = gold.get((pred.start_char, pred.end_char, pred.label_))
            if ref is None:
                continue
            for q in qualifiers:
                p, g = bool(pred._.get(q)), bool(ref._.get(q))
                counts[q][0] += p and g
                counts[q][1] += p and not g
                counts[q][2] += g and not p
    scores: Dict[str, Any] = {}
    for q, (tp, fp, fn) in counts.items():
        prec = tp / (tp + fp) if tp + fp else None
        rec = tp / (tp + fn) if tp + fn else None
        f = 2 * prec * rec / (prec + rec) if prec and rec else (0.0 if prec is not None and rec is not None else None)
        scores.update({f"assertion_{q}_p": prec, f"assertion_{q}_r": rec, f"assertion_{q}_f": f})
    return scores


def make_assertion_scorer() -> Callable[..., Dict[str, Any]]:
    """Registered as `spacy-medical.assertion_scorer.v1`."""
    return assertion_score
