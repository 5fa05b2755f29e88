"""The installed en_medical and en_medical_sm pipelines end to end (skipped where not built)."""
import importlib.util

import pytest
import spacy

ENCODERS = {"en_medical": "transformer", "en_medical_sm": "tok2vec"}


@pytest.fixture(scope="module", params=sorted(ENCODERS))
def nlp(request):
    if importlib.util.find_spec(request.param) is None:
        pytest.skip(f"{request.param} is not installed: build it with `spacy project run all`")
    return spacy.load(request.param)


def test_encoder_of_each_variant(nlp):
    name = f"{nlp.meta['lang']}_{nlp.meta['name']}"
    assert nlp.pipe_names[1] == ENCODERS[name]
    assert set(nlp.get_pipe("ner").labels) == {"DISEASE", "SYMPTOM", "DRUG"}


def test_assertions_on_the_issue_example(nlp):
    doc = nlp("No fever, but reports cough. Mother had breast cancer.")
    found = {ent.text: (ent._.negated, ent._.family) for ent in doc.ents}
    assert found.get("fever") == (True, False)
    assert found.get("cough") == (False, False)
    assert found.get("breast cancer") == (False, True)


def test_abbreviations_after_every_entity_source(nlp):
    names = nlp.pipe_names
    assert names.index("symptom_lexicon") < names.index("medical_abbreviations") < names.index("medical_context")
    doc = nlp("History of congestive heart failure (CHF). CHF stable on furosemide.")
    assert [(s.text, s.label_) for s in doc.spans["abbreviations"]] == [("CHF", "congestive heart failure")] * 2
    labels = [(e.text, e.label_) for e in doc.ents if e.text in ("congestive heart failure", "CHF")]
    assert labels == [("congestive heart failure", "DISEASE"), ("CHF", "DISEASE"), ("CHF", "DISEASE")]


def test_lexicon_only_fills_gaps(nlp):
    assert nlp.pipe_names.index("symptom_lexicon") == nlp.pipe_names.index("ner") + 1
    assert nlp.get_pipe("symptom_lexicon").overwrite is False
