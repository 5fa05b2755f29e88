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
again it becomes a failed record naming the component, never the text. The records themselves
are built by `records.py`, the one definition of the output schema.
"""
import multiprocessing
import os
import sys
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Deque, Dict, Iterable, Iterator, List, Optional, Tuple

from spacy.language import Language

from ..errors import Errors
from ..io.exports import NoteRecord
from .options import DEFAULT_CHUNK_CHARS
from .records import doc_parts, entity_fields, failed_result, make_result, model_info


def _ignore_error(proc_name: Any, proc: Any, docs: Any, error: Exception) -> None:
    """Error handler for nlp.pipe: drop the doc; the gap is detected and the record retried."""


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
    # The caller's error handlers are theirs: replaced for this job only.
    saved = _set_error_handler(nlp)
    try:
        yield from _annotate_serial(nlp, records, batch_size=batch_size, chunk_chars=chunk_chars)
    finally:
        _restore_error_handlers(nlp, saved)


def _annotate_serial(
    nlp: Language, records: Iterable[NoteRecord], *, batch_size: int, chunk_chars: int
) -> Iterator[Tuple[NoteRecord, Dict[str, Any]]]:
    """`annotate_records` in this process, with the job's error handler already set."""
    fields = entity_fields(nlp)
    model = model_info(nlp)
    max_chars = max(1, min(chunk_chars, nlp.max_length))
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
            for doc, (index, chunk_i, offset) in nlp.pipe(inputs, as_tuples=True, batch_size=batch_size):
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


def _set_error_handler(nlp: Language) -> Dict[str, Any]:
    """Like nlp.set_error_handler, but skipping components that cannot take one.

    RETURNS (Dict[str, Any]): The handlers it replaced, by component name ("" for the default).
    """
    saved: Dict[str, Any] = {"": nlp.default_error_handler}
    nlp.default_error_handler = _ignore_error
    for name, proc in nlp.pipeline:
        if hasattr(proc, "set_error_handler") and hasattr(proc, "get_error_handler"):
            try:
                saved[name] = proc.get_error_handler()
                proc.set_error_handler(_ignore_error)
            except AttributeError:
                saved.pop(name, None)
    return saved


def _restore_error_handlers(nlp: Language, saved: Dict[str, Any]) -> None:
    """Put back the handlers that `_set_error_handler` replaced."""
    nlp.default_error_handler = saved[""]
    for name, proc in nlp.pipeline:
        if name in saved:
            proc.set_error_handler(saved[name])
