"""`medical_summarizer`: a structured and an extractive summary of one note or transcript.

`doc._.summary` is a JSON-serializable dict:

- `problems` (affirmed DISEASE), `symptoms` (affirmed SYMPTOM), `negatives` (negated DISEASE or
  SYMPTOM), `medications` (DRUG): lists of items {text, label, start_char, end_char, section,
  negated, uncertain, historical, hypothetical, family}, one item per normalized text (the first
  mention). Family and hypothetical mentions stay in the lists with their flags set, so a user
  who wants only the patient's current problems filters on them.
- `text`: at most `max_sentences` units (sentences of a note, turns of a transcript; a very long
  turn is cut into its sentences, and a question joins its short answer) chosen by clinical
  salience and grouped under section headings, speaker tags removed.
- `units`: the chosen units as {start_char, end_char, section, score}, in document order, so a
  reader can find every summary line in the source.

Salience of a unit = (entity weight + lexical weight) x section weight. Entity weight sums a
per-label weight over the unit's entities, lowered for negated, hypothetical and family
mentions and for concepts already mentioned earlier in the document; lexical weight is the mean
document frequency of the unit's content words (a cheap stand-in for centrality, and what keeps
the summary useful when the pipeline has no NER). Selection is greedy by salience; a unit whose
words overlap a chosen unit beyond `max_overlap` (Jaccard), or that adds no new concept and
little new wording, is skipped as redundant.

Works without `medical_context` (assertion flags default to False) and without
`medical_sections` (no section headings; section weights then all 1).
"""
import re
from collections import Counter
from typing import Any, Dict, List, Optional, Set, Tuple

from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc

from ..labels import DISEASE, DRUG, SYMPTOM
from .dialogue import find_turns, is_dialogue
from .summary_lists import flag, normalize, structured_lists, unit_text

SENT_SPLIT = re.compile(r"(?<=[.?!])\s+")
WORD = re.compile(r"[a-z][a-z0-9'-]+")
# Small closed list: the lexical weight must not reward function words or dialogue fillers.
STOP_WORDS = frozenset(
    """a about after again all also am an and any are as at be because been before being both but by
    can could did do does doing don't down during each few for from further had has have having he
    her here hers him his how i i'm if in into is it it's its just let's like me more most my no nor
    not now of off okay on once only or other our out over own right same she should so some such
    than that that's the their them then there these they this those through to too um uh under
    until up very was we we'll we're well were what when where which while who whom why will with
    would yeah yes you you're your mm-hmm hmm oh alright gonna know think go going get got see
    really little bit kind sort thing things""".split()
)

