"""`annotate`: batch annotation of an EMR export with zero loss, resume and accounting.

Every input record yields exactly one output record (annotated) or one error record (failed).
The job streams: memory is bounded by the batch size, not the input size. Output is written
append-only with periodic checkpoints (see `checkpoint.py`), so `resume=True` after a crash
finishes the job with no gap and no duplicate.
"""
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, TextIO, Tuple, Union

from ..errors import Errors
from ..io.exports import ExportReader, NoteRecord
from ..io.writers import ErrorsWriter, detect_output_format, make_writer, render_html
from .checkpoint import Checkpoint, checkpoint_path, job_identity
from .local import DEFAULT_CHUNK_CHARS, annotate_records
from .progress import Progress

ENGINES = ("local", "spark")
EXIT_OK, EXIT_FAILED, EXIT_MISMATCH = 0, 1, 2


@dataclass
class AnnotateResult:
    """The outcome of a batch job.

    read (int): Input records read (including those of a resumed earlier run).
    annotated (int): Records written to the output.
    failed (int): Records written to the errors file.
    exit_code (int): 0 on success, 1 when records failed (unless allowed), 2 when the counts do
        not add up.
    """

    read: int
    annotated: int
    failed: int
    output: Path
    errors: Path
    exit_code: int
    resumed_after_row: int = 0

    @property
    def accounting(self) -> str:
        verdict = "all accounted for" if self.read == self.annotated + self.failed else "COUNTS DO NOT ADD UP"
        return (f"read {self.read}, annotated {self.annotated}, failed {self.failed} "
                f"[{verdict}] (output: {self.output}; errors: {self.errors})")


def default_errors_path(output: Union[str, Path]) -> Path:
    """The errors file beside the output: OUTPUT stem + `.errors.jsonl`."""
    output = Path(output)
    stem = output.name[: -len(output.suffix)] if output.suffix else output.name
    return output.with_name(stem + ".errors.jsonl")


def load_pipeline(model: Any) -> Any:
    """Load a pipeline by package name or path (a Language object passes through)."""
    import spacy

    if not isinstance(model, (str, Path)):
        return model
    return spacy.load(model)


