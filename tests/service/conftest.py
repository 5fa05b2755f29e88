"""Fixtures of the service tests: the app on a tiny pipeline, over TestClient and live uvicorn."""
import socket
import threading
import time
import pytest

from service_notes import make_clinical_nlp


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