class MedicalSummarizer(Pipe):
    """Sets `doc._.summary` from entities, assertions and sections.

    Rule-free: its settings live in the pipeline's config, so there is nothing to save.
    """

    def __init__(
        self,
        nlp: Language,
        name: str,
        *,
        max_sentences: int,
        max_unit_words: int,
        min_unit_words: int,
        max_overlap: float,
        lexical_weight: float,
        negated_weight: float,
        repeat_weight: float,
        question_weight: float,
        max_answer_words: int,
        spans_key: str,
        section_weights: Dict[str, float],
        label_weights: Dict[str, float],
    ):
        """Create the component; see the factory's default config for what each setting does."""
        self.name = name
        self.max_sentences = max_sentences
        self.max_unit_words = max_unit_words
        self.min_unit_words = min_unit_words
        self.max_overlap = max_overlap
        self.lexical_weight = lexical_weight
        self.negated_weight = negated_weight
        self.repeat_weight = repeat_weight
        self.question_weight = question_weight
        self.max_answer_words = max_answer_words
        self.spans_key = spans_key
        self.section_weights = dict(section_weights)
        self.label_weights = dict(label_weights)

    def __call__(self, doc: Doc) -> Doc:
        doc._.summary = self.summarize(doc)
        return doc

    def summarize(self, doc: Doc) -> Dict[str, Any]:
        """Build the summary dict of one doc (see the module docstring for its schema)."""
        summary: Dict[str, Any] = structured_lists(doc)
        text = doc.text  # Doc.text joins every token on each access: read it once
        units = self.select(doc, text)
        summary["units"] = units
        summary["text"] = self.render(text, units)
        return summary

    # --- units ------------------------------------------------------------------------------
    def units(self, doc: Doc, text: Optional[str] = None) -> List[Tuple[int, int]]:
        """Candidate (start char, end char) units: turns of a transcript, sentences of a note."""
        text = doc.text if text is None else text
        if is_dialogue(text):
            ranges = self._dialogue_ranges(text)
        elif doc.has_annotation("SENT_START"):
            ranges = [(s.start_char, s.end_char) for s in doc.sents]
        else:
            ranges = []
            pos = 0
            for line in text.split("\n"):
                if line.strip():
                    ranges.append((pos, pos + len(line)))
                pos += len(line) + 1
        out: List[Tuple[int, int]] = []
        for start, end in ranges:
            piece = text[start:end]
            if len(piece.split()) > self.max_unit_words:
                offset = start
                for sent in SENT_SPLIT.split(piece):
                    i = text.find(sent, offset)
                    if sent.strip() and i >= 0:
                        out.append((i, i + len(sent)))
                        offset = i + len(sent)
            else:
                out.append((start, end))
        # Drop leading punctuation left by splitting (". how are ...") and trailing space.
        trimmed = []
        for s, e in out:
            while s < e and not text[s].isalnum():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if s < e:
                trimmed.append((s, e))
        return trimmed

    def _dialogue_ranges(self, text: str) -> List[Tuple[int, int]]:
        """Turns, with a question and its short answer joined into one unit: "any chest pain?"
        alone asserts nothing and "no." alone names nothing, but together they are a finding."""
        turns = find_turns(text)
        ranges: List[Tuple[int, int]] = []
        i = 0
        while i < len(turns):
            _, content, end, speaker = turns[i]
            if (
                i + 1 < len(turns)
                and text[content:end].rstrip().endswith("?")
                and turns[i + 1][3] != speaker
                and len(text[turns[i + 1][1] : turns[i + 1][2]].split()) <= self.max_answer_words
            ):
                ranges.append((content, turns[i + 1][2]))
                i += 2
            else:
                ranges.append((content, end))
                i += 1
        return ranges

    def select(self, doc: Doc, text: Optional[str] = None) -> List[Dict[str, Any]]:
        """Choose and order the summary units."""
        text = doc.text if text is None else text
        candidates = self.units(doc, text)
        if not candidates or self.max_sentences <= 0:
            return []
        words = [WORD.findall(text[s:e].lower()) for s, e in candidates]
        content = [[w for w in ws if w not in STOP_WORDS] for ws in words]
        freq = Counter(w for ws in content for w in set(ws))
        sections = self._section_ranges(doc)
        ents = sorted(doc.ents, key=lambda e: e.start_char)
        seen_concepts: Set[str] = set()
        scored = []
        ei = 0
        for idx, (start, end) in enumerate(candidates):
            unit_concepts: Set[str] = set()
            ent_score = 0.0
            while ei < len(ents) and ents[ei].start_char < start:
                ei += 1
            j = ei
            while j < len(ents) and ents[j].start_char < end:
                ent = ents[j]
                j += 1
                weight = self.label_weights.get(ent.label_, 0.0)
                if not weight:
                    continue
                norm = normalize(ent.text)
                if flag(ent, "negated"):
                    weight *= self.negated_weight
                if flag(ent, "hypothetical") or flag(ent, "family"):
                    weight *= 0.5
                if norm in seen_concepts:
                    weight *= self.repeat_weight
                seen_concepts.add(norm)
                unit_concepts.add(norm)
                ent_score += weight
            alpha = [w for w in words[idx] if w.isalpha()]
            # Fillers ("okay. all right.") go; a short unit that names a concept stays.
            if (len(alpha) < self.min_unit_words and not unit_concepts) or self._looks_like_header(text[start:end]):
                continue
            lexical = sum(freq[w] - 1 for w in content[idx]) / max(1, len(content[idx]) ** 0.5) / max(1, len(candidates)) ** 0.5
            section = self._section_at(sections, start)
            weight = self.section_weights.get(section, 1.0) if section else 1.0
            score = (ent_score + self.lexical_weight * lexical) * weight
            # A question asserts nothing about the patient; the answer or a statement does.
            if text[start:end].rstrip().endswith("?"):
                score *= self.question_weight
            scored.append((score, idx, section, unit_concepts))
        scored.sort(key=lambda x: (-x[0], x[1]))
        chosen: List[Tuple[int, str, float]] = []
        chosen_words: List[Set[str]] = []
        covered: Set[str] = set()
        for score, idx, section, concepts in scored:
            if len(chosen) >= self.max_sentences:
                break
            bag = set(content[idx])
            if any(_jaccard(bag, other) > self.max_overlap for other in chosen_words):
                continue
            if concepts and concepts <= covered and chosen_words:
                new_words = bag - set().union(*chosen_words)
                if len(new_words) < 0.5 * max(1, len(bag)):
                    continue
            chosen.append((idx, section, score))
            chosen_words.append(bag)
            covered |= concepts
        chosen.sort()
        return [
            {"start_char": candidates[i][0], "end_char": candidates[i][1], "section": section, "score": round(float(score), 4)}
            for i, section, score in chosen
        ]

    @staticmethod
    def render(text: str, units: List[Dict[str, Any]]) -> str:
        """Unit texts grouped under section headings (sections in order of first appearance)."""
        groups: Dict[Optional[str], List[str]] = {}
        for unit in units:
            line = unit_text(text, unit)
            groups.setdefault(unit["section"], []).append(line)
        blocks = []
        for section, lines in groups.items():
            body = "\n".join(f"- {line}" for line in lines)
            blocks.append(f"{section.replace('_', ' ').upper()}\n{body}" if section else body)
        return "\n\n".join(blocks)

    def _section_ranges(self, doc: Doc) -> List[Tuple[int, int, str]]:
        if self.spans_key not in doc.spans:
            return []
        return [(s.start_char, s.end_char, s.label_) for s in doc.spans[self.spans_key]]

    @staticmethod
    def _section_at(sections: List[Tuple[int, int, str]], start: int) -> Optional[str]:
        for s, e, label in sections:
            if s <= start < e:
                return label
        return None

    @staticmethod
    def _looks_like_header(piece: str) -> bool:
        letters = [c for c in piece if c.isalpha()]
        return bool(letters) and all(c.isupper() for c in letters) and len(piece.split()) <= 8


