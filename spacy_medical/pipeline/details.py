"""`medical_details`: attributes of drugs and tests, their links and normalised values.

Sets `doc.spans["attributes"]` (DOSE, ROUTE, FREQUENCY, DURATION, VALUE), `span._.value` on each
attribute (`details_values.normalize`), `ent._.attributes` on DRUG and TEST entities (the
attribute spans that modify them), and adds TEST (and PROCEDURE) entities to `doc.ents` where they
overlap no existing entity, so the NER's DISEASE, SYMPTOM and DRUG are never changed.

Spans come from two sources, chosen per label by `sources` (measured on MACCROBAT dev, see
docs/details.md):
- "rules": regex rules (`rules/details_attributes.jsonl`) and TEST names
  (`rules/details_tests.jsonl`), loaded in `initialize` and written by `to_disk`;
- "model": the spans a trained span model placed before this component wrote to
  `doc.spans[model_spans_key]`: the CNN NER `medical_details_ner` (configs/details_ner.cfg, the
  one chosen on dev) or the `spancat` (configs/details_spancat.cfg);
- "both": the union, longer span first where they overlap.
A Doc without `model_spans_key` (no span model in the pipeline) takes every label from the rules.
"""
import re
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Pattern, Sequence, Tuple, Union

import srsly
from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.pipeline.spancat import spancat_score
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import SimpleFrozenList, ensure_path, filter_spans

from ..errors import Errors
from .details_links import link_learned, link_nearest
from .details_values import normalize

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"
ATTRIBUTE_RULES = RULES_DIR / "details_attributes.jsonl"
TEST_RULES = RULES_DIR / "details_tests.jsonl"
# The learned linker's weights, fitted on MACCROBAT train (`spacy-medical train-details-linker`).
LINK_WEIGHTS = RULES_DIR / "details_link_weights.json"
ATTRIBUTE_LABELS = ("DOSE", "ROUTE", "FREQUENCY", "DURATION", "VALUE")
ENTITY_LABELS = ("TEST", "PROCEDURE")
SOURCES = ("rules", "model", "both", "none")
LINKERS = ("nearest", "learned")


Rule = Tuple[str, Pattern, Optional[Pattern]]  # (label, pattern, pattern the preceding text must not end with)


