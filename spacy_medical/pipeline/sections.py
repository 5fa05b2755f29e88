"""`medical_sections`: note sections for written notes and for dialogue transcripts.

Written notes: a header is a line that is a known header phrase on its own ("HISTORY OF PRESENT
ILLNESS", "Medications") or that starts with a header phrase and a colon ("HPI: 45 yo ...",
"A/P:", "Meds:"). Header phrases and their normalized category (see `labels.SECTIONS`) are rules
in `rules/sections.jsonl`; users add their own with `add_rules` or `initialize(rules=...)`, and
`to_disk` writes them back, so edits survive `nlp.to_disk` / `spacy.load`.

Dialogue transcripts (most non-empty lines start with a speaker tag such as "[doctor]" or
"Patient:") have no headers. Their units are turns; a small bag-of-words text classifier
(trained on MTS-Dialog by `spacy_medical.train_dialogue`) scores windows of turns, each turn takes
the label of the windows around it, and runs of turns with one label become a section. The
classifier is a nested blank pipeline owned by this component rather than a separate pipe: it is
only used on dialogue docs, it must see turns (not the main pipeline's docs), and keeping it here
means one `to_disk` folder and one place that decides what a section is. Without a classifier,
dialogue docs get no sections.

Both paths set `doc.spans[spans_key]` (one span per section, label = category, covering the
header and its body, or the turns) and `span._.section` on every entity in `doc.ents`.
"""
import re
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy
import srsly
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import ensure_path

from ..errors import Errors
from ..labels import SECTIONS

RULES_PATH = Path(__file__).resolve().parents[1] / "rules" / "sections.jsonl"
DIALOGUE_DIR = "dialogue"

# Speaker tag at the start of a line: "[doctor]", "[patient]", "Doctor:", "Patient:", ...
SPEAKER = re.compile(
    r"^[ \t]*(?:\[(?P<bracket>[a-z_]+)\]|(?P<colon>doctor|patient|dr|pt|nurse|clinician|provider"
    r"|physician|guest_family|guest_clinician|family)[ \t]*:)[ \t]*",
    re.I | re.M,
)
BULLET = re.compile(r"^[ \t]*(?:[-*•·]|\d{1,2}[.)])")

# MTS-Dialog's 20 section headers -> the package's categories. FAM/SOCHX merges family and
# social history in MTS-Dialog; most of its examples are social history, so it maps there.
MTS_TO_SECTION: Dict[str, str] = {
    "CC": "chief_complaint",
    "GENHX": "history_of_present_illness",
    "PASTMEDICALHX": "past_medical_history",
    "PASTSURGICAL": "past_surgical_history",
    "FAM/SOCHX": "social_history",
    "MEDICATIONS": "medications",
    "ALLERGY": "allergies",
    "ROS": "review_of_systems",
    "EXAM": "physical_exam",
    "ASSESSMENT": "assessment",
    "DIAGNOSIS": "assessment",
    "PLAN": "plan",
    "DISPOSITION": "plan",
    "EDCOURSE": "hospital_course",
    "IMMUNIZATIONS": "past_medical_history",
    "GYNHX": "past_medical_history",
    "OTHER_HISTORY": "past_medical_history",
    "IMAGING": "results",
    "LABS": "results",
    "PROCEDURES": "procedures",
}


def read_rules(path: Union[str, Path]) -> List[Dict[str, str]]:
    """Read and check header rules from a JSONL file.

    path (Union[str, Path]): File with one {"pattern"|"regex": str, "section": str} per line.
    RETURNS (List[Dict[str, str]]): The rules.
    """
    rules = []
    for i, rule in enumerate(srsly.read_jsonl(path), start=1):
        rules.append(check_rule(rule, source=str(path), line=i))
    return rules


def check_rule(rule: Dict[str, Any], source: str = "<rules>", line: int = 0) -> Dict[str, str]:
    if not isinstance(rule, dict) or not rule.get("section") or not (rule.get("pattern") or rule.get("regex")):
        raise ValueError(Errors.E200.format(path=source, line=line))
    if rule["section"] not in SECTIONS:
        raise ValueError(Errors.E201.format(path=source, line=line, section=rule["section"], known=", ".join(SECTIONS)))
    if rule.get("regex"):
        try:
            re.compile(rule["regex"])
        except re.error:
            raise ValueError(Errors.E202.format(path=source, line=line)) from None
    return dict(rule)


def find_turns(text: str) -> List[Tuple[int, int, int, str]]:
    """Find the speaker turns of a transcript.

    text (str): The document text.
    RETURNS (List[Tuple[int, int, int, str]]): (turn start, content start, turn end, speaker) per
        turn; a turn runs from its speaker tag to the next tag (continuation lines included).
    """
    matches = list(SPEAKER.finditer(text))
    turns = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        while end > m.end() and text[end - 1].isspace():
            end -= 1
        speaker = (m.group("bracket") or m.group("colon")).lower()
        turns.append((m.start(), m.end(), end, speaker))
    return turns


def is_dialogue(text: str, min_share: float = 0.5) -> bool:
    """Whether most non-empty lines of the text start with a speaker tag."""
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return False
    tagged = sum(1 for line in lines if SPEAKER.match(line))
    return tagged > 0 and tagged / len(lines) >= min_share


def turn_words(doc: Doc, start_char: int, end_char: int) -> List[str]:
    """Lower-cased non-space token texts of a character range (the classifier's input)."""
    span = doc.char_span(start_char, end_char, alignment_mode="expand")
    if span is None:
        return []
    return [t.lower_ for t in span if not t.is_space]


