"""spacy-medical.TransformerWithSpelling.v1: the ner's features are the encoder's plus the spelling's."""
import numpy
import pytest
import spacy
from spacy.util import registry
from thinc.api import Model

from spacy_medical.ml.lexicon_features import build_index, tag_ids, tokenize_terms

ENCODER_WIDTH = 8


def uncased_encoder():
    """Stands in for the uncased transformer: the same vector for "HIV" and "hiv", and, like
    spacy-transformers, a (0, 0) array for an empty doc."""

    def forward(model, docs, is_train):
        out = [model.ops.asarray2f([[float(len(t.lower_))] * ENCODER_WIDTH for t in doc]) if len(doc) else model.ops.alloc2f(0, 0) for doc in docs]

        def backprop(d_out):
            model.attrs["d_widths"] = [d.shape for d in d_out]
            return []

        return out, backprop

    return Model("uncased_encoder", forward, dims={"nO": ENCODER_WIDTH})


def build(spelling_width, encoder):
    make = registry.architectures.get("spacy-medical.TransformerWithSpelling.v1")
    attrs = ["NORM", "PREFIX", "SUFFIX", "SHAPE"]
    return make(transformer=encoder, spelling_width=spelling_width, attrs=attrs, rows=[50, 20, 20, 20], window_size=1, depth=1)


def test_width_zero_is_the_encoder_alone():
    encoder = uncased_encoder()
    assert build(0, encoder) is encoder


def test_spelling_tells_apart_what_the_uncased_encoder_cannot():
    nlp = spacy.blank("en")
    docs = [nlp("HIV infection"), nlp("hiv infection")]
    model = build(16, uncased_encoder())
    model.initialize(X=docs)
    upper, lower = model.predict(docs)
    assert upper.shape == lower.shape == (2, ENCODER_WIDTH + 16)
    # The encoder's columns agree; the spelling columns tell "HIV" from "hiv".
    numpy.testing.assert_array_equal(upper[:, :ENCODER_WIDTH], lower[:, :ENCODER_WIDTH])
    assert not numpy.allclose(upper[0, ENCODER_WIDTH:], lower[0, ENCODER_WIDTH:])


def test_an_empty_doc_in_the_batch_trains():
    nlp = spacy.blank("en")
    docs = [nlp("HIV infection"), nlp(""), nlp("fever")]
    encoder = uncased_encoder()
    model = build(16, encoder)
    model.initialize(X=docs)
    outputs, backprop = model.begin_update(docs)
    assert [o.shape for o in outputs] == [(2, ENCODER_WIDTH + 16), (0, ENCODER_WIDTH + 16), (1, ENCODER_WIDTH + 16)]
    backprop([model.ops.alloc2f(*o.shape) for o in outputs])
    assert encoder.attrs["d_widths"] == [(2, ENCODER_WIDTH), (0, ENCODER_WIDTH), (1, ENCODER_WIDTH)]


def build_with_lexicon(terms):
    make = registry.architectures.get("spacy-medical.TransformerWithSpelling.v1")
    model = make(transformer=uncased_encoder(), spelling_width=16, attrs=["NORM", "SHAPE"], rows=[50, 20], window_size=1, depth=1, lexicon_width=4)
    matches = next(node for node in model.walk() if node.name == "lexicon_matches")
    matches.attrs["lexicon_terms"] = tokenize_terms(terms)
    return model, matches


def test_lexicon_tags_mark_the_longest_match_per_lexicon():
    nlp = spacy.blank("en")
    index = build_index(tokenize_terms({"disease": ["breast cancer", "cancer"], "symptom": ["pain"], "drug": ["tamoxifen"]}))
    doc = nlp("Breast cancers with pain, on Tamoxifen ; cancer")
    # disease: state * 1, symptom: state * 3, drug: state * 9 (state 1 begin, 2 inside).
    assert tag_ids(doc, index)[:, 0].tolist() == [1, 2, 0, 3, 0, 0, 9, 0, 1]


def test_lexicon_features_change_the_output_and_survive_serialization():
    nlp = spacy.blank("en")
    docs = [nlp("Acute myeloid leukemia relapsed"), nlp("Acute myeloid cells relapsed"), nlp("")]
    model, matches = build_with_lexicon({"disease": ["acute myeloid leukemia"], "symptom": [], "drug": []})
    model.initialize(X=docs)
    leukemia, cells, empty = model.predict(docs)
    assert leukemia.shape == (4, ENCODER_WIDTH + 16) and empty.shape == (0, ENCODER_WIDTH + 16)
    # "Acute" begins a disease name in one doc and not in the other; the uncased encoder alone
    # and the spelling of "Acute" are the same in both.
    assert not numpy.allclose(leukemia[0], cells[0])
    # A model built from the same config without terms learns them back from the bytes, so a
    # trained pipeline needs no corpora folder.
    loaded, loaded_matches = build_with_lexicon({})
    loaded.from_bytes(model.to_bytes())
    assert loaded_matches.attrs["lexicon_terms"] == matches.attrs["lexicon_terms"]
    numpy.testing.assert_allclose(loaded.predict(docs[:1])[0], leukemia)


def test_lexicon_features_need_the_spelling_encoder():
    make = registry.architectures.get("spacy-medical.TransformerWithSpelling.v1")
    with pytest.raises(ValueError, match="spelling_width"):
        make(transformer=uncased_encoder(), spelling_width=0, attrs=["NORM"], rows=[50], window_size=1, depth=1, lexicon_width=4)
