"""medical_details: attribute spans, TEST entities, links, values, serialisation, bad rules."""
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin

import spacy_medical.registry  # noqa: F401  (factories, extensions)
from spacy_medical.io.corpora import corpora_dir
from spacy_medical.pipeline.details import compile_rules, entity_details

TARGET = "Metoprolol 25 mg PO BID. BP 150/90 mmHg."
ROOT = Path(__file__).resolve().parents[2]


def details_nlp(drugs=("metoprolol", "aspirin"), config=None):
    """A tiny pipeline: sentences, an entity ruler standing in for the NER's DRUG, medical_details."""
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_sentences")
    ruler = nlp.add_pipe("entity_ruler")
    nlp.add_pipe("medical_details", config=config or {})
    nlp.initialize()
    ruler.add_patterns([{"label": "DRUG", "pattern": [{"LOWER": d}]} for d in drugs])
    return nlp


def summary(doc):
    return {(e.text, e.label_): {(a.text, a.label_): a._.value for a in e._.attributes} for e in doc.ents}


def test_target_sentence():
    doc = details_nlp()(TARGET)
    assert summary(doc) == {
        ("Metoprolol", "DRUG"): {
            ("25 mg", "DOSE"): {"value": 25.0, "unit": "mg"},
            ("PO", "ROUTE"): {"route": "oral"},
            ("BID", "FREQUENCY"): {"per_day": 2.0},
        },
        ("BP", "TEST"): {("150/90 mmHg", "VALUE"): {"systolic": 150.0, "diastolic": 90.0, "unit": "mmHg"}},
    }
    assert [s.label_ for s in doc.spans["attributes"]] == ["DOSE", "ROUTE", "FREQUENCY", "VALUE"]


def test_entity_details_for_summaries():
    text = "Aspirin 81 mg daily for 2 weeks."
    dose = [{"text": "81 mg daily", "start_char": 8, "end_char": 19, "value": {"value": 81.0, "unit": "mg", "per_day": 1.0}}]
    doc = details_nlp(config={"linker": "nearest"})(text)
    details = entity_details(doc.ents[0])
    assert details["dose"] == dose
    assert details["duration"][0]["value"] == {"value": 2.0, "unit": "week"}
    # The learned linker (the default) follows MACCROBAT, where a duration almost never modifies
    # a drug (12 of 219 Duration spans): it links the dose only.
    assert entity_details(details_nlp()(text).ents[0]) == {"dose": dose}


def test_attributes_link_within_their_sentence_only():
    doc = details_nlp()("Metoprolol was stopped.\nHemoglobin 9.7 g/dL, 25 mg.")
    assert summary(doc)[("Metoprolol", "DRUG")] == {}
    assert summary(doc)[("Hemoglobin", "TEST")] == {("9.7 g/dL", "VALUE"): {"value": 9.7, "unit": "g/dL"}}


def test_existing_entities_are_never_changed():
    nlp = details_nlp(drugs=("bp",))  # an NER that (wrongly) calls "BP" a drug keeps its entity
    doc = nlp(TARGET)
    assert [(e.text, e.label_) for e in doc.ents] == [("BP", "DRUG")]


def test_reference_ranges_are_not_values():
    doc = details_nlp()("Creatinine 2.1 mg/dL (normal range 0.6-1.2 mg/dL).")
    assert [s.text for s in doc.spans["attributes"]] == ["2.1 mg/dL"]


def test_empty_doc_and_pipe():
    nlp = details_nlp()
    assert len(nlp("").spans["attributes"]) == 0
    docs = list(nlp.pipe([TARGET, "", "No medications."]))
    assert [len(d.spans["attributes"]) for d in docs] == [4, 0, 0]


