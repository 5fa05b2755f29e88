"""project.yml and experiments/project.yml: every command runs a script, module and CLI command that exists, and the
`ci` workflow end to end (convert a slice -> train a tiny CNN, restore the shipped transformer NER -> assemble
en_medical and en_medical_sm -> package -> install -> load)."""
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from spacy_medical.io.corpora import corpora_dir

ROOT = Path(__file__).resolve().parents[1]
CORPORA = corpora_dir(required=False)


@pytest.mark.slow
@pytest.mark.corpora
@pytest.mark.skipif(not CORPORA.is_dir(), reason=f"corpora not found at {CORPORA} (set SPACY_MEDICAL_CORPORA)")
def test_ci_workflow_builds_an_installable_en_medical(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    for name in ("project.yml", "configs", "scripts", "weights"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, project / name)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    subprocess.run(
        [sys.executable, "-m", "spacy", "project", "run", "ci", str(project), "--vars.corpora", str(CORPORA)],
        check=True, env=env, cwd=project,
    )
    wheels = {p.name.split("-")[0]: p for p in (project / "training/ci/packages").glob("en_medical*/dist/*.whl")}
    assert sorted(wheels) == ["en_medical", "en_medical_sm"]
    for wheel in wheels.values():
        with zipfile.ZipFile(wheel) as zf:
            metadata = zf.read(next(n for n in zf.namelist() if n.endswith("METADATA"))).decode()
        # spacy package found this package through the config's factories and readers
        assert "Requires-Dist: spacy-medical" in metadata

    code = (
        "import sys, spacy\n"
        "for name in ('en_medical', 'en_medical_sm'):\n"
        "    nlp = spacy.load(name)\n"
        "    doc = nlp('Patient denies chest pain.\\nHPI: fever and cough.')\n"
        "    assert isinstance(doc._.summary, dict) and 'problems' in doc._.summary\n"
        "    print(','.join(nlp.pipe_names), len(list(doc.sents)), nlp.meta['name'], nlp.meta['version'])\n"
    )
    site = project / "training/ci/site"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path,
        env=dict(env, PYTHONPATH=str(site)),
    )
    clinical = "symptom_lexicon,medical_abbreviations,medical_linker,medical_sections,medical_context,medical_summarizer,medical_deid"
    assert out.stdout.split() == [
        f"medical_sentences,transformer,ner,{clinical}", "2", "medical", "0.1.0",
        f"medical_sentences,tok2vec,ner,{clinical}", "2", "medical_sm", "0.1.0",
    ]


def project(folder: Path) -> dict:
    from weasel.util import load_project_config

    return load_project_config(folder)


def cli_commands() -> set:
    from spacy_medical.cli import app

    return {command.name or command.callback.__name__.replace("_", "-") for command in app.registered_commands}


@pytest.mark.parametrize("folder", [ROOT, ROOT / "experiments"], ids=["project.yml", "experiments/project.yml"])
def test_every_script_a_command_runs_exists(folder):
    config = project(folder)
    names = {command["name"] for command in config["commands"]}
    assert {step for steps in config["workflows"].values() for step in steps} <= names
    for command in config["commands"]:
        for line in command["script"]:
            words = shlex.split(line)
            if words[0] != "python" or words[1] == "-c":
                continue
            if words[1] != "-m":
                assert (folder / words[1]).is_file(), f"{command['name']}: {words[1]}"
            elif words[2] == "spacy_medical.cli":
                assert words[3] in cli_commands(), f"{command['name']}: spacy-medical {words[3]}"
            else:
                assert importlib.util.find_spec(words[2]), f"{command['name']}: {words[2]}"
        # What the repository holds (configs, scripts, package code, weights) must exist; the rest is built.
        for dep in command.get("deps", []):
            # weasel joins a bare "${vars.x}" list item with an interpolated one after it: never write that
            assert ", " not in dep, f"{command['name']}: {dep}"
            path = (folder / dep).resolve()
            if path.is_relative_to(ROOT) and path.relative_to(ROOT).parts[0] in ("configs", "scripts", "spacy_medical", "weights"):
                assert path.exists(), f"{command['name']}: {dep}"


def test_the_product_project_keeps_the_ablations_out():
    config = project(ROOT)
    assert len(config["commands"]) <= 40
    assert not [c["name"] for c in config["commands"] if c["name"].startswith("ablation") or "-ablation-" in c["name"]]
    ablations = project(ROOT / "experiments")["commands"]
    assert not {c["name"] for c in config["commands"]} & {c["name"] for c in ablations}


# A path of one machine (/work/..., /home/..., /tmp/...) in a shared file: a metrics file, a doc or a
# config that would not hold anywhere else.
MACHINE_PATH = re.compile(r"(^|[^\w.~])/(work|home|tmp|Users|root|mnt)/")


def test_no_machine_paths_in_metrics_docs_and_configs():
    files = [ROOT / "README.md", ROOT / "project.yml", *(ROOT / "metrics").rglob("*.json"), *(ROOT / "metrics").rglob("*.md"),
             *(ROOT / "docs").glob("*.md"), *(ROOT / "configs").glob("*.cfg"), *(ROOT / "spacy_medical" / "configs").glob("*.cfg")]
    found = [f"{path.relative_to(ROOT)}:{number}" for path in files
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if MACHINE_PATH.search(line)]
    assert len(files) > 20 and not found, found
