"""`annotate`: batch annotation of an EMR export with zero loss, resume and accounting.

Every input record yields exactly one output record (annotated) or one error record (failed).
The job streams: memory is bounded by the batch size, not the input size. Output is written
append-only with periodic checkpoints (see `checkpoint.py`), so `resume=True` after a crash
finishes the job with no gap and no duplicate.
"""
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from ..errors import Errors
from ..io.exports import ExportReader, NoteRecord
from ..io.render import render_report
from ..io.outputs import make_writer
from ..io.writers import ErrorsWriter, detect_output_format
from .checkpoint import Checkpoint, fingerprint_export, job_identity
from .local import annotate_records
from .options import AnnotateOptions
from .paths import JobFiles
from .progress import Progress

EXIT_OK, EXIT_FAILED, EXIT_MISMATCH = 0, 1, 2
# A job that could not run or could not account for its input exits 2 (like a count mismatch).
EXIT_JOB_ERROR = EXIT_MISMATCH


@dataclass
class AnnotateResult:
    """The outcome of a batch job.

    read (int): Input records read (including those of a resumed earlier run).
    annotated (int): Records written to the output.
    failed (int): Records written to the errors file.
    exit_code (int): 0 on success, 1 when records failed (unless allowed), 2 when the counts do
        not add up or part of the input could not be read (whatever `allow_failures` says).
    expected (Optional[int]): The input's records by an independent count (JSONL lines, Parquet
        footer; None for CSV, which cannot be counted without parsing it).
    unread (Optional[str]): What part of the input could not be read, if any.
    """

    read: int
    annotated: int
    failed: int
    output: Path
    errors: Path
    exit_code: int
    resumed_after_row: int = 0
    expected: Optional[int] = None
    unread: Optional[str] = None

    @property
    def accounting(self) -> str:
        if self.unread:
            verdict = f"INPUT NOT FULLY READ: {self.unread}; the total is unknown"
        elif self.read != self.annotated + self.failed or (self.expected is not None and self.read != self.expected):
            verdict = "COUNTS DO NOT ADD UP"
        elif self.expected is None:
            verdict = "all accounted for; input parsed to its end, no independent count"
        else:
            verdict = f"all accounted for; {self.expected} records in the input by an independent count"
        return (f"read {self.read}, annotated {self.annotated}, failed {self.failed} "
                f"[{verdict}] (output: {self.output}; errors: {self.errors})")


def load_pipeline(model: Any) -> Any:
    """Load a pipeline by package name or path (a Language object passes through)."""
    import spacy

    if not isinstance(model, (str, Path)):
        return model
    return spacy.load(model)


