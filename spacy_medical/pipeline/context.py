"""`medical_context`: ConText-style assertion for clinical entities.

Sets five booleans on every target entity (DISEASE and SYMPTOM by default): `span._.negated`,
`span._.uncertain`, `span._.historical`, `span._.hypothetical` and `span._.family`.

The negation vocabulary is negspacy's `en_clinical` termset, turned into rule data at build time
(`scripts/build_context_rules.py` -> `rules/context_negex.jsonl`); `rules/context_clinical.jsonl`
adds what NegEx lacks: the other four qualifiers, backward triggers ("is absent", "none"),
pseudo-triggers and clause terminations. Differences from negspacy's Negex:

- A trigger's scope runs forward, backward or both, from the trigger to the first termination
  ("but", "however", ";", ", has", "reports", ...), the sentence edge, or `max_scope` tokens,
  whichever comes first. Negex negates to the end of the sentence.
- Commas do not end a forward scope, so lists work ("denies fever, chills, or cough"); a comma
  followed by a clause start (", has", ", reports", ", she") does. A comma ends a backward scope.
- Overlapping matches are resolved longest first, pseudo-triggers winning ties, so "no increase"
  and "cannot rule out" are never read as "no" and "not".
- An entity under a family-history section is `family`, under past medical or surgical history
  `historical` (`use_sections`, `section_qualifiers`), when `span._.section` is set.

Rules are data: a rule is a JSON object with `literal` (a phrase, matched on LOWER) or `pattern`
(a Matcher token pattern), a `category` (a qualifier, "pseudo" or "termination"), a `direction`
(forward, backward or bidirectional) and optional `max_scope` (tokens) and, for terminations,
`categories` (the qualifiers whose scopes it ends; default all) and `not_adjacent` (true: it does
not end a scope right after the trigger, as "had" in "has not had any pain") and `trim_from_entity`
(true, literals only: an entity that starts with this cue is shortened to exclude it, as
"Denies fever"). Users add rules with
`initialize(rules=[...])` or in the config:

    [initialize.components.medical_context.rules]
    @readers = "srsly.read_jsonl.v1"
    path = "my_context_rules.jsonl"
"""
from bisect import bisect_right
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import srsly
from spacy import util
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.pipeline import Pipe
from spacy.tokens import Doc, Span
from spacy.training import Example

from ..errors import Errors
from ..labels import ASSERTIONS, DISEASE, SYMPTOM
from .context_rules import PSEUDO, TERMINATION, RulesByKey, build_matchers, default_rules, validate_rule

RULES_FILE = "rules.jsonl"
# A later trigger of one of these categories ends a forward scope: in "history of stroke without
# deficits" the deficits are negated, not historical. Negation is not ended by "history of"
# ("no history of asthma" is negated and historical).
# Negation is ended by an uncertainty cue ("no fracture, consistent with possible infection").
TERMINATED_BY: Dict[str, Tuple[str, ...]] = {"historical": ("negated",), "negated": ("uncertain",)}
# Before a backward trigger a comma ends the scope ("H/o seizures, none in years"), unless the
# entity next to the trigger closes a list ("a, b, and c were not observed").
LIST_CONJUNCTIONS = {"and", "or", "nor"}
# "Family history of X", "maternal history of X": the history is the relative's, and
# `historical` describes the patient's own timeline, so a family entity is not historical.
CLEARED_BY_FAMILY = ("historical",)


