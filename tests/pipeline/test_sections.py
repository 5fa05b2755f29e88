"""Tests of `medical_sections`: header rules, dialogue sections, serialization, scorer."""
import pytest
import spacy
from spacy.training import Example

from spacy_medical.pipeline.dialogue import MTS_TO_SECTION, find_turns, is_dialogue
from spacy_medical.pipeline.sections import score_sections
from spacy_medical.training.dialogue import accuracy, predict, train_dialogue_classifier

NOTE = (
    "CHIEF COMPLAINT\n\nCough.\n\n"
    "HISTORY OF PRESENT ILLNESS\n\nThe patient reports asthma and cough.\n\n"
    "Meds: albuterol as needed.\n"
    "A/P: asthma exacerbation. Continue albuterol.\n"
)

# Invented dialogues, two per section, for the overfit test.
DIALOGUES = [
    ("Doctor: Any allergies to medicines?\nPatient: Penicillin gives me a rash.", "ALLERGY"),
    ("Doctor: Are you allergic to anything?\nPatient: Yes, sulfa drugs and peanuts.", "ALLERGY"),
    ("Doctor: What medicines do you take?\nPatient: Metformin and lisinopril every day.", "MEDICATIONS"),
    ("Doctor: Which pills are you on?\nPatient: I take aspirin and atorvastatin daily.", "MEDICATIONS"),
    ("Doctor: Do you smoke or drink?\nPatient: I quit smoking, I drink wine on weekends.", "FAM/SOCHX"),
    ("Doctor: What do you do for work?\nPatient: I am a teacher, I live with my husband.", "FAM/SOCHX"),
]


@pytest.fixture
def nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_sections")
    return nlp


def labels(doc):
    return [(span.label_, span.text.split("\n")[0]) for span in doc.spans["sections"]]


def test_capitalised_and_inline_headers(nlp):
    doc = nlp(NOTE)
    assert [label for label, _ in labels(doc)] == [
        "chief_complaint", "history_of_present_illness", "medications", "assessment_and_plan",
    ]
    spans = doc.spans["sections"]
    assert spans[0].text.startswith("CHIEF COMPLAINT") and "Cough." in spans[0].text
    assert spans[-1].text.endswith("Continue albuterol.")


def test_entity_sections(nlp):
    doc = nlp.make_doc(NOTE)
    start = NOTE.index("asthma")
    doc.ents = [doc.char_span(start, start + 6, label="DISEASE"), doc.char_span(NOTE.index("albuterol"), NOTE.index("albuterol") + 9, label="DRUG")]
    doc = nlp.get_pipe("medical_sections")(doc)
    assert [e._.section for e in doc.ents] == ["history_of_present_illness", "medications"]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("The patient is well. No complaints today.", []),
        ("", []),
        ("PLAN", ["plan"]),
        ("CHIEF COMPLAINT\nHPI:\nPLAN\n", ["chief_complaint", "history_of_present_illness", "plan"]),
        ("PLAN\nRest.\nPLAN\nFluids.", ["plan", "plan"]),
        ("Cough for two days.\nASSESSMENT AND PLAN", ["assessment_and_plan"]),
        ("We discussed the plan\nplan\n- Plan: continue", []),
    ],
)
def test_bad_and_edge_notes(nlp, text, expected):
    doc = nlp(text)
    assert [span.label_ for span in doc.spans["sections"]] == expected


def test_pipe_matches_call(nlp):
    texts = [NOTE, "", "PLAN\nRest."]
    assert [labels(d) for d in nlp.pipe(texts)] == [labels(nlp(t)) for t in texts]


def test_user_rules_and_round_trip(nlp, tmp_path):
    sections = nlp.get_pipe("medical_sections")
    sections.initialize(extra_rules=[{"pattern": "interval events", "section": "history_of_present_illness"}])
    text = "INTERVAL EVENTS\nFell at home."
    assert labels(nlp(text)) == [("history_of_present_illness", "INTERVAL EVENTS")]
    nlp.to_disk(tmp_path / "p")
    nlp2 = spacy.load(tmp_path / "p")
    assert labels(nlp2(text)) == labels(nlp(text))
    nlp3 = spacy.blank("en")
    nlp3.add_pipe("medical_sections").from_bytes(sections.to_bytes())
    assert labels(nlp3(text)) == labels(nlp(text))


def test_bad_rule_is_rejected(nlp):
    with pytest.raises(ValueError, match="unknown section"):
        nlp.get_pipe("medical_sections").add_rules([{"pattern": "foo", "section": "nope"}])
    with pytest.raises(ValueError, match="needs 'section'"):
        nlp.get_pipe("medical_sections").add_rules([{"section": "plan"}])


def test_turns_and_dialogue_detection():
    text = "[doctor] hi there .\n[patient] i have a cough .\nit started monday .\n[doctor] okay ."
    turns = find_turns(text)
    assert [t[3] for t in turns] == ["doctor", "patient", "doctor"]
    assert text[turns[1][1] : turns[1][2]] == "i have a cough .\nit started monday ."
    assert is_dialogue(text)
    assert is_dialogue("Patient: my knee hurts.")  # a single speaker is still a transcript
    assert not is_dialogue(NOTE) and not is_dialogue("")


def test_dialogue_classifier_overfit_and_round_trip(tmp_path):
    clf, losses, _ = train_dialogue_classifier(DIALOGUES, n_iter=30, seed=1)
    assert losses[-1] < losses[0]
    assert accuracy(clf, DIALOGUES)["accuracy"] == 1.0
    nlp = spacy.blank("en")
    sections = nlp.add_pipe("medical_sections", config={"window_turns": 2, "window_stride": 2, "min_turns": 1})
    sections.set_dialogue_model(clf)
    text = DIALOGUES[2][0] + "\n" + DIALOGUES[0][0]
    doc = nlp(text)
    assert [s.label_ for s in doc.spans["sections"]] == ["medications", "allergies"]
    assert doc.spans["sections"][0].start_char == 0 and doc.spans["sections"][-1].end_char == len(text)
    nlp.to_disk(tmp_path / "p")
    nlp2 = spacy.load(tmp_path / "p")
    assert predict(nlp2.get_pipe("medical_sections").dialogue_nlp, [t for t, _ in DIALOGUES]) == predict(clf, [t for t, _ in DIALOGUES])
    assert labels(nlp2(text)) == labels(doc)


def test_dialogue_without_classifier_has_no_sections(nlp):
    doc = nlp("[doctor] any allergies ?\n[patient] none .")
    assert list(doc.spans["sections"]) == []


def test_mts_map_covers_package_sections():
    from spacy_medical.labels import SECTIONS

    assert len(MTS_TO_SECTION) == 20
    assert set(MTS_TO_SECTION.values()) <= set(SECTIONS)


def test_scorer_and_nlp_evaluate(nlp):
    gold = nlp.make_doc(NOTE)
    gold.spans["sections"] = [gold.char_span(0, NOTE.index("HISTORY") - 2, label="chief_complaint", alignment_mode="expand")]
    scores = nlp.evaluate([Example(nlp.make_doc(NOTE), gold)])
    assert scores["sections_header_r"] == 1.0
    assert scores["sections_header_p"] == 0.25
    empty = score_sections([Example(nlp.make_doc(""), nlp.make_doc(""))])
    assert empty["sections_header_p"] == 0.0 and empty["sections_label_acc"] is None