class MedicalSections:
    """Finds note sections from header rules, and dialogue sections with a text classifier."""

    def __init__(
        self,
        nlp: Language,
        name: str = "medical_sections",
        *,
        spans_key: str = "sections",
        window_turns: int = 4,
        window_stride: int = 2,
        min_turns: int = 2,
        dialogue_min_share: float = 0.5,
        scorer: Optional[Callable] = None,
    ):
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
        self.rules: List[Dict[str, str]] = []
        self.dialogue_nlp: Optional[Language] = None
        # Default rules are package data, so `add_pipe` alone gives a working component.
        self.set_rules(read_rules(RULES_PATH))

    @property
    def spans_key(self) -> str:
        return self.cfg["spans_key"]

    # --- rules ----------------------------------------------------------------------------
    def set_rules(self, rules: Iterable[Dict[str, str]]) -> None:
        """Replace the header rules."""
        self.rules = []
        self.add_rules(rules)

    def add_rules(self, rules: Iterable[Dict[str, str]]) -> None:
        """Add header rules, each {"pattern": "hpi", "section": "history_of_present_illness"}
        (a literal phrase, case-insensitive) or {"regex": ..., "section": ...}.
        """
        for i, rule in enumerate(rules, start=1):
            self.rules.append(check_rule(rule, line=i))
        self._compile()

    def _compile(self) -> None:
        # Longest phrases first, so "assessment and plan" wins over "assessment".
        alts: List[Tuple[int, str, str]] = []
        for rule in self.rules:
            if rule.get("regex"):
                alts.append((1000, rule["regex"], rule["section"]))
            else:
                words = rule["pattern"].strip().split()
                alts.append((len(rule["pattern"]), r"\s+".join(re.escape(w) for w in words), rule["section"]))
        alts.sort(key=lambda a: -a[0])
        self._sections = [a[2] for a in alts]
        body = "|".join(f"(?P<r{i}>{a[1]})" for i, a in enumerate(alts)) or "(?!)"
        # A header phrase at the start of a line, then a colon or the end of the line.
        self._header_re = re.compile(rf"^[ \t]*(?:{body})[ \t]*(?P<colon>:)?[ \t]*(?=\S|$)", re.I | re.M)

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

    def pipe(self, stream: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for doc in stream:
            yield self(doc)

    def find_headers(self, text: str) -> List[Tuple[int, int, str]]:
        """Find the header lines of a written note.

        text (str): The note.
        RETURNS (List[Tuple[int, int, str]]): (start char, end char, section) per header.
        """
        headers = []
        for m in self._header_re.finditer(text):
            line_end = text.find("\n", m.start())
            line_end = len(text) if line_end < 0 else line_end
            rest = text[m.end() : line_end].strip()
            phrase = m.group(0).strip().rstrip(":").strip()
            if not m.group("colon"):
                # Without a colon the phrase must fill the line and look like a header
                # (capitalised), so prose such as "plan" on its own line is not one.
                if rest or not phrase[:1].isupper():
                    continue
                if len(phrase) <= 3 and not phrase.isupper():
                    continue
            if BULLET.match(text[m.start() : line_end]):
                continue
            # Named groups, since a user's regex may hold capturing groups of its own.
            idx = next(int(k[1:]) for k, v in m.groupdict().items() if v is not None and k[0] == "r")
            start = m.start() + len(m.group(0)) - len(m.group(0).lstrip())
            headers.append((start, m.end(), self._sections[idx]))
        return headers

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
        scorer = self.scorer or score_sections
        return scorer(examples, spans_key=self.spans_key)

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
            `spacy_medical.train_dialogue` (a blank pipeline with a `textcat`).
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
        import spacy

        if isinstance(model, (str, Path)) and not Path(model).is_dir():
            raise ValueError(Errors.E209.format(path=str(model)))
        nlp = spacy.load(model) if isinstance(model, (str, Path)) else model
        if "textcat" not in nlp.pipe_names:
            raise ValueError(Errors.E204.format(path=str(model)))
        self.dialogue_nlp = nlp

    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg", self.cfg)
        srsly.write_jsonl(path / "sections.jsonl", self.rules)
        if self.dialogue_nlp is not None:
            self.dialogue_nlp.to_disk(path / DIALOGUE_DIR)

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> "MedicalSections":
        path = ensure_path(path)
        if (path / "cfg").exists():
            self.cfg.update(srsly.read_json(path / "cfg"))
        if (path / "sections.jsonl").exists():
            self.set_rules(read_rules(path / "sections.jsonl"))
        if (path / DIALOGUE_DIR).exists():
            self.set_dialogue_model(path / DIALOGUE_DIR)
        return self

    def to_bytes(self, *, exclude: Iterable[str] = tuple()) -> bytes:
        data = {"cfg": self.cfg, "rules": self.rules}
        if self.dialogue_nlp is not None:
            data["dialogue_config"] = self.dialogue_nlp.config.to_str()
            data["dialogue"] = self.dialogue_nlp.to_bytes()
        return srsly.msgpack_dumps(data)

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = tuple()) -> "MedicalSections":
        from spacy.util import load_model_from_config
        from thinc.api import Config

        msg = srsly.msgpack_loads(data)
        self.cfg.update(msg.get("cfg", {}))
        self.set_rules(msg.get("rules", []))
        if msg.get("dialogue"):
            nlp = load_model_from_config(Config().from_str(msg["dialogue_config"]), auto_fill=True)
            self.dialogue_nlp = nlp.from_bytes(msg["dialogue"])
        return self


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
