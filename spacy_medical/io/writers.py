"""Writers of annotation results: JSONL, CSV, Parquet, an errors file and an HTML report.

Every writer is append-only and checkpointable: `checkpoint()` flushes what was written to disk
and returns a small JSON-serializable state; `open(state)` with that state truncates whatever was
written after it (a crash between checkpoints), so a resumed job has no gap and no duplicate.

Records are plain dicts, schema version 2 (see `spacy_medical.batch.records`):
- annotated: schema_version, row, note_id, status="ok", flags, entities, sections, abbreviations,
  summary, model, model_version
- failed: schema_version, row, note_id, status="failed", error, flags

Every file is created with the permission bits `file_mode` (0o600 by default: the outputs hold
note text). CSV cells that a spreadsheet would run as a formula (starting with =, +, -, @, tab or
carriage return) get a leading `'` unless `raw_csv` is set.
"""
import csv
import html
import io
import json
import os
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from ..errors import Errors
from ..labels import ASSERTIONS

# fhir: NDJSON of FHIR R4 Bundles, one per annotated note (spacy_medical.io.fhir).
OUTPUT_FORMATS = ("jsonl", "csv", "parquet", "fhir")
ENTITY_COLUMNS = ["row", "note_id", "ent_index", "text", "label", "start_char", "end_char", *ASSERTIONS, "section",
                  "kb_id", "concept_name"]
NOTE_COLUMNS = ["row", "note_id", "status", "n_entities", "flags", "error", "sections", "abbreviations", "summary",
                "model", "model_version", "schema_version"]
DEFAULT_FILE_MODE = 0o600
# What a spreadsheet reads as the start of a formula (OWASP's list for CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PART_RE = re.compile(r"^part-\d{6}\.(parquet|tmp)$")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def is_part_file(path: Path) -> bool:
    """Whether `path` is a part file of a Parquet output (the only files a job deletes there)."""
    return bool(_PART_RE.match(path.name))


