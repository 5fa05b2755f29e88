"""medical_sentences: clinical line structure and abbreviations."""
import pytest
import spacy


@pytest.fixture
def nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_sentences")
    return nlp


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Pt. denies fever. Reports cough b.i.d. since Mon.", ["Pt. denies fever.", "Reports cough b.i.d. since Mon."]),
        ("HPI: 45 yo M with chest pain\nradiating to the arm.", ["HPI: 45 yo M with chest pain\nradiating to the arm."]),
        ("MEDICATIONS\n- aspirin 81 mg\n- metformin", ["MEDICATIONS", "- aspirin 81 mg", "- metformin"]),
        ("No fever\n\nCough for two days", ["No fever", "Cough for two days"]),
        ("[doctor] how are you?\n[patient] tired and dizzy.", ["[doctor] how are you?", "[patient] tired and dizzy."]),
        ("Seen by Dr. Smith today. Stable.", ["Seen by Dr. Smith today.", "Stable."]),
    ],
)
def test_sentence_boundaries(nlp, text, expected):
    assert [s.text.strip() for s in nlp(text).sents] == expected


def test_empty_and_whitespace(nlp):
    assert len(nlp("")) == 0
    assert [s.text for s in nlp("  \n ").sents] == ["  \n "]


def test_pipe_matches_call(nlp):
    texts = ["A. B c.\nD", "", "ASSESSMENT\nStable."]
    assert [[s.text for s in d.sents] for d in nlp.pipe(texts)] == [[s.text for s in nlp(t).sents] for t in texts]


def test_keeps_existing_boundaries_unless_overwrite(nlp):
    doc = nlp.make_doc("one two. Three")
    for token in doc:
        token.is_sent_start = token.i == 0
    assert len(list(nlp.get_pipe("medical_sentences")(doc).sents)) == 1
    overwrite = spacy.blank("en")
    overwrite.add_pipe("medical_sentences", config={"overwrite": True})
    assert len(list(overwrite.get_pipe("medical_sentences")(doc).sents)) == 2


def test_round_trip(nlp, tmp_path):
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    text = "Plan: f/u.\nMEDS\n- aspirin"
    assert [s.text for s in loaded(text).sents] == [s.text for s in nlp(text).sents]