def compile_rules(rules: Iterable[Dict[str, Any]], source: str = "<rules>") -> List[Rule]:
    """Check and compile attribute and TEST rules.

    rules (Iterable[Dict[str, Any]]): JSON objects: {"define": NAME, "regex": ...} macros,
        {"label": ..., "regex": ..., "case": bool} rules, {"label": ..., "term": ..., "case": bool}
        terms (matched as whole words), or {"comment": ...}. A rule's optional "not_after" regex
        drops matches whose preceding text (same line, up to 40 characters) it matches at the
        end, e.g. reference ranges ("normal <40 U/L").
    source (str): Where the rules come from, for error messages.
    RETURNS (List[Rule]): (label, pattern, not_after pattern or None) per rule or term.
    """
    macros: Dict[str, str] = {}
    compiled = []
    # Terms of one label and case are joined into one alternation: one pass over the text.
    terms: Dict[Tuple[str, bool], List[str]] = {}
    for line, rule in enumerate(rules, start=1):
        if not isinstance(rule, dict) or set(rule) == {"comment"}:
            if not isinstance(rule, dict):
                raise ValueError(Errors.E700.format(path=source, line=line, reason="not a JSON object"))
            continue
        if "define" in rule:
            macros[rule["define"]] = _expand(rule.get("regex", ""), macros, source, line)
            continue
        label = rule.get("label")
        if label not in ATTRIBUTE_LABELS + ENTITY_LABELS:
            raise ValueError(Errors.E701.format(path=source, line=line, label=label, known=", ".join(ATTRIBUTE_LABELS + ENTITY_LABELS)))
        if "term" in rule:
            terms.setdefault((label, bool(rule.get("case", False))), []).append(rule["term"])
            continue
        if "regex" in rule:
            regex = _expand(rule["regex"], macros, source, line)
            case = rule.get("case", True)
        else:
            raise ValueError(Errors.E700.format(path=source, line=line, reason="a rule needs 'regex' or 'term'"))
        try:
            not_after = re.compile(_expand(rule["not_after"], macros, source, line) + "$", re.IGNORECASE) if rule.get("not_after") else None
            compiled.append((label, re.compile(regex, 0 if case else re.IGNORECASE), not_after))
        except re.error:
            raise ValueError(Errors.E702.format(path=source, line=line)) from None
    for (label, case), words in terms.items():
        alternation = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
        compiled.append((label, re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", 0 if case else re.IGNORECASE), None))
    return compiled


def _expand(regex: str, macros: Dict[str, str], source: str, line: int) -> str:
    def replace(match: "re.Match") -> str:
        name = match.group(1)
        if name not in macros:
            raise ValueError(Errors.E703.format(path=source, line=line, name=name))
        return macros[name]

    # Macro names are upper-case words in braces, so regex quantifiers like {2,3} are left alone.
    return re.sub(r"\{([A-Z_]+)\}", replace, regex)


def rule_spans(doc: Doc, rules: Sequence[Rule]) -> List[Span]:
    """Spans matched by the rules; the named group 'span' (if any) is the part kept.

    A match whose edges fall inside a token is widened to token boundaries only when that adds
    no letters or digits (e.g. a trailing "." of "b.i.d."); otherwise it is dropped.
    """
    text = doc.text
    spans = []
    for label, pattern, not_after in rules:
        for match in pattern.finditer(text):
            group = "span" if "span" in pattern.groupindex else 0
            start, end = match.span(group)
            if not_after is not None and not_after.search(text[max(0, start - 40):start].rsplit("\n", 1)[-1]):
                continue
            span = doc.char_span(start, end, label=label)
            if span is None:
                span = doc.char_span(start, end, label=label, alignment_mode="expand")
                if span is None or re.search(r"\w", text[span.start_char:start] + text[end:span.end_char]):
                    continue
            spans.append(span)
    return spans


class MedicalDetails(Pipe):
    """Attribute spans of drugs and tests, TEST/PROCEDURE entities, links and normalised values."""

    def __init__(
        self,
        nlp: Language,
        name: str = "medical_details",
        *,
        spans_key: str = "attributes",
        model_spans_key: str = "details",
        sources: Dict[str, str],
        max_link_gap: int = 10,
        linker: str = "nearest",
        scorer: Optional[Callable] = None,
    ):
        if linker not in LINKERS:
            raise ValueError(Errors.E707.format(linker=linker, known=", ".join(LINKERS)))
        unknown = {label: source for label, source in sources.items() if source not in SOURCES or label not in ATTRIBUTE_LABELS + ENTITY_LABELS}
        if unknown:
            raise ValueError(Errors.E704.format(entries=unknown, labels=", ".join(ATTRIBUTE_LABELS + ENTITY_LABELS), sources=", ".join(SOURCES)))
        self.name = name
        self.vocab = nlp.vocab
        self.cfg = {"spans_key": spans_key, "model_spans_key": model_spans_key, "sources": dict(sources), "max_link_gap": max_link_gap, "linker": linker}
        self.scorer = scorer
        self.attribute_rules: List[Dict[str, Any]] = list(srsly.read_jsonl(ATTRIBUTE_RULES))
        self.test_rules: List[Dict[str, Any]] = list(srsly.read_jsonl(TEST_RULES))
        self.link_weights: Optional[Dict[str, float]] = srsly.read_json(LINK_WEIGHTS)
        self._compile()

    def _compile(self) -> None:
        self._rules = compile_rules(self.attribute_rules, "attribute rules") + compile_rules(self.test_rules, "TEST rules")

    def initialize(
        self,
        get_examples: Optional[Callable[[], Iterable[Example]]] = None,
        *,
        nlp: Optional[Language] = None,
        attribute_rules: Optional[Iterable[Dict[str, Any]]] = None,
        test_rules: Optional[Iterable[Dict[str, Any]]] = None,
        link_weights: Optional[Union[str, Path, Dict[str, float]]] = None,
    ) -> None:
        """Load the rules (the given ones, or the package's files) and the learned linker's weights.

        attribute_rules (Optional[Iterable[Dict]]): Rules for DOSE, ROUTE, FREQUENCY, DURATION, VALUE.
        test_rules (Optional[Iterable[Dict]]): TEST (and PROCEDURE) names.
        link_weights (Optional[Union[str, Path, Dict]]): Pair classifier weights or a JSON file of
            them (`spacy-medical train-details-linker`); default: the package's.
        """
        if link_weights is None:
            link_weights = LINK_WEIGHTS
        if isinstance(link_weights, (str, Path)):
            link_weights = srsly.read_json(link_weights)
        if self.cfg["linker"] == "learned" and not link_weights:
            raise ValueError(Errors.E708)
        self.link_weights = dict(link_weights) if link_weights else None
        self.attribute_rules = list(attribute_rules) if attribute_rules is not None else list(srsly.read_jsonl(ATTRIBUTE_RULES))
        self.test_rules = list(test_rules) if test_rules is not None else list(srsly.read_jsonl(TEST_RULES))
        self._compile()

    def source(self, doc: Doc, label: str) -> str:
        """Where `label`'s spans come from in this Doc (rules when it has no model spans)."""
        chosen = self.cfg["sources"].get(label, "rules")
        if chosen in ("model", "both") and self.cfg["model_spans_key"] not in doc.spans:
            return "rules"
        return chosen

    def find_spans(self, doc: Doc) -> List[Span]:
        """All candidate spans of every label, from the sources configured for it."""
        by_source = {"rules": rule_spans(doc, self._rules), "model": list(doc.spans.get(self.cfg["model_spans_key"], []))}
        spans = []
        for label in ATTRIBUTE_LABELS + ENTITY_LABELS:
            chosen = self.source(doc, label)
            for name in ("rules", "model"):
                if chosen in (name, "both"):
                    spans.extend(s for s in by_source[name] if s.label_ == label)
        return spans

    def __call__(self, doc: Doc) -> Doc:
        spans = self.find_spans(doc)
        attributes = filter_spans([s for s in spans if s.label_ in ATTRIBUTE_LABELS])
        doc.spans[self.cfg["spans_key"]] = attributes
        taken = {i for ent in doc.ents for i in range(ent.start, ent.end)} | {i for s in attributes for i in range(s.start, s.end)}
        new_entities = [s for s in filter_spans([s for s in spans if s.label_ in ENTITY_LABELS]) if not any(i in taken for i in range(s.start, s.end))]
        if new_entities:
            doc.set_ents(new_entities, default="unmodified")
        if self.cfg["linker"] == "learned":
            if not self.link_weights:
                raise ValueError(Errors.E708)
            links = link_learned(doc, attributes, list(doc.ents), self.link_weights, self.cfg["max_link_gap"])
        else:
            links = link_nearest(doc, attributes, list(doc.ents), self.cfg["max_link_gap"])
        self.set_links(doc, attributes, links)
        return doc

    def set_links(self, doc: Doc, attributes: Sequence[Span], links: Sequence[Tuple[Span, Span]]) -> None:
        """Store the links and set `span._.value` on every attribute of `doc.spans[spans_key]`."""
        entity_of = {(a.start, a.end, a.label_): e for a, e in links}
        for attribute in doc.spans[self.cfg["spans_key"]]:
            entity = entity_of.get((attribute.start, attribute.end, attribute.label_))
            test = entity.text if entity is not None and entity.label_ == "TEST" else None
            attribute._.value = normalize(attribute.label_, attribute.text, test=test)
        # Character offsets, so the links survive serialisation (Doc.to_bytes, DocBin, n_process).
        doc._.attribute_links = [[a.start_char, a.end_char, a.label_, e.start_char, e.end_char, e.label_] for a, e in links]

    def to_disk(self, path: Any, *, exclude: Iterable[str] = SimpleFrozenList()) -> None:
        """Write the rules to `path/attributes.jsonl` and `path/tests.jsonl`."""
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_jsonl(path / "attributes.jsonl", self.attribute_rules)
        srsly.write_jsonl(path / "tests.jsonl", self.test_rules)
        if self.link_weights:
            srsly.write_json(path / "link_weights.json", self.link_weights)

    def from_disk(self, path: Any, *, exclude: Iterable[str] = SimpleFrozenList()) -> "MedicalDetails":
        """Load the rules written by `to_disk`."""
        path = ensure_path(path)
        for name in ("attributes.jsonl", "tests.jsonl"):
            if not (path / name).exists():
                raise ValueError(Errors.E705.format(path=path / name))
        self.attribute_rules = list(srsly.read_jsonl(path / "attributes.jsonl"))
        self.test_rules = list(srsly.read_jsonl(path / "tests.jsonl"))
        weights = path / "link_weights.json"
        self.link_weights = srsly.read_json(weights) if weights.exists() else None
        self._compile()
        return self

    def to_bytes(self, *, exclude: Iterable[str] = SimpleFrozenList()) -> bytes:
        return srsly.msgpack_dumps({"attributes": self.attribute_rules, "tests": self.test_rules, "link_weights": self.link_weights})

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = SimpleFrozenList()) -> "MedicalDetails":
        msg = srsly.msgpack_loads(data)
        self.attribute_rules, self.test_rules, self.link_weights = list(msg["attributes"]), list(msg["tests"]), msg.get("link_weights")
        self._compile()
        return self


def entity_attributes(span: Span) -> List[Span]:
    """The attribute spans linked to an entity (the getter of `span._.attributes`)."""
    doc = span.doc
    return [
        doc.char_span(a_start, a_end, label=a_label)
        for a_start, a_end, a_label, e_start, e_end, _ in doc._.attribute_links or []
        if (e_start, e_end) == (span.start_char, span.end_char)
    ]


def entity_details(span: Span) -> Dict[str, Any]:
    """The details of a DRUG or TEST entity for summaries and batch records.

    RETURNS (Dict[str, Any]): {"dose"|"route"|"frequency"|"duration"|"value": [{"text", "start_char",
        "end_char", "value"}, ...]} for the labels the entity has; `value` is the normalised value or None.
    """
    details: Dict[str, List[Dict[str, Any]]] = {}
    for attribute in span._.attributes:
        details.setdefault(attribute.label_.lower(), []).append(
            {"text": attribute.text, "start_char": attribute.start_char, "end_char": attribute.end_char,
             "value": attribute._.value}
        )
    return details


def make_details_scorer() -> Callable[..., Dict[str, Any]]:
    """Per-label P/R/F of `doc.spans["attributes"]` (strict token offsets)."""
    return lambda examples, **kwargs: spancat_score(examples, spans_key="attributes", allow_overlap=False)


# Chosen on MACCROBAT dev by `spacy-medical evaluate-details` ("chosen_sources" in metrics/details.json),
# for the span model chosen there ("chosen_model": the CNN NER of configs/details_ner.cfg).
DEFAULT_SOURCES = {"DOSE": "rules", "ROUTE": "rules", "FREQUENCY": "rules", "DURATION": "both", "VALUE": "rules", "TEST": "both", "PROCEDURE": "model"}

FACTORY_META = dict(
    default_config={
        "spans_key": "attributes",
        "model_spans_key": "details",
        "sources": DEFAULT_SOURCES,
        "max_link_gap": 10,
        "linker": "learned",
        "scorer": {"@scorers": "spacy-medical.details_scorer.v1"},
    },
    assigns=["doc.spans", "doc.ents", "span._.value", "span._.attributes", "doc._.attribute_links"],
    requires=["doc.ents"],
    default_score_weights={"spans_attributes_f": None, "spans_attributes_p": None, "spans_attributes_r": None},
)


def make_medical_details(
    nlp: Language, name: str, spans_key: str, model_spans_key: str, sources: Dict[str, str], max_link_gap: int, linker: str, scorer: Optional[Callable]
) -> MedicalDetails:
    return MedicalDetails(
        nlp, name, spans_key=spans_key, model_spans_key=model_spans_key, sources=sources, max_link_gap=max_link_gap, linker=linker, scorer=scorer
    )
