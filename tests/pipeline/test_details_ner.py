"""medical_details_ner: the CNN NER that writes detail spans, never touching the pipeline's entities."""
import pytest
import spacy
from spacy.tokens import Span
from spacy.training import Example

import spacy_medical.registry  # noqa: F401  (factories, extensions)
from spacy_medical.evaluate.details import add_details_model
from spacy_medical.pipeline.details_ner import restore_entities, set_aside_entities

# Invented notes; (start, end, label) character offsets of their detail spans.
TRAIN = [
    ("Metoprolol 25 mg PO BID. BP 150/90 mmHg.", [(11, 16, "DOSE"), (17, 19, "ROUTE"), (20, 23, "FREQUENCY"), (25, 27, "TEST"), (28, 39, "VALUE")]),
    ("Aspirin 81 mg PO daily. Hemoglobin 9.7 g/dL today.", [(8, 13, "DOSE"), (14, 16, "ROUTE"), (17, 22, "FREQUENCY"), (24, 34, "TEST"), (35, 43, "VALUE")]),
]
# A small model, so the test trains in seconds.
TINY_MODEL = {
    "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "extra_state_tokens": False,
    "hidden_width": 32, "maxout_pieces": 2, "use_upper": True, "nO": None,
    "tok2vec": {
        "@architectures": "spacy.Tok2Vec.v2",
        "embed": {"@architectures": "spacy.MultiHashEmbed.v2", "width": 32, "attrs": ["NORM", "SHAPE"], "rows": [500, 100], "include_static_vectors": False},
        "encode": {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": 32, "depth": 2, "window_size": 1, "maxout_pieces": 3},
    },
}


@pytest.fixture(scope="module")
def trained():
    """A blank pipeline with medical_details_ner fitted to the two invented notes."""
    spacy.util.fix_random_seed(0)  # the weights' initialisation must not depend on what ran before
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_details_ner", name="details_ner", config={"model": TINY_MODEL})
    examples = []
    for text, spans in TRAIN:
        doc = nlp.make_doc(text)
        examples.append(Example.from_dict(doc, {"entities": spans}))
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(150):
        nlp.update(examples, sgd=optimizer, drop=0.0)
    return nlp


def spans(doc, key="details"):
    return [(s.text, s.label_) for s in doc.spans[key]]


def test_predictions_go_to_spans_and_the_entities_stay(trained):
    doc = trained.make_doc(TRAIN[0][0])
    doc.set_ents([doc.char_span(0, 10, label="DRUG", kb_id="DRUGBANK:DB00264")], default="outside")
    iob = [t.ent_iob_ for t in doc]
    doc = trained.get_pipe("details_ner")(doc)
    assert spans(doc) == [("25 mg", "DOSE"), ("PO", "ROUTE"), ("BID", "FREQUENCY"), ("BP", "TEST"), ("150/90 mmHg", "VALUE")]
    assert [(e.text, e.label_, e.kb_id_) for e in doc.ents] == [("Metoprolol", "DRUG", "DRUGBANK:DB00264")]
    assert [t.ent_iob_ for t in doc] == iob


def test_pipe_and_serialisation(trained, tmp_path):
    texts = [TRAIN[1][0], "", "no details here"]
    by_pipe = [spans(doc) for doc in trained.pipe(texts, batch_size=2)]
    assert by_pipe == [spans(trained(text)) for text in texts]
    assert by_pipe[0][0] == ("81 mg", "DOSE") and by_pipe[1] == []
    trained.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    assert loaded.get_pipe("details_ner").spans_key == "details"
    assert spans(loaded(TRAIN[1][0])) == by_pipe[0]
    assert [(e.text, e.label_) for e in loaded(TRAIN[1][0]).ents] == []


def test_scored_on_spans(trained):
    examples = []
    for text, gold in TRAIN:
        example = Example.from_dict(trained.make_doc(text), {"entities": gold})
        example.reference.spans["details"] = list(example.reference.ents)
        examples.append(example)
    scores = trained.evaluate(examples)
    assert scores["spans_details_f"] == 1.0
    assert set(scores["spans_details_per_type"]) == {"DOSE", "ROUTE", "FREQUENCY", "TEST", "VALUE"}


def test_set_aside_keeps_missing_annotation():
    doc = spacy.blank("en").make_doc("aspirin and more")
    doc.set_ents([Span(doc, 0, 1, label="DRUG")], default="missing")  # tokens 1-2: missing ("")
    saved = set_aside_entities(doc)
    assert doc.ents == () and {t.ent_iob_ for t in doc} == {""}
    restore_entities(doc, saved)
    assert [(e.text, e.label_) for e in doc.ents] == [("aspirin", "DRUG")] and [t.ent_iob_ for t in doc] == ["B", "", ""]


def test_a_pipeline_without_a_span_model_is_refused(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("ner")
    nlp.initialize()
    nlp.to_disk(tmp_path / "plain")
    with pytest.raises(ValueError, match="details_spancat' or 'details_ner"):
        add_details_model(spacy.blank("en"), tmp_path / "plain")


def test_converted_gold_entities_for_the_ner():
    """convert-details writes the detail spans as they are and, for the NER, as entities without
    overlaps and without whitespace at their edges (a hair space here), every other token outside."""
    from collections import Counter

    from spacy_medical.io.maccrobat_details import DetailsGold, gold_to_doc

    text = "Hemoglobin\u200a9.7\u200ag/dL and 81 mg PO."
    gold = DetailsGold("1", text, spans=[(0, 11, "TEST"), (11, 19, "VALUE"), (24, 29, "DOSE"), (24, 32, "DOSE"), (30, 32, "ROUTE")])
    doc = gold_to_doc(spacy.blank("en"), gold, Counter())
    assert [(s.text, s.label_) for s in doc.spans["details"]] == [
        ("Hemoglobin\u200a", "TEST"), ("9.7\u200ag/dL", "VALUE"), ("81 mg", "DOSE"), ("81 mg PO", "DOSE"), ("PO", "ROUTE"),
    ]
    assert [(e.text, e.label_) for e in doc.ents] == [("Hemoglobin", "TEST"), ("9.7\u200ag/dL", "VALUE"), ("81 mg PO", "DOSE")]
    assert {t.ent_iob_ for t in doc} <= {"B", "I", "O"}
