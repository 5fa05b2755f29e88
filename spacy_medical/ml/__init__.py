"""Model architectures of spacy-medical (registered in spacy_medical.registry)."""
