"""The FastAPI application of `spacy-medical serve`: `create_app(nlp, ...)`.

Endpoints: `GET /health`, `POST /annotate`, `POST /summarize`, `POST /fhir`, `POST /render`
(the page's HTML of a record), `POST /deidentify`, `POST /link` (when the pipeline has
`medical_linker`), `GET /` (the page) and the OpenAPI docs at `/docs`.
Every POST takes one note `{"note_id", "text"}` or a list of up to 256. Records are the batch
annotator's records, built by its own code (see `worker.py`): `/deidentify` answers the records of
`spacy-medical deidentify`, and `?deidentify=true` on the other POSTs those of
`spacy-medical annotate --deidentify` (the pipeline runs on the de-identified text).
"""
import json
import os
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Dict, List, Optional, Tuple

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from spacy.language import Language

from ..batch.deidentify import deid_pipeline
from ..batch.local import DEFAULT_CHUNK_CHARS, model_info
from ..errors import Errors
from ..io.exports import NoteRecord
from ..io.fhir import record_to_bundle
from ..io.render import legend, render_record
from .models import MAX_NOTES, OPENAPI_BODY, Note, RequestProblem, note_records, parse_notes, read_body
from .security import AccessLog, api_key_matches
from .worker import InferenceWorker, ServerBusy

STATIC = Path(__file__).parent / "static"
DEFAULT_MAX_CHARS = DEFAULT_CHUNK_CHARS
# Same-origin only: the page loads nothing from elsewhere (it must work offline).
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# Record keys that `/link` answers for each entity (the concept linker's fields and the span).
_LINK_FIELDS = ("text", "label", "start_char", "end_char", "kb_id", "concept_name", "codes", "composite_links")
_DEIDENTIFY_QUERY = Query(False, description="Annotate the de-identified text (as `spacy-medical annotate "
                          "--deidentify`): the record carries that text and its PHI spans; no original PHI remains.")


