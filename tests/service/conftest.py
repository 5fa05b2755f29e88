"""Fixtures of the service tests: a tiny clinical pipeline, an app client and a live server.

The pipeline is blank English + sentence splitting + an entity_ruler + the package's sections,
context (assertion) and summarizer components: real spacy-medical components, no trained model.
Every note here is invented.
"""
import socket
import threading
import time

import pytest
import spacy

pytest.importorskip("fastapi", reason="the service needs the serve extra: pip install 'spacy-medical[serve]'")
pytest.importorskip("uvicorn", reason="the service needs the serve extra: pip install 'spacy-medical[serve]'")

import spacy_medical.registry  # noqa: E402,F401

TERMS = {"asthma": "DISEASE", "diabetes": "DISEASE", "pneumonia": "DISEASE", "chest pain": "SYMPTOM",
         "cough": "SYMPTOM", "aspirin": "DRUG", "metformin": "DRUG"}
PATTERNS = [{"label": label, "pattern": [{"LOWER": word} for word in term.split()]} for term, label in TERMS.items()]
# A note with one entity per qualifier, in its own section each.
NOTE = (
    "HPI: Patient denies chest pain. Possible pneumonia.\n"
    "PMH: History of asthma.\n"
    "Family history: mother had diabetes.\n"
    "Medications: aspirin daily. If cough returns, start metformin."
)
# A marker that must never appear in a log line or an error answer.
SECRET = "Zebulon Quasimodo"


def make_clinical_nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_sentences")
    nlp.add_pipe("entity_ruler")
    nlp.add_pipe("medical_sections")
    nlp.add_pipe("medical_context")
    nlp.add_pipe("medical_summarizer")
    nlp.initialize()
    # After initialize(): it would reset the ruler's patterns.
    nlp.get_pipe("entity_ruler").add_patterns(PATTERNS)
    nlp.meta["name"] = "service_test"
    nlp.meta["version"] = "0.0.1"
    return nlp


@pytest.fixture(scope="session")
def clinical_nlp():
    return make_clinical_nlp()


@pytest.fixture(scope="session")
def client(clinical_nlp):
    """A TestClient of the app around the tiny pipeline (max 2,000 characters per note)."""
    from fastapi.testclient import TestClient

    from spacy_medical.service import create_app

    with TestClient(create_app(clinical_nlp, max_chars=2000, max_body_bytes=200_000)) as test_client:
        yield test_client


class LiveServer:
    """uvicorn serving an app on a free loopback port, in a thread."""

    def __init__(self, app):
        import uvicorn

        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self):
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                return self
            time.sleep(0.01)
        raise RuntimeError("uvicorn did not start")

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()


@pytest.fixture(scope="module")
def live_server(clinical_nlp):
    from spacy_medical.service import create_app

    with LiveServer(create_app(clinical_nlp, max_chars=2000, max_body_bytes=200_000)) as server:
        yield server
