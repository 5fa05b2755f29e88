"""Every factory and registered function of spacy-medical, in one place.

Entry points in setup.cfg point here, so `spacy.load` finds the components in a process that
never imported `spacy_medical`, and `spacy package` lists this package in a model's requirements.
Each component module holds its class, `make_*` function and metadata; this module only binds
them to their names.
"""
from spacy.language import Language
from spacy.util import registry

from .extensions import install_extensions
from .io import training
from .pipeline import sentences

install_extensions()

# --- components ---------------------------------------------------------------------------
make_medical_sentences = Language.factory(
    "medical_sentences", func=sentences.make_medical_sentences, **sentences.FACTORY_META
)

# --- readers ------------------------------------------------------------------------------
create_weighted_corpus_reader = registry.readers.register(
    "spacy-medical.WeightedCorpus.v1", func=training.create_weighted_corpus_reader
)
