"""medical_linker on the real vocabularies: the KB built from the shared lexicons and BC5CDR train
links clinical variants, and its gold-mention accuracy on a slice of BC5CDR dev beats the
exact dictionary of training mentions."""
import pytest
import spacy

from spacy_medical.evaluate.linking import accuracy, baseline_accuracy, dictionary_baseline, gold_mentions
from spacy_medical.io.corpora import corpora_dir
from spacy_medical.kb.build import build_kb

CORPORA = corpora_dir(required=False)
PUBTATOR = CORPORA / "bc5cdr" / "pubtator"
pytestmark = [
    pytest.mark.corpora,
    pytest.mark.slow,
    pytest.mark.skipif(not CORPORA.is_dir(), reason=f"corpora not found at {CORPORA} (set SPACY_MEDICAL_CORPORA)"),
]


@pytest.fixture(scope="module")
def linker():
    kb, report = build_kb(CORPORA / "lexicons", [PUBTATOR / "CDR_TrainingSet.PubTator.txt"])
    assert report["mesh"] == 15657  # mesh/PROVENANCE.md
    nlp = spacy.blank("en")
    linker = nlp.add_pipe("medical_linker")
    linker.set_kb(kb)
    return linker


@pytest.mark.parametrize(
    "text,label,curie",
    [
        ("heart attack", "DISEASE", "MESH:D009203"),
        ("diabetis mellitus", "DISEASE", "MESH:D003920"),
        ("cancer of the breast", "DISEASE", "MESH:D001943"),
        ("acetylsalicylic acid", "DRUG", "MESH:D001241"),
        ("chest pain", "SYMPTOM", "MESH:D002637"),
    ],
)
def test_clinical_variants_link(linker, text, label, curie):
    doc = spacy.blank("en")(text)
    span = doc.char_span(0, len(text), label=label)
    assert linker.best(linker.link([span])[0]).id == curie


def test_dev_slice_beats_the_training_dictionary(linker):
    nlp = spacy.blank("en")
    mentions, _ = gold_mentions(PUBTATOR / "CDR_DevelopmentSet.PubTator.txt", nlp)
    mentions = mentions[:1500]
    links = [linker.best(c) for c in linker.link([m.span for m in mentions])]
    ours = accuracy(linker.kb, mentions, links)
    dictionary = baseline_accuracy(dictionary_baseline([PUBTATOR / "CDR_TrainingSet.PubTator.txt"]), mentions)
    for kind in ("Disease", "Chemical"):
        assert ours[kind]["accuracy"] > dictionary[kind]["accuracy"] + 0.1
        assert ours[kind]["accuracy"] > 0.75
