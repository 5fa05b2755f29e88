"""spacy-medical: clinical NER, assertion, sections and record summaries for spaCy."""
from . import registry  # noqa: F401  (binds the factories and registered functions)
from .about import __version__  # noqa: F401
