"""Streaming readers of EMR exports: CSV, TSV, JSONL and Parquet.

Every input record yields exactly one `NoteRecord`: either a note to annotate (`error is None`)
or a record that cannot be annotated, with a reason a person can act on. Nothing is skipped
silently, so the batch job can account for every record.

Decisions on hostile input (documented in the README):
- `row` is the 1-based record number (the CSV header and blank JSONL lines are not records).
- Invalid UTF-8 bytes are decoded as U+FFFD and the record is flagged `invalid_utf8`: the rest of
  the note is still worth annotating, and the flag lets the user find the bad export rows.
  Offsets refer to the decoded text.
- A BOM is dropped; CRLF, bare CR and quoted fields with embedded newlines are read by the `csv`
  module. The text itself is never rewritten, so offsets point into the text as exported.
- Empty or whitespace-only text is annotated (zero entities) and flagged `empty_text`; a missing
  text or id value (absent field, JSON null, Parquet null, empty CSV id) fails that record.
- Rows with more or fewer fields than the header fail: the columns are misaligned, so the text
  column cannot be trusted (nor the id: a failed row's note_id is left empty, as it could be a
  fragment of the note).
- A quote never closed swallows the rest of a CSV: that record fails, naming the unread line
  range, and `ExportReader.unread` says the input was not read to its end.
- Lone surrogates (\\ud800-\\udfff, from invalid bytes or JSON escapes) in ids and text are
  replaced by U+FFFD and flagged `invalid_utf8`. A NaN id counts as missing.
- Any exception while parsing one record (a JSON line nested too deeply raises RecursionError)
  fails that record only.
- Duplicate note ids are kept and flagged `duplicate_id` on the second and later occurrences.
- NUL/control characters and HTML/RTF markup are kept (offsets stay exact) and flagged.

Messages name the file, row, line and field, never the note text.
"""
import codecs
import csv
import io
import json
import math
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Dict, Iterator, List, Optional, Tuple, Union

from ..errors import Errors

INPUT_FORMATS = ("csv", "tsv", "jsonl", "parquet")
_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
# Control characters other than tab, newline and carriage return (C0, DEL and C1).
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_HTML_RE = re.compile(r"<\s*/?\s*(html|body|div|p|br|span|table|tr|td|b|i|font)\b[^>]*>", re.I)
_RTF_RE = re.compile(r"^\s*\{\\rtf")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# The csv module caps fields at 128 KiB by default; clinical notes can be megabytes. The limit is
# process-wide, so it is raised only while this module parses a row, then restored.
_NOTE_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)
# Header names shown in an error: few and short, since a headerless file's first row is a note.
_SHOWN_COLUMNS, _SHOWN_NAME_CHARS = 8, 24


@contextmanager
def _note_sized_fields() -> Iterator[None]:
    previous = csv.field_size_limit(_NOTE_FIELD_LIMIT)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def describe_columns(names: List[str]) -> str:
    """The column names of a header for an error message, without leaking a note.

    Names are cut to a few characters and only the first few are listed; a first row with a long
    or multi-line field is most likely a note (a file without a header), so then no name is shown.
    """
    if any(len(n) > 64 or "\n" in n or "\r" in n for n in names):
        return "(not shown: the first row looks like a note, not a header; does the file lack one?)"
    shown = [n if len(n) <= _SHOWN_NAME_CHARS else n[:_SHOWN_NAME_CHARS] + "..." for n in names[:_SHOWN_COLUMNS]]
    more = f" and {len(names) - _SHOWN_COLUMNS} more" if len(names) > _SHOWN_COLUMNS else ""
    return ", ".join(repr(n) for n in shown) + more


@dataclass
class NoteRecord:
    """One input record of an export.

    row (int): 1-based record number in the input.
    note_id (Optional[str]): The note id, as a string.
    text (Optional[str]): The note text; None when the record failed.
    error (Optional[str]): Why the record cannot be annotated; None for a good record.
    flags (List[str]): Oddities found in a good record (e.g. `duplicate_id`, `invalid_utf8`).
    """

    row: int
    note_id: Optional[str]
    text: Optional[str]
    error: Optional[str] = None
    flags: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


