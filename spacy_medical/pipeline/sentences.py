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
"""
import re
from typing import Iterable, Iterator, List

import numpy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokens import Doc

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
SPEAKER = re.compile(
    r"^\s*(?:\[(?:doctor|patient|nurse|clinician|provider|guest_family|guest_clinician|family)\]"
    r"|(?:doctor|patient|dr|pt|nurse|clinician|provider)\s*:)",
    re.I,
)


def _is_header_start(line_tokens: List[str]) -> bool:
    """A line that begins with an upper-case label followed by ':' or that is all upper-case."""
    words = [t for t in line_tokens if t.strip()]
    if not words:
        return False
    if ":" in words[:6]:
        before = words[: words.index(":")]
        return bool(before) and all(w[:1].isupper() or not w[:1].isalpha() for w in before)
    alpha = [w for w in words if any(c.isalpha() for c in w)]
    return bool(alpha) and all(w.isupper() for w in alpha) and len(alpha) <= 8


class ClinicalSentenceSplitter:
    """Sets `token.is_sent_start` from punctuation and clinical line structure."""

    def __init__(self, nlp: Language, name: str = "medical_sentences", *, overwrite: bool = False):
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

    def pipe(self, stream: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for doc in stream:
            yield self(doc)

    def predict(self, doc: Doc) -> List[bool]:
        """Decide for every token whether it starts a sentence.

        doc (Doc): The document.
        RETURNS (List[bool]): One flag per token; the first is always True.
        """
        n = len(doc)
        text = doc.text  # Doc.text is rebuilt on every access: read it once
        starts = [False] * n
        starts[0] = True
        line_start = True  # the current token begins a line
        prev_line_closed = True  # the last line ended with a terminal or was a header
        for i in range(n):
            tok = doc[i]
            if tok.is_space:
                newlines = tok.text.count("\n")
                if newlines and i + 1 < n:
                    nxt = doc[i + 1]
                    line = self._line_tokens(doc, i + 1)
                    line_text = self._line_text(text, doc[i + 1].idx)
                    new_unit = (
                        newlines >= 2
                        or _is_header_start(line)
                        or bool(LIST_ITEM.match(line_text))
                        or bool(SPEAKER.match(line_text))
                        or (prev_line_closed and nxt.text[:1].isupper())
                        or (nxt.text[:1].isupper() and self._line_is_header(doc, i))
                    )
                    if new_unit:
                        starts[i + 1] = True
                    line_start = True
                continue
            if line_start:
                prev_line_closed = False
                line_start = False
            if tok.text in TERMINALS:
                prev_line_closed = True
                j = i + 1
                while j < n and doc[j].text in CLOSERS:
                    j += 1
                while j < n and doc[j].is_space and "\n" not in doc[j].text:
                    j += 1
                if j < n and not doc[j].is_space and self._opens_sentence(doc, i, j):
                    starts[j] = True
            elif tok.text == ":" and self._line_is_header(doc, i + 1):
                prev_line_closed = True
        return starts

    @staticmethod
    def _opens_sentence(doc: Doc, end: int, nxt: int) -> bool:
        token = doc[nxt]
        if not (token.text[:1].isupper() or token.text[:1].isdigit() or token.text[:1] in "[(\"'"):
            return False
        if doc[end].text == "." and end > 0:
            before = doc[end - 1].text.lower()
            if before in ABBREVIATIONS or (len(before) == 1 and before.isalpha()):
                return False
        return True

    @staticmethod
    def _line_text(text: str, begin: int) -> str:
        end = text.find("\n", begin)
        return text[begin : end if end >= 0 else len(text)]

    @staticmethod
    def _line_tokens(doc: Doc, start: int) -> List[str]:
        out = []
        for tok in doc[start:]:
            if tok.is_space and "\n" in tok.text:
                break
            out.append(tok.text)
            if len(out) >= 12:
                break
        return out

    @staticmethod
    def _line_is_header(doc: Doc, end: int) -> bool:
        """Whether the line that ends just before token `end` is a header."""
        i = end - 1
        while i >= 0 and not (doc[i].is_space and "\n" in doc[i].text):
            i -= 1
        line = [t.text for t in doc[i + 1 : end]]
        words = [w for w in line if w.strip()]
        if not words:
            return False
        if words[-1] == ":":
            return True
        alpha = [w for w in words if any(c.isalpha() for c in w)]
        return bool(alpha) and all(w.isupper() for w in alpha) and len(alpha) <= 8

    # Rule-free component: nothing to save, but spaCy's (de)serialization calls these.
    def to_disk(self, path, *, exclude=tuple()):
        pass

    def from_disk(self, path, *, exclude=tuple()) -> "ClinicalSentenceSplitter":
        return self

    def to_bytes(self, *, exclude=tuple()) -> bytes:
        return b""

    def from_bytes(self, data: bytes, *, exclude=tuple()) -> "ClinicalSentenceSplitter":
        return self


FACTORY_META = dict(
    default_config={"overwrite": False},
    assigns=["token.is_sent_start"],
)


def make_medical_sentences(nlp: Language, name: str, overwrite: bool) -> ClinicalSentenceSplitter:
    return ClinicalSentenceSplitter(nlp, name, overwrite=overwrite)
