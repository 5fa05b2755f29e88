"""`medical_sentences`: sentence boundaries for clinical notes.

Clinical notes break lines for headers, lists and vitals rather than for prose, and are full of
abbreviations ending in a period ("b.i.d.", "Dr.", "approx."). spaCy's Sentencizer splits on
every period and ignores line structure, which cuts "pt. denies fever" in two and glues a header
onto the next sentence. This splitter starts a sentence:
- after ".", "?" or "!" (and closing quotes/brackets) unless the token before is a known
  abbreviation or the next token starts lowercase;
- at a blank line, and at a line break followed by a line that starts a new unit: a header
  ("HPI:", "ASSESSMENT AND PLAN"), a list item ("-", "*", "1."), a speaker turn ("[doctor]",
  "Patient:"), or an uppercase letter after a line that ended a sentence or a header;
- never in the middle of a wrapped line of prose (line break followed by lowercase).

One pass over the tokens, each line read a bounded number of times, so the cost is linear in
the note's length whatever its shape (a 5 MB note on one line with thousands of colons too).
"""
import re
from typing import List, Sequence

import numpy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc

from .dialogue import is_speaker_line

TERMINALS = {".", "?", "!"}
CLOSERS = {")", "]", '"', "'", "”", "’"}
# Lowercased tokens (without their final period) that end in a period but do not end a sentence.
ABBREVIATIONS = {
    "dr", "mr", "mrs", "ms", "pt", "pts", "vs", "approx", "appt", "avg", "dept", "e.g", "i.e",
    "etc", "fig", "hx", "dx", "tx", "rx", "sx", "yo", "y.o", "no", "b.i.d", "t.i.d", "q.i.d",
    "q.d", "p.o", "p.r.n", "q.h.s", "h.s", "a.m", "p.m", "st", "min", "max", "mg", "approx",
    "wt", "ht", "temp", "resp", "sat", "inc", "co", "jr", "sr", "prof", "cf", "al",
}
LIST_ITEM = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)]|\(?[a-z]\))\s")
# A header that starts a line is recognised from its first words only.
HEADER_START_TOKENS = 12
HEADER_COLON_WINDOW = 6
MAX_HEADER_WORDS = 8


def _is_newline(word: str) -> bool:
    return word.isspace() and "\n" in word


def _is_upper_line(words: List[str]) -> bool:
    """An all upper-case line of a few words ("ASSESSMENT AND PLAN")."""
    alpha = [w for w in words if any(c.isalpha() for c in w)]
    return bool(alpha) and all(w.isupper() for w in alpha) and len(alpha) <= MAX_HEADER_WORDS


def _is_header_start(line_tokens: List[str]) -> bool:
    """A line that begins with an upper-case label followed by ':' or that is all upper-case."""
    words = [t for t in line_tokens if t.strip()]
    if not words:
        return False
    if ":" in words[:HEADER_COLON_WINDOW]:
        before = words[: words.index(":")]
        return bool(before) and all(w[:1].isupper() or not w[:1].isalpha() for w in before)
    return _is_upper_line(words)


def _line_is_header(line: List[str]) -> bool:
    """Whether a whole line (its token texts) is a header: it ends with ':' or is upper-case."""
    words = [w for w in line if w.strip()]
    if not words:
        return False
    return words[-1] == ":" or _is_upper_line(words)


def _opens_sentence(words: Sequence[str], end: int, nxt: int) -> bool:
    """Whether the token `nxt`, after the terminal at `end`, starts a sentence."""
    first = words[nxt][:1]
    if not (first.isupper() or first.isdigit() or first in "[(\"'"):
        return False
    if words[end] == "." and end > 0:
        before = words[end - 1].lower()
        if before in ABBREVIATIONS or (len(before) == 1 and before.isalpha()):
            return False
    return True


