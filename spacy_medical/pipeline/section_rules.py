"""Header rules of `medical_sections`: reading, checking and matching them in written notes.

A rule is {"pattern": "hpi", "section": "history_of_present_illness"} (a literal phrase,
case-insensitive) or {"regex": ..., "section": ...}. The package's rules are data in
`rules/sections.jsonl`; `HeaderRules` compiles any list of them into one regex over the note.
"""
import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, Tuple, Union

import srsly

from ..errors import Errors
from ..labels import SECTIONS

RULES_PATH = Path(__file__).resolve().parents[1] / "rules" / "sections.jsonl"
BULLET = re.compile(r"^[ \t]*(?:[-*•·]|\d{1,2}[.)])")
# A regex rule has no length to rank it by: it goes before every literal phrase.
REGEX_RANK = 1000


def read_rules(path: Union[str, Path]) -> List[Dict[str, str]]:
    """Read and check header rules from a JSONL file.

    path (Union[str, Path]): File with one {"pattern"|"regex": str, "section": str} per line.
    RETURNS (List[Dict[str, str]]): The rules.
    """
    return [check_rule(rule, source=str(path), line=i) for i, rule in enumerate(srsly.read_jsonl(path), start=1)]


def check_rule(rule: Any, source: str = "<rules>", line: int = 0) -> Dict[str, str]:
    """Check one header rule.

    rule (Any): The rule as read.
    source (str): Where it came from, for the error message.
    line (int): Its line in `source`.
    RETURNS (Dict[str, str]): A copy of the rule.
    """
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


class HeaderRules:
    """A list of checked header rules and the one regex that finds their headers."""

    def __init__(self, rules: Iterable[Dict[str, str]] = ()):
        self.rules: List[Dict[str, str]] = []
        self.add(rules)

    def add(self, rules: Iterable[Dict[str, str]]) -> None:
        """Check and add rules, then recompile."""
        for i, rule in enumerate(rules, start=1):
            self.rules.append(check_rule(rule, line=i))
        self._compile()

    def _compile(self) -> None:
        # Longest phrases first, so "assessment and plan" wins over "assessment".
        alts: List[Tuple[int, str, str]] = []
        for rule in self.rules:
            if rule.get("regex"):
                alts.append((REGEX_RANK, rule["regex"], rule["section"]))
            else:
                words = rule["pattern"].strip().split()
                alts.append((len(rule["pattern"]), r"\s+".join(re.escape(w) for w in words), rule["section"]))
        alts.sort(key=lambda a: -a[0])
        self._sections = [a[2] for a in alts]
        body = "|".join(f"(?P<r{i}>{a[1]})" for i, a in enumerate(alts)) or "(?!)"
        # A header phrase at the start of a line, then a colon or the end of the line.
        self._header_re = re.compile(rf"^[ \t]*(?:{body})[ \t]*(?P<colon>:)?[ \t]*(?=\S|$)", re.I | re.M)

    def find(self, text: str) -> List[Tuple[int, int, str]]:
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
