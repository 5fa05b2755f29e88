__title__ = "spacy-medical"
__version__ = "0.1.0"
