"""The NER config overfits two clinical examples, and survives a save/load round trip."""
from pathlib import Path

import pytest
import spacy
from spacy.training import Example
from spacy.util import load_config

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def tiny_nlp():
    config = load_config(CONFIGS / "tiny.cfg")
    return spacy.util.load_model_from_config(config, auto_fill=True, validate=True)


def test_overfit_then_round_trip(tmp_path, clinical_train):
    nlp = tiny_nlp()
    assert nlp.pipe_names == ["medical_sentences", "tok2vec", "ner"]
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in clinical_train]
    optimizer = nlp.initialize(lambda: examples)
    losses_seen = []
    for _ in range(80):
        losses = {}
        nlp.update(examples, sgd=optimizer, losses=losses)
        losses_seen.append(losses["ner"])
    assert losses_seen[-1] < losses_seen[0] / 10
    predicted = [[(e.text, e.label_) for e in nlp(t).ents] for t, _ in clinical_train]
    assert predicted[0] == [("chest pain", "SYMPTOM"), ("diabetes", "DISEASE"), ("metformin", "DRUG")]

    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    assert [[(e.text, e.label_) for e in loaded(t).ents] for t, _ in clinical_train] == predicted

    scores = loaded.evaluate([Example.from_dict(loaded.make_doc(t), {"entities": e}) for t, e in clinical_train])
    assert scores["ents_f"] == pytest.approx(1.0)
    assert set(scores["ents_per_type"]) == {"SYMPTOM", "DISEASE", "DRUG"}


def test_configs_are_the_same_pipeline():
    cpu, tiny = load_config(CONFIGS / "cpu.cfg"), load_config(CONFIGS / "tiny.cfg")
    assert cpu["nlp"]["pipeline"] == tiny["nlp"]["pipeline"]
    assert cpu["corpora"]["train"]["@readers"] == "spacy-medical.WeightedCorpus.v1"


def test_weighted_corpus_repeats_a_file(tmp_path):
    from spacy.tokens import DocBin

    from spacy_medical.io.training import WeightedCorpus

    nlp = spacy.blank("en")
    for name, text in (("maccrobat", "chest pain"), ("ncbi", "cancer")):
        db = DocBin()
        db.add(nlp(text))
        db.to_disk(tmp_path / f"{name}.spacy")
    texts = [eg.reference.text for eg in WeightedCorpus(tmp_path, {"maccrobat": 3})(nlp)]
    assert sorted(texts) == ["cancer", "chest pain", "chest pain", "chest pain"]
