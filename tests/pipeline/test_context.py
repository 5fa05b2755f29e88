"""Tests for `medical_context`: scope, lists, pseudo-triggers, terminations, backward triggers,
sections, user rules, serialization, multiprocessing and bad input. All notes are invented."""
import pickle
from typing import Dict, List, Sequence, Tuple

import pytest
import spacy
from spacy.tokens import Doc, Span
from spacy.training import Example

import spacy_medical.registry  # noqa: F401
from spacy_medical.labels import ASSERTIONS
from spacy_medical.pipeline.assertion_scoring import assertion_score
from spacy_medical.pipeline.context import MedicalContext

# (entity text, label); an entity is found at its first occurrence after the previous one.
Ents = Sequence[Tuple[str, str]]


@pytest.fixture(scope="module")
def nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_sentences")
    nlp.add_pipe("medical_context")
    nlp.initialize()
    return nlp


def make_doc(nlp, text: str, ents: Ents, section: str = None) -> Doc:
    doc = nlp.make_doc(text)
    if "medical_sentences" in nlp.pipe_names:
        doc = nlp.get_pipe("medical_sentences")(doc)
    spans, pos = [], 0
    for ent_text, label in ents:
        start = text.index(ent_text, pos)
        span = doc.char_span(start, start + len(ent_text), label=label)
        assert span is not None, ent_text
        spans.append(span)
        pos = start + len(ent_text)
    doc.ents = spans
    if section:
        for ent in doc.ents:
            ent._.section = section
    return doc


def flags(doc: Doc) -> List[Dict[str, bool]]:
    return [{q: ent._.get(q) for q in ASSERTIONS if ent._.get(q)} for ent in doc.ents]


def run(nlp, text: str, ents: Ents, section: str = None) -> List[set]:
    doc = nlp.get_pipe("medical_context")(make_doc(nlp, text, ents, section))
    return [set(f) for f in flags(doc)]


S, D = "SYMPTOM", "DISEASE"
N, U, H, Y, F = "negated", "uncertain", "historical", "hypothetical", "family"

CASES = [
    # the example of the issue
    ("No fever, but reports cough. Mother had breast cancer.",
     [("fever", S), ("cough", S), ("breast cancer", D)], [{N}, set(), {F}]),
    # lists: commas inside a list do not end the scope
    ("Patient denies fever, chills, or cough.", [("fever", S), ("chills", S), ("cough", S)], [{N}, {N}, {N}]),
    ("No nausea, vomiting, diarrhea, or abdominal pain.",
     [("nausea", S), ("vomiting", S), ("diarrhea", S), ("abdominal pain", S)], [{N}, {N}, {N}, {N}]),
    # termination: conjunctions, clause punctuation, clause starts after a comma
    ("Denies chest pain but endorses palpitations.", [("chest pain", S), ("palpitations", S)], [{N}, set()]),
    ("No vomiting; abdominal pain persists.", [("vomiting", S), ("abdominal pain", S)], [{N}, set()]),
    ("He does not take aspirin, has headache.", [("headache", S)], [set()]),
    ("No rash, however itching is present.", [("rash", S), ("itching", S)], [{N}, set()]),
    ("Denies dysuria except for urgency.", [("dysuria", S), ("urgency", S)], [{N}, set()]),
    # pseudo-triggers
    ("No increase in shortness of breath.", [("shortness of breath", S)], [set()]),
    ("No change in her tremor.", [("tremor", S)], [set()]),
    ("Not only fatigue but also weight loss.", [("fatigue", S), ("weight loss", S)], [set(), set()]),
    ("He has gram negative bacteremia.", [("bacteremia", D)], [set()]),
    # backward triggers
    ("Edema is absent.", [("Edema", S)], [{N}]),
    ("Pneumonia was ruled out.", [("Pneumonia", D)], [{N}]),
    ("Fever: none.", [("Fever", S)], [{N}]),
    ("Murmurs were not heard.", [("Murmurs", S)], [{N}]),
    ("Hypertension, proteinuria, and rash were not observed.",
     [("Hypertension", D), ("proteinuria", S), ("rash", S)], [{N}, {N}, {N}]),
    ("H/o seizures, none in five years.", [("seizures", S)], [{H}]),
    # scope window: a trigger does not reach past max_scope tokens
    ("No " + "word " * 20 + "fever.", [("fever", S)], [set()]),
    # the other qualifiers
    ("Possible pneumonia in the right lower lobe.", [("pneumonia", D)], [{U}]),
    ("Cannot rule out pulmonary embolism.", [("pulmonary embolism", D)], [{U}]),
    ("? pneumothorax on the film.", [("pneumothorax", S)], [{U}]),
    ("Cellulitis versus contact dermatitis.", [("Cellulitis", D), ("contact dermatitis", D)], [{U}, {U}]),
    ("History of asthma.", [("asthma", D)], [{H}]),
    ("No history of asthma.", [("asthma", D)], [{N, H}]),
    ("History of stroke without residual weakness.", [("stroke", D), ("weakness", S)], [{H}, {N}]),
    ("History of present illness: chest pain for two hours.", [("chest pain", S)], [set()]),
    ("Return to the ED if chest pain develops.", [("chest pain", S)], [{Y}]),
    ("Return if fever develops; currently no fever.", [("fever", S), ("fever", S)], [{Y}, {N}]),
    ("Family history of colon cancer.", [("colon cancer", D)], [{F}]),
    ("Colon cancer in his father.", [("Colon cancer", D)], [{F}]),
    ("Mother has migraines and the patient has migraines too.", [("migraines", D), ("migraines", D)], [{F}, set()]),
    ("Father had depression; patient denies depression.", [("depression", D), ("depression", D)], [{F}, {N}]),
    # affirmed
    ("Patient presents with chest pain and diaphoresis.", [("chest pain", S), ("diaphoresis", S)], [set(), set()]),
]


