"""Rules of `medical_context`: the packaged rule files, checking a rule, compiling them to matchers.

A rule is a JSON object with `literal` (a phrase, matched on LOWER) or `pattern` (a Matcher token
pattern), a `category` (a qualifier, "pseudo" or "termination"), a `direction` (forward, backward
or bidirectional) and optional `max_scope`, `categories`, `not_adjacent` and `trim_from_entity`
(see `medical_context`'s module docstring).
"""
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import srsly
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc
from spacy.vocab import Vocab

from ..errors import Errors
from ..labels import ASSERTIONS

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"
DEFAULT_RULE_FILES = ("context_negex.jsonl", "context_clinical.jsonl")
PSEUDO = "pseudo"
TERMINATION = "termination"
CATEGORIES = ASSERTIONS + (PSEUDO, TERMINATION)
DIRECTIONS = ("forward", "backward", "bidirectional")
# Match key -> indices of the rules that share it.
RulesByKey = Dict[int, List[int]]


def default_rules() -> List[Dict[str, Any]]:
    """Read the rules shipped with the package.

    RETURNS (List[Dict[str, Any]]): The rules of every file in DEFAULT_RULE_FILES, in order.
    """
    rules: List[Dict[str, Any]] = []
    for name in DEFAULT_RULE_FILES:
        rules.extend(srsly.read_jsonl(RULES_DIR / name))
    return rules


def validate_rule(rule: Any, index: int) -> Dict[str, Any]:
    """Check one rule and return it with its defaults filled in.

    rule (Any): The rule as read from JSONL or config.
    index (int): Its position, for the error message.
    RETURNS (Dict[str, Any]): A new dict with `direction` set.
    """
    if not isinstance(rule, dict):
        raise ValueError(Errors.E100.format(index=index, reason="not a JSON object"))
    if ("literal" in rule) == ("pattern" in rule):
        raise ValueError(Errors.E100.format(index=index, reason="needs exactly one of 'literal' or 'pattern'"))
    if "literal" in rule and (not isinstance(rule["literal"], str) or not rule["literal"].strip()):
        raise ValueError(Errors.E100.format(index=index, reason="'literal' must be a non-empty string"))
    if "pattern" in rule and (not isinstance(rule["pattern"], list) or not rule["pattern"]):
        raise ValueError(Errors.E100.format(index=index, reason="'pattern' must be a non-empty list"))
    category = rule.get("category")
    if category not in CATEGORIES:
        raise ValueError(Errors.E101.format(index=index, value=category, known=", ".join(CATEGORIES)))
    direction = rule.get("direction", "bidirectional" if category == TERMINATION else "forward")
    if direction not in DIRECTIONS:
        raise ValueError(Errors.E102.format(index=index, value=direction, known=", ".join(DIRECTIONS)))
    max_scope = rule.get("max_scope")
    if max_scope is not None and (not isinstance(max_scope, int) or max_scope < 1):
        raise ValueError(Errors.E100.format(index=index, reason="'max_scope' must be a positive integer"))
    if not isinstance(rule.get("not_adjacent", False), bool):
        raise ValueError(Errors.E100.format(index=index, reason="'not_adjacent' must be true or false"))
    if not isinstance(rule.get("trim_from_entity", False), bool):
        raise ValueError(Errors.E100.format(index=index, reason="'trim_from_entity' must be true or false"))
    categories = rule.get("categories")
    if categories is not None and (not isinstance(categories, list) or set(categories) - set(ASSERTIONS)):
        raise ValueError(Errors.E100.format(index=index, reason="'categories' must list qualifiers"))
    return {**rule, "direction": direction}


def build_matchers(vocab: Vocab, make_doc: Callable[[str], Doc], rules: List[Dict[str, Any]]) -> Tuple[PhraseMatcher, Matcher, RulesByKey]:
    """Compile checked rules into one PhraseMatcher (literals) and one Matcher (patterns).

    Rules with the same literal share one match key, so a phrase that is, e.g., both a
    forward and a backward trigger is one match carrying two rules.

    vocab (Vocab): The pipeline's vocab.
    make_doc (Callable[[str], Doc]): The pipeline's tokenizer, for the literals.
    rules (List[Dict[str, Any]]): The rules, checked by `validate_rule`.
    RETURNS (Tuple[PhraseMatcher, Matcher, RulesByKey]): The matchers and the rules of each key.
    """
    phrase_matcher = PhraseMatcher(vocab, attr="LOWER")
    matcher = Matcher(vocab)
    by_key: RulesByKey = {}
    literal_keys: Dict[str, str] = {}
    for i, rule in enumerate(rules):
        if "literal" in rule:
            text = rule["literal"].lower()
            key = "ctx_lit:" + text
            if text not in literal_keys:
                literal_keys[text] = key
                phrase_matcher.add(key, [make_doc(text)])
        else:
            key = "ctx_pat:" + srsly.json_dumps(rule["pattern"], sort_keys=True)
            if vocab.strings.add(key) not in by_key:
                matcher.add(key, [rule["pattern"]])
        by_key.setdefault(vocab.strings.add(key), []).append(i)
    return phrase_matcher, matcher, by_key
