"""`POST /deidentify`, `?deidentify=true` and `POST /link`: the same records as the batch commands
(`spacy-medical deidentify`, `annotate --deidentify`), no original PHI in any answer, and the
concept linker's fields per entity. Every note and name is invented."""
import csv
import json

import pytest
import spacy
from fastapi.testclient import TestClient
from service_notes import SECRET, make_clinical_nlp
from tiny_vocabularies import write_lexicons

from spacy_medical.batch.annotate import annotate
from spacy_medical.batch.deidentify import deid_pipeline
from spacy_medical.kb.build import build_kb
from spacy_medical.service import create_app

NOTES = [
    f"Seen by Dr. {SECRET} on 03/04/2026. HPI: Patient denies chest pain. Possible pneumonia.",
    "PMH: History of asthma. Call (937) 555-0112 with results, MRN B7730214.",
    "",
    "Family history: mother had diabetes. Medications: aspirin daily.",
]
PHI_STRINGS = [SECRET, "03/04/2026", "555-0112", "B7730214"]


def _batch_records(nlp, tmp_path, name):
    export = tmp_path / f"{name}.csv"
    with open(export, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["note_id", "text"], *[[f"n{i}", text] for i, text in enumerate(NOTES)]])
    result = annotate(export, tmp_path / f"{name}.jsonl", model=nlp, progress=False)
    assert result.exit_code == 0
    return [json.loads(line) for line in (tmp_path / f"{name}.jsonl").read_text().splitlines()]


def _notes():
    return [{"note_id": f"n{i}", "text": text} for i, text in enumerate(NOTES)]


def test_deidentify_endpoint_answers_the_records_of_the_deidentify_command(client, tmp_path):
    served = client.post("/deidentify", json=_notes())
    assert served.status_code == 200
    assert served.json() == _batch_records(deid_pipeline("blank"), tmp_path, "deid")
    for phi in PHI_STRINGS:
        assert phi not in served.text
    first = served.json()[0]
    assert [p["label"] for p in first["phi"]] == ["NAME", "DATE"]
    assert [first["text"][p["start_char"]:p["end_char"]] for p in first["phi"]] == ["[NAME]", "[DATE]"]


def test_annotate_deidentified_equals_annotate_deidentify_command(client, tmp_path):
    served = client.post("/annotate?deidentify=true", json=_notes())
    assert served.status_code == 200
    batch = _batch_records(deid_pipeline(make_clinical_nlp()), tmp_path, "annotated")
    assert served.json() == batch
    for phi in PHI_STRINGS:
        assert phi not in served.text
    # The pipeline ran on the de-identified text: entities, qualifiers and offsets point into it.
    first = served.json()[0]
    assert {(e["text"], e["negated"]) for e in first["entities"]} == {("chest pain", True), ("pneumonia", False)}
    assert all(first["text"][e["start_char"]:e["end_char"]] == e["text"] for e in first["entities"])


@pytest.mark.parametrize("path", ["/summarize", "/fhir", "/render"])
def test_every_answer_can_be_deidentified(client, path):
    plain = client.post(path, json=_notes()[0])
    clean = client.post(path + "?deidentify=true", json=_notes()[0])
    assert plain.status_code == clean.status_code == 200
    assert SECRET in plain.text or path != "/render"  # the page shows the note as sent
    for phi in PHI_STRINGS:
        assert phi not in clean.text
    assert "pneumonia" in clean.text


def test_deidentify_refuses_bad_input_without_echoing_it(client):
    response = client.post("/deidentify", json={"note_id": "x", "text": f"{SECRET}\x00"})
    assert response.status_code == 422 and "U+0000" in response.text and SECRET not in response.text


def test_link_is_absent_without_a_linker(client):
    response = client.post("/link", json=_notes()[0])
    assert response.status_code == 404 and response.headers["content-type"].startswith("application/json")


@pytest.fixture(scope="module")
def linking_client(tmp_path_factory):
    root = write_lexicons(tmp_path_factory.mktemp("lexicons"))
    kb, _ = build_kb(root, [root / "train.PubTator.txt"])
    kb.to_disk(root / "kb")
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    nlp.add_pipe("medical_linker")
    nlp.config["initialize"]["components"]["medical_linker"] = {"kb_path": str(root / "kb")}
    nlp.initialize()
    ruler.add_patterns([{"label": "DISEASE", "pattern": "heart attack"}, {"label": "DRUG", "pattern": "aspirin"},
                        {"label": "DISEASE", "pattern": "zork qux"}, {"label": "DISEASE", "pattern": "breast and ovarian cancer"}])
    with TestClient(create_app(nlp, max_chars=2000)) as test_client:
        yield test_client


def test_link_gives_each_entity_its_concept(linking_client):
    answer = linking_client.post("/link", json={"note_id": "n1", "text": "Heart attack, zork qux; aspirin."}).json()
    assert (answer["note_id"], answer["status"]) == ("n1", "ok")
    found = {e["text"]: (e["kb_id"], e["codes"]) for e in answer["entities"]}
    assert found["Heart attack"] == ("MESH:D009203", {"MESH": "D009203", "DOID": "5844"})
    assert found["aspirin"][0] == "MESH:D001241" and found["aspirin"][1]["DRUGBANK"] == "DB00945"
    assert found["zork qux"][0] == ""  # nothing good enough: NIL
    assert set(answer["entities"][0]) == {"text", "label", "start_char", "end_char", "kb_id", "concept_name", "codes"}
    # A coordinated mention also gets one link per part.
    composite = linking_client.post("/link", json={"note_id": "n2", "text": "Breast and ovarian cancer."}).json()
    parts = composite["entities"][0]["composite_links"]
    assert [(p["text"], p["kb_id"]) for p in parts] == [("Breast cancer", "MESH:D001943"), ("ovarian cancer", "MESH:D010051")]
    # The records of /annotate carry the same fields.
    record = linking_client.post("/annotate", json={"note_id": "n1", "text": "Heart attack."}).json()
    assert record["entities"][0]["kb_id"] == "MESH:D009203"
