"""spacy-medical.TransformerWithSpelling.v1: the ner's features are the encoder's plus the spelling's."""
import numpy
import spacy
from spacy.util import registry
from thinc.api import Model

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
