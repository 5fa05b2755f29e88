"""Assemble the pipeline that summarizes a note: a NER model (or the lexicon stand-in), then
sentences, sections, assertion and the summarizer wherever the model lacks them.

Used by `spacy-medical summarize` and the ACI-Bench summary evaluation. (The batch annotator loads
its model in `spacy_medical.batch`; this assembly is for summaries only.)
"""
from pathlib import Path
from typing import Optional, Union

import spacy
from spacy.language import Language

from ..errors import Errors
from ..io.lexicons import disease_terms, drug_terms, symptom_terms


def lexicon_pipeline(max_terms_per_label: int = 20000) -> Language:
    """A blank pipeline whose `entity_ruler` knows lexicon terms: a stand-in for the trained NER
    while it does not exist (Symptom Ontology, Disease Ontology, DrugBank names)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_sentences")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    patterns = []
    for label, terms in (("SYMPTOM", symptom_terms()), ("DISEASE", disease_terms()), ("DRUG", drug_terms())):
        kept = sorted(t for t in terms if 3 <= len(t) <= 40 and len(t.split()) <= 4)[:max_terms_per_label]
        patterns.extend({"label": label, "pattern": t} for t in kept)
    ruler.add_patterns(patterns)
    return nlp


def load_summary_pipeline(model: str, dialogue_model: Optional[Union[str, Path]] = None, max_sentences: Optional[int] = None) -> Language:
    """Load the NER model and make sure it ends with sections, context and the summarizer.

    model (str): An installed package, a pipeline folder, or "lexicon" for `lexicon_pipeline`.
    dialogue_model (Optional[Union[str, Path]]): The dialogue classifier for `medical_sections`.
    max_sentences (Optional[int]): Override of the summarizer's length.
    RETURNS (Language): The pipeline.
    """
    if model == "lexicon":
        nlp = lexicon_pipeline()
    else:
        try:
            nlp = spacy.load(model)
        except OSError:
            raise ValueError(Errors.E207.format(model=model)) from None
    if "medical_sentences" not in nlp.pipe_names and "senter" not in nlp.pipe_names and "parser" not in nlp.pipe_names:
        nlp.add_pipe("medical_sentences", first=True)
    if "medical_sections" not in nlp.pipe_names:
        nlp.add_pipe("medical_sections")
    sections = nlp.get_pipe("medical_sections")
    if dialogue_model:
        sections.set_dialogue_model(dialogue_model)
    if "medical_context" not in nlp.pipe_names:
        nlp.add_pipe("medical_context", after="medical_sections").initialize(nlp=nlp)
    if "medical_summarizer" not in nlp.pipe_names:
        config = {"max_sentences": max_sentences} if max_sentences else {}
        nlp.add_pipe("medical_summarizer", config=config)
    elif max_sentences:
        nlp.get_pipe("medical_summarizer").max_sentences = max_sentences
    return nlp