def _line_tokens(words: Sequence[str], start: int) -> List[str]:
    """The first HEADER_START_TOKENS token texts of the line that begins at token `start`."""
    out: List[str] = []
    for i in range(start, min(len(words), start + HEADER_START_TOKENS)):
        if _is_newline(words[i]):
            break
        out.append(words[i])
    return out


def sentence_starts(words: Sequence[str], offsets: Sequence[int], text: str) -> List[bool]:
    """Decide for every token whether it starts a sentence.

    words (Sequence[str]): The token texts.
    offsets (Sequence[int]): The character offset of each token in `text`.
    text (str): The document text.
    RETURNS (List[bool]): One flag per token; the first is always True.
    """
    n = len(words)
    starts = [False] * n
    if n == 0:
        return starts
    starts[0] = True
    line_begin = 0  # first token of the current line
    line_start = True  # the current token begins a line
    prev_line_closed = True  # the last line ended with a terminal or was a header
    for i in range(n):
        word = words[i]
        if word.isspace():
            if "\n" in word:
                if i + 1 < n:
                    nxt = words[i + 1][:1]
                    begin = offsets[i + 1]
                    end = text.find("\n", begin)
                    line_text = text[begin : end if end >= 0 else len(text)]
                    new_unit = (
                        word.count("\n") >= 2
                        or _is_header_start(_line_tokens(words, i + 1))
                        or bool(LIST_ITEM.match(line_text))
                        or is_speaker_line(line_text)
                        or (prev_line_closed and nxt.isupper())
                        # The line that ends here is read once: at its own line break.
                        or (nxt.isupper() and _line_is_header([words[k] for k in range(line_begin, i)]))
                    )
                    if new_unit:
                        starts[i + 1] = True
                    line_start = True
                line_begin = i + 1
            continue
        if line_start:
            prev_line_closed = False
            line_start = False
        if word in TERMINALS:
            prev_line_closed = True
            j = i + 1
            while j < n and words[j] in CLOSERS:
                j += 1
            while j < n and words[j].isspace() and "\n" not in words[j]:
                j += 1
            if j < n and not words[j].isspace() and _opens_sentence(words, i, j):
                starts[j] = True
        elif word == ":":
            # A colon makes the line so far end like a header ("HPI:"): what follows on the
            # next line may start with a capital without continuing this line's sentence.
            prev_line_closed = True
    return starts


class ClinicalSentenceSplitter(Pipe):
    """Sets `token.is_sent_start` from punctuation and clinical line structure.

    Rule-free: its one setting lives in the pipeline's config, so there is nothing to save.
    """

    def __init__(self, nlp: Language, name: str, *, overwrite: bool):
        """Create the component.

        nlp (Language): The pipeline.
        name (str): The component name.
        overwrite (bool): Replace sentence boundaries a previous component set.
        """
        self.name = name
        self.overwrite = overwrite

    def __call__(self, doc: Doc) -> Doc:
        if len(doc) == 0:
            return doc
        if not self.overwrite and doc.has_annotation("SENT_START"):
            return doc
        starts = self.predict(doc)
        # One array write: setting token.is_sent_start re-checks the whole doc every time.
        values = numpy.asarray([1 if is_start else -1 for is_start in starts], dtype="int64").astype("uint64").reshape(-1, 1)
        doc.from_array([SENT_START], values)
        return doc

    def predict(self, doc: Doc) -> List[bool]:
        """Decide for every token whether it starts a sentence.

        doc (Doc): The document.
        RETURNS (List[bool]): One flag per token; the first is always True.
        """
        # Doc.text is rebuilt on every access: read it once.
        return sentence_starts([t.text for t in doc], [t.idx for t in doc], doc.text)


FACTORY_META = dict(
    default_config={"overwrite": False},
    assigns=["token.is_sent_start"],
)


def make_medical_sentences(nlp: Language, name: str, overwrite: bool) -> ClinicalSentenceSplitter:
    return ClinicalSentenceSplitter(nlp, name, overwrite=overwrite)
