"""The Doc/Span extension table: every custom attribute this package sets, in one place.

Installed idempotently with `has_extension` guards, never `force=True`, so another package
that already registered one of these names keeps its own definition.
"""
from typing import Any, Callable, Dict

from spacy.tokens import Doc, Span

from .labels import ASSERTIONS
from .pipeline.details import entity_attributes

# name -> (object class, default)
SPAN_EXTENSIONS: Dict[str, Any] = {**{name: False for name in ASSERTIONS}, "section": None, "value": None}
# Set by medical_linker: vocabulary -> id, the concept's name, the top candidates, and one
# link per part of a coordinated mention ("breast and ovarian cancer").
SPAN_EXTENSIONS.update({"codes": None, "concept_name": None, "candidates": None, "composite_links": None})
DOC_EXTENSIONS: Dict[str, Any] = {"summary": None, "note_id": None, "deidentified": None, "patient_id": None,
                                  "attribute_links": None,
                                  # suggestions set by medical_diagnoses (None when the pipe did not run)
                                  "diagnoses": None}
# name -> getter: computed from other annotations, so there is nothing to keep in sync.
SPAN_GETTERS: Dict[str, Callable[[Span], Any]] = {"attributes": entity_attributes}


def install_extensions() -> None:
    """Register every extension of the table that is not registered yet."""
    for name, default in SPAN_EXTENSIONS.items():
        if not Span.has_extension(name):
            Span.set_extension(name, default=default)
    for name, getter in SPAN_GETTERS.items():
        if not Span.has_extension(name):
            Span.set_extension(name, getter=getter)
    for name, default in DOC_EXTENSIONS.items():
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=default)