def _jaccard(a: Set[str], b: Set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


FACTORY_META = dict(
    default_config={
        "max_sentences": 8,
        "max_unit_words": 60,
        "min_unit_words": 4,
        "max_overlap": 0.5,
        "lexical_weight": 0.5,
        "negated_weight": 0.5,
        "repeat_weight": 0.3,
        "question_weight": 0.5,
        "max_answer_words": 12,
        "spans_key": "sections",
        # Salience multiplier of a unit by its section (1.0 for sections not listed).
        "section_weights": {
            "chief_complaint": 1.5,
            "history_of_present_illness": 1.2,
            "assessment_and_plan": 1.5,
            "assessment": 1.5,
            "plan": 1.3,
            "medications": 1.1,
            "results": 1.1,
            "past_medical_history": 1.0,
            "physical_exam": 0.9,
            "review_of_systems": 0.8,
            "social_history": 0.7,
            "family_history": 0.8,
            "instructions": 0.6,
            "vital_signs": 0.6,
        },
        # Weight of one mention by its label (labels not listed count 0).
        "label_weights": {DISEASE: 2.0, SYMPTOM: 1.5, DRUG: 1.5},
    },
    assigns=["doc._.summary"],
    requires=["doc.ents"],
)


def make_medical_summarizer(
    nlp: Language,
    name: str,
    max_sentences: int,
    max_unit_words: int,
    min_unit_words: int,
    max_overlap: float,
    lexical_weight: float,
    negated_weight: float,
    repeat_weight: float,
    question_weight: float,
    max_answer_words: int,
    spans_key: str,
    section_weights: Dict[str, float],
    label_weights: Dict[str, float],
) -> MedicalSummarizer:
    return MedicalSummarizer(
        nlp,
        name,
        max_sentences=max_sentences,
        max_unit_words=max_unit_words,
        min_unit_words=min_unit_words,
        max_overlap=max_overlap,
        lexical_weight=lexical_weight,
        negated_weight=negated_weight,
        repeat_weight=repeat_weight,
        question_weight=question_weight,
        max_answer_words=max_answer_words,
        spans_key=spans_key,
        section_weights=section_weights,
        label_weights=label_weights,
    )