@pytest.mark.parametrize("text,ents,expected", CASES, ids=[c[0][:40] for c in CASES])
def test_context_cases(nlp, text, ents, expected):
    assert run(nlp, text, ents) == expected


@pytest.mark.parametrize(
    "section,expected",
    [("family_history", {F}), ("past_medical_history", {H}), ("past_surgical_history", {H}),
     ("review_of_systems", set()), (None, set())],
)
def test_context_sections(nlp, section, expected):
    assert run(nlp, "Diabetes.", [("Diabetes", D)], section=section) == [expected]


def test_context_sections_combine_with_triggers(nlp):
    assert run(nlp, "Negative for early coronary disease.", [("early coronary disease", D)],
               section="family_history") == [{N, F}]


def test_context_sections_can_be_switched_off():
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_context", config={"use_sections": False})
    nlp.initialize()
    assert run(nlp, "Diabetes.", [("Diabetes", D)], section="family_history") == [set()]


def test_context_custom_section_map():
    nlp = spacy.blank("en")
    # The configured map extends the default one; an empty list switches a default off.
    nlp.add_pipe("medical_context",
                 config={"section_qualifiers": {"plan": ["hypothetical"], "family_history": []}})
    nlp.initialize()
    assert run(nlp, "Diabetes.", [("Diabetes", D)], section="plan") == [{Y}]
    assert run(nlp, "Diabetes.", [("Diabetes", D)], section="family_history") == [set()]


def test_context_ent_types(nlp):
    doc = make_doc(nlp, "No aspirin or fever.", [("aspirin", "DRUG"), ("fever", S)])
    nlp.get_pipe("medical_context")(doc)
    assert doc.ents[0]._.negated is False  # DRUG is not a target type by default
    assert doc.ents[1]._.negated is True


def test_context_trigger_inside_entity_does_not_qualify_it(nlp):
    assert run(nlp, "Reports no appetite.", [("no appetite", S)]) == [set()]


def test_context_without_sentence_boundaries_uses_whole_doc():
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_context")
    nlp.initialize()
    doc = nlp.make_doc("Denies fever, chills.")
    doc.ents = [Span(doc, 2, 3, label=S), Span(doc, 4, 5, label=S)]
    assert [e._.negated for e in nlp(doc).ents] == [True, True]


def _ruler_nlp(rules=None):
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_sentences")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    nlp.add_pipe("medical_context")
    nlp.initialize()  # resets the ruler's patterns: add them afterwards
    ruler.add_patterns([{"label": S, "pattern": w} for w in ("fever", "cough", "chills", "rash")]
                       + [{"label": D, "pattern": "breast cancer"}])
    if rules:
        nlp.get_pipe("medical_context").initialize(rules=rules)
    return nlp


TEXTS = [
    "No fever, but reports cough. Mother had breast cancer.",
    "Fever nixed. Rash present.",
    "",
    "Nothing relevant here.",
    "Denies fever, chills, or cough.",
]


def _out(docs) -> List[List[Tuple[str, Dict[str, bool]]]]:
    return [[(e.text, {q: e._.get(q) for q in ASSERTIONS}) for e in doc.ents] for doc in docs]


def test_context_user_rules_via_initialize():
    nlp = _ruler_nlp()
    assert nlp("Fever nixed.").ents[0]._.negated is False
    nlp = _ruler_nlp(rules=[{"literal": "nixed", "category": "negated", "direction": "backward"}])
    assert nlp("Fever nixed.").ents[0]._.negated is True


