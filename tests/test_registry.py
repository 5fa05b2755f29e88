"""Every advertised entry point resolves, and every factory builds from a config string."""
import configparser
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.util import registry

SETUP_CFG = Path(__file__).resolve().parents[1] / "setup.cfg"
# entry point group -> the spaCy registry that serves it
GROUPS = {
    "spacy_factories": None,
    "spacy_readers": registry.readers,
    "spacy_scorers": registry.scorers,
    "spacy_architectures": registry.architectures,
    "spacy_misc": registry.misc,
    "spacy_tokenizers": registry.tokenizers,
    "spacy_callbacks": registry.callbacks,
}


def advertised():
    parser = configparser.ConfigParser()
    parser.read(SETUP_CFG)
    out = []
    for group, value in parser["options.entry_points"].items():
        if group in GROUPS:
            for line in value.strip().splitlines():
                name, target = (x.strip() for x in line.split("=", 1))
                out.append((group, name, target))
    return out


def test_something_is_advertised():
    assert {"medical_sentences", "spacy-medical.WeightedCorpus.v1"} <= {name for _, name, _ in advertised()}


@pytest.mark.parametrize("group,name,target", advertised())
def test_entry_point_is_installed(group, name, target):
    from importlib.metadata import entry_points

    installed = {ep.name: ep.value for ep in entry_points(group=group)}
    assert installed.get(name) == target, "installed entry points are stale: pip install -e . again"


@pytest.mark.parametrize("group,name,target", [a for a in advertised() if GROUPS[a[0]] is not None])
def test_registered_function_resolves(group, name, target):
    assert callable(GROUPS[group].get(name))


def test_factories_resolve_in_a_process_that_never_imports_the_package(tmp_path):
    names = [name for group, name, _ in advertised() if group == "spacy_factories"]
    code = (
        "import sys, spacy\n"
        "nlp = spacy.blank('en')\n"
        f"for name in {names!r}:\n"
        "    nlp.add_pipe(name)\n"
        "print(','.join(nlp.pipe_names))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ",".join(names)


@pytest.mark.parametrize("group,name,target", [a for a in advertised() if a[0] == "spacy_factories"])
def test_factory_builds_from_config(group, name, target):
    config = f"""
[nlp]
lang = "en"
pipeline = ["{name}"]

[components]

[components.{name}]
factory = "{name}"
"""
    from thinc.api import Config

    nlp = spacy.util.load_model_from_config(Config().from_str(config), auto_fill=True)
    assert nlp.pipe_names == [name]
    assert nlp.get_pipe_meta(name).factory == name
