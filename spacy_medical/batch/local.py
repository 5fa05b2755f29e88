"""The local engine: annotate a stream of records with `nlp.pipe`, in input order.

Shared by every engine: the Spark engine runs `annotate_records` inside `mapPartitions`, so both
engines produce the same records from the same code.

With several processes, each worker process runs this same code on whole batches of records and
sends back plain output records: the parent only reads, orders and writes. (spaCy's own
`nlp.pipe(n_process=...)` sends every Doc back to be deserialized in the parent, which competes
with the workers for the same cores; `bench/annotate_speed.py` measures both.)

Long notes are split into chunks (at line, then sentence, then whitespace boundaries) that are
annotated separately and merged back with offsets into the original text. A record whose doc a
component drops (spaCy's error handler skips docs that raise) is retried alone; if it fails
again it becomes a failed record naming the component, never the text.
"""
import multiprocessing
import os
import sys
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Deque, Dict, Iterable, Iterator, List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..errors import Errors
from ..io.exports import NoteRecord
from ..labels import ASSERTIONS

# Above spaCy's max_length a doc cannot be made at all, and parser/NER memory grows with the
# doc length (spaCy's own estimate is about 1 GB per 100,000 characters), so longer notes are
# chunked: this bounds memory whatever the input.
DEFAULT_CHUNK_CHARS = 100_000
_ENTITY_FIELDS = (*ASSERTIONS, "section")
_OFFSET_KEYS = ("start", "end", "start_char", "end_char")


def _ignore_error(proc_name: Any, proc: Any, docs: Any, error: Exception) -> None:
    """Error handler for nlp.pipe: drop the doc; the gap is detected and the record retried."""


def entity_fields(nlp: Language) -> List[str]:
    """The entity attributes (assertions, section) that some component of `nlp` assigns.

    nlp (Language): The pipeline.
    RETURNS (List[str]): Names among negated/uncertain/historical/hypothetical/family/section.
    """
    assigns: set = set()
    for name in nlp.pipe_names:
        try:
            assigns.update(nlp.get_pipe_meta(name).assigns)
        except (ValueError, KeyError):
            continue
    return [f for f in _ENTITY_FIELDS if f"span._.{f}" in assigns and Span.has_extension(f)]


def model_info(nlp: Language) -> Tuple[str, str]:
    """RETURNS (Tuple[str, str]): the model name (lang_name) and version from nlp.meta."""
    meta = nlp.meta
    return f"{meta.get('lang', nlp.lang)}_{meta.get('name', 'pipeline')}", str(meta.get("version", "0.0.0"))


def chunk_text(text: str, max_chars: int) -> List[Tuple[int, str]]:
    """Split `text` into chunks of at most `max_chars` characters.

    A chunk ends after the last newline of its second half, else after the last sentence end
    (". "), else at the last whitespace, else at `max_chars` (a single huge token).

    text (str): The note text.
    max_chars (int): The longest chunk.
    RETURNS (List[Tuple[int, str]]): (offset of the chunk in `text`, chunk text).
    """
    if len(text) <= max_chars:
        return [(0, text)]
    chunks = []
    start = 0
    while len(text) - start > max_chars:
        window_end = start + max_chars
        lower = start + max_chars // 2
        cut = text.rfind("\n", lower, window_end) + 1
        if cut <= 0:
            cut = text.rfind(". ", lower, window_end - 1) + 2
        if cut <= 1:
            space = max(text.rfind(" ", lower, window_end), text.rfind("\t", lower, window_end))
            cut = space + 1 if space >= 0 else window_end
        chunks.append((start, text[start:cut]))
        start = cut
    chunks.append((start, text[start:]))
    return chunks


def _shift(value: Any, offset: int) -> Any:
    """Shift char offsets inside summary items by `offset` (for chunked notes)."""
    if isinstance(value, dict):
        return {k: (v + offset if k in _OFFSET_KEYS and isinstance(v, int) else _shift(v, offset)) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift(v, offset) for v in value]
    return value


def doc_parts(doc: Doc, fields: List[str], offset: int = 0) -> Dict[str, Any]:
    """The entities, sections, abbreviations and summary of a doc, with char offsets shifted by `offset`."""
    entities = []
    for ent in doc.ents:
        item: Dict[str, Any] = {
            "text": ent.text, "label": ent.label_,
            "start": ent.start_char + offset, "end": ent.end_char + offset,
        }
        for name in fields:
            value = getattr(ent._, name)
            item[name] = bool(value) if name != "section" else value
        entities.append(item)
    sections = []
    if "sections" in doc.spans:
        sections = [
            {"label": span.label_, "start": span.start_char + offset, "end": span.end_char + offset}
            for span in doc.spans["sections"]
        ]
    # Each occurrence of a short form the note defines (medical_abbreviations), so that an auditor
    # sees why "CHF" is a DISEASE.
    abbreviations = [
        {"short_form": span.text, "long_form": span.label_, "start": span.start_char + offset, "end": span.end_char + offset}
        for span in doc.spans.get("abbreviations", [])
    ]
    summary = doc._.summary if Doc.has_extension("summary") else None
    return {"entities": entities, "sections": sections, "abbreviations": abbreviations,
            "summary": _shift(summary, offset) if summary else summary}


