"""en_medical and en_medical_sm as `spacy assemble` builds them (configs/en_medical*.cfg), end to end.

Built by the fixture, so the tests run wherever the suite runs: en_medical around the shipped
transformer NER restored from weights/ (as `restore-trf` does), en_medical_sm around a tiny CNN
NER trained on a few invented sentences with configs/tiny.cfg. Only the symptom_lexicon patterns
and the missing dialogue classifier differ from the released pipelines.
"""
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
import srsly
from spacy.tokens import DocBin

from spacy_medical.io.corpora import corpora_dir

ROOT = Path(__file__).resolve().parents[1]
CORPORA = corpora_dir(required=False)
PATTERNS = [{"label": "SYMPTOM", "pattern": term} for term in ("fever", "cough", "chest pain", "dyspnea", "nausea")]
# Invented sentences for the tiny NER: (text, [(entity text, label)]).
TRAINING = [
    ("Patient with diabetes reports fever and cough.", [("diabetes", "DISEASE"), ("fever", "SYMPTOM"), ("cough", "SYMPTOM")]),
    ("She takes metformin for type 2 diabetes.", [("metformin", "DRUG"), ("type 2 diabetes", "DISEASE")]),
    ("Denies nausea. History of hypertension on lisinopril.", [("nausea", "SYMPTOM"), ("hypertension", "DISEASE"), ("lisinopril", "DRUG")]),
    ("Chest pain radiating to the arm, started aspirin.", [("Chest pain", "SYMPTOM"), ("aspirin", "DRUG")]),
]
TEXTS = [
    "HPI: 67 yo F with chest pain and dyspnea. Denies fever.\nFAMILY HISTORY: Mother had breast cancer.",
    "No fever, but reports cough. Started metformin for diabetes.",
    "Nausea resolved after ondansetron; hypertension stable.",
]


def run(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, *args], check=True, cwd=cwd, capture_output=True)


def write_corpus(folder: Path) -> None:
    nlp = spacy.blank("en")
    docs = []
    for text, entities in TRAINING:
        doc = nlp(text)
        doc.ents = [doc.char_span(text.index(span), text.index(span) + len(span), label=label) for span, label in entities]
        docs.append(doc)
    folder.mkdir(parents=True)
    DocBin(docs=docs).to_disk(folder / "maccrobat.spacy")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """Both pipelines, assembled by `spacy assemble` from the shipped configs."""
    if not CORPORA.is_dir():
        pytest.skip(f"corpora not found at {CORPORA}: the concept KB is built from them")
    tmp = tmp_path_factory.mktemp("en_medical")
    srsly.write_jsonl(tmp / "symptom_lexicon.jsonl", PATTERNS)
    for split in ("train", "dev"):
        write_corpus(tmp / "corpus" / split)
    run("-m", "spacy", "train", str(ROOT / "configs/tiny.cfg"), "--output", str(tmp / "tiny"),
        "--paths.train", str(tmp / "corpus/train"), "--paths.dev", str(tmp / "corpus/dev"), cwd=tmp)
    run(str(ROOT / "scripts/trf_weights.py"), "restore", str(ROOT / "weights/en_medical_trf"), str(tmp / "trf_restored"), cwd=tmp)
    # The concept KB from the shared vocabularies (without BC5CDR's aliases and priors).
    run("-m", "spacy_medical.cli", "build-kb", str(tmp / "kb"), "--corpora-dir", str(CORPORA), cwd=tmp)
    for name, ner_model in (("en_medical", tmp / "trf_restored"), ("en_medical_sm", tmp / "tiny/model-last")):
        run("-m", "spacy", "assemble", str(ROOT / f"configs/{name}.cfg"), str(tmp / name), "--paths.ner_model", str(ner_model),
            "--paths.dialogue_model", "null", "--paths.symptom_patterns", str(tmp / "symptom_lexicon.jsonl"),
            "--paths.kb", str(tmp / "kb"), cwd=tmp)
    return tmp


@pytest.fixture(scope="module")
def pipelines(built) -> dict:
    return {name: spacy.load(built / name) for name in ("en_medical", "en_medical_sm")}


