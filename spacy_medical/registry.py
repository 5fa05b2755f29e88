"""Every factory and registered function of spacy-medical, in one place.

Entry points in setup.cfg point here, so `spacy.load` finds the components in a process that
never imported `spacy_medical`, and `spacy package` lists this package in a model's requirements.
Each component module holds its class, `make_*` function and metadata; this module only binds
them to their names.
"""
from spacy.language import Language
from spacy.util import registry

from .extensions import install_extensions
from .io import lexicons, training
from .ml import encoder, frozen_encoder, memory, spelling
from .pipeline import abbreviations, assertion_scoring, context, sections, sentences, summarizer
from .pipeline import deid
from .pipeline import details
from .pipeline import details_ner
from .pipeline import diagnoses
from .pipeline import linker

install_extensions()

# --- components ---------------------------------------------------------------------------
make_medical_sentences = Language.factory(
    "medical_sentences", func=sentences.make_medical_sentences, **sentences.FACTORY_META
)
make_medical_sections = Language.factory(
    "medical_sections", func=sections.make_medical_sections, **sections.FACTORY_META
)
make_medical_summarizer = Language.factory(
    "medical_summarizer", func=summarizer.make_medical_summarizer, **summarizer.FACTORY_META
)
make_medical_context = Language.factory(
    "medical_context", func=context.make_medical_context, **context.FACTORY_META
)
make_medical_abbreviations = Language.factory(
    "medical_abbreviations", func=abbreviations.make_medical_abbreviations, **abbreviations.FACTORY_META
)
make_medical_deid = Language.factory("medical_deid", func=deid.make_medical_deid, **deid.FACTORY_META)
make_medical_details = Language.factory(
    "medical_details", func=details.make_medical_details, **details.FACTORY_META
)
make_medical_details_ner = Language.factory(
    "medical_details_ner", func=details_ner.make_medical_details_ner, **details_ner.FACTORY_META
)
make_medical_diagnoses = Language.factory(
    "medical_diagnoses", func=diagnoses.make_medical_diagnoses, **diagnoses.FACTORY_META
)
make_medical_linker = Language.factory("medical_linker", func=linker.make_medical_linker, **linker.FACTORY_META)
make_assertion_scorer = registry.scorers.register(
    "spacy-medical.assertion_scorer.v1", func=assertion_scoring.make_assertion_scorer
)
make_sections_scorer = registry.scorers.register(
    "spacy-medical.sections_scorer.v1", func=sections.make_sections_scorer
)
make_details_scorer = registry.scorers.register(
    "spacy-medical.details_scorer.v1", func=details.make_details_scorer
)

# --- readers ------------------------------------------------------------------------------
create_weighted_corpus_reader = registry.readers.register(
    "spacy-medical.WeightedCorpus.v1", func=training.create_weighted_corpus_reader
)
read_patterns = registry.readers.register("spacy-medical.read_patterns.v1", func=lexicons.read_patterns)
read_token_patterns = registry.readers.register("spacy-medical.read_patterns.v2", func=lexicons.read_token_patterns)

# --- architectures and callbacks -----------------------------------------------------------
create_packaged_transformer_model = registry.architectures.register(
    "spacy-medical.PackagedTransformerModel.v1", func=encoder.create_packaged_transformer_model
)
create_transformer_with_spelling = registry.architectures.register(
    "spacy-medical.TransformerWithSpelling.v1", func=spelling.create_transformer_with_spelling
)
make_quantize_transformer = registry.callbacks.register(
    "spacy-medical.quantize_transformer.v1", func=encoder.make_quantize_transformer
)
make_quantize_transformer_v2 = registry.callbacks.register(
    "spacy-medical.quantize_transformer.v2", func=encoder.make_quantize_transformer_v2
)
make_trim_heap = registry.callbacks.register("spacy-medical.trim_heap.v1", func=memory.make_trim_heap)
make_initialize_frozen = registry.callbacks.register(
    "spacy-medical.initialize_frozen.v1", func=frozen_encoder.make_initialize_frozen
)