def _merge_summaries(summaries: List[Any]) -> Any:
    present = [s for s in summaries if s]
    if len(present) <= 1:
        return present[0] if present else None
    merged: Dict[str, Any] = {}
    for summary in present:
        for key, value in summary.items():
            if isinstance(value, list):
                merged.setdefault(key, []).extend(value)
            elif isinstance(value, str) and key in merged and isinstance(merged[key], str):
                merged[key] = (merged[key] + " " + value).strip()
            else:
                merged.setdefault(key, value)
    return merged


def make_result(record: NoteRecord, parts: List[Dict[str, Any]], model: Tuple[str, str], chunked: bool) -> Dict[str, Any]:
    """Build the output record of an annotated note from the parts of its chunks."""
    flags = list(record.flags) + (["chunked"] if chunked else [])
    return {
        "row": record.row,
        "note_id": record.note_id,
        "status": "ok",
        "flags": flags,
        "entities": [e for part in parts for e in part["entities"]],
        "sections": [s for part in parts for s in part["sections"]],
        "abbreviations": [a for part in parts for a in part["abbreviations"]],
        "summary": _merge_summaries([part["summary"] for part in parts]),
        "model": model[0],
        "model_version": model[1],
    }


def failed_result(record: NoteRecord, error: str) -> Dict[str, Any]:
    """Build the output record of a record that could not be annotated."""
    return {"row": record.row, "note_id": record.note_id, "status": "failed", "error": error,
            "flags": list(record.flags)}


def _annotate_alone(nlp: Language, record: NoteRecord, fields: List[str], model: Tuple[str, str], max_chars: int) -> Dict[str, Any]:
    """Annotate one record component by component, to name the component that fails."""
    chunks = chunk_text(record.text or "", max_chars)
    parts = []
    for offset, text in chunks:
        component = "tokenizer"
        try:
            doc = nlp.make_doc(text)
            for component, proc in nlp.pipeline:
                doc = proc(doc)
        except Exception as err:  # any component error becomes this record's failure
            error = Errors.E307.format(row=record.row, note_id=record.note_id, error_type=type(err).__name__, component=component)
            return failed_result(record, error)
        parts.append(doc_parts(doc, fields, offset))
    return make_result(record, parts, model, len(chunks) > 1)


def annotate_records(
    nlp: Language,
    records: Iterable[NoteRecord],
    *,
    batch_size: int = 64,
    n_process: int = 1,
    chunk_chars: int = DEFAULT_CHUNK_CHARS,
) -> Iterator[Tuple[NoteRecord, Dict[str, Any]]]:
    """Annotate records with `nlp.pipe(as_tuples=True)`, yielding one result per record in order.

    nlp (Language): The pipeline.
    records (Iterable[NoteRecord]): Records from `spacy_medical.io.exports`; failed ones pass through.
    batch_size (int): nlp.pipe batch size.
    n_process (int): Worker processes (-1 or 0: one per CPU); each annotates whole batches.
    chunk_chars (int): Notes longer than this (or than nlp.max_length) are chunked.
    YIELDS (Tuple[NoteRecord, Dict[str, Any]]): The record and its output record.
    """
    if n_process != 1:
        yield from _annotate_parallel(nlp, records, batch_size=batch_size, n_process=n_process, chunk_chars=chunk_chars)
        return
    fields = entity_fields(nlp)
    model = model_info(nlp)
    max_chars = max(1, min(chunk_chars, nlp.max_length))
    _set_error_handler(nlp)
    # Records in input order not yet answered; a doc for record k answers every record before it.
    pending: Deque[Tuple[int, NoteRecord, int]] = deque()
    reader_error: List[BaseException] = []

    def feed() -> Iterator[Tuple[str, Tuple[int, int, int]]]:
        try:
            for index, record in enumerate(records):
                if not record.ok:
                    pending.append((index, record, 0))
                    continue
                chunks = chunk_text(record.text or "", max_chars)
                pending.append((index, record, len(chunks)))
                for chunk_i, (offset, text) in enumerate(chunks):
                    yield text, (index, chunk_i, offset)
        except Exception as err:
            # A fatal input error (e.g. a missing column): never retried, always raised.
            reader_error.append(err)
            raise

    def answer_until(index: Optional[int]) -> Iterator[Tuple[NoteRecord, Dict[str, Any]]]:
        while pending and (index is None or pending[0][0] < index):
            _, record, n_chunks = pending.popleft()
            if not record.ok:
                yield record, failed_result(record, record.error or "")
            else:
                # Dropped by a failing component: retry alone to isolate and name the failure.
                yield record, _annotate_alone(nlp, record, fields, model, max_chars)

    inputs = feed()
    while True:
        parts: List[Dict[str, Any]] = []
        current: Optional[int] = None
        try:
            for doc, (index, chunk_i, offset) in nlp.pipe(inputs, as_tuples=True, batch_size=batch_size, n_process=n_process):
                if not pending or index < pending[0][0]:
                    continue  # a chunk of a record that was already retried alone
                if current is not None and index != current:
                    # The previous record lost a chunk: it is retried whole.
                    parts, current = [], None
                yield from answer_until(index)
                if chunk_i != len(parts):
                    parts, current = [], None
                    continue
                parts.append(doc_parts(doc, fields, offset))
                current = index
                _, record, n_chunks = pending[0]
                if len(parts) == n_chunks:
                    pending.popleft()
                    yield record, make_result(record, parts, model, n_chunks > 1)
                    parts, current = [], None
            break
        except Exception:
            # Some components (e.g. spaCy's ner) cannot take an error handler, so a failing
            # doc aborts nlp.pipe: retry every record in flight alone, then carry on.
            if reader_error or not pending:
                raise
            yield from answer_until(None)
    yield from answer_until(None)