@pytest.fixture(scope="module")
def en_medical(pipelines):
    return pipelines["en_medical"]


@pytest.fixture(scope="module", params=["en_medical", "en_medical_sm"])
def nlp(request, pipelines):
    return pipelines[request.param]


def spans(doc):
    return {(e.start_char, e.end_char, e.label_) for e in doc.ents}


@pytest.mark.slow
def test_every_component_annotates_a_note(nlp):
    doc = nlp(TEXTS[0])
    assert set(nlp.get_pipe("ner").labels) == {"DISEASE", "SYMPTOM", "DRUG"}
    assert len(list(doc.sents)) == 3
    assert [s.label_ for s in doc.spans["sections"]] == ["history_of_present_illness", "family_history"]
    assert {"problems", "symptoms", "negatives", "medications", "text"} <= set(doc._.summary)
    with nlp.select_pipes(disable=["ner"]):  # the tiny CNN's entities are arbitrary: symptom_lexicon finds these
        doc = nlp(TEXTS[0])
    found = {e.text: (e._.negated, e._.family, e._.section) for e in doc.ents}
    assert found == {"chest pain": (False, False, "history_of_present_illness"), "dyspnea": (False, False, "history_of_present_illness"),
                     "fever": (True, False, "history_of_present_illness")}


@pytest.mark.slow
def test_symptom_lexicon_only_adds_where_the_ner_found_nothing(nlp):
    for text in TEXTS:
        with nlp.select_pipes(disable=["symptom_lexicon"]):
            without = nlp(text)
        found = nlp(text)
        assert spans(without) <= spans(found)
        for start, end, label in spans(found) - spans(without):
            assert label == "SYMPTOM"
            assert not any(s < end and start < e for s, e, _ in spans(without))


@pytest.mark.slow
def test_a_saved_pipeline_annotates_the_same(nlp, tmp_path):
    nlp.to_disk(tmp_path / "copy")
    copy = spacy.load(tmp_path / "copy")
    for before, after in zip(nlp.pipe(TEXTS), copy.pipe(TEXTS)):
        assert spans(before) == spans(after)
        assert before._.summary == after._.summary


@pytest.mark.slow
def test_assertions_on_the_issue_example(en_medical):
    doc = en_medical("No fever, but reports cough. Mother had breast cancer.")
    found = {ent.text: (ent._.negated, ent._.family) for ent in doc.ents}
    assert found.get("fever") == (True, False)
    assert found.get("cough") == (False, False)
    assert found.get("breast cancer") == (False, True)


@pytest.mark.slow
def test_a_defined_short_form_takes_its_long_form_label(en_medical):
    doc = en_medical("History of congestive heart failure (CHF). CHF stable on furosemide.")
    assert [(s.text, s.label_) for s in doc.spans["abbreviations"]] == [("CHF", "congestive heart failure")] * 2
    labels = [(e.text, e.label_) for e in doc.ents if e.text in ("congestive heart failure", "CHF")]
    assert labels == [("congestive heart failure", "DISEASE"), ("CHF", "DISEASE"), ("CHF", "DISEASE")]


def test_en_medical_gives_codes(en_medical):
    doc = en_medical("Chest pain since Monday. She takes aspirin daily.")
    aspirin = [ent for ent in doc.ents if ent.text == "aspirin"][0]
    assert aspirin.label_ == "DRUG" and aspirin.kb_id_ == "MESH:D001241"
    assert aspirin._.codes["DRUGBANK"] == "DB00945" and aspirin._.concept_name == "Aspirin"


@pytest.mark.slow
def test_a_notes_record_does_not_depend_on_its_batch(nlp):
    from spacy_medical.batch.records import annotated_record

    notes = TEXTS * 3 + ["Follow-up for hypertension, diabetes and chest pain; continue aspirin. " * 30]
    alone = [annotated_record(nlp, nlp(text)) for text in notes]
    for batch_size in (2, 8):
        assert [annotated_record(nlp, doc) for doc in nlp.pipe(notes, batch_size=batch_size)] == alone
