"""Annotated records as FHIR R4 Bundles, and an NDJSON writer of one Bundle per note.

The mapping (documented in docs/service.md):
- DISEASE -> `Condition`; verificationStatus `refuted` when negated, `provisional` when
  uncertain, `unconfirmed` when hypothetical, else `confirmed`. A family mention ->
  `FamilyMemberHistory` (relationship: family member) with the disease as its condition.
- SYMPTOM -> `Observation` (status `final`), `valueBoolean` false when negated (symptom absent).
- DRUG -> `MedicationStatement`; status `not-taken` when negated, `completed` when historical,
  `intended` when hypothetical, else `active`; `dosage` from the entity's attributes when present.
- Codes from the concept linker (`kb_id` and `codes` of an entity) become codings of the
  `CodeableConcept` (MeSH, DOID, SYMP, DrugBank systems); the mention's text is its `text`.
- The mention's offsets, note id and section go in the extension TEXT_SPAN_URL and its
  qualifiers in ASSERTION_URL, so a reader can go back to the exact characters of the note.
- A failed record becomes an `OperationOutcome` (its error, never note text).

Resources are plain dicts (no import of fhir.resources at run time); the tests validate every
Bundle with `fhir.resources` (its R4B package: these resources are the same in R4 and R4B).
Resource ids are UUIDs derived from the note id and entity index, so output is reproducible.
"""
import json
import uuid
from typing import Any, Dict, List, Optional

from ..labels import ASSERTIONS, DISEASE, DRUG, SYMPTOM
from .render import entity_offsets
from .writers import JsonlWriter

TEXT_SPAN_URL = "urn:spacy-medical:fhir:extension:text-span"
ASSERTION_URL = "urn:spacy-medical:fhir:extension:assertion"
NOTE_ID_SYSTEM = "urn:spacy-medical:note-id"
MODEL_SYSTEM = "urn:spacy-medical:model"
# CURIE prefix of a linked code -> FHIR code system URI.
CODE_SYSTEMS = {
    "MESH": "http://id.nlm.nih.gov/mesh",
    "DOID": "http://purl.obolibrary.org/obo/doid.owl",
    "SYMP": "http://purl.obolibrary.org/obo/symp.owl",
    "DRUGBANK": "http://www.drugbank.ca",
}
_VERIFICATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-category"
_OBSERVATION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
_ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
# Qualifier -> status, the first that applies wins (a negated uncertain mention is refuted).
_CONDITION_STATUS = {"negated": "refuted", "uncertain": "provisional", "hypothetical": "unconfirmed"}
_MEDICATION_STATUS = {"negated": "not-taken", "historical": "completed", "hypothetical": "intended"}
# uuid5 namespace of this package's resource ids.
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:spacy-medical:fhir")


