"""medical_abbreviations: Schwartz-Hearst definitions and entities that agree with them."""
import pytest
import spacy
from spacy.tokens import Span

from spacy_medical.pipeline.abbreviations import find_definitions, long_form_start


@pytest.fixture
def nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_abbreviations")
    return nlp


def with_ents(nlp, text, ents):
    """A doc of `text` whose entities are the given (phrase, occurrence, label) triples, as a ner
    upstream would have set them."""
    doc = nlp.make_doc(text)
    spans = []
    for phrase, occurrence, label in ents:
        start = -1
        for _ in range(occurrence + 1):
            start = text.index(phrase, start + 1)
        spans.append(doc.char_span(start, start + len(phrase), label=label))
    doc.ents = spans
    return doc


def ents(doc):
    return [(e.text, e.start_char, e.label_) for e in doc.ents]


@pytest.mark.parametrize(
    "short,words,expected",
    [
        ("CHF", "admitted with congestive heart failure".split(), 2),
        ("HTN", "history of hypertension".split(), 2),  # characters inside one word
        ("PE", "concern for a pulmonary embolism".split(), 3),
        ("XYZ", "no such long form".split(), None),
    ],
)
def test_long_form_start(short, words, expected):
    assert long_form_start(short, words) == expected


def test_definitions_found_and_not(nlp):
    doc = nlp.make_doc("Known congestive heart failure (CHF), on aspirin (81 mg) and (see above) rest.")
    assert [(s.text, lf.text) for s, lf in find_definitions(doc)] == [("CHF", "congestive heart failure")]


def test_short_form_takes_the_label_of_its_long_form_everywhere(nlp):
    text = "Known congestive heart failure (CHF). CHF worsened after the infusion; CHF clinic follow-up."
    doc = nlp(with_ents(nlp, text, [("congestive heart failure", 0, "DISEASE")]))
    starts = [i for i in range(len(text)) if text.startswith("CHF", i)]
    assert ents(doc) == [("congestive heart failure", 6, "DISEASE")] + [("CHF", s, "DISEASE") for s in starts]
    assert [(s.text, s.label_) for s in doc.spans["abbreviations"]] == [("CHF", "congestive heart failure")] * 3


def test_short_form_relabelled_to_its_long_form(nlp):
    text = "Given intravenous immunoglobulin (IVIG) for myasthenia. IVIG stopped."
    doc = with_ents(nlp, text, [("intravenous immunoglobulin", 0, "DRUG"), ("IVIG", 1, "DISEASE"), ("myasthenia", 0, "DISEASE")])
    doc = nlp(doc)
    assert ("IVIG", text.rindex("IVIG"), "DRUG") in ents(doc)
    assert ("IVIG", text.index("IVIG"), "DRUG") in ents(doc)
    assert ("myasthenia", text.index("myasthenia"), "DISEASE") in ents(doc)


def test_short_form_of_a_non_entity_loses_its_label(nlp):
    text = "Left ventricular ejection fraction (EF) was 35%. EF improved; heart failure (HF) persists."
    doc = with_ents(nlp, text, [("EF", 1, "DISEASE"), ("heart failure", 0, "DISEASE")])
    doc = nlp(doc)
    assert ents(doc) == [("heart failure", text.index("heart failure"), "DISEASE"), ("HF", text.index("HF"), "DISEASE")]


def test_entities_covering_a_short_form_are_kept(nlp):
    text = "Acute kidney injury (AKI) resolved. AKI-related hyperkalemia too."
    doc = with_ents(nlp, text, [("Acute kidney injury", 0, "DISEASE"), ("AKI-related hyperkalemia", 0, "SYMPTOM")])
    doc = nlp(doc)
    assert ("AKI-related hyperkalemia", text.index("AKI-related"), "SYMPTOM") in ents(doc)
    assert ("AKI", text.index("AKI"), "DISEASE") in ents(doc)


def test_no_definitions_leaves_the_entities_alone(nlp):
    text = "Chest pain (substernal), aspirin (81 mg)."
    doc = with_ents(nlp, text, [("Chest pain", 0, "SYMPTOM"), ("aspirin", 0, "DRUG")])
    doc = nlp(doc)
    assert ents(doc) == [("Chest pain", 0, "SYMPTOM"), ("aspirin", text.index("aspirin"), "DRUG")]
    assert list(doc.spans["abbreviations"]) == []


@pytest.mark.parametrize("text", ["", "   ", "(", "()", "(AB)", "x (", "患者有哮喘 (哮喘)"])
def test_degenerate_input(nlp, text):
    assert list(nlp(text).ents) == []
