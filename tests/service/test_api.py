"""The service's endpoints through a TestClient: answers, bad input, auth, per-note failures and
logs without note text. Every note is invented."""
import json
import logging

import pytest
from service_notes import NOTE, SECRET, make_clinical_nlp

JSON = {"content-type": "application/json"}


def test_health_names_the_model_and_limits(client):
    info = client.get("/health").json()
    assert info["status"] == "ok" and info["model"] == "en_service_test" and info["model_version"] == "0.0.1"
    assert info["max_chars"] == 2000 and info["max_notes"] == 256 and info["auth_required"] is False
    assert "medical_context" in info["pipeline"]


def test_annotate_one_note_gives_one_record_with_qualifiers(client):
    record = client.post("/annotate", json={"note_id": "n1", "text": NOTE}).json()
    assert record["note_id"] == "n1" and record["status"] == "ok" and record["model"] == "en_service_test"
    by_text = {ent["text"]: ent for ent in record["entities"]}
    assert by_text["chest pain"]["negated"] and by_text["chest pain"]["label"] == "SYMPTOM"
    assert by_text["pneumonia"]["uncertain"] and by_text["asthma"]["historical"]
    assert by_text["diabetes"]["family"] and by_text["diabetes"]["section"] == "family_history"
    assert [s["label"] for s in record["sections"]][:2] == ["history_of_present_illness", "past_medical_history"]


def test_annotate_a_list_keeps_order_ids_and_flags(client):
    notes = [{"note_id": f"L{i}", "text": text} for i, text in enumerate([NOTE, "", "Cough.", NOTE])]
    notes[3]["note_id"] = "L0"
    records = client.post("/annotate", json=notes).json()
    assert [r["note_id"] for r in records] == ["L0", "L1", "L2", "L0"]
    assert [r["row"] for r in records] == [1, 2, 3, 4]
    assert records[1]["flags"] == ["empty_text"] and records[1]["entities"] == []
    assert records[3]["flags"] == ["duplicate_id"]


def test_summarize_gives_readable_summary_without_internal_units(client):
    answer = client.post("/summarize", json={"note_id": "s1", "text": NOTE}).json()
    assert answer["note_id"] == "s1" and answer["status"] == "ok"
    summary = answer["summary"]
    assert "units" not in summary and "PAST MEDICAL HISTORY" in summary["text"]
    assert [item["text"] for item in summary["negatives"]] == ["chest pain"]
    assert {item["text"] for item in summary["medications"]} == {"aspirin", "metformin"}


# Each hostile request: (what, body bytes, headers, expected status, a word of the message).
HOSTILE = [
    ("invalid JSON", b'{"note_id": "x", "text": ', JSON, 400, "not valid JSON"),
    ("not UTF-8", b'{"note_id": "x", "text": "\xff\xfe"}', JSON, 400, "not UTF-8"),
    ("deep nesting", b"[" * 100_000, JSON, 400, "nested too deeply"),
    ("huge number", b'{"note_id": ' + b"9" * 5000 + b', "text": "asthma"}', JSON, 400, "number too long"),
    ("wrong content type", b"note_id=x&text=asthma", {"content-type": "application/x-www-form-urlencoded"}, 415, "Content-Type"),
    ("no content type", b'{"note_id": "x", "text": "asthma"}', {"content-type": ""}, 415, "Content-Type"),
    ("wrong type of id", b'{"note_id": 7, "text": "asthma"}', JSON, 422, "valid string"),
    ("wrong type of text", b'{"note_id": "x", "text": ["asthma"]}', JSON, 422, "valid string"),
    ("missing text", b'{"note_id": "x"}', JSON, 422, "Field required"),
    ("unknown field", b'{"note_id": "x", "txt": "asthma"}', JSON, 422, "Extra inputs"),
    ("a JSON string", b'"asthma"', JSON, 422, "JSON object"),
    ("null", b"null", JSON, 422, "JSON object"),
    ("empty list", b"[]", JSON, 422, "between 1 and 256"),
    ("too many notes", json.dumps([{"note_id": str(i), "text": "x"} for i in range(257)]).encode(), JSON, 422, "between 1 and 256"),
    ("text over the limit", json.dumps({"note_id": "x", "text": "asthma " * 300}).encode(), JSON, 413, "limit is 2000"),
    ("body over the limit", json.dumps([{"note_id": str(i), "text": "a" * 1900} for i in range(120)]).encode(), JSON, 413, "over 200000 bytes"),
    ("NUL character", b'{"note_id": "x", "text": "asthma\\u0000"}', JSON, 422, "U+0000"),
    ("control character", b'{"note_id": "x", "text": "asthma\\u001b[31m"}', JSON, 422, "U+001B"),
    ("control character in id", b'{"note_id": "x\\u0007", "text": "asthma"}', JSON, 422, "note_id"),
    ("lone surrogate", b'{"note_id": "x", "text": "asthma \\ud800"}', JSON, 422, "lone surrogate"),
    ("bad note in a list", b'[{"note_id": "a", "text": "ok"}, {"note_id": "b"}]', JSON, 422, "Field required"),
]


