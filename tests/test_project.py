"""The `ci` workflow of project.yml end to end: convert a slice -> train a tiny CNN, restore the
shipped transformer NER -> assemble en_medical and en_medical_sm -> package -> install -> load."""
import os
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
    clinical = "symptom_lexicon,medical_abbreviations,medical_sections,medical_context,medical_summarizer"
    assert out.stdout.split() == [
        f"medical_sentences,transformer,ner,{clinical}", "2", "medical", "0.1.0",
        f"medical_sentences,tok2vec,ner,{clinical}", "2", "medical_sm", "0.1.0",
    ]