def detect_format(path: Union[str, Path], input_format: str = "auto") -> str:
    """Return the input format, from `input_format` or else the file suffix.

    path (Union[str, Path]): The input file.
    input_format (str): "auto" or one of INPUT_FORMATS.
    RETURNS (str): One of INPUT_FORMATS.
    """
    if input_format != "auto":
        if input_format not in INPUT_FORMATS:
            raise ValueError(Errors.E301.format(path=path, suffix=input_format))
        return input_format
    suffixes = [s.lower() for s in Path(path).suffixes]
    # Compressed exports are not read here; the suffix check keeps the message actionable.
    fmt = _SUFFIXES.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        raise ValueError(Errors.E301.format(path=path, suffix="".join(suffixes) or "(none)"))
    return fmt


class _CountingReader(io.RawIOBase):
    """A binary file wrapper that counts bytes read, for progress and ETA."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)
        self.bytes_read += n or 0
        return n or 0


class ExportReader:
    """Iterate over the records of an EMR export, streaming.

    path (Union[str, Path]): The export file.
    id_col (str): Column or field holding the note id.
    text_col (str): Column or field holding the note text.
    input_format (str): "auto" (from the suffix) or one of INPUT_FORMATS.
    """

    def __init__(
        self,
        path: Union[str, Path],
        *,
        id_col: str = "note_id",
        text_col: str = "text",
        input_format: str = "auto",
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(Errors.E300.format(path=self.path))
        self.format = detect_format(self.path, input_format)
        self.id_col = id_col
        self.text_col = text_col
        self.total_bytes = self.path.stat().st_size
        self._counter: Optional[_CountingReader] = None
        self._rows_done = 0
        self._total_rows: Optional[int] = None
        self._seen_ids: set = set()
        # Why the input was not read to its end (None: it was, or reading has not finished).
        self.unread: Optional[str] = None

    def progress(self) -> Tuple[int, Optional[int], str]:
        """RETURNS (Tuple[int, Optional[int], str]): done, total and unit ("B" or "rows")."""
        if self.format == "parquet":
            return self._rows_done, self._total_rows, "rows"
        done = self._counter.bytes_read if self._counter is not None else 0
        return done, self.total_bytes, "B"

    def check(self) -> None:
        """Read the header (or schema) and the first record, so that a job can refuse a file it
        cannot read before it opens any output.

        RAISES (ValueError): For a missing column, an empty file or an unreadable format.
        """
        records = iter(self)
        try:
            next(records, None)
        finally:
            records.close()

    def __iter__(self) -> Iterator[NoteRecord]:
        self._seen_ids = set()
        self.unread = None
        reader = {
            "csv": self._iter_delimited,
            "tsv": self._iter_delimited,
            "jsonl": self._iter_jsonl,
            "parquet": self._iter_parquet,
        }[self.format]
        for record in reader():
            self._rows_done = record.row
            if record.ok:
                self._check(record)
            yield record

    # --- per-record checks shared by all formats -------------------------------------------
    def _check(self, record: NoteRecord) -> None:
        text = record.text or ""
        if _SURROGATE_RE.search(text) or (record.note_id and _SURROGATE_RE.search(record.note_id)):
            record.text = _SURROGATE_RE.sub("\ufffd", text)
            if record.note_id:
                record.note_id = _SURROGATE_RE.sub("\ufffd", record.note_id)
            record.flags.append("invalid_utf8")
            text = record.text
        if not text.strip():
            record.flags.append("empty_text")
        if "\x00" in text:
            record.flags.append("nul_bytes")
        if _CONTROL_RE.search(text.replace("\x00", "")):
            record.flags.append("control_chars")
        if _RTF_RE.match(text):
            record.flags.append("rtf_markup")
        elif _HTML_RE.search(text):
            record.flags.append("html_markup")
        if record.note_id in self._seen_ids:
            record.flags.append("duplicate_id")
        else:
            self._seen_ids.add(record.note_id)

    def _fail(self, row: int, reason: str, note_id: Optional[str] = None) -> NoteRecord:
        if note_id:
            note_id = _SURROGATE_RE.sub("\ufffd", note_id)
        return NoteRecord(row=row, note_id=note_id, text=None, error=reason)

    def _value(self, row: int, line: str, name: str, value: Any, what: str) -> Tuple[Optional[str], Optional[str]]:
        """Validate one id/text value: RETURNS (value, error)."""
        # A NaN or infinite id (pandas writes missing ids as NaN) is missing, never "nan".
        missing_number = isinstance(value, float) and not math.isfinite(value)
        if value is None or missing_number or (what == "id" and isinstance(value, str) and not value.strip()):
            return None, Errors.E304.format(path=self.path, row=row, line=line, field=name)
        if what == "id" and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(int(value)) if float(value).is_integer() else str(value)
        if not isinstance(value, str):
            kind = type(value).__name__
            return None, Errors.E306.format(path=self.path, row=row, line=line, field=name, kind=kind)
        return (value.strip() if what == "id" else value), None

    def _build(self, row: int, line: str, raw_id: Any, raw_text: Any) -> NoteRecord:
        try:
            note_id, id_error = self._value(row, line, self.id_col, raw_id, "id")
            text, text_error = self._value(row, line, self.text_col, raw_text, "text")
        except Exception as err:  # whatever one value does, only its record fails
            reason = f"{type(err).__name__} while reading its fields"
            return self._fail(row, Errors.E305.format(path=self.path, row=row, line=line, reason=reason))
        error = text_error or id_error
        if error:
            return self._fail(row, error, note_id)
        return NoteRecord(row=row, note_id=note_id, text=text)

    # --- formats ------------------------------------------------------------------------------
    def _utf16(self) -> bool:
        with open(self.path, "rb") as handle:
            return handle.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

    def _open_text(self) -> io.TextIOWrapper:
        # Spreadsheet tools save "Unicode text" as UTF-16 with a BOM: read it as such.
        encoding = "utf-16" if self._utf16() else "utf-8-sig"
        self._counter = _CountingReader(open(self.path, "rb"))
        # utf-8-sig drops a BOM; surrogateescape keeps bad bytes so they are flagged per row.
        buffered = io.BufferedReader(self._counter, buffer_size=1 << 16)
        return io.TextIOWrapper(buffered, encoding=encoding, errors="surrogateescape", newline="")

    def _iter_delimited(self) -> Iterator[NoteRecord]:
        delimiter = "\t" if self.format == "tsv" else ","
        with self._open_text() as handle:
            # strict: an unterminated quote fails loudly instead of swallowing the rest of the file.
            reader = csv.reader(handle, delimiter=delimiter, strict=True)
            try:
                with _note_sized_fields():
                    header = next(reader)
            except StopIteration:
                raise ValueError(Errors.E313.format(path=self.path)) from None
            header = [h.strip().lstrip("\ufeff") for h in header]
            for name, option in ((self.id_col, "--id-col"), (self.text_col, "--text-col")):
                if name not in header:
                    raise ValueError(Errors.E302.format(path=self.path, column=name, option=option,
                                                        count=len(header), columns=describe_columns(header)))
            id_idx, text_idx = header.index(self.id_col), header.index(self.text_col)
            row = 0
            while True:
                start_line = reader.line_num + 1
                try:
                    with _note_sized_fields():
                        fields = next(reader)
                except StopIteration:
                    break
                except csv.Error as err:
                    row += 1
                    if "unexpected end of data" in str(err):
                        # An unterminated quote ran to the end of the file: nothing after it was read.
                        self.unread = f"lines {start_line}-{reader.line_num} unread (a quote never closed)"
                        yield self._fail(row, Errors.E322.format(path=self.path, row=row, first=start_line, last=reader.line_num))
                        break
                    yield self._fail(row, Errors.E305.format(path=self.path, row=row, line=start_line, reason=f"CSV: {err}"))
                    continue
                if not fields:
                    # A blank line between records is not a record.
                    continue
                row += 1
                line = f"{start_line}" if reader.line_num == start_line else f"{start_line}-{reader.line_num}"
                if len(fields) != len(header):
                    # Misaligned columns: the "id" could be a fragment of the note, so none is kept.
                    reason = Errors.E303.format(
                        path=self.path, row=row, line=line, found=len(fields), expected=len(header)
                    )
                    yield self._fail(row, reason)
                    continue
                yield self._build(row, line, fields[id_idx], fields[text_idx])

    def _iter_jsonl(self) -> Iterator[NoteRecord]:
        if self._utf16():
            raise ValueError(Errors.E315.format(path=self.path))
        self._counter = _CountingReader(open(self.path, "rb"))
        decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
        with io.BufferedReader(self._counter, buffer_size=1 << 16) as handle:
            row = 0
            for line_no, raw in enumerate(handle, 1):
                if line_no == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8):]
                # Blank means blank bytes, the rule `fingerprint_export` counts records by.
                if not raw.strip():
                    continue
                line = decoder.decode(raw, final=True)
                row += 1
                try:
                    obj = json.loads(line)
                except Exception as err:  # ValueError, or RecursionError for deep nesting
                    reason = f"invalid JSON at column {err.colno}" if isinstance(err, ValueError) and hasattr(err, "colno") \
                        else f"invalid JSON ({type(err).__name__})"
                    yield self._fail(row, Errors.E305.format(path=self.path, row=row, line=line_no, reason=reason))
                    continue
                if not isinstance(obj, dict):
                    reason = f"a JSON {type(obj).__name__}, not an object"
                    yield self._fail(row, Errors.E305.format(path=self.path, row=row, line=line_no, reason=reason))
                    continue
                yield self._build(row, str(line_no), obj.get(self.id_col), obj.get(self.text_col))

    def _iter_parquet(self) -> Iterator[NoteRecord]:
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(self.path)
        except Exception as err:  # pyarrow raises several types for a broken file
            raise ValueError(Errors.E314.format(path=self.path, reason=type(err).__name__)) from None
        columns = parquet.schema_arrow.names
        for name, option in ((self.id_col, "--id-col"), (self.text_col, "--text-col")):
            if name not in columns:
                raise ValueError(Errors.E302.format(path=self.path, column=name, option=option,
                                                    count=len(columns), columns=describe_columns(columns)))
        self._total_rows = parquet.metadata.num_rows
        row = 0
        for batch in parquet.iter_batches(batch_size=1024, columns=[self.id_col, self.text_col]):
            ids = batch.column(0).to_pylist()
            texts = batch.column(1).to_pylist()
            for raw_id, raw_text in zip(ids, texts):
                row += 1
                if isinstance(raw_text, bytes):
                    # A binary column: decode like the text formats do.
                    raw_text = raw_text.decode("utf-8", errors="surrogateescape")
                yield self._build(row, "-", raw_id, raw_text)


def read_export(
    path: Union[str, Path],
    *,
    id_col: str = "note_id",
    text_col: str = "text",
    input_format: str = "auto",
) -> Iterator[NoteRecord]:
    """Stream the records of an EMR export.

    path (Union[str, Path]): The export file (.csv, .tsv, .jsonl, .parquet).
    id_col (str): Column or field holding the note id.
    text_col (str): Column or field holding the note text.
    input_format (str): "auto" (from the suffix) or one of INPUT_FORMATS.
    YIELDS (NoteRecord): One record per input record, in input order.
    """
    yield from ExportReader(path, id_col=id_col, text_col=text_col, input_format=input_format)


def record_to_dict(record: NoteRecord) -> Dict[str, Any]:
    """A plain dict of a record (for Spark and multiprocessing)."""
    return {"row": record.row, "note_id": record.note_id, "text": record.text,
            "error": record.error, "flags": list(record.flags)}
