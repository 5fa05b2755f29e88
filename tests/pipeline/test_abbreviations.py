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
        ("CHF", ["with", " ", "congestive", "heart", "failure"], 2),  # a whitespace token (double space)
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


@pytest.mark.parametrize(
    "text,given,expected",
    [
        (  # the short form takes its long form's label, where it was tagged otherwise and where not
            "Given intravenous immunoglobulin (IVIG) for myasthenia. IVIG stopped.",
            [("intravenous immunoglobulin", 0, "DRUG"), ("IVIG", 1, "DISEASE"), ("myasthenia", 0, "DISEASE")],
            [("intravenous immunoglobulin", 0, "DRUG"), ("IVIG", 0, "DRUG"), ("myasthenia", 0, "DISEASE"), ("IVIG", 1, "DRUG")],
        ),
        (  # the long form "ejection fraction" is no entity: neither is "EF"
            "Left ventricular ejection fraction (EF) was 35%. EF improved; heart failure (HF) persists.",
            [("EF", 1, "DISEASE"), ("heart failure", 0, "DISEASE")],
            [("heart failure", 0, "DISEASE"), ("HF", 0, "DISEASE")],
        ),
        (  # an entity that covers a short form is kept as it is
            "Acute kidney injury (AKI) resolved. AKI-related hyperkalemia too.",
            [("Acute kidney injury", 0, "DISEASE"), ("AKI-related hyperkalemia", 0, "SYMPTOM")],
            [("Acute kidney injury", 0, "DISEASE"), ("AKI", 0, "DISEASE"), ("AKI-related hyperkalemia", 0, "SYMPTOM")],
        ),
        (  # parentheses that define nothing change nothing
            "Chest pain (substernal), aspirin (81 mg).",
            [("Chest pain", 0, "SYMPTOM"), ("aspirin", 0, "DRUG")],
            [("Chest pain", 0, "SYMPTOM"), ("aspirin", 0, "DRUG")],
        ),
    ],
)
def test_entities_agree_with_the_definitions(nlp, text, given, expected):
    assert ents(nlp(with_ents(nlp, text, given))) == ents(with_ents(nlp, text, expected))


def test_no_definitions_no_abbreviation_spans(nlp):
    assert list(nlp("Chest pain (substernal), aspirin (81 mg).").spans["abbreviations"]) == []


@pytest.mark.parametrize("text", ["", "   ", "(", "()", "(AB)", "x (", "患者有哮喘 (哮喘)"])
def test_degenerate_input(nlp, text):
    assert list(nlp(text).ents) == []
