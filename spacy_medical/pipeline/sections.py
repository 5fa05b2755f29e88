"""`medical_sections`: note sections for written notes and for dialogue transcripts.

Written notes: a header is a line that is a known header phrase on its own ("HISTORY OF PRESENT
ILLNESS", "Medications") or that starts with a header phrase and a colon ("HPI: 45 yo ...",
"A/P:", "Meds:"). Header phrases and their normalized category (see `labels.SECTIONS`) are rules
(`section_rules`, package data in `rules/sections.jsonl`); users add their own with `add_rules`
or `initialize(rules=...)`, and `to_disk` writes them back, so edits survive `nlp.to_disk` /
`spacy.load`.

Dialogue transcripts (most non-empty lines start with a speaker tag such as "[doctor]" or
"Patient:", see `dialogue.SPEAKER`) have no headers. Their units are turns; a small bag-of-words
text classifier (trained on MTS-Dialog by `spacy_medical.training.dialogue`) scores windows of
turns, each turn takes the label of the windows around it, and runs of turns with one label
become a section. The classifier is a nested blank pipeline owned by this component rather than a
separate pipe: it is only used on dialogue docs, it must see turns (not the main pipeline's docs),
and keeping it here means one `to_disk` folder and one place that decides what a section is.
Without a classifier, dialogue docs get no sections.

Both paths set `doc.spans[spans_key]` (one span per section, label = category, covering the
header and its body, or the turns) and `span._.section` on every entity in `doc.ents`.
"""
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy
import spacy
import srsly
from spacy import util
from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc, Span
from spacy.training import Example
from thinc.api import Config

from ..errors import Errors
from .dialogue import MTS_TO_SECTION, find_turns, is_dialogue, turn_words
from .section_rules import RULES_PATH, HeaderRules, read_rules

RULES_FILE = "sections.jsonl"
DIALOGUE_DIR = "dialogue"