def test_model_spans_replace_rules_for_their_labels():
    nlp = spacy.blank("en")

    @spacy.Language.component("fake_details_model")
    def fake_model(doc):
        doc.spans["details"] = [doc.char_span(11, 19, label="DOSE")]  # "25 mg PO"
        return doc

    nlp.add_pipe("fake_details_model")
    nlp.add_pipe("medical_details", config={"sources": {"DOSE": "model", "ROUTE": "rules", "FREQUENCY": "rules"}})
    nlp.initialize()
    doc = nlp(TARGET)
    assert [(s.text, s.label_) for s in doc.spans["attributes"]] == [("25 mg PO", "DOSE"), ("BID", "FREQUENCY"), ("150/90 mmHg", "VALUE")]
    # Without the model's spans in the Doc the rules take over.
    nlp.remove_pipe("fake_details_model")
    doc = nlp(TARGET)
    assert [s.text for s in doc.spans["attributes"]][:1] == ["25 mg"]


def test_to_disk_keeps_edited_rules(tmp_path):
    nlp = details_nlp()
    nlp.get_pipe("medical_details").initialize(attribute_rules=[{"label": "DOSE", "regex": r"\d+ puffs"}], test_rules=[])
    nlp.get_pipe("entity_ruler").add_patterns([{"label": "DRUG", "pattern": "albuterol"}])
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    text = "albuterol 2 puffs PO, BP 120/80 mmHg"
    for pipeline in (nlp, loaded):
        doc = pipeline(text)
        assert [(s.text, s.label_) for s in doc.spans["attributes"]] == [("2 puffs", "DOSE")]
        assert [e.text for e in doc.ents] == ["albuterol"]
    assert nlp.get_pipe("medical_details").to_bytes() == loaded.get_pipe("medical_details").to_bytes()


def test_links_and_values_survive_docbin(tmp_path):
    doc = details_nlp()(TARGET)
    DocBin(store_user_data=True, docs=[doc]).to_disk(tmp_path / "d.spacy")
    restored = next(DocBin().from_disk(tmp_path / "d.spacy").get_docs(spacy.blank("en").vocab))
    assert summary(restored) == summary(doc)


@pytest.mark.parametrize("rules,message", [
    ([["not", "an", "object"]], "not a JSON object"),
    ([{"label": "DOSE"}], "needs 'regex' or 'term'"),
    ([{"label": "WEIGHT", "regex": "kg"}], "unknown label 'WEIGHT'"),
    ([{"label": "DOSE", "regex": "(unclosed"}], "does not compile"),
    ([{"label": "DOSE", "regex": "{UNDEFINED} mg"}], "unknown macro '{UNDEFINED}'"),
])
def test_bad_rules_name_the_file_and_line(rules, message):
    with pytest.raises(ValueError) as info:
        compile_rules(rules, "my_rules.jsonl")
    assert str(info.value).startswith("my_rules.jsonl, line 1:")
    assert message in str(info.value)


def test_macros_and_regex_quantifiers():
    rules = compile_rules([{"define": "N", "regex": r"\d{1,3}"}, {"label": "DOSE", "regex": "{N} mg"}])
    assert rules[0][1].pattern == r"\d{1,3} mg"


def test_bad_sources_are_refused():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="E704|sources"):
        nlp.add_pipe("medical_details", config={"sources": {"DOSE": "magic"}})


def test_from_disk_without_rules_files(tmp_path):
    nlp = details_nlp()
    nlp.to_disk(tmp_path / "p")
    (tmp_path / "p" / "medical_details" / "tests.jsonl").unlink()
    with pytest.raises(ValueError, match="tests.jsonl"):
        spacy.load(tmp_path / "p")


def test_span_model_config_builds():
    config = spacy.util.load_config(ROOT / "configs" / "details_spancat.cfg")
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    assert nlp.pipe_names == ["details_spancat"]
    assert nlp.get_pipe("details_spancat").key == "details"


@pytest.mark.corpora
def test_maccrobat_details_gold():
    if not (corpora_dir(required=False) / "maccrobat" / "brat").is_dir():
        pytest.skip("MACCROBAT not found under the corpora folder (set SPACY_MEDICAL_CORPORA)")
    from spacy_medical.io.maccrobat_details import read_details_gold

    golds = list(read_details_gold("dev"))
    assert len(golds) == 24
    labels = {label for g in golds for *_, label in g.spans}
    assert {"DOSE", "ROUTE", "VALUE", "TEST", "PROCEDURE", "DRUG"} <= labels
    links = [link for g in golds for link in g.links]
    assert len(links) > 300
    assert {a[2] for a, _ in links} <= {"DOSE", "ROUTE", "FREQUENCY", "DURATION", "VALUE"}
    assert {e[2] for _, e in links} == {"DRUG", "TEST"}
    for gold in golds:
        for (a_start, a_end, _), (e_start, e_end, _) in gold.links:
            assert gold.text[a_start:a_end].strip() and gold.text[e_start:e_end].strip()


