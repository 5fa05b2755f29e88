"""The inference worker: concurrent requests micro-batched into one `nlp.pipe` call.

One thread owns the pipeline (spaCy pipelines are not made to be called from several threads at
once). Requests put their notes on a queue and await a future; the thread takes the first
waiting request, waits up to `max_wait_s` for more (until `max_batch_notes`), annotates all their
notes with the batch annotator's own `annotate_records` (so a service record is a batch record,
with the same per-note failure handling), and hands each request its records back on the event
loop. The event loop never runs inference, so `/health` answers while a batch runs.
"""
import asyncio
import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from spacy.language import Language

from ..batch.local import DEFAULT_CHUNK_CHARS, annotate_records
from ..errors import Errors
from ..io.exports import NoteRecord

logger = logging.getLogger("spacy_medical.service")


class ServerBusy(Exception):
    """More notes are waiting than the worker accepts; the client should retry (503)."""


@dataclass
class _Job:
    records: List[NoteRecord]
    future: "asyncio.Future[List[Dict[str, Any]]]"
    loop: asyncio.AbstractEventLoop


class InferenceWorker:
    """Runs `nlp` on micro-batches of the notes of concurrent requests, in one thread.

    nlp (Language): The pipeline.
    max_batch_notes (int): The most notes in one batch.
    max_wait_s (float): How long the first request of a batch waits for others.
    max_pending_notes (int): Notes that may wait; beyond this a request gets 503.
    batch_size (int): nlp.pipe batch size.
    chunk_chars (int): Notes longer than this are annotated in chunks (as in the batch job).
    """

    def __init__(
        self,
        nlp: Language,
        *,
        max_batch_notes: int = 64,
        max_wait_s: float = 0.002,
        max_pending_notes: int = 4096,
        batch_size: int = 64,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
    ) -> None:
        self.nlp = nlp
        self.max_batch_notes = max_batch_notes
        self.max_wait_s = max_wait_s
        self.max_pending_notes = max_pending_notes
        self.batch_size = batch_size
        self.chunk_chars = chunk_chars
        self._queue: "queue.Queue[Optional[_Job]]" = queue.Queue()
        self._pending = 0
        self._lock = threading.Lock()
        self.batches = 0
        self._thread = threading.Thread(target=self._run, name="spacy-medical-inference", daemon=True)
        self._thread.start()

    async def annotate(self, records: List[NoteRecord]) -> List[Dict[str, Any]]:
        """Annotate the records of one request; RETURNS their output records, in order.

        RAISES (ServerBusy): When too many notes are already waiting.
        """
        with self._lock:
            if self._pending + len(records) > self.max_pending_notes:
                raise ServerBusy(Errors.E607.format(pending=self._pending))
            self._pending += len(records)
        loop = asyncio.get_running_loop()
        job = _Job(records, loop.create_future(), loop)
        self._queue.put(job)
        return await job.future

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread after the batches already queued."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _collect(self, first: _Job) -> List[_Job]:
        jobs, count = [first], len(first.records)
        deadline = time.monotonic() + self.max_wait_s
        while count < self.max_batch_notes:
            try:
                # Take what already waits at once; wait for more only until the deadline.
                job = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    job = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
            if job is None:
                self._queue.put(None)  # stop after this batch
                break
            jobs.append(job)
            count += len(job.records)
        return jobs

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs = self._collect(first)
            records = [record for job in jobs for record in job.records]
            try:
                results = [result for _, result in annotate_records(
                    self.nlp, records, batch_size=self.batch_size, chunk_chars=self.chunk_chars)]
                error: Optional[BaseException] = None
            except Exception as err:  # answered as a 500 per request; logged without note text
                results, error = [], err
                logger.error("inference failed on a batch of %d notes: %s", len(records), type(err).__name__)
            self.batches += 1
            with self._lock:
                self._pending -= len(records)
            start = 0
            for job in jobs:
                answer = results[start:start + len(job.records)]
                start += len(job.records)
                try:
                    job.loop.call_soon_threadsafe(_settle, job.future, answer, error)
                except RuntimeError:  # that request's event loop is closed: nobody waits
                    pass


def _settle(future: "asyncio.Future[Any]", answer: List[Dict[str, Any]], error: Optional[BaseException]) -> None:
    if future.done():  # the client went away and the request was cancelled
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(answer)
