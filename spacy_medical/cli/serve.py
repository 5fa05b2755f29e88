"""`spacy-medical serve`: the HTTP service and its page (needs the `serve` extra)."""
import json
import logging
import os
from typing import Optional

import typer
from wasabi import msg

from ..errors import Errors
from .root import app

LOOPBACK = "127.0.0.1"


def serve(
    model: str = "en_medical",
    *,
    host: str = LOOPBACK,
    port: int = 8000,
    max_chars: int = 100_000,
    api_key_env: Optional[str] = None,
    workers: int = 1,
) -> None:
    """Run the service with uvicorn until interrupted.

    model (str): Pipeline package name or path.
    host (str): Interface to bind; loopback by default (put a TLS proxy in front for a network).
    port (int): TCP port.
    max_chars (int): The longest note text accepted.
    api_key_env (Optional[str]): Name of an environment variable holding the API key; when set,
        every POST needs `Authorization: Bearer <key>`. The key never appears on the command line.
    workers (int): Server processes, each with its own copy of the pipeline.
    """
    try:
        import uvicorn

        from ..service.app import CONFIG_ENV, app_from_environment
    except ImportError as err:
        raise RuntimeError(Errors.E610.format(reason=type(err).__name__)) from err
    if api_key_env and not os.environ.get(api_key_env):
        raise ValueError(Errors.E608.format(name=api_key_env))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ[CONFIG_ENV] = json.dumps({"model": model, "max_chars": max_chars, "api_key_env": api_key_env})
    # uvicorn's own access log would write the query string; the service logs its own lines.
    options = dict(host=host, port=port, access_log=False, log_level="info", server_header=False)
    if workers > 1:
        uvicorn.run("spacy_medical.service.app:app_from_environment", factory=True, workers=workers, **options)
    else:
        uvicorn.run(app_from_environment(), **options)


@app.command("serve")
def serve_cli(
    model: str = typer.Option("en_medical", "--model", "-m", help="Pipeline package name or path"),
    host: str = typer.Option(LOOPBACK, "--host", help="Interface to bind (loopback by default)"),
    port: int = typer.Option(8000, "--port", help="TCP port"),
    max_chars: int = typer.Option(100_000, "--max-chars", help="Longest note text accepted (characters)"),
    api_key_env: Optional[str] = typer.Option(None, "--api-key-env", help="Env variable holding the bearer API key"),
    workers: int = typer.Option(1, "--workers", help="Server processes (each loads the model)"),
) -> None:
    """Serve the pipeline over HTTP: the page at /, the API at /annotate, /summarize, /fhir, docs at /docs."""
    msg.info(f"Loading {model}; then open http://{host}:{port}/ (API docs: /docs)")
    try:
        serve(model, host=host, port=port, max_chars=max_chars, api_key_env=api_key_env, workers=workers)
    except (ValueError, RuntimeError, OSError) as err:
        msg.fail(str(err))
        raise typer.Exit(1)