def create_private(path: Path, file_mode: int = DEFAULT_FILE_MODE) -> io.BufferedWriter:
    """Create (or truncate) `path` for binary writing with exactly the permission bits `file_mode`.

    The mode is set at creation (no moment where the file is world-readable) and again with
    fchmod, so an existing file or a umask does not change it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, file_mode)
    os.fchmod(fd, file_mode)
    return os.fdopen(fd, "wb")


def neutralise_formula(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, prefixed with `'`; others unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def detect_output_format(path: Union[str, Path], output_format: str = "auto") -> str:
    """Return the output format, from `output_format` or else the suffix of `path`."""
    if output_format != "auto":
        if output_format not in OUTPUT_FORMATS:
            raise ValueError(Errors.E301.format(path=path, suffix=output_format))
        return output_format
    suffix = Path(path).suffix.lower()
    fmt = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet"}.get(suffix)
    if fmt is None:
        raise ValueError(Errors.E301.format(path=path, suffix=suffix or "(none)"))
    return fmt


def output_paths(path: Union[str, Path], output_format: str) -> Dict[str, Path]:
    """The files a writer creates for OUTPUT: entities/notes tables for CSV and Parquet."""
    path = Path(path)
    if output_format in ("jsonl", "fhir"):
        return {"records": path}
    if output_format == "csv":
        return {"entities": path, "notes": path.with_name(path.stem + ".notes.csv")}
    # Parquet: a dataset folder of part files, the layout Spark and pyarrow.dataset read.
    return {"entities": path / "entities", "notes": path / "notes"}


class _AppendFile:
    """A binary file written append-only, truncated back to a checkpointed offset on resume."""

    def __init__(self, path: Path, file_mode: int = DEFAULT_FILE_MODE) -> None:
        self.path = path
        self.file_mode = file_mode
        self.handle: Optional[io.BufferedWriter] = None

    def open(self, offset: Optional[int]) -> bool:
        """Open for appending; RETURNS (bool): whether the file starts empty."""
        if offset is None:
            self.handle = create_private(self.path, self.file_mode)
        else:
            if not self.path.exists() or self.path.stat().st_size < offset:
                raise ValueError(Errors.E308.format(path=self.path, reason="file shorter than the checkpoint"))
            with open(self.path, "r+b") as handle:
                handle.truncate(offset)
            self.handle = open(self.path, "ab")
        return self.handle.tell() == 0

    def write(self, data: bytes) -> None:
        assert self.handle is not None
        self.handle.write(data)

    def checkpoint(self) -> int:
        assert self.handle is not None
        self.handle.flush()
        os.fsync(self.handle.fileno())
        return self.handle.tell()

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def _json_line(obj: Dict[str, Any]) -> bytes:
    # ensure_ascii keeps lone surrogates or odd bytes from ever making the file invalid UTF-8.
    return (json.dumps(obj, ensure_ascii=True) + "\n").encode("ascii")


class JsonlWriter:
    """One JSON line per annotated record (or per failed record, for the errors file)."""

    def __init__(self, path: Union[str, Path], *, file_mode: int = DEFAULT_FILE_MODE, **_: Any) -> None:
        self.file = _AppendFile(Path(path), file_mode)

    def open(self, state: Optional[Dict[str, Any]] = None) -> None:
        self.file.open(state["offset"] if state else None)

    def write(self, result: Dict[str, Any]) -> None:
        self.file.write(_json_line(result))

    def write_failed(self, result: Dict[str, Any]) -> None:
        """Failed records go to the errors file only."""

    def checkpoint(self) -> Dict[str, Any]:
        return {"offset": self.file.checkpoint()}

    def close(self) -> None:
        self.file.close()


def entity_rows(result: Dict[str, Any]) -> List[Dict[str, Any]]:
    """One flat row per entity of an annotated record, with every ENTITY_COLUMNS key."""
    rows = []
    for i, ent in enumerate(result.get("entities", [])):
        row = {"row": result["row"], "note_id": result["note_id"], "ent_index": i}
        row.update({key: ent.get(key) for key in ENTITY_COLUMNS[3:]})
        rows.append(row)
    return rows


def note_row(result: Dict[str, Any]) -> Dict[str, Any]:
    """One flat row per input record (annotated or failed) for the notes table."""
    ok = result["status"] == "ok"
    return {
        "row": result["row"],
        "note_id": result["note_id"],
        "status": result["status"],
        "n_entities": len(result["entities"]) if ok else None,
        "flags": ";".join(result.get("flags") or []),
        "error": result.get("error"),
        "sections": json.dumps(result.get("sections")) if ok else None,
        "abbreviations": json.dumps(result.get("abbreviations")) if ok else None,
        "summary": json.dumps(result.get("summary")) if ok and result.get("summary") is not None else None,
        "model": result.get("model"),
        "model_version": result.get("model_version"),
        "schema_version": result.get("schema_version"),
    }


class CsvWriter:
    """An entities CSV (one row per entity) and a notes CSV (one row per input record)."""

    def __init__(self, path: Union[str, Path], *, file_mode: int = DEFAULT_FILE_MODE, raw_csv: bool = False) -> None:
        paths = output_paths(path, "csv")
        self.entities = _AppendFile(paths["entities"], file_mode)
        self.notes = _AppendFile(paths["notes"], file_mode)
        self.raw_csv = raw_csv

    def open(self, state: Optional[Dict[str, Any]] = None) -> None:
        for name, columns in (("entities", ENTITY_COLUMNS), ("notes", NOTE_COLUMNS)):
            target = getattr(self, name)
            if target.open(state[name] if state else None):
                self._write(target, [dict(zip(columns, columns))], columns)

    def _write(self, target: _AppendFile, rows: List[Dict[str, Any]], columns: List[str]) -> None:
        if not self.raw_csv:
            rows = [{key: neutralise_formula(value) for key, value in row.items()} for row in rows]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writerows(rows)
        target.write(buffer.getvalue().encode("utf-8", errors="replace"))

    def write(self, result: Dict[str, Any]) -> None:
        self._write(self.entities, entity_rows(result), ENTITY_COLUMNS)
        self._write(self.notes, [note_row(result)], NOTE_COLUMNS)

    def write_failed(self, result: Dict[str, Any]) -> None:
        self._write(self.notes, [note_row(result)], NOTE_COLUMNS)

    def checkpoint(self) -> Dict[str, Any]:
        return {"entities": self.entities.checkpoint(), "notes": self.notes.checkpoint()}

    def close(self) -> None:
        self.entities.close()
        self.notes.close()


def _parquet_schemas() -> Dict[str, Any]:
    import pyarrow as pa

    entity_fields = [
        pa.field("row", pa.int64()), pa.field("note_id", pa.string()), pa.field("ent_index", pa.int32()),
        pa.field("text", pa.string()), pa.field("label", pa.string()),
        pa.field("start_char", pa.int64()), pa.field("end_char", pa.int64()),
        *[pa.field(name, pa.bool_()) for name in ASSERTIONS], pa.field("section", pa.string()),
        pa.field("kb_id", pa.string()), pa.field("concept_name", pa.string()),
    ]
    note_fields = [
        pa.field("row", pa.int64()), pa.field("note_id", pa.string()), pa.field("status", pa.string()),
        pa.field("n_entities", pa.int32()),
        *[pa.field(name, pa.string()) for name in NOTE_COLUMNS[4:-1]], pa.field("schema_version", pa.int32()),
    ]
    return {"entities": pa.schema(entity_fields), "notes": pa.schema(note_fields)}


class ParquetWriter:
    """A Parquet dataset folder: `entities/part-*.parquet` and `notes/part-*.parquet`.

    Rows are buffered and each checkpoint writes one part file (written to a temporary name,
    then renamed), so a crash never leaves a half-written part behind.
    """

    def __init__(self, path: Union[str, Path], *, file_mode: int = DEFAULT_FILE_MODE, **_: Any) -> None:
        self.paths = output_paths(path, "parquet")
        self.buffers: Dict[str, List[Dict[str, Any]]] = {"entities": [], "notes": []}
        self.parts = 0
        self.file_mode = file_mode

    def open(self, state: Optional[Dict[str, Any]] = None) -> None:
        self.parts = state["parts"] if state else 0
        for folder in self.paths.values():
            # Folders hold note text too: owner only, like the files.
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            for part in folder.iterdir():
                # Remove this job's parts written after the checkpoint; never another file.
                if is_part_file(part) and (part.suffix == ".tmp" or int(part.name[5:11]) >= self.parts):
                    part.unlink()

    def write(self, result: Dict[str, Any]) -> None:
        self.buffers["entities"].extend(_scrub(row) for row in entity_rows(result))
        self.buffers["notes"].append(_scrub(note_row(result)))

    def write_failed(self, result: Dict[str, Any]) -> None:
        self.buffers["notes"].append(_scrub(note_row(result)))

    def checkpoint(self) -> Dict[str, Any]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.buffers["notes"]:
            for name, schema in _parquet_schemas().items():
                table = pa.Table.from_pylist(self.buffers[name], schema=schema)
                target = self.paths[name] / f"part-{self.parts:06d}.parquet"
                tmp = target.with_suffix(".tmp")
                with create_private(tmp, self.file_mode) as handle:
                    pq.write_table(table, handle)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, target)
                self.buffers[name] = []
            self.parts += 1
        return {"parts": self.parts}

    def close(self) -> None:
        pass


def _scrub(row: Dict[str, Any]) -> Dict[str, Any]:
    """Replace lone surrogates (which Arrow cannot encode) in the text cells of a row."""
    return {k: _SURROGATE_RE.sub("\ufffd", v) if isinstance(v, str) else v for k, v in row.items()}


class ErrorsWriter(JsonlWriter):
    """The errors file: one JSON line per failed record with `row`, `note_id` and `error`."""

    def write(self, result: Dict[str, Any]) -> None:
        self.file.write(_json_line({"row": result["row"], "note_id": result["note_id"], "error": result["error"]}))