def _link_example(nlp, text, attributes, entities, links):
    doc = nlp(text)
    span = lambda t, label: doc.char_span(text.index(t), text.index(t) + len(t), label=label)  # noqa: E731
    attrs = {t: span(t, label) for t, label in attributes}
    ents = {t: span(t, label) for t, label in entities}
    return doc, list(attrs.values()), list(ents.values()), {(attrs[a], ents[e]) for a, e in links}


def test_learned_linker_fits_and_round_trips(tmp_path):
    from spacy_medical.pipeline.details_links import link_learned, train_link_weights

    nlp = spacy.blank("en")
    nlp.add_pipe("medical_sentences")
    # Invented: a shared result links to every test of a list; a value links to the test before it.
    examples = [
        _link_example(nlp, "Stains were positive for CD10, CD20 and CD45.", [("positive", "VALUE")],
                      [("CD10", "TEST"), ("CD20", "TEST"), ("CD45", "TEST")], [("positive", "CD10"), ("positive", "CD20"), ("positive", "CD45")]),
        _link_example(nlp, "Hemoglobin 9.7 g/dL and platelets 164 per uL today.", [("9.7 g/dL", "VALUE"), ("164 per uL", "VALUE")],
                      [("Hemoglobin", "TEST"), ("platelets", "TEST")], [("9.7 g/dL", "Hemoglobin"), ("164 per uL", "platelets")]),
    ] * 5
    weights = train_link_weights(examples, C=100.0)
    for doc, attributes, entities, gold in examples[:2]:
        assert set(link_learned(doc, attributes, entities, weights)) == gold
    nlp2 = spacy.blank("en")
    nlp2.add_pipe("medical_details", config={"linker": "learned"}).initialize(link_weights=weights)
    nlp2.to_disk(tmp_path / "p")
    assert spacy.load(tmp_path / "p").get_pipe("medical_details").link_weights == pytest.approx(weights)


def test_learned_linker_needs_weights():
    nlp = spacy.blank("en")
    details = nlp.add_pipe("medical_details", config={"linker": "learned"})
    with pytest.raises(ValueError, match="link weights"):
        details.initialize(link_weights={})
    with pytest.raises(ValueError, match="unknown linker"):
        spacy.blank("en").add_pipe("medical_details", config={"linker": "magic"})


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Started oral carnitine 1 g twice daily.", [("oral", "ROUTE"), ("1 g twice daily", "DOSE")]),
        ("Subcutaneous nodule; CT with intravenous contrast; NYHA class IV.", []),
        ("Insulin intravenous drip, then 3 x 250 mg/day for the last 2 weeks.", [("intravenous drip", "ROUTE"), ("3 x 250 mg/day", "DOSE"), ("last 2 weeks", "DURATION")]),
        ("A dose of 64 Gy in 30 fractions after 6 months of follow-up.", [("64 Gy in 30 fractions", "DOSE"), ("6 months", "DURATION")]),
        ("After 3 months the INR was 6.9 (elevated); INR 2 weeks later.", [("6.9", "VALUE"), ("elevated", "VALUE")]),
        ("Within the normal range; she was in the high-dose arm.", []),
        ("He underwent a laparoscopic cholecystectomy and hemodialysis.", [("laparoscopic cholecystectomy", "PROCEDURE"), ("hemodialysis", "PROCEDURE")]),
    ],
)
def test_rules_tuned_on_dev(text, expected):
    """The DOSE, ROUTE, DURATION, VALUE and PROCEDURE rules added in the second round (invented sentences)."""
    doc = details_nlp(drugs=())(text)
    found = [(s.text, s.label_) for s in doc.spans["attributes"]] + [(e.text, e.label_) for e in doc.ents if e.label_ == "PROCEDURE"]
    assert found == expected
