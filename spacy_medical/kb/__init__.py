"""The concept knowledge base of `medical_linker`: concepts from MeSH, the Disease Ontology, the
Symptom Ontology and DrugBank, their aliases, and candidate generation over them.

`build.py` builds it from the shared lexicons (`spacy project run kb`); `index.py` holds it,
finds candidates for a mention and writes/reads it (JSON, JSONL and a scipy `.npz`; no pickle).
"""
from .index import Candidate, ConceptKB, alias_key, fold_text

__all__ = ["Candidate", "ConceptKB", "alias_key", "fold_text"]
