"""Building blocks of the corpus converters (spacy_medical.io.convert): gold spans onto tokens,
overlaps resolved, missing tokens marked, counts kept for the conversion report, DocBin output."""
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, DocBin, Span

from ..labels import DISEASE, DRUG, SYMPTOM

LABEL_PRIORITY = {DISEASE: 0, SYMPTOM: 1, DRUG: 2}


@dataclass
class ConversionReport:
    """Counts per (corpus, split): documents, entities per label, skipped spans and masked tokens."""

    docs: Counter = field(default_factory=Counter)
    entities: Dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    skipped: Dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    relabelled: Dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    missing_tokens: Dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def to_dict(self) -> dict:
        keys = sorted(set(self.docs) | set(self.entities) | set(self.skipped))
        return {
            key: {
                "docs": self.docs[key],
                "entities": dict(sorted(self.entities[key].items())),
                "skipped_spans": dict(sorted(self.skipped[key].items())),
                "relabelled": dict(sorted(self.relabelled[key].items())),
                "missing_tokens": dict(sorted(self.missing_tokens[key].items())),
            }
            for key in keys
        }


class LexiconMasker:
    """Finds lexicon terms among the tokens of a Doc (case-insensitive)."""

    def __init__(self, nlp: Language, terms: Dict[str, Iterable[str]]):
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        for name, words in terms.items():
            self.matcher.add(name, list(nlp.tokenizer.pipe(sorted(words))))

    def __call__(self, doc: Doc, names: Set[str]) -> List[Tuple[int, int, str]]:
        vocab = doc.vocab
        return [(s, e, vocab.strings[m]) for m, s, e in self.matcher(doc) if vocab.strings[m] in names]


def resolve_overlaps(spans: Sequence[Span]) -> Tuple[List[Span], int]:
    """Keep a non-overlapping subset: longest first, then earlier start, then label priority.

    RETURNS (Tuple[List[Span], int]): The kept spans in document order and the number dropped.
    """
    ranked = sorted(spans, key=lambda s: (-(s.end - s.start), s.start, LABEL_PRIORITY.get(s.label_, 9)))
    taken: Set[int] = set()
    kept = []
    for span in ranked:
        if any(i in taken for i in range(span.start, span.end)):
            continue
        kept.append(span)
        taken.update(range(span.start, span.end))
    return sorted(kept, key=lambda s: s.start), len(spans) - len(kept)


def char_span_or_expand(doc: Doc, start: int, end: int, label: str, report: ConversionReport, key: str) -> Optional[Span]:
    span = doc.char_span(start, end, label=label)
    if span is None:
        # The tokenizer put a boundary inside the mention's first or last word.
        span = doc.char_span(start, end, label=label, alignment_mode="expand")
        if span is None or not span.text.strip():
            report.skipped[key]["no token alignment"] += 1
            return None
        report.skipped[key]["expanded to token boundaries (kept)"] += 1
    return span


def finish_doc(doc: Doc, spans: List[Span], missing: List[Tuple[int, int]], report: ConversionReport, key: str) -> Doc:
    """Set entities (overlaps resolved) and mark the given token ranges missing."""
    ents, dropped = resolve_overlaps(spans)
    if dropped:
        report.skipped[key]["overlapping span (shorter one dropped)"] += dropped
    taken = {i for e in ents for i in range(e.start, e.end)}
    missing_tokens = sorted({i for s, e in missing for i in range(s, e)} - taken)
    doc.set_ents(ents, missing=[doc[i : i + 1] for i in missing_tokens], default="outside")
    for ent in ents:
        report.entities[key][ent.label_] += 1
    report.docs[key] += 1
    return doc


def is_short_form(surface: str) -> bool:
    """Abbreviation-shaped: one word of at most 10 characters with two capitals ("ICH", "LIDs")."""
    return len(surface) <= 10 and not any(c.isspace() for c in surface) and sum(c.isupper() for c in surface) >= 2


def iob_entity_ranges(tags: Sequence[str]) -> Iterator[Tuple[int, int]]:
    """(start, end) token ranges of IOB2 entities; an I- after O starts a new entity."""
    start = None
    for i, tag in enumerate(list(tags) + ["O"]):
        if start is not None and not tag.startswith("I-"):
            yield start, i
            start = None
        if tag.startswith("B-") or (tag.startswith("I-") and start is None):
            start = i


def write_docbin(docs: Iterable[Doc], path: Path) -> int:
    """Write Docs (with their user_data doc ids) to a `.spacy` file; return how many."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = DocBin(attrs=["ORTH", "SPACY", "ENT_IOB", "ENT_TYPE", "SENT_START"], store_user_data=True)
    for doc in docs:
        db.add(doc)
    db.to_disk(path)
    return len(db)
