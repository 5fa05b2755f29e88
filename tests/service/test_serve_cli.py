"""`spacy-medical serve`: options, loopback default, the API key read from the environment."""
import json
import os

import pytest
from typer.testing import CliRunner

from spacy_medical.cli import app


@pytest.fixture
def uvicorn_calls(monkeypatch):
    """Replace uvicorn.run: RETURNS the list of (app, options) it was called with. The serve
    configuration variable is restored afterwards."""
    import uvicorn

    from spacy_medical.service.app import CONFIG_ENV

    monkeypatch.delenv(CONFIG_ENV, raising=False)
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: calls.append((target, options)))
    return calls


def test_serve_binds_loopback_and_builds_the_app(tmp_path, clinical_nlp, uvicorn_calls, monkeypatch):
    from spacy_medical.service.app import CONFIG_ENV

    model = tmp_path / "model"
    clinical_nlp.to_disk(model)
    monkeypatch.setenv("SERVICE_TEST_KEY", "k3y")
    result = CliRunner().invoke(app, ["serve", "--model", str(model), "--max-chars", "500", "--api-key-env", "SERVICE_TEST_KEY"])
    assert result.exit_code == 0, result.output
    (target, options), = uvicorn_calls
    assert options["host"] == "127.0.0.1" and options["port"] == 8000 and options["access_log"] is False
    routes = {route.path for route in target.routes}
    assert {"/", "/health", "/annotate", "/summarize", "/fhir"} <= routes
    config = json.loads(os.environ[CONFIG_ENV])
    assert config == {"model": str(model), "max_chars": 500, "api_key_env": "SERVICE_TEST_KEY"}
    assert "k3y" not in json.dumps(config)  # the key stays in its own variable


def test_serve_with_workers_hands_uvicorn_the_factory(uvicorn_calls):
    result = CliRunner().invoke(app, ["serve", "--workers", "2", "--port", "8123"])
    assert result.exit_code == 0, result.output
    (target, options), = uvicorn_calls
    assert target == "spacy_medical.service.app:app_from_environment"
    assert options["factory"] is True and options["workers"] == 2 and options["port"] == 8123


def test_serve_refuses_an_unset_api_key_variable(uvicorn_calls, monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    result = CliRunner().invoke(app, ["serve", "--api-key-env", "NO_SUCH_KEY_VAR"])
    assert result.exit_code == 1 and "NO_SUCH_KEY_VAR" in result.output
    assert uvicorn_calls == []