def _codings(ent: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Codings from the entity's linked codes: `kb_id` first, then the cross-references in `codes`."""
    curies: List[str] = []
    if ent.get("kb_id"):
        curies.append(str(ent["kb_id"]))
    codes = ent.get("codes") or {}
    if isinstance(codes, dict):
        curies += [f"{vocab}:{code}" for vocab, code in codes.items()]
    codings, seen = [], set()
    for curie in curies:
        prefix, _, code = curie.partition(":")
        system = CODE_SYSTEMS.get(prefix.upper())
        if not system or not code or (system, code) in seen:
            continue
        seen.add((system, code))
        coding = {"system": system, "code": code}
        if ent.get("concept_name") and curie == ent.get("kb_id"):
            coding["display"] = str(ent["concept_name"])
        codings.append(coding)
    return codings


def _concept(ent: Dict[str, Any]) -> Dict[str, Any]:
    concept: Dict[str, Any] = {"text": ent["text"]}
    codings = _codings(ent)
    if codings:
        concept["coding"] = codings
    return concept


def _extensions(ent: Dict[str, Any], note_id: Optional[str]) -> List[Dict[str, Any]]:
    start, end = entity_offsets(ent)
    span = [{"url": "start", "valueInteger": start}, {"url": "end", "valueInteger": end}]
    if note_id is not None:
        span.append({"url": "noteId", "valueString": str(note_id)})
    if ent.get("section"):
        span.append({"url": "section", "valueString": str(ent["section"])})
    extensions = [{"url": TEXT_SPAN_URL, "extension": span}]
    flags = [{"url": name, "valueBoolean": bool(ent.get(name))} for name in ASSERTIONS if name in ent]
    if flags:
        extensions.append({"url": ASSERTION_URL, "extension": flags})
    return extensions


def _status(ent: Dict[str, Any], by_qualifier: Dict[str, str], default: str) -> str:
    """The status of the first qualifier of `by_qualifier` (in its order) that the entity has."""
    return next((status for name, status in by_qualifier.items() if ent.get(name)), default)


def _condition(ent: Dict[str, Any], subject: Dict[str, Any]) -> Dict[str, Any]:
    status = _status(ent, _CONDITION_STATUS, "confirmed")
    return {
        "resourceType": "Condition",
        "verificationStatus": {"coding": [{"system": _VERIFICATION_SYSTEM, "code": status}]},
        "category": [{"coding": [{"system": _CATEGORY_SYSTEM, "code": "encounter-diagnosis"}]}],
        "code": _concept(ent),
        "subject": subject,
    }


def _family_history(ent: Dict[str, Any], subject: Dict[str, Any]) -> Dict[str, Any]:
    condition: Dict[str, Any] = {"code": _concept(ent)}
    if ent.get("negated"):
        condition["note"] = [{"text": "negated in the note: no such family history"}]
    return {
        "resourceType": "FamilyMemberHistory",
        "status": "partial",
        "patient": subject,
        "relationship": {"coding": [{"system": _ROLE_SYSTEM, "code": "FAMMEMB", "display": "family member"}]},
        "condition": [condition],
    }


def _observation(ent: Dict[str, Any], subject: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": _OBSERVATION_CATEGORY_SYSTEM, "code": "exam"}]}],
        "code": _concept(ent),
        "subject": subject,
        "valueBoolean": not ent.get("negated"),
    }


def _medication(ent: Dict[str, Any], subject: Dict[str, Any]) -> Dict[str, Any]:
    resource = {
        "resourceType": "MedicationStatement",
        "status": _status(ent, _MEDICATION_STATUS, "active"),
        "medicationCodeableConcept": _concept(ent),
        "subject": subject,
    }
    attributes = ent.get("attributes") or []
    dosage = "; ".join(str(a.get("text")) for a in attributes if isinstance(a, dict) and a.get("text"))
    if dosage:
        resource["dosage"] = [{"text": dosage}]
    return resource


def entity_resource(ent: Dict[str, Any], subject: Dict[str, Any], note_id: Optional[str]) -> Optional[Dict[str, Any]]:
    """The FHIR resource of one entity of a record, or None for labels with no mapping.

    ent (Dict[str, Any]): An entity of an output record.
    subject (Dict[str, Any]): The Reference to the patient.
    note_id (Optional[str]): The note id, kept in the text-span extension.
    RETURNS (Optional[Dict[str, Any]]): The resource as a dict.
    """
    label = ent.get("label")
    if label == DISEASE:
        resource = _family_history(ent, subject) if ent.get("family") else _condition(ent, subject)
    elif label == SYMPTOM:
        resource = _observation(ent, subject)
    elif label == DRUG:
        resource = _medication(ent, subject)
    else:
        return None
    resource["extension"] = _extensions(ent, note_id)
    return resource


def _entry(resource: Dict[str, Any], key: str) -> Dict[str, Any]:
    resource_id = str(uuid.uuid5(_NAMESPACE, key))
    return {"fullUrl": f"urn:uuid:{resource_id}", "resource": {"id": resource_id, **resource}}


def record_to_bundle(record: Dict[str, Any], patient_reference: Optional[str] = None) -> Dict[str, Any]:
    """A FHIR R4 `Bundle` (type collection) of one output record.

    record (Dict[str, Any]): An output record of the batch annotator (annotated or failed).
    patient_reference (Optional[str]): e.g. "Patient/123"; without it the subject is named by
        the note id only (a Reference with an identifier), since records carry no patient.
    RETURNS (Dict[str, Any]): The Bundle as a JSON-serializable dict.
    """
    note_id = record.get("note_id")
    key = f"{note_id}|{record.get('row')}"
    if patient_reference:
        subject: Dict[str, Any] = {"reference": patient_reference}
    else:
        subject = {"identifier": {"system": NOTE_ID_SYSTEM, "value": str(note_id)}, "display": "patient of the note"}
    entries = []
    if record.get("status") != "ok":
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "processing", "diagnostics": str(record.get("error", "failed"))}],
        }
        entries.append(_entry(outcome, f"{key}|error"))
    for index, ent in enumerate(record.get("entities") or []):
        resource = entity_resource(ent, subject, note_id)
        if resource is not None:
            entries.append(_entry(resource, f"{key}|{index}"))
    bundle: Dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(_NAMESPACE, key)),
        "type": "collection",
        "entry": entries,
    }
    if note_id is not None:
        bundle["identifier"] = {"system": NOTE_ID_SYSTEM, "value": str(note_id)}
    if record.get("model"):
        bundle["meta"] = {"tag": [{"system": MODEL_SYSTEM, "code": f"{record['model']}@{record.get('model_version')}"}]}
    return bundle


class FhirWriter(JsonlWriter):
    """NDJSON of FHIR Bundles, one line per annotated note (for `annotate --output-format fhir`).

    Same interface and checkpoint semantics as the JSONL writer; failed records go to the
    errors file only, as with JSONL.
    """

    def write(self, result: Dict[str, Any]) -> None:
        line = json.dumps(record_to_bundle(result), ensure_ascii=True) + "\n"
        self.file.write(line.encode("ascii"))
