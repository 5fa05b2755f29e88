"""medical_sentences: clinical line structure and abbreviations."""
import pytest
import spacy

from spacy_medical.pipeline.sentences import sentence_starts


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


class CountingWords(list):
    """Token texts that count how many of them the splitter reads."""

    reads = 0

    def __getitem__(self, key):
        item = super().__getitem__(key)
        CountingWords.reads += len(item) if isinstance(key, slice) else 1
        return item


def words_read(nlp, text: str) -> int:
    doc = nlp.make_doc(text)
    CountingWords.reads = 0
    sentence_starts(CountingWords(t.text for t in doc), [t.idx for t in doc], doc.text)
    return CountingWords.reads


@pytest.mark.parametrize(
    "unit",
    [
        "BP: 120/80 HR: 72 RR: 16 Temp: 37.0 SpO2: 98% ",  # one line, many colons (issue 29)
        "HPI: pt. denies fever. ",
        "ASSESSMENT\nStable: no change.\n- aspirin\n[doctor] ok?\n",
    ],
)
def test_work_is_linear_in_note_length(nlp, unit):
    """Reads of token texts grow like the note, not like its square: ten times the text may cost
    ten times the reads (plus slack), where a quadratic splitter would need a hundred."""
    small, large = words_read(nlp, unit * 100), words_read(nlp, unit * 1000)
    assert small > 0
    assert large <= 11 * small


def test_speaker_lines_start_sentences(nlp):
    text = "[doctor] any pain in the knee\n[patient_guest] she said it hurts\nguest_family: since monday"
    assert [s.text.strip() for s in nlp(text).sents] == [
        "[doctor] any pain in the knee", "[patient_guest] she said it hurts", "guest_family: since monday",
    ]
