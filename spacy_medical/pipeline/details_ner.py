"""`medical_details_ner`: a transition-based CNN NER for the clinical details, writing spans.

A second span model beside the `spancat` of configs/details_spancat.cfg (issue 32): the seven
detail labels (DOSE, ROUTE, FREQUENCY, DURATION, VALUE, TEST, PROCEDURE) are short and almost
never overlap in MACCROBAT (9 overlaps in 5,000 train spans), so a BILUO tagger fits them, with no
n-gram length limit and no threshold. It is spaCy's `EntityRecognizer` with its own Tok2Vec inside
(no listener, so it can be sourced into en_medical or en_medical_sm beside their encoders), with
one difference: its predictions go to `doc.spans[spans_key]`, never `doc.ents`. The pipeline's own
DISEASE / SYMPTOM / DRUG entities are set aside while it predicts (the NER would otherwise respect
them, and every token outside them is "O", which blocks every prediction) and put back unchanged.

Training gold is `doc.ents` of corpus/details/*.spacy (`spacy-medical convert-details` writes the
detail spans there too); it is scored on `doc.spans[spans_key]` like the spancat.
"""
from typing import Callable, Iterable, Iterator, List, Optional, Tuple

from spacy.language import Language
from spacy.pipeline import EntityRecognizer
from spacy.pipeline.spancat import spancat_score
from spacy.tokens import Doc, Span
from spacy.training import Example
from thinc.api import Model

DEFAULT_MODEL = {
    "@architectures": "spacy.TransitionBasedParser.v2",
    "state_type": "ner",
    "extra_state_tokens": False,
    "hidden_width": 64,
    "maxout_pieces": 2,
    "use_upper": True,
    "nO": None,
    "tok2vec": {
        "@architectures": "spacy.Tok2Vec.v2",
        "embed": {
            "@architectures": "spacy.MultiHashEmbed.v2",
            "width": 96,
            "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
            "rows": [5000, 1000, 2500, 2500],
            "include_static_vectors": False,
        },
        "encode": {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": 96, "depth": 4, "window_size": 1, "maxout_pieces": 3},
    },
}

SavedEntities = Tuple[List[Span], List[Span]]  # (entities, tokens whose entity annotation was missing)


def set_aside_entities(doc: Doc) -> SavedEntities:
    """Remove the Doc's entities (all tokens become 'missing') and return what `restore_entities` needs."""
    saved = (list(doc.ents), [doc[t.i : t.i + 1] for t in doc if t.ent_iob == 0])
    doc.set_ents([], default="missing")
    return saved


def restore_entities(doc: Doc, saved: SavedEntities) -> None:
    """Put the entities set aside by `set_aside_entities` back, labels, kb ids and missing tokens included."""
    entities, missing = saved
    doc.set_ents([], default="missing")
    doc.set_ents(entities, missing=missing, default="outside")


class DetailsRecognizer(EntityRecognizer):
    """A CNN NER whose entities are written to `doc.spans[spans_key]`; `doc.ents` is left as it was."""

    def __init__(self, vocab, model: Model, name: str = "medical_details_ner", *, spans_key: str = "details", scorer: Optional[Callable] = None, **kwargs):
        """Create the recognizer.

        spans_key (str): The span group its predictions go to (`medical_details` reads "details").
        kwargs: Passed on to spaCy's EntityRecognizer (moves, update_with_oracle_cut_size).
        """
        super().__init__(vocab, model, name=name, scorer=scorer, **kwargs)
        self.spans_key = spans_key

    def _predict_to_spans(self, docs: List[Doc]) -> None:
        saved = [set_aside_entities(doc) for doc in docs]
        self.set_annotations(docs, self.predict(docs))
        for doc, entities in zip(docs, saved):
            doc.spans[self.spans_key] = [Span(doc, e.start, e.end, label=e.label) for e in doc.ents]
            restore_entities(doc, entities)

    def __call__(self, doc: Doc) -> Doc:
        self._predict_to_spans([doc])
        return doc

    def pipe(self, docs: Iterable[Doc], *, batch_size: int = 256) -> Iterator[Doc]:
        error_handler = self.get_error_handler()
        batch: List[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) == batch_size:
                yield from self._pipe_batch(batch, error_handler)
                batch = []
        if batch:
            yield from self._pipe_batch(batch, error_handler)

    def _pipe_batch(self, batch: List[Doc], error_handler: Callable) -> List[Doc]:
        try:
            self._predict_to_spans(batch)
        except Exception as e:  # noqa: BLE001 - spaCy's error handler decides (re-raises by default)
            error_handler(self.name, self, batch, e)
        return batch

    def score(self, examples: Iterable[Example], **kwargs) -> dict:
        """Per-label P/R/F of `doc.spans[spans_key]` against the reference's (strict token offsets)."""
        return spancat_score(examples, spans_key=self.spans_key, allow_overlap=False)


FACTORY_META = dict(
    default_config={"model": DEFAULT_MODEL, "spans_key": "details", "moves": None, "update_with_oracle_cut_size": 100},
    assigns=["doc.spans"],
    default_score_weights={"spans_details_f": 1.0, "spans_details_p": 0.0, "spans_details_r": 0.0},
)


def make_medical_details_ner(nlp: Language, name: str, model: Model, spans_key: str, moves, update_with_oracle_cut_size: int) -> DetailsRecognizer:
    return DetailsRecognizer(nlp.vocab, model, name=name, spans_key=spans_key, moves=moves, update_with_oracle_cut_size=update_with_oracle_cut_size)