# The pipeline of a worker process, set once by its initializer.
_WORKER: Dict[str, Any] = {}


def _init_worker(nlp: Language, batch_size: int, chunk_chars: int, threads: int) -> None:
    if "torch" in sys.modules:
        # n workers x all cores each would oversubscribe the CPU (transformer pipelines).
        sys.modules["torch"].set_num_threads(threads)
    _WORKER.update(nlp=nlp, batch_size=batch_size, chunk_chars=chunk_chars)


def _annotate_batch(records: List[NoteRecord]) -> List[Dict[str, Any]]:
    """Annotate a batch of records in a worker process; RETURNS their output records."""
    results = annotate_records(_WORKER["nlp"], records, batch_size=_WORKER["batch_size"],
                               n_process=1, chunk_chars=_WORKER["chunk_chars"])
    return [result for _, result in results]


def _annotate_parallel(
    nlp: Language, records: Iterable[NoteRecord], *, batch_size: int, n_process: int, chunk_chars: int
) -> Iterator[Tuple[NoteRecord, Dict[str, Any]]]:
    """`annotate_records` over `n_process` worker processes, in input order, memory bounded.

    Batches of `batch_size` records go to the workers; at most two batches per worker are in
    flight, so the input is read only as fast as it is annotated. Workers are forked where the
    platform allows it (they share the loaded pipeline), otherwise spawned with a pickled one.
    """
    cpus = os.cpu_count() or 1
    n_process = cpus if n_process < 1 else n_process
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    threads = max(1, cpus // n_process)
    in_flight: Deque[Tuple[List[NoteRecord], Future]] = deque()

    def answered() -> Iterator[Tuple[NoteRecord, Dict[str, Any]]]:
        batch, future = in_flight.popleft()
        yield from zip(batch, future.result(), strict=True)

    reader_errors: List[Exception] = []

    def batches() -> Iterator[List[NoteRecord]]:
        batch: List[NoteRecord] = []
        try:
            for record in records:
                batch.append(record)
                if len(batch) == batch_size:
                    yield batch
                    batch = []
        except Exception as err:
            # A fatal input error: the records read before it are still answered, then it is raised.
            reader_errors.append(err)
        if batch:
            yield batch

    with ProcessPoolExecutor(n_process, mp_context=context, initializer=_init_worker,
                             initargs=(nlp, batch_size, chunk_chars, threads)) as pool:
        for batch in batches():
            in_flight.append((batch, pool.submit(_annotate_batch, batch)))
            if len(in_flight) >= 2 * n_process:
                yield from answered()
        while in_flight:
            yield from answered()
    if reader_errors:
        raise reader_errors[0]


def _set_error_handler(nlp: Language) -> None:
    """Like nlp.set_error_handler, but skipping components that cannot take one."""
    nlp.default_error_handler = _ignore_error
    for _, proc in nlp.pipeline:
        if hasattr(proc, "set_error_handler"):
            try:
                proc.set_error_handler(_ignore_error)
            except AttributeError:
                pass
