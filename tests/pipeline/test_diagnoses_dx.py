"""Tests of `medical_diagnoses` on a blank pipeline whose cats come from a stub classifier."""
import pytest
import spacy
import srsly
from spacy.language import Language

from spacy_medical.io.corpora import corpora_dir
from spacy_medical.pipeline.diagnoses import CODES_PATH, read_codes

SCORES = {"Malaria": 0.62, "Typhoid": 0.2, "Dengue": 0.1, "Common Cold": 0.05, "allergy": 0.03}


@Language.component("stub_textcat_dx")
def stub_textcat_dx(doc):
    # Low scores for texts mentioning "unsure", to exercise the threshold.
    scale = 0.3 if "unsure" in doc.text else 1.0
    doc.cats = {label: score * scale for label, score in SCORES.items()}
    return doc


@pytest.fixture
def nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("stub_textcat_dx", name="textcat")
    nlp.add_pipe("medical_diagnoses", config={"threshold": 0.4})
    nlp.initialize()
    return nlp


def test_top_three_with_scores_and_codes(nlp):
    diagnoses = nlp("fever every other day since Ghana")._.diagnoses
    assert [d["label"] for d in diagnoses] == ["Malaria", "Typhoid", "Dengue"]
    assert diagnoses[0]["score"] == 0.62
    assert diagnoses[0]["kb_id"] == "MESH:D008288"
    assert diagnoses[0]["codes"] == {"MESH": "D008288", "DOID": "12365"}


def test_below_threshold_means_no_suggestion(nlp):
    assert nlp("unsure what this is")._.diagnoses == []


def test_label_without_code_has_empty_codes(nlp):
    nlp.get_pipe("medical_diagnoses").codes.pop("Typhoid")
    typhoid = nlp("fever")._.diagnoses[1]
    assert typhoid["label"] == "Typhoid" and typhoid["codes"] == {} and typhoid["kb_id"] is None


def test_round_trip_keeps_threshold_and_codes(nlp, tmp_path):
    nlp.get_pipe("medical_diagnoses").threshold = 0.7
    nlp.get_pipe("medical_diagnoses").codes["Malaria"]["codes"] = {"MESH": "D008288"}
    nlp.to_disk(tmp_path / "model")
    loaded = spacy.load(tmp_path / "model")
    pipe = loaded.get_pipe("medical_diagnoses")
    assert pipe.threshold == 0.7 and pipe.codes["Malaria"]["codes"] == {"MESH": "D008288"}
    assert loaded("fever")._.diagnoses == []
    restored = spacy.blank("en").add_pipe("medical_diagnoses").from_bytes(pipe.to_bytes())
    assert restored.threshold == 0.7


def test_exclude_codes_leaves_the_table_out(nlp, tmp_path):
    nlp.get_pipe("medical_diagnoses").to_disk(tmp_path / "dx", exclude=["codes"])
    assert not (tmp_path / "dx" / "dx_codes.jsonl").exists()


def test_bad_settings_and_missing_classifier_are_refused(tmp_path):
    with pytest.raises(ValueError, match="E657|threshold must be in"):
        spacy.blank("en").add_pipe("medical_diagnoses", config={"threshold": 1.5})
    lone = spacy.blank("en")
    lone.add_pipe("medical_diagnoses")
    lone.initialize()
    with pytest.raises(ValueError, match="no doc.cats; put the classifier 'textcat' before it"):
        lone("fever")
    bad = tmp_path / "codes.jsonl"
    srsly.write_jsonl(bad, [{"label": "Malaria", "codes": {"MESH": "D008288"}}, {"label": "Typhoid"}])
    with pytest.raises(ValueError, match="line 2"):
        read_codes(bad)


CORPORA = corpora_dir(required=False)


@pytest.mark.corpora
@pytest.mark.skipif(not (CORPORA / "lexicons" / "mesh").is_dir(), reason=f"lexicons not found under {CORPORA}")
def test_code_table_ids_exist_in_the_shipped_lexicons():
    mesh = {}
    with open(CORPORA / "lexicons/mesh/mesh_descriptors.tsv", encoding="utf8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            mesh[fields[0]] = fields[1]
    doids = set()
    with open(CORPORA / "lexicons/disease_ontology/HumanDO.tsv", encoding="utf8") as f:
        for line in f:
            doids.add(line.split("\t")[0].strip('"'))
    table = read_codes(CODES_PATH)
    assert len(table) == 24
    for row in table.values():
        assert row["codes"]["MESH"] in mesh
        if "DOID" in row["codes"]:
            assert "DOID:" + row["codes"]["DOID"] in doids


def test_pipeline_pickles_for_multiprocessing(nlp):
    import pickle

    restored = pickle.loads(pickle.dumps(nlp.get_pipe("medical_diagnoses")))
    assert restored.threshold == 0.4 and restored.codes["Malaria"]["codes"]["MESH"] == "D008288"