def annotate(
    input_path: Union[str, Path],
    output_path: Union[str, Path],
    *,
    model: Any = "en_medical",
    id_col: str = "note_id",
    text_col: str = "text",
    input_format: str = "auto",
    output_format: str = "auto",
    errors_path: Optional[Union[str, Path]] = None,
    n_process: int = 1,
    batch_size: int = 64,
    engine: str = "local",
    spark_master: Optional[str] = None,
    resume: bool = False,
    html_path: Optional[Union[str, Path]] = None,
    html_notes: int = 50,
    limit: Optional[int] = None,
    allow_failures: bool = False,
    checkpoint_every: int = 1000,
    checkpoint_seconds: float = 60.0,
    chunk_chars: int = DEFAULT_CHUNK_CHARS,
    progress: bool = True,
    progress_stream: Optional[TextIO] = None,
) -> AnnotateResult:
    """Annotate every record of an EMR export.

    input_path (Union[str, Path]): The export (.csv, .tsv, .jsonl, .parquet).
    output_path (Union[str, Path]): The output (.jsonl, .csv, or a .parquet folder).
    model (Any): Package name or path of the pipeline (or a loaded Language, local engine only).
    id_col (str): Column or field of the note id.
    text_col (str): Column or field of the note text.
    input_format (str): "auto", "csv", "tsv", "jsonl" or "parquet".
    output_format (str): "auto", "jsonl", "csv" or "parquet".
    errors_path (Optional[Union[str, Path]]): The errors JSONL; default beside the output.
    n_process (int): Worker processes (local engine; -1: one per CPU).
    batch_size (int): nlp.pipe batch size.
    engine (str): "local" or "spark".
    spark_master (Optional[str]): Spark master URL; default local[*].
    resume (bool): Continue from the last checkpoint of the same job.
    html_path (Optional[Union[str, Path]]): Write a displaCy report of the first notes there.
    html_notes (int): Notes in the HTML report.
    limit (Optional[int]): Only the first `limit` input records.
    allow_failures (bool): Exit code 0 even when records failed.
    checkpoint_every (int): Records between checkpoints.
    checkpoint_seconds (float): Seconds between checkpoints.
    chunk_chars (int): Notes longer than this (or than nlp.max_length) are chunked.
    progress (bool): Report progress (a bar on a terminal, log lines otherwise).
    progress_stream (Optional[TextIO]): Where progress goes (default stderr).
    RETURNS (AnnotateResult): The counts and the exit code.
    """
    if engine not in ENGINES:
        raise ValueError(Errors.E309.format(engine=engine))
    if engine == "spark" and not isinstance(model, (str, Path)):
        raise ValueError(Errors.E312.format(reason="pass the model as a package name or path, not a loaded pipeline"))
    input_path, output_path = Path(input_path), Path(output_path)
    fmt = detect_output_format(output_path, output_format)
    errors_path = Path(errors_path) if errors_path else default_errors_path(output_path)
    reader = ExportReader(input_path, id_col=id_col, text_col=text_col, input_format=input_format)
    model_key = str(model) if isinstance(model, (str, Path)) else "<Language object>"
    job = job_identity(input_path, id_col=id_col, text_col=text_col, input_format=reader.format,
                       output=str(output_path.resolve()), output_format=fmt,
                       errors=str(errors_path.resolve()), model=model_key)
    checkpoint = Checkpoint(checkpoint_path(output_path), job)
    state = checkpoint.load() if resume else None
    if not resume:
        checkpoint.remove()
    rows_done = state["rows_done"] if state else 0
    counts = dict(state["counts"]) if state else {"read": 0, "annotated": 0, "failed": 0}
    if state and state.get("complete"):
        return _finish(counts, output_path, errors_path, allow_failures, rows_done)

    writer = make_writer(output_path, fmt)
    errors_writer = ErrorsWriter(errors_path)
    writer.open(state["writers"]["output"] if state else None)
    errors_writer.open(state["writers"]["errors"] if state else None)
    # Records pulled from the reader in this run; checked against the results at the end.
    pulled = {"n": 0, "exhausted": False}

    def records() -> Iterator[NoteRecord]:
        for record in reader:
            if limit is not None and record.row > limit:
                return
            if record.row <= rows_done:
                continue
            pulled["n"] += 1
            yield record
        # Only a job that read its whole input is complete (not one stopped by --limit).
        pulled["exhausted"] = True

    if engine == "spark":
        from .spark import annotate_records_spark

        stream = annotate_records_spark(records(), model=model_key, batch_size=batch_size,
                                        chunk_chars=chunk_chars, master=spark_master)
    else:
        nlp = load_pipeline(model)
        stream = annotate_records(nlp, records(), batch_size=batch_size, n_process=n_process,
                                  chunk_chars=chunk_chars)

    reporter = Progress(reader.progress, stream=progress_stream, enabled=progress)
    html: List[Dict[str, Any]] = []
    since, last_time = 0, time.monotonic()
    received = 0

    def save(complete: bool = False) -> None:
        writers = {"output": writer.checkpoint(), "errors": errors_writer.checkpoint()}
        checkpoint.save(rows_done=rows_done, counts=counts, writers=writers, complete=complete)

    try:
        for record, result in stream:
            received += 1
            if result["row"] != record.row:
                raise RuntimeError(Errors.E310.format(read=record.row, annotated=result["row"], failed="?"))
            # Checkpointed counts cover written records only; the final `read` is what the
            # reader delivered, so a record lost by an engine shows as a mismatch.
            counts["read"] += 1
            if result["status"] == "ok":
                writer.write(result)
                counts["annotated"] += 1
                if html_path and len(html) < html_notes:
                    html.append({"text": record.text, "result": result})
            else:
                errors_writer.write(result)
                writer.write_failed(result)
                counts["failed"] += 1
            rows_done = record.row
            since += 1
            reporter.update(1, counts["annotated"], counts["failed"], rows_done)
            if since >= checkpoint_every or time.monotonic() - last_time >= checkpoint_seconds:
                save()
                since, last_time = 0, time.monotonic()
        save(complete=pulled["exhausted"] and received == pulled["n"])
        counts["read"] += pulled["n"] - received
    finally:
        reporter.close()
        writer.close()
        errors_writer.close()
    if html_path:
        render_html(html, html_path)
    return _finish(counts, output_path, errors_path, allow_failures, state["rows_done"] if state else 0)


def _finish(counts: Dict[str, int], output: Path, errors: Path, allow_failures: bool, resumed_after: int) -> AnnotateResult:
    if counts["read"] != counts["annotated"] + counts["failed"]:
        code = EXIT_MISMATCH
    elif counts["failed"] and not allow_failures:
        code = EXIT_FAILED
    else:
        code = EXIT_OK
    return AnnotateResult(read=counts["read"], annotated=counts["annotated"], failed=counts["failed"],
                          output=output, errors=errors, exit_code=code, resumed_after_row=resumed_after)


def annotate_preview(
    input_path: Union[str, Path],
    *,
    model: Any = "en_medical",
    id_col: str = "note_id",
    text_col: str = "text",
    limit: Optional[int] = None,
) -> List[Tuple[NoteRecord, Dict[str, Any]]]:
    """Annotate the first records of a small export in memory (for `spacy-medical demo`).

    input_path (Union[str, Path]): The export.
    model (Any): Package name or path of the pipeline, or a loaded Language.
    limit (Optional[int]): Only the first `limit` records.
    RETURNS (List[Tuple[NoteRecord, Dict[str, Any]]]): Each record with its output record.
    """
    reader = ExportReader(input_path, id_col=id_col, text_col=text_col)
    records = (r for r in reader if limit is None or r.row <= limit)
    return list(annotate_records(load_pipeline(model), records))
