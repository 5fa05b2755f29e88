"""Invented notes and a tiny clinical pipeline for the service tests (a module of its own: every
test folder's conftest is named `conftest`, so importing from one by name picks whichever came first).

The pipeline is blank English + sentence splitting + an entity_ruler + the package's sections,
context (assertion) and summarizer components: real spacy-medical components, no trained model.
Every note here is invented.
"""
import pytest
import spacy

pytest.importorskip("fastapi", reason="the service needs the serve extra: pip install 'spacy-medical[serve]'")
pytest.importorskip("uvicorn", reason="the service needs the serve extra: pip install 'spacy-medical[serve]'")

import spacy_medical.registry  # noqa: E402,F401

TERMS = {"asthma": "DISEASE", "diabetes": "DISEASE", "pneumonia": "DISEASE", "chest pain": "SYMPTOM",
         "cough": "SYMPTOM", "aspirin": "DRUG", "metformin": "DRUG"}
PATTERNS = [{"label": label, "pattern": [{"LOWER": word} for word in term.split()]} for term, label in TERMS.items()]
# A note with one entity per qualifier, in its own section each.
NOTE = (
    "HPI: Patient denies chest pain. Possible pneumonia.\n"
    "PMH: History of asthma.\n"
    "Family history: mother had diabetes.\n"
    "Medications: aspirin daily. If cough returns, start metformin."
)
# A marker that must never appear in a log line or an error answer.
SECRET = "Zebulon Quasimodo"


def make_clinical_nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_sentences")
    nlp.add_pipe("entity_ruler")
    nlp.add_pipe("medical_sections")
    nlp.add_pipe("medical_context")
    nlp.add_pipe("medical_summarizer")
    nlp.initialize()
    # After initialize(): it would reset the ruler's patterns.
    nlp.get_pipe("entity_ruler").add_patterns(PATTERNS)
    nlp.meta["name"] = "service_test"
    nlp.meta["version"] = "0.0.1"
    return nlp


