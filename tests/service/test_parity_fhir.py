"""`/annotate` records equal `spacy-medical annotate` records; every `/fhir` Bundle validates
with fhir.resources; the FHIR NDJSON writer. Every note is invented."""
import csv
import json

import pytest
from service_notes import NOTE

from spacy_medical.io.fhir import CODE_SYSTEMS, FhirWriter, record_to_bundle

NOTES = [
    NOTE,
    "Cough for 3 days.\r\nPlan: metformin for diabetes.",
    "",
    "No asthma. <b>Denies</b> chest pain, takes aspirin.",
    "Le patient a de l'asthme. 患者有哮喘 diabetes",
    "Family history: father with asthma, no diabetes.\n\nAssessment: likely pneumonia.",
]


def _bundle_model():
    return pytest.importorskip("fhir.resources.R4B.bundle", reason="needs fhir.resources (serve extra)").Bundle


def test_annotate_endpoint_records_equal_batch_records(client, clinical_nlp, tmp_path):
    from spacy_medical.batch.annotate import annotate

    export = tmp_path / "notes.csv"
    with open(export, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["note_id", "text"])
        writer.writerows([f"P{i % len(NOTES)}", text] for i, text in enumerate(NOTES + NOTES[:2]))
    result = annotate(export, tmp_path / "out.jsonl", model=clinical_nlp, progress=False)
    assert result.exit_code == 0
    batch = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    notes = [{"note_id": f"P{i % len(NOTES)}", "text": text} for i, text in enumerate(NOTES + NOTES[:2])]
    served = client.post("/annotate", json=notes).json()
    assert served == batch
    assert any("duplicate_id" not in r["flags"] and r["entities"] for r in served)
    assert served[6]["flags"] == ["duplicate_id"]  # the reader's flags, set the reader's way


def test_every_fhir_bundle_validates_and_maps_qualifiers(client):
    bundle_model = _bundle_model()
    for i, text in enumerate(NOTES):
        response = client.post("/fhir", json={"note_id": f"F{i}", "text": text})
        assert response.headers["content-type"].startswith("application/fhir+json")
        bundle_model.model_validate(response.json())
    bundle = client.post("/fhir", json={"note_id": "F0", "text": NOTE}).json()
    resources = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        resources.setdefault(resource["resourceType"], []).append(resource)
    assert bundle["identifier"]["value"] == "F0"
    symptom = resources["Observation"][0]
    assert symptom["code"]["text"] == "chest pain" and symptom["valueBoolean"] is False
    conditions = {c["code"]["text"]: c["verificationStatus"]["coding"][0]["code"] for c in resources["Condition"]}
    assert conditions == {"pneumonia": "provisional", "asthma": "confirmed"}
    family = resources["FamilyMemberHistory"][0]
    assert family["condition"][0]["code"]["text"] == "diabetes"
    statuses = {m["medicationCodeableConcept"]["text"]: m["status"] for m in resources["MedicationStatement"]}
    assert statuses["aspirin"] == "active"
    span = {e["url"]: e for e in symptom["extension"]}
    offsets = {sub["url"]: list(sub.values())[1] for sub in span["urn:spacy-medical:fhir:extension:text-span"]["extension"]}
    assert NOTE[offsets["start"]:offsets["end"]] == "chest pain" and offsets["noteId"] == "F0"


def test_fhir_list_is_a_collection_of_bundles_that_validates(client):
    bundle_model = _bundle_model()
    notes = [{"note_id": f"F{i}", "text": text} for i, text in enumerate(NOTES)]
    collection = client.post("/fhir", json=notes).json()
    bundle_model.model_validate(collection)
    assert [e["resource"]["identifier"]["value"] for e in collection["entry"]] == [n["note_id"] for n in notes]


def test_negated_disease_is_refuted_and_codes_become_codings():
    bundle_model = _bundle_model()
    record = {
        "row": 1, "note_id": "C1", "status": "ok", "model": "en_medical", "model_version": "0.1.0",
        "entities": [
            {"text": "asthma", "label": "DISEASE", "start_char": 3, "end_char": 9, "negated": True,
             "kb_id": "MESH:D001249", "concept_name": "Asthma", "codes": {"MESH": "D001249", "DOID": "2841"}},
            {"text": "aspirin", "label": "DRUG", "start_char": 20, "end_char": 27, "negated": True,
             "kb_id": "DRUGBANK:DB00945", "attributes": [{"label": "DOSE", "text": "81 mg"}]},
            {"text": "fever", "label": "SYMPTOM", "start_char": 30, "end_char": 35, "kb_id": "SYMP:0000613"},
            {"text": "colonoscopy", "label": "PROCEDURE", "start_char": 40, "end_char": 51},
        ],
    }
    bundle = record_to_bundle(record, patient_reference="Patient/p1")
    bundle_model.model_validate(bundle)
    condition, medication, observation = (e["resource"] for e in bundle["entry"])
    assert condition["verificationStatus"]["coding"][0]["code"] == "refuted"
    assert condition["code"]["coding"] == [
        {"system": CODE_SYSTEMS["MESH"], "code": "D001249", "display": "Asthma"},
        {"system": CODE_SYSTEMS["DOID"], "code": "2841"},
    ]
    assert condition["subject"] == {"reference": "Patient/p1"}
    assert medication["status"] == "not-taken" and medication["dosage"] == [{"text": "81 mg"}]
    assert medication["medicationCodeableConcept"]["coding"][0]["system"] == CODE_SYSTEMS["DRUGBANK"]
    assert observation["code"]["coding"][0] == {"system": CODE_SYSTEMS["SYMP"], "code": "0000613"}
    assert bundle == record_to_bundle(record, patient_reference="Patient/p1")  # reproducible ids


def test_failed_record_becomes_an_operation_outcome():
    bundle_model = _bundle_model()
    bundle = record_to_bundle({"row": 4, "note_id": "X", "status": "failed", "error": "row 4: the pipeline failed"})
    bundle_model.model_validate(bundle)
    assert bundle["entry"][0]["resource"]["resourceType"] == "OperationOutcome"


def test_fhir_writer_writes_one_bundle_per_note_and_resumes(client, tmp_path):
    bundle_model = _bundle_model()
    records = client.post("/annotate", json=[{"note_id": f"W{i}", "text": t} for i, t in enumerate(NOTES)]).json()
    path = tmp_path / "out.ndjson"
    writer = FhirWriter(path)
    writer.open()
    for record in records[:3]:
        writer.write(record)
    state = writer.checkpoint()
    writer.write(records[3])
    writer.close()
    # A crash after the checkpoint: reopening truncates what came after it.
    writer = FhirWriter(path)
    writer.open(state)
    for record in records[3:]:
        writer.write(record)
    writer.write_failed({"row": 9, "note_id": "E", "status": "failed", "error": "x"})
    writer.checkpoint()
    writer.close()
    lines = path.read_text(encoding="ascii").splitlines()
    assert [json.loads(line)["identifier"]["value"] for line in lines] == [r["note_id"] for r in records]
    for line in lines:
        bundle_model.model_validate_json(line)