class MedicalSections(Pipe):
    """Finds note sections from header rules, and dialogue sections with a text classifier.

    Saved with the pipeline: the header rules (`sections.jsonl`) and the dialogue classifier
    (`dialogue/`); `exclude=["sections"]` or `["dialogue"]` leaves one out. The settings live in
    the pipeline's config.
    """

    def __init__(
        self,
        nlp: Language,
        name: str,
        *,
        spans_key: str,
        window_turns: int,
        window_stride: int,
        min_turns: int,
        dialogue_min_share: float,
        scorer: Optional[Callable],
    ):
        """Create the component with the package's header rules and no dialogue classifier.

        nlp (Language): The pipeline.
        name (str): The component name.
        spans_key (str): Key of `doc.spans` for the sections.
        window_turns (int): Turns per window the dialogue classifier reads.
        window_stride (int): Turns between the starts of two windows.
        min_turns (int): Shorter runs of turns join the run before them.
        dialogue_min_share (float): Share of speaker lines that makes a doc a transcript.
        scorer (Optional[Callable]): The scoring method.
        """
        self.name = name
        self.vocab = nlp.vocab
        self.cfg = {
            "spans_key": spans_key,
            "window_turns": window_turns,
            "window_stride": window_stride,
            "min_turns": min_turns,
            "dialogue_min_share": dialogue_min_share,
        }
        self.scorer = scorer
        self.dialogue_nlp: Optional[Language] = None
        # Default rules are package data, so `add_pipe` alone gives a working component.
        self.header_rules = HeaderRules(read_rules(RULES_PATH))

    @property
    def spans_key(self) -> str:
        return self.cfg["spans_key"]

    # --- rules ----------------------------------------------------------------------------
    @property
    def rules(self) -> List[Dict[str, str]]:
        """The header rules, in the order they were added."""
        return self.header_rules.rules

    def set_rules(self, rules: Iterable[Dict[str, str]]) -> None:
        """Replace the header rules."""
        self.header_rules = HeaderRules(rules)

    def add_rules(self, rules: Iterable[Dict[str, str]]) -> None:
        """Add header rules, each {"pattern": "hpi", "section": "history_of_present_illness"}
        (a literal phrase, case-insensitive) or {"regex": ..., "section": ...}.
        """
        self.header_rules.add(rules)

    # --- inference ------------------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        text = doc.text  # Doc.text joins every token on each access: read it once
        if is_dialogue(text, self.cfg["dialogue_min_share"]):
            spans = self.dialogue_sections(doc, text)
        else:
            spans = self.note_sections(doc, text)
        doc.spans[self.spans_key] = spans
        self.set_entity_sections(doc, spans)
        return doc

    def find_headers(self, text: str) -> List[Tuple[int, int, str]]:
        """(start char, end char, section) of every header line of a written note."""
        return self.header_rules.find(text)

    def note_sections(self, doc: Doc, text: Optional[str] = None) -> List[Span]:
        """Sections of a written note: each from its header to the next header."""
        text = doc.text if text is None else text
        headers = self.find_headers(text)
        spans = []
        for i, (start, _, section) in enumerate(headers):
            end = headers[i + 1][0] if i + 1 < len(headers) else len(text)
            span = self._char_span(doc, text, start, end, section)
            if span is not None and (not spans or span.start >= spans[-1].end):
                spans.append(span)
        return spans

    def dialogue_sections(self, doc: Doc, text: Optional[str] = None) -> List[Span]:
        """Sections of a transcript: runs of turns that the classifier puts in one section."""
        text = doc.text if text is None else text
        turns = find_turns(text)
        if self.dialogue_nlp is None or not turns:
            return []
        labels = self.classify_turns(doc, turns)
        runs: List[List[Any]] = []  # [first turn, last turn, label]
        for i, label in enumerate(labels):
            if runs and runs[-1][2] == label:
                runs[-1][1] = i
            else:
                runs.append([i, i, label])
        # Fold runs shorter than min_turns into the run before them (one stray turn is noise).
        merged: List[List[Any]] = []
        for run in runs:
            if merged and (run[1] - run[0] + 1 < self.cfg["min_turns"] or merged[-1][2] == run[2]):
                merged[-1][1] = run[1]
            else:
                merged.append(run)
        spans = []
        for first, last, label in merged:
            span = self._char_span(doc, text, turns[first][0], turns[last][2], label)
            if span is not None and (not spans or span.start >= spans[-1].end):
                spans.append(span)
        return spans

    def classify_turns(self, doc: Doc, turns: Sequence[Tuple[int, int, int, str]]) -> List[str]:
        """One section category per turn, from overlapping windows of turns."""
        textcat = self.dialogue_nlp.get_pipe("textcat")
        words = [turn_words(doc, t[1], t[2]) for t in turns]
        size, stride = max(1, self.cfg["window_turns"]), max(1, self.cfg["window_stride"])
        starts = list(range(0, max(1, len(turns) - size + 1), stride))
        if starts[-1] + size < len(turns):
            starts.append(len(turns) - size)
        windows = [Doc(self.dialogue_nlp.vocab, words=[w for ws in words[s : s + size] for w in ws] or ["."]) for s in starts]
        scores = textcat.model.predict(windows)
        scores = textcat.model.ops.to_numpy(scores)
        labels = list(textcat.labels)
        total = numpy.zeros((len(turns), len(labels)), dtype="f")
        for s, row in zip(starts, scores):
            total[s : s + size] += row
        return [MTS_TO_SECTION.get(labels[int(i)], "other") for i in total.argmax(axis=1)]

    @staticmethod
    def _char_span(doc: Doc, text: str, start: int, end: int, label: str) -> Optional[Span]:
        while end > start and text[end - 1].isspace():
            end -= 1
        if end <= start:
            return None
        return doc.char_span(start, end, label=label, alignment_mode="expand")

    @staticmethod
    def set_entity_sections(doc: Doc, spans: Sequence[Span]) -> None:
        for ent in doc.ents:
            section = None
            for span in spans:
                if span.start <= ent.start < span.end:
                    section = span.label_
                    break
                if span.start > ent.start:
                    break
            ent._.section = section

    def score(self, examples: Iterable[Example], **kwargs) -> Dict[str, Any]:
        """Section header P/R against `doc.spans[spans_key]` of the reference docs."""
        if self.scorer is None:
            return {}
        return self.scorer(examples, spans_key=self.spans_key)

    # --- training / serialization -----------------------------------------------------------
    def initialize(
        self,
        get_examples: Optional[Callable[[], Iterable[Example]]] = None,
        *,
        nlp: Optional[Language] = None,
        rules: Optional[Union[str, Path, List[Dict[str, str]]]] = None,
        extra_rules: Optional[List[Dict[str, str]]] = None,
        dialogue_model: Optional[Union[str, Path]] = None,
    ) -> None:
        """Load the header rules and, optionally, the dialogue classifier.

        rules (Optional[Union[str, Path, List[dict]]]): A JSONL file or a list replacing the
            package's rules (default: the package's rules).
        extra_rules (Optional[List[dict]]): Rules added to those.
        dialogue_model (Optional[Union[str, Path]]): A folder written by
            `spacy_medical.training.dialogue` (a blank pipeline with a `textcat`).
        """
        if rules is None:
            self.set_rules(read_rules(RULES_PATH))
        elif isinstance(rules, (str, Path)):
            self.set_rules(read_rules(rules))
        else:
            self.set_rules(rules)
        if extra_rules:
            self.add_rules(extra_rules)
        if dialogue_model:
            self.set_dialogue_model(dialogue_model)

    def set_dialogue_model(self, model: Union[str, Path, Language]) -> None:
        """Use a trained dialogue classifier (a pipeline with a `textcat`, or its folder)."""
        if isinstance(model, (str, Path)) and not Path(model).is_dir():
            raise ValueError(Errors.E209.format(path=str(model)))
        nlp = spacy.load(model) if isinstance(model, (str, Path)) else model
        if "textcat" not in nlp.pipe_names:
            raise ValueError(Errors.E204.format(path=str(model)))
        self.dialogue_nlp = nlp

    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> None:
        """Write the header rules and, if there is one, the dialogue classifier."""
        writers: Dict[str, Callable[[Path], Any]] = {RULES_FILE: lambda p: srsly.write_jsonl(p, self.rules)}
        if self.dialogue_nlp is not None:
            writers[DIALOGUE_DIR] = self.dialogue_nlp.to_disk
        util.to_disk(path, writers, exclude)

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> "MedicalSections":
        """Read what `to_disk` wrote (a folder without rules keeps the package's rules)."""
        readers: Dict[str, Callable[[Path], Any]] = {
            RULES_FILE: lambda p: self.set_rules(read_rules(p)) if p.exists() else None,
            DIALOGUE_DIR: lambda p: self.set_dialogue_model(p) if p.exists() else None,
        }
        util.from_disk(path, readers, exclude)
        return self

    def to_bytes(self, *, exclude: Iterable[str] = tuple()) -> bytes:
        getters: Dict[str, Callable[[], Any]] = {"sections": lambda: self.rules}
        if self.dialogue_nlp is not None:
            getters["dialogue"] = lambda: {"config": self.dialogue_nlp.config.to_str(), "bytes": self.dialogue_nlp.to_bytes()}
        return util.to_bytes(getters, exclude)

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = tuple()) -> "MedicalSections":
        util.from_bytes(data, {"sections": self.set_rules, "dialogue": self._set_dialogue_bytes}, exclude)
        return self

    def _set_dialogue_bytes(self, msg: Dict[str, Any]) -> None:
        nlp = util.load_model_from_config(Config().from_str(msg["config"]), auto_fill=True)
        self.set_dialogue_model(nlp.from_bytes(msg["bytes"]))