def test_context_user_rules_via_config():
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_context")
    nlp.config["initialize"]["components"]["medical_context"] = {
        "rules": [{"literal": "nixed", "category": "negated", "direction": "backward"}]
    }
    nlp.initialize()
    doc = nlp.make_doc("Fever nixed.")
    doc.ents = [Span(doc, 0, 1, label=S)]
    assert nlp(doc).ents[0]._.negated is True


def test_context_replace_default_rules():
    nlp = spacy.blank("en")
    context = nlp.add_pipe("medical_context")
    context.initialize(rules=[{"literal": "nixed", "category": "negated", "direction": "backward"}],
                       use_default_rules=False)
    assert len(context.rules) == 1
    doc = nlp.make_doc("No fever.")
    doc.ents = [Span(doc, 1, 2, label=S)]
    assert context(doc).ents[0]._.negated is False


def test_context_to_disk_round_trip_keeps_user_rules(tmp_path):
    nlp = _ruler_nlp(rules=[{"literal": "nixed", "category": "negated", "direction": "backward"}])
    before = _out(nlp.pipe(TEXTS))
    nlp.to_disk(tmp_path / "model")
    assert (tmp_path / "model" / "medical_context" / "rules.jsonl").exists()
    loaded = spacy.load(tmp_path / "model")
    assert _out(loaded.pipe(TEXTS)) == before
    assert loaded("Fever nixed.").ents[0]._.negated is True


def test_context_to_bytes_round_trip():
    nlp = _ruler_nlp(rules=[{"literal": "nixed", "category": "negated", "direction": "backward"}])
    data = nlp.get_pipe("medical_context").to_bytes()
    other = _ruler_nlp()
    other.get_pipe("medical_context").from_bytes(data)
    assert other("Fever nixed.").ents[0]._.negated is True


def test_context_pipe_matches_call_and_multiprocess():
    nlp = _ruler_nlp()
    single = _out([nlp(t) for t in TEXTS])
    assert _out(nlp.pipe(TEXTS)) == single
    assert _out(nlp.pipe(TEXTS, n_process=2, batch_size=2)) == single
    assert single[0] == [
        ("fever", {N: True, U: False, H: False, Y: False, F: False}),
        ("cough", {N: False, U: False, H: False, Y: False, F: False}),
        ("breast cancer", {N: False, U: False, H: False, Y: False, F: True}),
    ]


def test_context_pickle():
    nlp = _ruler_nlp()
    context = pickle.loads(pickle.dumps(nlp.get_pipe("medical_context")))
    doc = nlp.make_doc("No fever.")
    doc.ents = [Span(doc, 1, 2, label=S)]
    assert context(doc).ents[0]._.negated is True


def test_context_config_round_trip():
    nlp = _ruler_nlp()
    config = nlp.config.to_str()
    rebuilt = spacy.util.load_model_from_config(spacy.util.load_config_from_str(config), auto_fill=True)
    assert rebuilt.get_pipe("medical_context").max_scope == nlp.get_pipe("medical_context").max_scope
    assert "medical_context" in [p for p, _ in rebuilt.pipeline]


def test_context_works_without_initialize():
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_context")
    doc = nlp.make_doc("Denies fever.")
    doc.ents = [Span(doc, 1, 2, label=S)]
    assert nlp(doc).ents[0]._.negated is True


# --- bad input ------------------------------------------------------------------------------
def test_context_empty_doc_and_no_ents(nlp):
    assert len(nlp("")) == 0
    doc = nlp("No fever today.")
    assert list(doc.ents) == []


def test_context_entity_crossing_sentence_boundary(nlp):
    doc = nlp.make_doc("Denies chest. Pain today. No fever.")
    nlp.get_pipe("medical_sentences")(doc)
    assert doc[3].is_sent_start  # "Pain" starts a sentence; the entity crosses the boundary
    doc.ents = [Span(doc, 2, 5, label=S), Span(doc, 8, 9, label=S)]
    first = flags(nlp.get_pipe("medical_context")(doc))
    second = flags(nlp.get_pipe("medical_context")(doc))
    assert first == second
    assert first[1] == {N: True}


def test_context_overlapping_rules_are_deterministic():
    rules = [
        {"literal": "no", "category": "uncertain", "direction": "forward"},
        {"literal": "no fever", "category": "pseudo"},
        {"literal": "fever", "category": "termination"},
        {"literal": "no", "category": "negated", "direction": "backward"},
        {"pattern": [{"LOWER": "no"}], "category": "family", "direction": "forward"},
    ]
    results = set()
    for _ in range(3):
        nlp = _ruler_nlp(rules=rules)
        results.add(repr(_out(nlp.pipe(["No fever, no cough, no rash.", "Cough no rash no."]))))
    assert len(results) == 1