class MedicalContext(Pipe):
    """Assigns negated/uncertain/historical/hypothetical/family to clinical entities.

    Saved with the pipeline: the rules (`rules.jsonl`; `exclude=["rules"]` leaves them out). The
    settings live in the pipeline's config.
    """

    def __init__(
        self,
        nlp: Language,
        name: str,
        *,
        ent_types: Sequence[str],
        max_scope: int,
        use_sections: bool,
        section_qualifiers: Dict[str, List[str]],
        scorer: Optional[Callable],
    ) -> None:
        """Create the component. Rules come from `initialize` or `from_disk`; a component that
        has neither loads the packaged rules on its first document.

        nlp (Language): The pipeline.
        name (str): The component name.
        ent_types (Sequence[str]): Entity labels to assert on; empty means all.
        max_scope (int): Longest scope in tokens for rules without their own `max_scope`.
        use_sections (bool): Set qualifiers from `span._.section`.
        section_qualifiers (Dict[str, List[str]]): Section name -> qualifiers it implies.
        scorer (Optional[Callable]): The scoring method.
        """
        if max_scope < 1:
            raise ValueError(Errors.E103.format(value=max_scope))
        self.nlp = nlp
        self.name = name
        self.ent_types = set(ent_types)
        self.max_scope = max_scope
        self.use_sections = use_sections
        self.section_qualifiers = {section: list(quals) for section, quals in section_qualifiers.items()}
        for section, quals in self.section_qualifiers.items():
            if set(quals) - set(ASSERTIONS):
                raise ValueError(Errors.E104.format(section=section, known=", ".join(ASSERTIONS)))
        self.scorer = scorer
        self.rules: Optional[List[Dict[str, Any]]] = None
        self._matchers: Optional[Tuple[PhraseMatcher, Matcher, RulesByKey]] = None
        # (match keys of trim_from_entity rules, their first words), built with the matchers
        self._trim: Optional[Tuple[set, set]] = None

    # --- rules ---------------------------------------------------------------------------
    def initialize(
        self,
        get_examples: Optional[Callable[[], Iterable[Example]]] = None,
        *,
        nlp: Optional[Language] = None,
        rules: Optional[Iterable[Dict[str, Any]]] = None,
        use_default_rules: bool = True,
    ) -> None:
        """Load the rules: the packaged ones (unless `use_default_rules` is False) plus `rules`.

        get_examples (Callable): Unused; rules are not learned.
        nlp (Language): The pipeline.
        rules (Iterable[Dict[str, Any]]): Extra rules, e.g. from `srsly.read_jsonl`.
        use_default_rules (bool): Start from the packaged rules.
        """
        base = default_rules() if use_default_rules else []
        self.set_rules(base + list(rules or []))

    def add_rules(self, rules: Iterable[Dict[str, Any]]) -> None:
        """Add rules to the current ones (the packaged ones if none are loaded yet)."""
        current = self.rules if self.rules is not None else default_rules()
        self.set_rules(current + list(rules))

    def set_rules(self, rules: Iterable[Dict[str, Any]]) -> None:
        """Replace all rules, validating each."""
        self.rules = [validate_rule(rule, i) for i, rule in enumerate(rules)]
        self._matchers = None
        self._trim = None

    def _build(self) -> Tuple[PhraseMatcher, Matcher, RulesByKey]:
        if self.rules is None:
            self.set_rules(default_rules())
        return build_matchers(self.nlp.vocab, self.nlp.make_doc, self.rules or [])

    # --- inference -----------------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        """Set the qualifiers on the target entities of one document.

        doc (Doc): The document, with `doc.ents` (and ideally sentence boundaries) set.
        RETURNS (Doc): The same document.
        """
        ents = [e for e in doc.ents if not self.ent_types or e.label_ in self.ent_types]
        if not ents:
            return doc
        ents = self._trim_leading_cues(doc, ents)
        values = {id(e): dict.fromkeys(ASSERTIONS, False) for e in ents}
        for category, start, end in self._scopes(doc, ents):
            for ent in ents:
                if ent.start < end and ent.end > start:
                    values[id(ent)][category] = True
        for ent in ents:
            flags = values[id(ent)]
            if self.use_sections:
                section = ent._.section
                for qualifier in self.section_qualifiers.get(section, ()) if section else ():
                    flags[qualifier] = True
            if flags["family"]:
                for qualifier in CLEARED_BY_FAMILY:
                    flags[qualifier] = False
            for qualifier, value in flags.items():
                ent._.set(qualifier, value)
        return doc

    def _trim_leading_cues(self, doc: Doc, ents: List[Span]) -> List[Span]:
        """Cut a leading cue of a `trim_from_entity` rule off an entity ("Denies fever" -> "fever").

        NER models trained on case reports and abstracts sometimes swallow a note's denial verb
        into the entity, which would put a pertinent negative on the problem list. The shortened
        entity keeps its label, and the cue then qualifies it like any other trigger.
        RETURNS (List[Span]): The target entities after trimming (doc.ents is updated).
        """
        if self._matchers is None:
            self._matchers = self._build()
        phrase_matcher, _, by_key = self._matchers
        if self._trim is None:
            rules = self.rules or []
            trim_rules = [r for r in rules if r.get("trim_from_entity") and "literal" in r]
            keys = {key for key, indices in by_key.items() if any(rules[i].get("trim_from_entity") for i in indices)}
            self._trim = (keys, {r["literal"].lower().split()[0] for r in trim_rules})
        trim_keys, first_words = self._trim
        if not trim_keys:
            return ents
        replaced = {}
        for ent in ents:
            if ent[0].lower_ not in first_words:  # cheap test before matching
                continue
            cue_end = max((end for key, start, end in phrase_matcher(ent) if key in trim_keys and start == ent.start), default=None)
            if cue_end is not None and cue_end < ent.end:
                trimmed = Span(doc, cue_end, ent.end, label=ent.label_)
                if Span.has_extension("section"):
                    # Set by medical_sections before this component; keep it for the new span.
                    trimmed._.section = ent._.section
                replaced[(ent.start, ent.end)] = trimmed
        if not replaced:
            return ents
        doc.ents = [replaced.get((e.start, e.end), e) for e in doc.ents]
        return [e for e in doc.ents if not self.ent_types or e.label_ in self.ent_types]

    def score(self, examples: Iterable[Example], **kwargs: Any) -> Dict[str, Any]:
        """Score the qualifiers with the configured scorer (`Language.evaluate` calls this)."""
        if self.scorer is None:
            return {}
        return self.scorer(examples, ent_types=sorted(self.ent_types) or None)

    def find_triggers(self, doc: Doc, ents: Sequence[Span] = ()) -> List[Tuple[int, int, List[int]]]:
        """Match the rules and resolve overlaps.

        doc (Doc): The document.
        ents (Sequence[Span]): Target entities; matches inside one are ignored, since a
            phrase cannot qualify itself ("no appetite" as an entity is not negated by its "no").
        RETURNS (List[Tuple[int, int, List[int]]]): (start, end, rule indices) sorted by start.
        """
        if self._matchers is None:
            self._matchers = self._build()
        phrase_matcher, matcher, by_key = self._matchers
        inside = bytearray(len(doc))
        for ent in ents:
            for i in range(ent.start, ent.end):
                inside[i] = 1
        candidates = []
        matches = list(phrase_matcher(doc))
        if len(matcher):  # the Matcher costs a pass over every token: only when patterns exist
            matches.extend(matcher(doc))
        for key, start, end in matches:
            if all(inside[start:end]):
                continue
            indices = by_key.get(key, [])
            is_pseudo = any(self.rules[i]["category"] == PSEUDO for i in indices)  # type: ignore[index]
            candidates.append((-(end - start), 0 if is_pseudo else 1, start, key, end, indices))
        # Longest match first, pseudo-triggers winning ties, then leftmost: deterministic.
        candidates.sort(key=lambda c: c[:4])
        taken = bytearray(len(doc))
        kept = []
        for _, _, start, _, end, indices in candidates:
            if any(taken[start:end]):
                continue
            for i in range(start, end):
                taken[i] = 1
            kept.append((start, end, indices))
        kept.sort()
        return kept

    def _scopes(self, doc: Doc, ents: Sequence[Span]) -> Iterator[Tuple[str, int, int]]:
        """Yield (qualifier, start, end) token ranges that each trigger governs."""
        triggers = self.find_triggers(doc, ents)  # loads the packaged rules if none are set
        rules = self.rules or []
        if not triggers:
            return
        # One sentence when the doc has no boundaries.
        if doc.has_annotation("SENT_START"):
            sent_bounds = [(s.start, s.end) for s in doc.sents]
        else:
            sent_bounds = [(0, len(doc))]
        sent_starts = [b[0] for b in sent_bounds]
        # Terminations: (start, end, directions, categories or None for all).
        stops: List[Tuple[int, int, str, Optional[frozenset], bool]] = []
        cues: List[Tuple[int, int, str, int]] = []  # (start, end, category, rule index)
        for start, end, indices in triggers:
            for r in indices:
                rule = rules[r]
                if rule["category"] == TERMINATION:
                    cats = rule.get("categories")
                    stops.append((start, end, rule["direction"], frozenset(cats) if cats else None,
                                  bool(rule.get("not_adjacent"))))
                elif rule["category"] != PSEUDO:
                    cues.append((start, end, rule["category"], r))
        for start, end, category, r in cues:
            rule = rules[r]
            window = rule.get("max_scope") or self.max_scope
            s_start, s_end = sent_bounds[bisect_right(sent_starts, start) - 1]
            if rule["direction"] in ("forward", "bidirectional"):
                limit = min(s_end, end + window)
                # `not_adjacent` terminations do not apply right after the trigger:
                # "has not had any pain" keeps "had" in scope.
                for b_start, _, direction, cats, not_adjacent in stops:
                    if end + not_adjacent <= b_start < limit and direction != "backward" and (cats is None or category in cats):
                        limit = b_start
                for c_start, _, c_category, _ in cues:
                    if end <= c_start < limit and c_category in TERMINATED_BY.get(category, ()):
                        limit = c_start
                if limit > end:
                    yield category, end, limit
            if rule["direction"] in ("backward", "bidirectional"):
                floor = max(s_start, start - window)
                in_list = self._closes_list(doc, ents, start)
                for b_start, b_end, direction, cats, _ in stops:
                    if in_list and doc[b_start].text == ",":
                        continue
                    if floor < b_end <= start and direction != "forward" and (cats is None or category in cats):
                        floor = b_end
                if start > floor:
                    yield category, floor, start

    @staticmethod
    def _closes_list(doc: Doc, ents: Sequence[Span], start: int) -> bool:
        """Whether an entity ending at `start` is the last item of a list ("..., and c")."""
        for ent in ents:
            if ent.end == start:
                return ent.start > 0 and doc[ent.start - 1].lower_ in LIST_CONJUNCTIONS
        return False

    # --- serialization -------------------------------------------------------------------
    def _rules_to_save(self) -> List[Dict[str, Any]]:
        return self.rules if self.rules is not None else default_rules()

    def _read_rules_file(self, path: Path) -> None:
        if not path.exists():
            raise ValueError(Errors.E105.format(path=path))
        self.set_rules(srsly.read_jsonl(path))

    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> None:
        """Write the rules to `path/rules.jsonl`."""
        util.to_disk(path, {RULES_FILE: lambda p: srsly.write_jsonl(p, self._rules_to_save())}, exclude)

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> "MedicalContext":
        """Load the rules written by `to_disk`."""
        util.from_disk(path, {RULES_FILE: self._read_rules_file}, exclude)
        return self

    def to_bytes(self, *, exclude: Iterable[str] = tuple()) -> bytes:
        return util.to_bytes({"rules": self._rules_to_save}, exclude)

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = tuple()) -> "MedicalContext":
        util.from_bytes(data, {"rules": self.set_rules}, exclude)
        return self

    def __reduce__(self) -> Tuple[Callable, Tuple[str, Dict[str, Any]]]:
        # Matchers hold C state; rebuild them in the receiving process (nlp.pipe(n_process=...)).
        return _unpickle_context, (self.name, {**self.__dict__, "_matchers": None, "_trim": None})


def _unpickle_context(name: str, state: Dict[str, Any]) -> MedicalContext:
    context = MedicalContext.__new__(MedicalContext)
    context.name = name
    context.__dict__.update(state)
    return context


FACTORY_META = dict(
    default_config={
        "ent_types": [DISEASE, SYMPTOM],
        "max_scope": 15,
        "use_sections": True,
        # An entity in one of these sections gets these qualifiers, whatever its sentence says.
        "section_qualifiers": {
            "family_history": ["family"],
            "past_medical_history": ["historical"],
            "past_surgical_history": ["historical"],
        },
        "scorer": {"@scorers": "spacy-medical.assertion_scorer.v1"},
    },
    assigns=["doc.ents"] + [f"span._.{q}" for q in ASSERTIONS],
    requires=["doc.ents", "token.is_sent_start"],
    default_score_weights={f"assertion_{q}_{m}": None for q in ASSERTIONS for m in "prf"},
)


def make_medical_context(
    nlp: Language,
    name: str,
    ent_types: List[str],
    max_scope: int,
    use_sections: bool,
    section_qualifiers: Dict[str, List[str]],
    scorer: Optional[Callable],
) -> MedicalContext:
    return MedicalContext(
        nlp, name, ent_types=ent_types, max_scope=max_scope, use_sections=use_sections,
        section_qualifiers=section_qualifiers, scorer=scorer,
    )
