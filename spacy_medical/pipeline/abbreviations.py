"""`medical_abbreviations`: abbreviations defined in the text, and entities that agree with them.

Biomedical and clinical writing defines a short form once, "congestive heart failure (CHF)", and
uses it afterwards. A token-level tagger sees "CHF" in a later sentence without its definition and
often misses it; it also tags a short form whose long form is no finding at all ("ejection
fraction (EF)"). This component finds definitions with the algorithm of Schwartz and Hearst
(PSB 2003: the short form's characters appear in order in the words before the parenthesis, its
first character at the start of a word) and then makes the entities agree with them, within the
doc:
- a short form whose long form ends an entity gets that entity's label, at every occurrence;
- a short form whose long form overlaps no entity is not an entity, at any occurrence.

The definitions are kept for audit in `doc.spans["abbreviations"]`: one span per occurrence of a
defined short form, labelled with its long form.
"""
import bisect
import itertools
from typing import Dict, Iterator, List, Optional, Set, Tuple

from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

MAX_SHORT_FORM_TOKENS = 3
MAX_SHORT_FORM_CHARS = 10
# An entity may begin up to this many tokens before the detected long form: Schwartz-Hearst
# picks the shortest long form, which can leave out a leading word of the entity.
LONG_FORM_SLACK = 3
PUNCTUATION_IN_SHORT_FORM = {")", "(", ";", ",", "[", "]"}


def long_form_start(short_form: str, words: List[str]) -> Optional[int]:
    """Schwartz-Hearst: index of the word where the shortest long form of `short_form` starts,
    reading `words` (the words before the parenthesis) right to left, or None."""
    text = " ".join(words)
    s, t = len(short_form) - 1, len(text) - 1
    while s >= 0:
        char = short_form[s].lower()
        if not char.isalnum():
            s -= 1
            continue
        # The first character of the short form must start a word of the long form.
        while t >= 0 and (text[t].lower() != char or (s == 0 and t > 0 and text[t - 1].isalnum())):
            t -= 1
        if t < 0:
            return None
        s -= 1
        t -= 1
    # The word whose text holds character t + 1 (where the match of the first character is).
    return bisect.bisect_right(list(itertools.accumulate(len(w) + 1 for w in words)), t + 1)


def find_definitions(doc: Doc) -> Iterator[Tuple[Span, Span]]:
    """(short form, long form) for every "long form (short form)" in the doc."""
    for i, token in enumerate(doc):
        if token.text != "(" or i == 0:
            continue
        end = i + 1
        while end < len(doc) and end - i <= MAX_SHORT_FORM_TOKENS and doc[end].text not in PUNCTUATION_IN_SHORT_FORM:
            end += 1
        if end >= len(doc) or doc[end].text != ")" or end == i + 1:
            continue
        short = doc[i + 1 : end]
        text = short.text
        if not (2 <= len(text) <= MAX_SHORT_FORM_CHARS and text[0].isalnum() and any(c.isalpha() for c in text)):
            continue
        window_start = max(0, i - min(len(text) + 5, 2 * len(text)))
        offset = long_form_start(text, [t.text for t in doc[window_start:i]])
        if offset is None:
            continue
        long = doc[window_start + offset : i]
        if len(long.text) > len(text):
            yield short, long


class AbbreviationConsistency(Pipe):
    """Finds abbreviation definitions and makes `doc.ents` agree with them (see module doc).

    Rule-free: the definitions are found in each doc, and the one setting lives in the
    pipeline's config, so there is nothing to save.
    """

    def __init__(self, nlp: Language, name: str, *, spans_key: str):
        """Create the component.

        nlp (Language): The pipeline.
        name (str): The component name.
        spans_key (str): Key of `doc.spans` for the definitions kept for audit.
        """
        self.name = name
        self.spans_key = spans_key

    def __call__(self, doc: Doc) -> Doc:
        definitions = list(find_definitions(doc))
        if not definitions:
            doc.spans[self.spans_key] = []
            return doc
        ents = list(doc.ents)
        labels: Dict[Tuple[str, ...], str] = {}
        not_entities: Set[Tuple[str, ...]] = set()
        long_forms: Dict[Tuple[str, ...], str] = {}
        for short, long in definitions:
            key = tuple(t.text for t in short)
            long_forms.setdefault(key, long.text)
            ending_here = [e for e in ents if e.end == long.end and e.start >= long.start - LONG_FORM_SLACK]
            if ending_here:
                labels.setdefault(key, ending_here[0].label_)
            elif not any(e.start < long.end and long.start < e.end for e in ents):
                not_entities.add(key)
        # One definition that ends an entity outweighs another that does not.
        not_entities -= set(labels)
        occurrences = list(self._occurrences(doc, long_forms))
        kept, removed = [], []
        for ent in ents:
            key = tuple(t.text for t in ent)
            if key in not_entities:
                removed.append(ent)
            else:
                kept.append(Span(doc, ent.start, ent.end, label=labels[key]) if key in labels else ent)
        taken = {i for ent in kept for i in range(ent.start, ent.end)}
        added = [
            Span(doc, span.start, span.end, label=labels[key])
            for span, key in occurrences
            if key in labels and not taken.intersection(range(span.start, span.end))
        ]
        # Spans added never overlap kept entities; filter_spans only settles overlaps among them.
        doc.set_ents(kept + filter_spans(added), outside=removed, default="unmodified")
        doc.spans[self.spans_key] = [Span(doc, span.start, span.end, label=long_forms[key]) for span, key in occurrences]
        return doc

    @staticmethod
    def _occurrences(doc: Doc, short_forms: Dict[Tuple[str, ...], str]) -> Iterator[Tuple[Span, Tuple[str, ...]]]:
        """Every occurrence of a defined short form, matched on exact token texts."""
        by_first: Dict[str, List[Tuple[str, ...]]] = {}
        for key in sorted(short_forms, key=len, reverse=True):
            by_first.setdefault(key[0], []).append(key)
        i = 0
        while i < len(doc):
            for key in by_first.get(doc[i].text, ()):
                if tuple(t.text for t in doc[i : i + len(key)]) == key:
                    yield doc[i : i + len(key)], key
                    i += len(key) - 1
                    break
            i += 1


FACTORY_META = dict(
    default_config={"spans_key": "abbreviations"},
    assigns=["doc.ents", "doc.spans"],
    requires=["doc.ents"],
)


def make_medical_abbreviations(nlp: Language, name: str, spans_key: str) -> AbbreviationConsistency:
    return AbbreviationConsistency(nlp, name, spans_key=spans_key)
