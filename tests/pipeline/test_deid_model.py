"""medical_deid with a trained PHI tagger unioned with its rules (issue 33, third attempt)."""
import random

import pytest
import spacy
from spacy.tokens import DocBin
from spacy.training import Example

import spacy_medical.registry  # noqa: F401
from spacy_medical.pipeline.deid import union_with_model
from spacy_medical.training.deid_data import records_to_docbin

# Invented notes: a lower-case name with no cue that the rules cannot find ("zorbak").
TRAIN = [
    ("seen with zorbak today.", [(10, 16, "NAME")]),
    ("called zorbak about the rash.", [(7, 13, "NAME")]),
    ("zorbak reports less cough.", [(0, 6, "NAME")]),
    ("the cough is better today.", []),
]
NOTE = "Patient: Walter Jenkins. Later seen with zorbak for Parkinson disease."


@pytest.fixture(scope="module")
def phi_model_path(tmp_path_factory):
    """A tiny `ner` that has learnt one invented name, saved like training/deid_ner/model-best."""
    tagger = spacy.blank("en")
    tagger.add_pipe("ner")
    examples = [Example.from_dict(tagger.make_doc(text), {"entities": ents}) for text, ents in TRAIN]
    optimizer = tagger.initialize(lambda: examples)
    rng = random.Random(0)
    for _ in range(40):
        rng.shuffle(examples)
        tagger.update(examples, sgd=optimizer, drop=0.0)
    assert [e.text for e in tagger("seen with zorbak today.").ents] == ["zorbak"]
    path = tmp_path_factory.mktemp("phi") / "phi_model"
    tagger.to_disk(path)
    return path


def test_union_rules_win_and_model_adds():
    rules = [(0, 5, "NAME"), (20, 30, "DATE")]
    predicted = [(3, 9, "LOCATION"), (12, 15, "NAME"), (25, 35, "ID"), (40, 44, "ID")]
    assert union_with_model(rules, predicted) == [(0, 9, "NAME"), (12, 15, "NAME"), (20, 35, "DATE"), (40, 44, "ID")]
    # A model span that starts before the rule span it overlaps still takes the rule's label.
    assert union_with_model([(5, 10, "DATE")], [(2, 7, "NAME")]) == [(2, 10, "DATE")]
    assert union_with_model([], []) == [] and union_with_model(rules, []) == rules


def test_model_spans_unioned_and_clinical_terms_kept(phi_model_path):
    rules_only = spacy.blank("en")
    rules_only.add_pipe("medical_deid")
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_deid").initialize(phi_model=phi_model_path)
    assert "zorbak" in rules_only(NOTE)._.deidentified
    doc = nlp(NOTE)
    found = {span.text: span.label_ for span in doc.spans["phi"]}
    assert found["Walter Jenkins"] == "NAME" and found["zorbak"] == "NAME"
    assert "zorbak" not in doc._.deidentified and "Parkinson disease" in doc._.deidentified


def test_model_saved_with_the_component(phi_model_path, tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_deid").initialize(phi_model=phi_model_path)
    expected = nlp(NOTE)._.deidentified
    nlp.to_disk(tmp_path / "pipeline")
    assert (tmp_path / "pipeline" / "medical_deid" / "phi_model" / "ner").is_dir()
    assert spacy.load(tmp_path / "pipeline")(NOTE)._.deidentified == expected
    restored = spacy.blank("en")
    restored.add_pipe("medical_deid").from_bytes(nlp.get_pipe("medical_deid").to_bytes())
    assert restored(NOTE)._.deidentified == expected
    without = spacy.blank("en")
    without.add_pipe("medical_deid").from_bytes(nlp.get_pipe("medical_deid").to_bytes(exclude=["phi_model"]))
    assert "zorbak" in without(NOTE)._.deidentified


def test_phi_model_without_ner_is_refused(tmp_path):
    spacy.blank("en").to_disk(tmp_path / "empty")
    with pytest.raises(ValueError, match="needs a 'ner' component"):
        spacy.blank("en").add_pipe("medical_deid").initialize(phi_model=tmp_path / "empty")


def test_records_to_docbin(tmp_path):
    records = [{"note_id": "n1", "text": "Dr. Ames saw her on 3/4.", "phi": [{"start": 4, "end": 8, "label": "NAME"},
                                                                          {"start": 20, "end": 23, "label": "DATE"}]}]
    assert records_to_docbin(records, tmp_path / "train.spacy") == 1
    doc = next(DocBin().from_disk(tmp_path / "train.spacy").get_docs(spacy.blank("en").vocab))
    assert [(e.text, e.label_) for e in doc.ents] == [("Ames", "NAME"), ("3/4", "DATE")]
    records[0]["phi"].append({"start": 5, "end": 10, "label": "ID"})
    with pytest.raises(ValueError, match="Note n1: two PHI spans overlap"):
        records_to_docbin(records, tmp_path / "bad.spacy")
