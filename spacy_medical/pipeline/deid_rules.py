"""The PHI finder of `medical_deid`: patterns and context cues over the note text.

Structured PHI (dates, phone numbers, e-mails, record numbers, addresses) is found by regular
expressions. Names are found where a note announces them: titles ("Dr.", "Mrs"), field labels
("Patient:", "Caller:"), "signed by", relations ("daughter Ruby"), signatures ("NAME, MD"), a
first name followed by a surname, and then every other occurrence of a name found once in the
same note. Eponyms in clinical terms ("Parkinson disease", "Foley catheter") are never names.
All words and patterns are data (`rules/phi_rules.jsonl`, `rules/phi_lexicons.jsonl`).
"""
import re
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from spacy.lang.en.stop_words import STOP_WORDS

from ..errors import Errors

Candidate = Tuple[int, int, str]
# When candidates of two labels overlap, the merged span takes the label that comes first here:
# the structured patterns are more certain than the name cues.
LABEL_PRIORITY = ("CONTACT", "ID", "AGE", "DATE", "LOCATION", "NAME")
# State codes that are also credentials or words ("Lin, MD"); taken only with a ZIP code.
AMBIGUOUS_STATES = {"MD", "PA", "DO", "OR", "IN", "ME", "OK", "HI", "ID", "DE", "CO", "LA", "MA", "MS", "MT", "NE", "OH", "SC", "SD"}
_WORD = re.compile(r"([A-Za-z][A-Za-z'’-]*\.?)")
# Capitalised name words, also O'Connor, McAllister, DeShawn, Abernethy-Small.
_TITLECASE = re.compile(r"(?:[A-Z]['’])?[A-Z][a-z]+(?:[A-Z][a-z]+)?(?:[-'’][A-Z]?[a-z]+)*")
_NAME_WORD = r"(?:[A-Z]['’])?[A-Z][a-z]+(?:[A-Z][a-z]+)?"
_TITLE_RUN = re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*")
_PLACE_CUE = re.compile(r"\b(?:in|near|to|from|at|visiting|outside|around|In|From|Near)[ \t]+$")
_MONTHS_WEEKDAYS = {
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
}