def annotate(
    input_path: Union[str, Path],
    output_path: Union[str, Path],
    options: Optional[AnnotateOptions] = None,
    **overrides: Any,
) -> AnnotateResult:
    """Annotate every record of an EMR export.

    Before anything is opened, the job refuses to write over its input, to write one file twice,
    to write where it cannot, and to replace the outputs of an earlier job unless
    `overwrite=True` (start over) or `resume=True` (continue that same job) is set.

    input_path (Union[str, Path]): The export (.csv, .tsv, .jsonl, .parquet).
    output_path (Union[str, Path]): The output (.jsonl, .csv, or a .parquet folder).
    options (Optional[AnnotateOptions]): The job's settings (default: AnnotateOptions()).
    overrides: Settings to change in `options`, by name (e.g. `model=nlp, resume=True`).
    RETURNS (AnnotateResult): The counts and the exit code.
    RAISES (ValueError): For a job that must not start or may not resume (the message says why).
    """
    opts = (options or AnnotateOptions()).with_overrides(**overrides)
    opts.check()
    input_path, output_path = Path(input_path), Path(output_path)
    fmt = detect_output_format(output_path, opts.output_format)
    files = JobFiles.of(output_path, fmt, opts.errors_path, opts.html_path)
    reader = ExportReader(input_path, id_col=opts.id_col, text_col=opts.text_col, input_format=opts.input_format)
    files.check(input_path)
    reader.check()
    stale = files.claim(resume=opts.resume, overwrite=opts.overwrite)

    nlp = load_pipeline(opts.model)
    input_sha256, expected = fingerprint_export(input_path, reader.format)
    job = job_identity(input_path, input_sha256, nlp, id_col=opts.id_col, text_col=opts.text_col,
                       input_format=reader.format, output=str(output_path.resolve()), output_format=fmt,
                       errors=str(files.errors.resolve()), chunk_chars=opts.chunk_chars, raw_csv=opts.raw_csv)
    checkpoint = Checkpoint(files.checkpoint, job, opts.file_mode)
    state = checkpoint.load() if opts.resume else None
    if opts.limit is not None and expected is not None:
        expected = min(expected, opts.limit)
    rows_done = state["rows_done"] if state else 0
    counts = dict(state["counts"]) if state else {"read": 0, "annotated": 0, "failed": 0}
    if state and state.get("complete"):
        return _finish(counts, files, opts.allow_failures, rows_done, expected, state.get("unread"))

    # Every check passed (pipeline loaded, checkpoint matched): only now is anything deleted.
    files.remove(stale)
    writer = make_writer(output_path, fmt, file_mode=opts.file_mode, raw_csv=opts.raw_csv)
    errors_writer = ErrorsWriter(files.errors, file_mode=opts.file_mode)
    writer.open(state["writers"]["output"] if state else None)
    errors_writer.open(state["writers"]["errors"] if state else None)
    # Records pulled from the reader in this run; checked against the results at the end.
    pulled = {"n": 0, "exhausted": False}

    def records() -> Iterator[NoteRecord]:
        for record in reader:
            if opts.limit is not None and record.row > opts.limit:
                return
            if record.row <= rows_done:
                continue
            pulled["n"] += 1
            yield record
        # Only a job that read its whole input is complete (not one stopped by --limit).
        pulled["exhausted"] = True

    if opts.engine == "spark":
        from .spark import annotate_records_spark

        stream = annotate_records_spark(records(), opts)
    else:
        stream = annotate_records(nlp, records(), batch_size=opts.batch_size, n_process=opts.n_process,
                                  chunk_chars=opts.chunk_chars)

    reporter = Progress(reader.progress, stream=opts.progress_stream, enabled=opts.progress)
    html: List[Dict[str, Any]] = []
    since, last_time = 0, time.monotonic()
    received = 0

    def save(complete: bool = False) -> None:
        writers = {"output": writer.checkpoint(), "errors": errors_writer.checkpoint()}
        checkpoint.save(rows_done=rows_done, counts=counts, writers=writers, complete=complete,
                        unread=reader.unread)

    try:
        # A checkpoint before the first record: a crash at any point leaves a resumable job.
        save()
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
                if files.html and len(html) < opts.html_notes:
                    # A de-identified record carries its own text: the report shows that, never the input.
                    html.append({"text": result.get("text", record.text), "result": result})
            else:
                errors_writer.write(result)
                writer.write_failed(result)
                counts["failed"] += 1
            rows_done = record.row
            since += 1
            reporter.update(1, counts["annotated"], counts["failed"], rows_done)
            if since >= opts.checkpoint_every or time.monotonic() - last_time >= opts.checkpoint_seconds:
                save()
                since, last_time = 0, time.monotonic()
        save(complete=pulled["exhausted"] and received == pulled["n"])
        counts["read"] += pulled["n"] - received
    finally:
        reporter.close()
        writer.close()
        errors_writer.close()
    if files.html:
        render_report(html, files.html, file_mode=opts.file_mode)
    return _finish(counts, files, opts.allow_failures, state["rows_done"] if state else 0, expected, reader.unread)


def _finish(counts: Dict[str, int], files: JobFiles, allow_failures: bool, resumed_after: int,
            expected: Optional[int], unread: Optional[str]) -> AnnotateResult:
    result = AnnotateResult(read=counts["read"], annotated=counts["annotated"], failed=counts["failed"],
                            output=files.output, errors=files.errors, exit_code=EXIT_OK,
                            resumed_after_row=resumed_after, expected=expected, unread=unread)
    if unread or result.read != result.annotated + result.failed or (expected is not None and result.read != expected):
        result.exit_code = EXIT_MISMATCH
    elif result.failed and not allow_failures:
        result.exit_code = EXIT_FAILED
    return result


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
