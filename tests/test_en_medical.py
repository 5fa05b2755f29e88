"""The installed en_medical pipeline end to end (skipped where it has not been built)."""
import importlib.util

import pytest
import spacy

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("en_medical") is None,
    reason="en_medical is not installed: build it with `spacy project run all`",
)


@pytest.fixture(scope="module")
def nlp():
    return spacy.load("en_medical")


def test_assertions_on_the_issue_example(nlp):
    doc = nlp("No fever, but reports cough. Mother had breast cancer.")
    found = {ent.text: (ent._.negated, ent._.family) for ent in doc.ents}
    assert found.get("fever") == (True, False)
    assert found.get("cough") == (False, False)
    assert found.get("breast cancer") == (False, True)


def test_lexicon_only_fills_gaps(nlp):
    assert nlp.pipe_names.index("symptom_lexicon") == nlp.pipe_names.index("ner") + 1
    assert nlp.get_pipe("symptom_lexicon").overwrite is False