def header_starts(doc: Doc, spans_key: str = "sections") -> List[Tuple[int, str]]:
    """(start char, label) of every section span of a doc."""
    if spans_key not in doc.spans:
        return []
    return [(span.start_char, span.label_) for span in doc.spans[spans_key]]


def score_sections(examples: Iterable[Example], spans_key: str = "sections", **kwargs) -> Dict[str, Any]:
    """Section header precision/recall: a predicted header is right when a gold section starts
    at the same character (unlabelled), and `sections_label_acc` is the share of those matched
    headers whose category is right.

    RETURNS (Dict[str, Any]): sections_header_p/r/f and sections_label_acc.
    """
    tp = n_pred = n_gold = correct_label = 0
    for eg in examples:
        gold = dict(header_starts(eg.reference, spans_key))
        pred = dict(header_starts(eg.predicted, spans_key))
        n_gold += len(gold)
        n_pred += len(pred)
        for start, label in pred.items():
            if start in gold:
                tp += 1
                correct_label += int(gold[start] == label)
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "sections_header_p": p,
        "sections_header_r": r,
        "sections_header_f": f,
        "sections_label_acc": correct_label / tp if tp else None,
    }


def make_sections_scorer() -> Callable:
    return score_sections


FACTORY_META = dict(
    default_config={
        "spans_key": "sections",
        "window_turns": 4,
        "window_stride": 2,
        "min_turns": 2,
        "dialogue_min_share": 0.5,
        "scorer": {"@scorers": "spacy-medical.sections_scorer.v1"},
    },
    assigns=["doc.spans", "span._.section"],
    requires=["doc.ents"],
    # Zero weights: a training dev set without section spans must not sway model selection.
    default_score_weights={"sections_header_f": 0.0, "sections_header_p": 0.0, "sections_header_r": 0.0, "sections_label_acc": None},
)


def make_medical_sections(
    nlp: Language,
    name: str,
    spans_key: str,
    window_turns: int,
    window_stride: int,
    min_turns: int,
    dialogue_min_share: float,
    scorer: Optional[Callable],
) -> MedicalSections:
    return MedicalSections(
        nlp,
        name,
        spans_key=spans_key,
        window_turns=window_turns,
        window_stride=window_stride,
        min_turns=min_turns,
        dialogue_min_share=dialogue_min_share,
        scorer=scorer,
    )
