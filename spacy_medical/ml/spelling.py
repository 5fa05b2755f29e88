"""Token features for the NER head: the transformer's output beside the token's own spelling.

all-MiniLM-L6-v2 is uncased and cuts rare biomedical words into many wordpieces, so by the time
its output is pooled back to spaCy tokens it has lost much of what sets biomedical names apart:
capitals and digits ("HIV", "CO2", "5-FU") and endings ("-itis", "-emia", "-pril", "-olol").
`spacy-medical.TransformerWithSpelling.v1` concatenates the transformer listener's vectors with
a small hash-embedding CNN over case-sensitive spelling features (spaCy's own MultiHashEmbed and
MaxoutWindowEncoder), trained with the NER; the transformer stays the only encoder that is
shared between components. `spelling_width = 0` gives the transformer listener alone, so one
config serves both arms of the measurement (project.yml `ablation-spelling`). With
`lexicon_width > 0` the spelling encoder also reads each token's dictionary tag
(spacy_medical/ml/lexicon_features.py), so its window sees "inside a Disease Ontology name"
beside the spelling of the words around it.
"""
from typing import List

from spacy.ml.models.tok2vec import MaxoutWindowEncoder, MultiHashEmbed, build_Tok2Vec_model
from spacy.tokens import Doc
from thinc.api import Maxout, Model, chain, concatenate, with_array
from thinc.types import Floats2d

from .lexicon_features import lexicon_tags


def create_transformer_with_spelling(
    transformer: Model[List[Doc], List[Floats2d]],
    spelling_width: int,
    attrs: List[str],
    rows: List[int],
    window_size: int,
    depth: int,
    lexicon_width: int = 0,
) -> Model[List[Doc], List[Floats2d]]:
    """Concatenate the transformer's token vectors with a spelling encoder's.

    transformer (Model[List[Doc], List[Floats2d]]): The transformer listener, pooled to tokens.
    spelling_width (int): Output width of the spelling encoder; 0 returns `transformer` alone.
    attrs (List[str]): Token attributes embedded, e.g. ["NORM", "PREFIX", "SUFFIX", "SHAPE"].
    rows (List[int]): Hash-table rows per attribute, in the order of `attrs`.
    window_size (int): Tokens on each side the spelling CNN sees.
    depth (int): Convolution layers of the spelling encoder.
    lexicon_width (int): Width of the dictionary-tag embedding mixed into the spelling encoder's
        input; 0 (the default, and every model trained before it existed) leaves it out.
    """
    if spelling_width == 0:
        if lexicon_width:
            raise ValueError("lexicon_width needs the spelling encoder it feeds: set spelling_width > 0")
        return transformer
    embed = MultiHashEmbed(width=spelling_width, attrs=attrs, rows=rows, include_static_vectors=False)
    if lexicon_width:
        embed = chain(
            concatenate(embed, lexicon_tags(lexicon_width)),
            with_array(Maxout(spelling_width, spelling_width + lexicon_width, nP=3, normalize=True)),
        )
    spelling = build_Tok2Vec_model(
        embed, MaxoutWindowEncoder(width=spelling_width, window_size=window_size, maxout_pieces=3, depth=depth)
    )
    return Model(
        "transformer_with_spelling",
        _concatenate_forward,
        init=_concatenate_init,
        layers=[transformer, spelling],
        dims={"nO": None},
    )


def _concatenate_forward(model: Model, docs: List[Doc], is_train: bool):
    """thinc's `concatenate` per doc, except that an empty doc comes back from spacy-transformers
    as a (0, 0) array, which would not stack on the other docs' (n, 384): it is widened here."""
    (encoded, backprop_encoder), (spelled, backprop_spelling) = (layer(docs, is_train) for layer in model.layers)
    encoder_width = max((x.shape[1] for x in encoded), default=0)
    encoded = [x if x.shape[1] == encoder_width else model.ops.alloc2f(0, encoder_width) for x in encoded]
    outputs = [model.ops.xp.hstack((x, y)) for x, y in zip(encoded, spelled)]

    def backprop(d_outputs: List[Floats2d]) -> List:
        backprop_spelling([model.ops.as_contig(d[:, encoder_width:]) for d in d_outputs])
        return backprop_encoder([model.ops.as_contig(d[:, :encoder_width]) for d in d_outputs])

    return outputs, backprop


def _concatenate_init(model: Model, X=None, Y=None) -> None:
    for layer in model.layers:
        layer.initialize(X=X)
    if all(layer.has_dim("nO") for layer in model.layers):
        model.set_dim("nO", sum(layer.get_dim("nO") for layer in model.layers))
