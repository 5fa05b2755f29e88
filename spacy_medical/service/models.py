"""Requests of the service: one note or a list of notes, read and checked with clear errors.

The body is read here (not by FastAPI's automatic parsing) so that every problem gets a 4xx with
a JSON body that names it, and no error echoes the note text back (pydantic's default errors
carry the `input`, which would be the text).
"""
import json
import re
from typing import Any, Dict, List, Optional, Tuple, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.requests import Request

from ..errors import Errors
from ..io.exports import ExportReader, NoteRecord

MAX_NOTES = 256
# Control characters other than tab, newline and carriage return (C0, DEL and C1), and lone
# UTF-16 surrogates (JSON "\ud800" decodes to one; it cannot be encoded as UTF-8).
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


class Note(BaseModel):
    """One note to annotate."""

    model_config = ConfigDict(extra="forbid", strict=True)
    note_id: str = Field(..., min_length=1, max_length=256, description="The note's id, echoed in its record.")
    text: str = Field(..., description="The note text (invented or de-identified in examples).")


NotesBody = Union[Note, List[Note]]
_NOTES_ADAPTER: TypeAdapter = TypeAdapter(NotesBody)
# The request body schema in the OpenAPI docs (the body is parsed by `read_notes`).
OPENAPI_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {
            "anyOf": [
                {"$ref": "#/components/schemas/Note"},
                {"type": "array", "items": {"$ref": "#/components/schemas/Note"}, "minItems": 1, "maxItems": MAX_NOTES},
            ]
        }}},
    }
}


class RequestProblem(Exception):
    """A bad request: `status` and `detail` (a list of {loc, msg, type}) for the JSON answer."""

    def __init__(self, status: int, detail: List[Dict[str, Any]]) -> None:
        super().__init__(status)
        self.status = status
        self.detail = detail


def problem(status: int, msg: str, kind: str, loc: Tuple[Any, ...] = ("body",)) -> RequestProblem:
    """RETURNS (RequestProblem): a one-item problem."""
    return RequestProblem(status, [{"loc": list(loc), "msg": msg, "type": kind}])


async def read_body(request: Request, max_bytes: int) -> bytes:
    """Read the body, refusing it (413) as soon as it passes `max_bytes`, declared or streamed."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise problem(413, Errors.E602.format(limit=max_bytes), "body_too_large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise problem(413, Errors.E602.format(limit=max_bytes), "body_too_large")
        chunks.append(chunk)
    return b"".join(chunks)


def _validation_detail(err: ValidationError, single: bool) -> List[Dict[str, Any]]:
    """pydantic's errors without `input`/`ctx` (they would echo the note text)."""
    detail = []
    for item in err.errors(include_input=False, include_url=False, include_context=False):
        loc = list(item["loc"])
        # The union's branch name ("Note" / "list[Note]") says which shape was tried.
        if loc and loc[0] in ("Note", "list[Note]"):
            if (loc[0] == "Note") != single:
                continue
            loc = loc[1:]
        detail.append({"loc": ["body", *loc], "msg": item["msg"], "type": item["type"]})
    return detail


def _check_text(index: int, name: str, value: str, single: bool) -> Optional[Dict[str, Any]]:
    for pattern, what in ((_SURROGATE_RE, "a lone surrogate"), (_CONTROL_RE, "a control character")):
        found = pattern.search(value)
        if found:
            code = f"U+{ord(found.group()):04X}"
            msg = Errors.E604.format(index=index, field=name, what=f"{what} ({code} at position {found.start()})")
            return {"loc": ["body", name] if single else ["body", index, name], "msg": msg, "type": "invalid_character"}
    return None


def parse_notes(body: bytes, content_type: str, max_chars: int, max_notes: int = MAX_NOTES) -> Tuple[List[Note], bool]:
    """Parse and check a request body of one note or a list of notes.

    body (bytes): The raw body.
    content_type (str): The request's Content-Type header.
    max_chars (int): The longest note text accepted.
    max_notes (int): The most notes in one request.
    RETURNS (Tuple[List[Note], bool]): The notes and whether the body was a single note.
    RAISES (RequestProblem): With a 4xx status and a detail naming the problem.
    """
    media_type = content_type.split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise problem(415, Errors.E601.format(content_type=media_type[:80] or "none"), "unsupported_media_type")
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise problem(400, Errors.E600.format(reason="it is not UTF-8"), "json_invalid")
    except json.JSONDecodeError as err:
        raise problem(400, Errors.E600.format(reason=f"line {err.lineno}, column {err.colno}"), "json_invalid")
    except (ValueError, RecursionError) as err:
        # A number over Python's digit limit, or nesting deeper than the parser's recursion.
        reason = "nested too deeply" if isinstance(err, RecursionError) else "a number too long"
        raise problem(400, Errors.E600.format(reason=reason), "json_invalid")
    single = isinstance(data, dict)
    if isinstance(data, list) and not 1 <= len(data) <= max_notes:
        raise problem(422, Errors.E605.format(limit=max_notes, count=len(data)), "notes_count")
    try:
        parsed = _NOTES_ADAPTER.validate_python(data)
    except ValidationError as err:
        detail = _validation_detail(err, single) if isinstance(data, (dict, list)) else [
            {"loc": ["body"], "msg": Errors.E611, "type": "model_type"}]
        raise RequestProblem(422, detail)
    notes = [parsed] if single else list(parsed)
    problems = []
    for index, note in enumerate(notes):
        for name in ("note_id", "text"):
            found = _check_text(index, name, getattr(note, name), single)
            if found:
                problems.append(found)
    if problems:
        raise RequestProblem(422, problems)
    for index, note in enumerate(notes):
        if len(note.text) > max_chars:
            msg = Errors.E603.format(index=index, note_id=note.note_id, length=len(note.text), limit=max_chars)
            raise problem(413, msg, "text_too_long", ("body", "text") if single else ("body", index, "text"))
    return notes, single


def note_records(notes: List[Note]) -> List[NoteRecord]:
    """The notes of one request as input records, numbered from 1 and flagged as the batch
    reader flags them (empty_text, html_markup, duplicate_id, ...), so that a record from the
    service equals the record of the same note from `spacy-medical annotate`."""
    records = [NoteRecord(row=i + 1, note_id=note.note_id, text=note.text) for i, note in enumerate(notes)]
    # The reader's per-record checks, applied without a file: the flags are the reader's own.
    checker = ExportReader.__new__(ExportReader)
    checker._seen_ids = set()
    for record in records:
        checker._check(record)
    return records