@pytest.mark.parametrize(
    "rule,code",
    [({"category": "negated"}, "E100"), ({"literal": "x", "category": "nope"}, "E101"),
     ({"literal": "x", "category": "negated", "direction": "sideways"}, "E102"),
     ({"literal": "x", "category": "negated", "max_scope": 0}, "E100"), ("not a dict", "E100")],
)
def test_context_bad_rules(rule, code):
    nlp = spacy.blank("en")
    context = nlp.add_pipe("medical_context")
    with pytest.raises(ValueError, match="rule 0"):
        context.initialize(rules=[rule], use_default_rules=False)


def test_context_bad_config():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError):
        nlp.add_pipe("medical_context", config={"max_scope": 0})
    with pytest.raises(ValueError):
        nlp.add_pipe("medical_context", config={"section_qualifiers": {"plan": ["bogus"]}})


# --- scoring --------------------------------------------------------------------------------
def test_assertion_scorer_and_nlp_evaluate():
    nlp = _ruler_nlp()
    examples = []
    for text, ents, gold in [("No fever, but reports cough.", [("fever", S), ("cough", S)], [{N}, {N}]),
                             ("Mother had breast cancer.", [("breast cancer", D)], [{F}])]:
        pred = make_doc(nlp, text, ents)
        ref = make_doc(nlp, text, ents)
        for ent, qs in zip(ref.ents, gold):
            for q in qs:
                ent._.set(q, True)
        examples.append(Example(pred, ref))
    scores = nlp.evaluate(examples)
    assert scores["assertion_negated_p"] == 1.0
    assert scores["assertion_negated_r"] == 0.5
    assert scores["assertion_family_f"] == 1.0
    assert scores["assertion_uncertain_p"] is None
    assert assertion_score(examples)["assertion_negated_r"] == 0.0  # predicted docs not run yet
    for eg in examples:
        nlp.get_pipe("medical_context")(eg.predicted)
    direct = assertion_score(examples)
    assert (direct["assertion_negated_p"], direct["assertion_negated_r"]) == (1.0, 0.5)
    assert assertion_score(examples, ent_types=["DISEASE"])["assertion_negated_r"] is None


def test_assertion_scorer_is_registered():
    scorer = spacy.registry.scorers.get("spacy-medical.assertion_scorer.v1")()
    assert scorer is assertion_score
    assert isinstance(spacy.blank("en").add_pipe("medical_context"), MedicalContext)


def test_context_with_medical_sections():
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_sentences")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    nlp.add_pipe("medical_sections")
    nlp.add_pipe("medical_context")
    nlp.initialize()
    ruler.add_patterns([{"label": D, "pattern": p} for p in ("diabetes", "asthma", "hypertension")]
                       + [{"label": S, "pattern": "fever"}])
    doc = nlp("HPI: Fever for two days.\n\nFAMILY HISTORY:\nDiabetes in mother.\n\n"
              "PAST MEDICAL HISTORY:\nAsthma. No hypertension.\n")
    assert [(e.text, set(f)) for e, f in zip(doc.ents, flags(doc))] == [
        ("Fever", set()), ("Diabetes", {F}), ("Asthma", {H}), ("hypertension", {N, H})
    ]


@pytest.mark.parametrize(
    "text,ents,expected",
    [
        # an NER that swallowed the denial verb: the entity is shortened and negated
        ("Denies fever. Has cough.", [("Denies fever", D), ("cough", S)], [("fever", D, {N}), ("cough", S, set())]),
        ("Negative for chest pain.", [("Negative for chest pain", S)], [("chest pain", S, {N})]),
        # "no" is not a trim cue: "no appetite" stays one entity, and its own "no" does not negate it
        ("Reports no appetite.", [("no appetite", S)], [("no appetite", S, set())]),
        # an entity that is only the cue is left alone
        ("Denies.", [("Denies", S)], [("Denies", S, set())]),
    ],
)
def test_leading_denial_cue_is_trimmed_from_the_entity(nlp, text, ents, expected):
    doc = nlp.get_pipe("medical_context")(make_doc(nlp, text, ents))
    assert [(e.text, e.label_, {q for q in ASSERTIONS if e._.get(q)}) for e in doc.ents] == expected


def test_trimmed_entity_keeps_its_section_and_the_section_qualifier(nlp):
    doc = make_doc(nlp, "Denies breast cancer.", [("Denies breast cancer", D)])
    doc.ents[0]._.section = "family_history"
    doc = nlp.get_pipe("medical_context")(doc)
    ent = doc.ents[0]
    assert (ent.text, ent._.section) == ("breast cancer", "family_history")
    assert {q for q in ASSERTIONS if ent._.get(q)} == {N, F}


def test_trim_rule_flag_is_validated():
    nlp = spacy.blank("en")
    context = nlp.add_pipe("medical_context")
    with pytest.raises(ValueError, match="trim_from_entity"):
        context.initialize(rules=[{"literal": "denies", "category": "negated", "trim_from_entity": "yes"}])
