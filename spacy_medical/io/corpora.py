"""Where the training and evaluation corpora live.

The corpora are never copied into the repository: they are read from `../shared/corpora`
beside the checkout, or from the folder named by the environment variable
SPACY_MEDICAL_CORPORA (see README for the upstream source of each corpus).
"""
import os
from pathlib import Path

from ..errors import Errors

ENV_VAR = "SPACY_MEDICAL_CORPORA"
_REPO_ROOT = Path(__file__).resolve().parents[2]


def corpora_dir(required: bool = True) -> Path:
    """Return the folder holding the corpora.

    required (bool): Raise if the folder does not exist.
    RETURNS (Path): SPACY_MEDICAL_CORPORA if set, else ../shared/corpora beside the repository.
    """
    value = os.environ.get(ENV_VAR)
    path = Path(value) if value else _REPO_ROOT.parent / "shared" / "corpora"
    if required and not path.is_dir():
        raise FileNotFoundError(Errors.E001.format(path=path))
    return path