def _problem_response(status: int, detail: List[Dict[str, Any]], headers: Optional[Dict[str, str]] = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def create_app(
    nlp: Language,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_notes: int = MAX_NOTES,
    max_body_bytes: Optional[int] = None,
    api_key: Optional[str] = None,
    max_batch_notes: int = 64,
    max_wait_s: float = 0.002,
    max_pending_notes: int = 4096,
) -> FastAPI:
    """Build the service around a loaded pipeline.

    nlp (Language): The pipeline (e.g. `spacy.load("en_medical")`).
    max_chars (int): The longest note text accepted (longer: 413).
    max_notes (int): The most notes per request.
    max_body_bytes (Optional[int]): The largest request body; default fits `max_notes` notes of
        `max_chars` characters (JSON-escaped) and at least 1 MiB.
    api_key (Optional[str]): When set, every POST needs `Authorization: Bearer <api_key>`.
    max_batch_notes (int): The most notes annotated in one micro-batch.
    max_wait_s (float): How long a request waits for others to share its batch.
    max_pending_notes (int): Notes that may wait for the pipeline; beyond: 503.
    RETURNS (FastAPI): The application (serve it with uvicorn).
    """
    model, version = model_info(nlp)
    body_limit = max_body_bytes or max(1 << 20, min(max_notes * max_chars * 2, 256 << 20))
    worker = InferenceWorker(nlp, max_batch_notes=max_batch_notes, max_wait_s=max_wait_s,
                             max_pending_notes=max_pending_notes)
    # `medical_deid` alone, with the settings of the pipeline's own one when it has one: the
    # pipeline of `spacy-medical deidentify`, in a worker of its own.
    deid_settings = nlp.get_pipe_config("medical_deid") if "medical_deid" in nlp.pipe_names else {}
    deid_worker = InferenceWorker(
        deid_pipeline("blank", mode=deid_settings.get("mode", "mask"), key_env=deid_settings.get("key_env")),
        max_batch_notes=max_batch_notes, max_wait_s=max_wait_s, max_pending_notes=max_pending_notes)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        worker.close()
        deid_worker.close()

    # FastAPIOffline: /docs and /redoc from assets in the package, not from a CDN (works offline).
    app = FastAPIOffline(
        lifespan=lifespan,
        title="spacy-medical",
        version=version,
        summary=f"Clinical NER, assertion, sections and summaries ({model} {version}).",
        openapi_tags=[{"name": "notes", "description": "One note {note_id, text} or a list of up to "
                       f"{max_notes}; text up to {max_chars} characters."}],
    )
    app.state.worker = worker

    async def read_notes(request: Request) -> Tuple[List[NoteRecord], bool]:
        """Check the key, read and check the notes: RETURNS (input records, single)."""
        if api_key is not None and not api_key_matches(request.headers.get("authorization"), api_key):
            raise RequestProblem(401, [{"loc": ["header", "authorization"], "msg": Errors.E606, "type": "unauthorized"}])
        body = await read_body(request, body_limit)
        notes, single = parse_notes(body, request.headers.get("content-type", ""), max_chars, max_notes)
        request.state.notes = len(notes)
        return note_records(notes), single

    async def annotate_request(request: Request, deidentify: bool = False) -> Tuple[List[Dict[str, Any]], List[str], bool]:
        """Read the notes and annotate them: RETURNS (records, the texts they refer to, single).

        With `deidentify`, the pipeline runs on each note's de-identified text and the record
        carries that text and its PHI spans, as in `spacy-medical annotate --deidentify`."""
        inputs, single = await read_notes(request)
        if not deidentify:
            return await worker.annotate(inputs), [record.text for record in inputs], single
        cleaned = await deid_worker.annotate(inputs)
        # The reader's flags describe the note as it came in; the text is the de-identified one.
        clean_inputs = [NoteRecord(row=r.row, note_id=r.note_id, text=c["text"], flags=r.flags)
                        for r, c in zip(inputs, cleaned) if c["status"] == "ok"]
        annotated = iter(await worker.annotate(clean_inputs))
        records = [{**next(annotated), "text": c["text"], "phi": c["phi"]} if c["status"] == "ok" else c
                   for c in cleaned]
        return records, [record.get("text", "") for record in records], single

    @app.exception_handler(RequestProblem)
    async def _bad_request(request: Request, err: RequestProblem) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if err.status == 401 else None
        return _problem_response(err.status, err.detail, headers)

    @app.exception_handler(ServerBusy)
    async def _busy(request: Request, err: ServerBusy) -> JSONResponse:
        return _problem_response(503, [{"loc": [], "msg": str(err), "type": "busy"}], {"Retry-After": "1"})

    @app.get("/health", tags=["service"])
    def health() -> Dict[str, Any]:
        """The service's status, model and limits."""
        return {"status": "ok", "model": model, "model_version": version, "pipeline": list(nlp.pipe_names),
                "max_chars": max_chars, "max_notes": max_notes, "auth_required": api_key is not None}

    @app.post("/annotate", tags=["notes"], openapi_extra=OPENAPI_BODY)
    async def annotate(request: Request, deidentify: bool = _DEIDENTIFY_QUERY) -> JSONResponse:
        """Annotate notes: records in the batch annotator's JSONL schema (a list for a list).

        A note that makes a component fail gets `status: "failed"` and an `error`, the others
        are annotated as usual."""
        records, _, single = await annotate_request(request, deidentify)
        # Records are plain JSON already (the batch job writes them with json.dumps).
        return JSONResponse(records[0] if single else records)

    @app.post("/summarize", tags=["notes"], openapi_extra=OPENAPI_BODY)
    async def summarize(request: Request, deidentify: bool = _DEIDENTIFY_QUERY) -> JSONResponse:
        """The summary of each note: its text and its problems, symptoms, negatives, medications."""
        records, _, single = await annotate_request(request, deidentify)
        answers = [_part_of_record(record, "summary", _readable_summary) for record in records]
        return JSONResponse(answers[0] if single else answers)

    @app.post("/fhir", tags=["notes"], openapi_extra=OPENAPI_BODY,
              responses={200: {"content": {"application/fhir+json": {}}}})
    async def fhir(request: Request, deidentify: bool = _DEIDENTIFY_QUERY) -> Response:
        """FHIR R4: a Bundle per note (a list of notes: a collection Bundle of those Bundles)."""
        records, _, single = await annotate_request(request, deidentify)
        bundles = [record_to_bundle(record) for record in records]
        body = bundles[0] if single else {"resourceType": "Bundle", "type": "collection",
                                          "entry": [{"resource": bundle} for bundle in bundles]}
        return Response(json.dumps(body, ensure_ascii=True), media_type="application/fhir+json")

    @app.post("/render", tags=["page"], openapi_extra=OPENAPI_BODY, response_class=HTMLResponse)
    async def render(request: Request, deidentify: bool = _DEIDENTIFY_QUERY) -> HTMLResponse:
        """The page's HTML of each annotated note (the same renderer as `annotate --html`)."""
        records, texts, _ = await annotate_request(request, deidentify)
        html = "".join(render_record(text, record) for text, record in zip(texts, records))
        return HTMLResponse(html, headers=_PAGE_HEADERS)

    @app.post("/deidentify", tags=["notes"], openapi_extra=OPENAPI_BODY)
    async def deidentify(request: Request) -> JSONResponse:
        """De-identify notes: the records of `spacy-medical deidentify`, with the de-identified
        `text` and the `phi` spans (label and offsets into that text, never the original string)."""
        inputs, single = await read_notes(request)
        records = await deid_worker.annotate(inputs)
        return JSONResponse(records[0] if single else records)

    if "medical_linker" in nlp.pipe_names:
        @app.post("/link", tags=["notes"], openapi_extra=OPENAPI_BODY)
        async def link(request: Request, deidentify: bool = _DEIDENTIFY_QUERY) -> JSONResponse:
            """The concept of each entity: `kb_id` (a CURIE), `concept_name` and `codes` (vocabulary
            -> id), with the entity's text, label and offsets (empty `kb_id`: nothing good enough)."""
            records, _, single = await annotate_request(request, deidentify)
            answers = [_part_of_record(record, "entities", _linked_entities) for record in records]
            return JSONResponse(answers[0] if single else answers)

    page = (STATIC / "index.html").read_text(encoding="utf-8").replace(
        '<div id="legend"></div>', f'<div id="legend">{legend()}</div>')

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(page, headers=_PAGE_HEADERS)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    known = {"/", "/health", "/annotate", "/summarize", "/fhir", "/render", "/deidentify", "/link", "/docs", "/redoc",
             "/openapi.json", "/docs/oauth2-redirect", *(f"/static/{p.name}" for p in STATIC.iterdir()),
             *(f"/static-offline-docs/{name}" for name in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png"))}
    app.add_middleware(AccessLog, known_paths=known)
    _register_note_schema(app)
    return app


def _part_of_record(record: Dict[str, Any], key: str, part: Callable[[Dict[str, Any]], Any]) -> Dict[str, Any]:
    """An answer with a record's row, note_id and status, and `key`: `part(record)` for an
    annotated note, or the record's `error` for a failed one."""
    answer = {name: record[name] for name in ("row", "note_id", "status") if name in record}
    if record["status"] == "ok":
        answer[key] = part(record)
    else:
        answer["error"] = record.get("error")
    return answer


def _readable_summary(record: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    # `units` are the summarizer's internal sentence scores, not part of a summary.
    return {k: v for k, v in (record.get("summary") or {}).items() if k != "units"} or None


def _linked_entities(record: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [{name: ent[name] for name in _LINK_FIELDS if name in ent} for ent in record["entities"]]


def _register_note_schema(app: FastAPI) -> None:
    """Add the `Note` schema to the OpenAPI components: the POST bodies refer to it, but FastAPI
    does not see it since `parse_notes` reads the bodies."""
    original = app.openapi

    def openapi() -> Dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            schema.setdefault("components", {}).setdefault("schemas", {})["Note"] = Note.model_json_schema()
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# Configuration of `app_from_environment` (set by `spacy-medical serve --workers N`).
CONFIG_ENV = "SPACY_MEDICAL_SERVE_CONFIG"


def app_from_environment() -> FastAPI:
    """Build the app in a uvicorn worker process from the JSON in $SPACY_MEDICAL_SERVE_CONFIG:
    {"model": ..., "max_chars": ..., "api_key_env": ...}. The key itself is read from the
    environment variable it names, never passed through the configuration."""
    from ..batch.annotate import load_pipeline

    config = json.loads(os.environ[CONFIG_ENV])
    api_key = os.environ.get(config["api_key_env"]) if config.get("api_key_env") else None
    return create_app(load_pipeline(config["model"]), max_chars=config["max_chars"], api_key=api_key)