class PHIRules:
    """Compiled PHI patterns, cue words and name lexicons.

    rules (Iterable[Dict]): Rows of `phi_rules.jsonl`: {"kind": "pattern", "label", "regex",
        optional "group" or "groups"} or {"kind": "words", "list", "words"}.
    names (Iterable[Dict]): Rows of `phi_lexicons.jsonl`: {"list": "first_names"|"last_names"|"places"|"major_places", "words"}.
    """

    def __init__(self, rules: Iterable[Dict[str, Any]], names: Iterable[Dict[str, Any]]) -> None:
        self.patterns: List[Tuple[str, re.Pattern, List[Any]]] = []
        self.vetoes: List[Tuple[str, re.Pattern]] = []
        self.words: Dict[str, Set[str]] = {}
        for index, row in enumerate(rules, start=1):
            if row.get("kind") == "words":
                self.words[row["list"]] = set(row["words"])
            elif row.get("kind") in ("pattern", "veto"):
                try:
                    regex = re.compile(row["regex"])
                except (re.error, KeyError) as err:
                    raise ValueError(Errors.E551.format(index=index, reason=type(err).__name__)) from None
                if row["kind"] == "veto":
                    # Text that looks like PHI of this label but is not ("pain 6/10").
                    self.vetoes.append((row["label"], regex))
                else:
                    self.patterns.append((row["label"], regex, row.get("groups") or [row.get("group", 0)]))
            else:
                raise ValueError(Errors.E551.format(index=index, reason="'kind' must be 'pattern', 'veto' or 'words'"))
        lists = {row["list"]: {w.lower() for w in row["words"]} for row in names}
        self.first_names = lists.get("first_names", set())
        self.last_names = lists.get("last_names", set())
        # Place names keep their case: "Salem" is a place, "salem" is not written.
        cased = {row["list"]: set(row["words"]) for row in names}
        self.places = cased.get("places", set())
        self.major_places = cased.get("major_places", set())
        for needed in ("titles", "name_fields", "by_verbs", "signature_verbs", "relations", "credentials", "not_names", "term_heads",
                       "not_places"):
            self.words.setdefault(needed, set())
        self.not_names = {w.lower() for w in self.words["not_names"]}
        self.not_places = self.words["not_places"]
        self.credentials = self.words["credentials"]
        self.titles = {t.rstrip(".") for t in self.words["titles"]}
        self._compile_cues()

    def _compile_cues(self) -> None:
        def alternation(words: Iterable[str]) -> str:
            return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))

        self.title_cue = re.compile(rf"(?<![A-Za-z])({alternation(self.titles)})\.?[ \t]+")
        self.field_cue = re.compile(rf"(?<![A-Za-z])(?:{alternation(self.words['name_fields'])})[ \t]*:[ \t]*")
        self.by_cue = re.compile(rf"\b(?:{alternation(self.words['by_verbs'])})\b[^\n]{{0,30}}?[ \t]by:?[ \t]+")
        self.signature_cue = re.compile(rf"\b(?:{alternation(self.words['signature_verbs'])})\b[^\n]{{0,30}}?[ \t]by:?[ \t]+")
        relations = {w for word in self.words["relations"] for w in (word, word.capitalize(), word.upper())}
        self.relation_cue = re.compile(rf"\b(?:{alternation(relations)})(?:['’]s)?,?[ \t]+(?:(?:is|named|called)[ \t]+)?")
        self.patient_cue = re.compile(r"\b(?:[Pp]atient|[Pp]t\.?|PATIENT)[ \t]+(?=[A-Z][a-z]|[a-z]\.[ \t]?[a-z])")
        self.credential_after = re.compile(rf",?[ \t]*(?:{alternation(self.credentials)})(?![A-Za-z])")
        # "Glasgow Coma Scale", "Bell's Palsy": heads are also written capitalised.
        heads = alternation({w for word in self.words["term_heads"] for w in (word, word.capitalize())})
        self.clinical_term = re.compile(
            rf"\b[A-Z][a-z]+(?:['’]s)?(?:[- ][A-Z][a-z]+(?:['’]s)?)*[ \t]+(?:{heads})\b"
        )
        self.name_pair = re.compile(
            rf"(?=\b([A-Z][a-z]+)[ \t]+({_NAME_WORD}|[A-Z]\.)(?:[ \t]+({_NAME_WORD}(?:-[A-Z][a-z]+)?))?\b)")
        # "message from leo martin": who wrote or called, after the kind of contact.
        self.from_cue = re.compile(
            r"\b(?i:message|call|phone call|e-?mail|letter|note|referral|voicemail|fax|text|page)[ \t]+(?:from|by)[ \t]+")

    # --- names ---------------------------------------------------------------------------
    def _is_name_word(self, bare: str, lower: str, first: bool, after_initial: bool) -> bool:
        """Whether `bare` can be part of a name after a cue. `lower` is "any", "lexicon" or
        "strict" (a capitalised first word too must be in the name lexicons: "Patient Education";
        the words after it need not: "patient Ana Lima")."""
        low = bare.lower()
        if bare in self.credentials or bare in self.titles:
            return False
        in_lexicon = low in self.first_names or low in self.last_names
        if _TITLECASE.fullmatch(bare) or (bare.isupper() and bare.isalpha() and len(bare) >= 2):
            if lower == "strict" and (first or after_initial):
                return in_lexicon
            return in_lexicon or (low not in STOP_WORDS and low not in self.not_names)
        if low in self.not_names:
            return False
        if bare.islower() and bare.isalpha():
            return in_lexicon or after_initial or (lower == "any" and first and low not in STOP_WORDS and len(bare) >= 2)
        return False

    def take_name(self, text: str, pos: int, lower: str = "lexicon", comma: bool = False) -> Optional[Tuple[int, int]]:
        """The name that starts at `pos` (after a cue), as (start, end), or None.

        lower (str): "any" takes a first lower-case word that is no stop word ("caller: rose");
            "lexicon" takes lower-case words only from the name lexicons.
        comma (bool): Also take "LAST, FIRST".
        """
        start = end = None
        words, after_initial = 0, False
        p = pos
        while words < 3:
            m = _WORD.match(text, p)
            if not m:
                break
            token = m.group(1)
            bare = token.rstrip(".")
            if bare.endswith(("'s", "’s")):
                bare = bare[:-2]
            initial = len(bare) == 1 and token.endswith(".")
            if words == 0 and bare in self.titles:
                p = _skip_blanks(text, m.end())
                continue
            if not (initial or self._is_name_word(bare, lower, words == 0, after_initial)):
                break
            start = m.start(1) if start is None else start
            end = m.start(1) + len(bare) + (1 if initial else 0)
            words, after_initial = words + 1, initial
            if token.endswith(".") and not initial:
                break
            nxt = re.match(r"[ \t]?(?=[A-Za-z])", text[end:end + 2])
            if not nxt:
                break
            p = end + nxt.end()
        if start is None or (after_initial and words == 1):
            return None
        if comma and words == 1:
            # "LAST, FIRST": any capitalised first name after a field label ("Patient: O'Connor, Declan P.")
            m = re.match(rf",[ \t]?({_NAME_WORD}|[A-Z]{{2,}})(?:[ \t][A-Z]\.?(?!\w))?", text[end:end + 40])
            known = m and m.group(1).lower() in self.first_names
            if m and (known or (lower == "any" and self._is_name_word(m.group(1), "any", False, False))):
                end += m.end()
        return start, end

    def find_names(self, text: str) -> List[Candidate]:
        found: List[Tuple[int, int]] = []

        def take(pos: int, lower: str, comma: bool = False) -> Optional[Tuple[int, int]]:
            span = self.take_name(text, pos, lower, comma)
            if span:
                found.append(span)
            return span

        for m in self.title_cue.finditer(text):
            take(m.end(), "any" if len(m.group(1)) <= 3 else "lexicon")
        for m in self.field_cue.finditer(text):
            take(m.end(), "any", comma=True)
        for m in self.by_cue.finditer(text):
            take(m.end(), "lexicon")
        for m in self.signature_cue.finditer(text):
            take(m.end(), "any")
        for m in self.patient_cue.finditer(text):
            take(m.end(), "strict")
        for m in self.from_cue.finditer(text):
            take(m.end(), "strict")
        for m in self.relation_cue.finditer(text):
            span = take(m.end(), "strict")
            # "daughters Summer and Autumn"
            while span:
                more = re.match(r"[ \t]+(?:and|&|or)[ \t]+", text[span[1]:span[1] + 8])
                span = take(span[1] + more.end(), "strict") if more else None
        for m in re.finditer(r"(?m)^[ \t]*(?:--?|—)?[ \t]*", text):
            # Signatures: "NAME, MD" or "-- NAME RN" at the start of a line.
            span = self.take_name(text, m.end(), "any", comma=True)
            if span and self.credential_after.match(text, span[1]):
                found.append(span)
        found.extend(self._signature_line(text))
        found.extend(self._name_pairs(text))
        found.extend(self._propagate(text, found))
        return [(s, e, "NAME") for s, e in found]

    def _signature_line(self, text: str) -> List[Tuple[int, int]]:
        """The last line of a note, when it is a short signature ("Paul Forrest, Endocrinology")."""
        lines = [m for m in re.finditer(r"(?m)^[ \t]*(?:--?|—)?[ \t]*(.+?)[ \t]*$", text) if m.group(1).strip()]
        if not lines or len(lines[-1].group(1).split()) > 6:
            return []
        span = self.take_name(text, lines[-1].start(1), "any")
        if span and re.match(r"[ \t]*(?:,|[-–—][ \t]|$)", text[span[1]:span[1] + 3] or ""):
            return [span]
        return []

    def _name_pairs(self, text: str) -> List[Tuple[int, int]]:
        """Capitalised first name + surname (+ surname): "Tom Bishop", "Rose Marie Baker"."""
        spans = []
        for m in self.name_pair.finditer(text):
            first, second, third = m.group(1), m.group(2), m.group(3)
            if first.lower() not in self.first_names or first.lower() in self.not_names:
                continue
            if third and third.lower() in self.last_names and (second.endswith(".") or second.lower() in self.first_names | self.last_names):
                spans.append((m.start(1), m.end(3)))
            elif second.lower() in self.last_names and second.lower() not in self.not_names:
                spans.append((m.start(1), m.end(2)))
        return spans

    def _propagate(self, text: str, found: List[Tuple[int, int]]) -> List[Tuple[int, int]]:
        """Every other occurrence, in the same note, of a capitalised name word found once."""
        words = set()
        for start, end in found:
            for word in re.findall(r"[A-Z][a-z]+(?:-[A-Z][a-z]+)*|[A-Z]{3,}", text[start:end]):
                low = word.lower()
                if low not in self.not_names and low not in STOP_WORDS and low not in _MONTHS_WEEKDAYS and word not in self.credentials:
                    words.add(word)
        if not words:
            return []
        pattern = re.compile(rf"\b(?:{'|'.join(re.escape(w) for w in sorted(words, key=len, reverse=True))})\b")
        return [m.span() for m in pattern.finditer(text)]

    # --- everything ----------------------------------------------------------------------
    def find(self, text: str) -> List[Candidate]:
        """All PHI in `text`, as merged, non-overlapping (start, end, label), sorted."""
        candidates: List[Candidate] = []
        for label, regex, groups in self.patterns:
            for m in regex.finditer(text):
                if "state" in groups and m.group("state") in AMBIGUOUS_STATES and not m.group("zip"):
                    continue
                for group in groups:
                    if m.group(group) and m.start(group) < m.end(group):
                        candidates.append((m.start(group), m.end(group), label))
        candidates = [c for c in candidates if c[2] != "LOCATION" or self._is_place(text[c[0]:c[1]])]
        for label, regex in self.vetoes:
            vetoed = [m.span() for m in regex.finditer(text)]
            candidates = [c for c in candidates if c[2] != label or not _overlaps(c, vetoed)]
        candidates.extend(self._after_place(text, candidates))
        candidates.extend(self._addressee(text, candidates))
        candidates.extend(self._places(text))
        candidates.extend(self.find_names(text))
        return merge_candidates(self.without_clinical_terms(text, candidates))

    def without_clinical_terms(self, text: str, candidates: List[Candidate]) -> List[Candidate]:
        """The candidates less the names and places inside an eponymous clinical term ("Foley catheter")."""
        protected = [m.span() for m in self.clinical_term.finditer(text)]
        return [c for c in candidates if c[2] not in ("NAME", "LOCATION") or not _overlaps(c, protected)]

    def _is_place(self, value: str) -> bool:
        if not value[:1].isalpha() or value.isupper():
            return True  # a street number, ZIP code or state code
        first = value.split()[0].rstrip(".,")
        return first.lower() not in self.not_names and first.capitalize() not in self.titles and first not in self.not_places

    def _after_place(self, text: str, candidates: List[Candidate]) -> List[Candidate]:
        """ "St. Agnes Hospital, Baltimore" / "44 Cedar Lane, Quincy": the city after a place."""
        found = []
        for start, end, label in candidates:
            if label != "LOCATION":
                continue
            m = re.match(r",[ \t]+([A-Z][a-z]+(?:[ \t][A-Z][a-z]+)?)\b(?![ \t]*[a-z])(?!\.\w)", text[end:end + 40])
            if m and self._is_place(m.group(1)):
                found.append((end + m.start(1), end + m.end(1), "LOCATION"))
        return found


    def _places(self, text: str) -> List[Candidate]:
        """Gazetteer places: any of `major_places`, and any of `places` after "in", "from" ..."""
        found = []
        for m in _TITLE_RUN.finditer(text):
            words = re.split(r"([ -])", m.group(0))
            for n in range(min(len(words), 5), 0, -2):
                name = "".join(words[:n])
                if name in self.places:
                    if name in self.major_places or _PLACE_CUE.search(text, max(0, m.start() - 12), m.start()):
                        found.append((m.start(), m.start() + len(name), "LOCATION"))
                    break
        return found

    def _addressee(self, text: str, candidates: List[Candidate]) -> List[Candidate]:
        """A line holding only a name, right above a line that starts with a street address."""
        found = []
        for start, _, label in candidates:
            if label != "LOCATION" or not text[start:start + 1].isdigit() or (start and text[start - 1] != "\n"):
                continue
            line_start = text.rfind("\n", 0, max(start - 1, 0)) + 1
            span = self.take_name(text, line_start, "lexicon")
            if span and text[span[1]:start].strip() == "":
                found.append((span[0], span[1], "NAME"))
        return found


def _skip_blanks(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def _overlaps(candidate: Candidate, spans: List[Tuple[int, int]]) -> bool:
    return any(candidate[0] < end and start < candidate[1] for start, end in spans)


def merge_candidates(candidates: List[Candidate]) -> List[Candidate]:
    """Merge overlapping candidates into their union, labelled by LABEL_PRIORITY.

    A union rather than a choice: a part of a PHI string left unmasked is a leak.
    """
    merged: List[List[Any]] = []
    for start, end, label in sorted(candidates):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            if LABEL_PRIORITY.index(label) < LABEL_PRIORITY.index(last[2]):
                last[2] = label
        else:
            merged.append([start, end, label])
    return [(s, e, label) for s, e, label in merged]
