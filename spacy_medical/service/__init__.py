"""The HTTP service of spacy-medical (`spacy-medical serve`; needs the `serve` extra)."""
from .app import app_from_environment, create_app

__all__ = ["create_app", "app_from_environment"]