@pytest.mark.parametrize("path", ["/annotate", "/summarize", "/fhir", "/render", "/deidentify"])
@pytest.mark.parametrize("what,body,headers,status,words", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_request_gets_a_4xx_naming_the_problem(client, path, what, body, headers, status, words):
    response = client.post(path, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    detail = response.json()["detail"]
    assert detail and all({"loc", "msg", "type"} <= set(item) for item in detail)
    assert words in " ".join(item["msg"] for item in detail)
    assert "asthma" not in response.text  # never echoes the note


def test_errors_point_at_the_note_and_field(client):
    response = client.post("/annotate", json=[{"note_id": "a", "text": "ok"}, {"note_id": "b", "text": "x\x00"}])
    assert response.json()["detail"][0]["loc"] == ["body", 1, "text"]


def test_unknown_paths_and_methods_are_json_4xx(client):
    assert client.get("/annotate").status_code == 405
    assert client.get("/no/such/thing").status_code == 404


class _FailOn:
    """A component that raises on notes holding a word (a stand-in for a component bug)."""

    def __init__(self, word):
        self.word = word

    def __call__(self, doc):
        if self.word in doc.text:
            raise ValueError(f"cannot handle {doc.text}")  # the message quotes the text on purpose
        return doc


def test_a_failing_note_gets_its_own_error_and_the_others_are_annotated(caplog):
    from fastapi.testclient import TestClient
    from spacy.language import Language

    from spacy_medical.service import create_app

    if not Language.has_factory("test_fail_on_word"):
        Language.factory("test_fail_on_word", func=lambda nlp, name: _FailOn("explode"))
    nlp = make_clinical_nlp()
    nlp.add_pipe("test_fail_on_word", after="entity_ruler")
    notes = [{"note_id": "ok1", "text": NOTE}, {"note_id": "bad", "text": f"{SECRET} says explode."},
             {"note_id": "ok2", "text": "Cough."}]
    caplog.set_level(logging.INFO)
    with TestClient(create_app(nlp)) as test_client:
        records = test_client.post("/annotate", json=notes).json()
        assert [r["status"] for r in records] == ["ok", "failed", "ok"]
        assert "test_fail_on_word" in records[1]["error"] and SECRET not in records[1]["error"]
        assert records[2]["entities"][0]["text"] == "Cough"
        single = test_client.post("/annotate", json=notes[1])
        assert single.status_code == 200 and single.json()["status"] == "failed"
        assert test_client.get("/health").status_code == 200
    assert SECRET not in caplog.text


def test_api_key_is_required_when_configured(clinical_nlp):
    from fastapi.testclient import TestClient

    from spacy_medical.service import create_app

    note = {"note_id": "k", "text": "Has asthma."}
    with TestClient(create_app(clinical_nlp, api_key="s3cret-key")) as test_client:
        assert test_client.get("/health").json()["auth_required"] is True
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret-key"}):
            response = test_client.post("/annotate", json=note, headers=headers)
            assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
        response = test_client.post("/annotate", json=note, headers={"Authorization": "Bearer s3cret-key"})
        assert response.status_code == 200 and response.json()["entities"][0]["text"] == "asthma"


def test_access_log_has_counts_and_never_note_text(client, caplog):
    caplog.set_level(logging.INFO, logger="spacy_medical.service")
    text = f"{SECRET} denies chest pain."
    client.post("/annotate", json=[{"note_id": "a", "text": text}, {"note_id": "b", "text": text}])
    client.post("/annotate", content=json.dumps({"note_id": "a", "text": text + "\x00"}), headers=JSON)
    client.get(f"/{SECRET}?text={SECRET}")
    lines = [r.getMessage() for r in caplog.records if r.name == "spacy_medical.service"]
    assert any(line.startswith("POST /annotate 200") and line.endswith("notes=2") for line in lines)
    assert any(line.startswith("POST /annotate 422") for line in lines)
    assert any(line.startswith("GET (other path) 404") for line in lines)
    assert SECRET not in caplog.text and "Zebulon" not in caplog.text


def test_page_and_docs_are_served_without_external_resources(client):
    page = client.get("/")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    assert 'id="note-text"' in page.text and 'id="annotate"' in page.text
    for asset in ("record.css", "page.css", "page.js"):
        body = client.get(f"/static/{asset}").text
        assert "http://" not in body and "https://" not in body and "@import" not in body
    assert "http" not in page.text.replace('http-equiv', '')
    docs = client.get("/docs").text
    assert "swagger-ui-bundle.js" in docs and "cdn" not in docs and "https://" not in docs
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
    schema = client.get("/openapi.json").json()
    assert {"/annotate", "/summarize", "/fhir", "/health"} <= set(schema["paths"])
    assert "Note" in schema["components"]["schemas"]


def test_an_unexpected_error_is_a_json_500_without_trace_or_text(clinical_nlp, caplog):
    from fastapi.testclient import TestClient

    from spacy_medical.service import create_app

    app = create_app(clinical_nlp)

    async def broken(records):
        raise RuntimeError(f"bug while reading {records[0].text}")  # quotes the note, as bugs do

    app.state.worker.annotate = broken
    caplog.set_level(logging.INFO)
    with TestClient(app) as test_client:  # raises if the exception escaped to the server
        response = test_client.post("/annotate", json={"note_id": "e", "text": f"{SECRET} has asthma"})
        assert response.status_code == 500 and response.json()["detail"][0]["type"] == "server_error"
        assert "RuntimeError" in response.text and SECRET not in response.text and "Traceback" not in response.text
        assert test_client.get("/health").status_code == 200
    assert SECRET not in caplog.text and "unhandled RuntimeError in POST /annotate" in caplog.text
