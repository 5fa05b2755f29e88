"""`AnnotateOptions`: every setting of a batch job, in one object.

The CLI, the Python API (`annotate(input, output, options)` or keyword overrides) and the Spark
engine read the same object, so a setting has one name, one default and one check.
"""
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Optional, TextIO, Union

from ..errors import Errors
# Outputs, errors file, checkpoint and HTML report hold note text or annotations of it:
# readable by their owner only, unless the caller asks otherwise.
from ..io.writers import DEFAULT_FILE_MODE

ENGINES = ("local", "spark")
# Above spaCy's max_length a doc cannot be made at all, and parser/NER memory grows with the
# doc length (spaCy's own estimate is about 1 GB per 100,000 characters), so longer notes are
# chunked: this bounds memory whatever the input.
DEFAULT_CHUNK_CHARS = 100_000


@dataclass(frozen=True)
class AnnotateOptions:
    """The settings of a batch annotation job.

    model (Any): Package name or path of the pipeline (or a loaded Language, local engine only).
    id_col (str): Column or field of the note id.
    text_col (str): Column or field of the note text.
    input_format (str): "auto", "csv", "tsv", "jsonl" or "parquet".
    output_format (str): "auto", "jsonl", "csv" or "parquet".
    errors_path (Optional[Path]): The errors JSONL; default OUTPUT + `.errors.jsonl`.
    n_process (int): Worker processes (local engine; -1: one per CPU).
    batch_size (int): nlp.pipe batch size.
    engine (str): "local" or "spark".
    spark_master (Optional[str]): Spark master URL; default local[*] bound to 127.0.0.1.
    resume (bool): Continue from the checkpoint of the same job (refused for another job).
    overwrite (bool): Replace existing outputs of an earlier job (refused by default).
    html_path (Optional[Path]): Write a displaCy report of the first notes there.
    html_notes (int): Notes in the HTML report.
    limit (Optional[int]): Only the first `limit` input records.
    allow_failures (bool): Exit code 0 even when records failed (never when input was unread).
    raw_csv (bool): Write CSV cells as they are, without neutralising spreadsheet formulas.
    file_mode (int): Permission bits of the files the job creates (default 0o600).
    checkpoint_every (int): Records between checkpoints.
    checkpoint_seconds (float): Seconds between checkpoints.
    chunk_chars (int): Notes longer than this (or than nlp.max_length) are chunked.
    progress (bool): Report progress (a bar on a terminal, log lines otherwise).
    progress_stream (Optional[TextIO]): Where progress goes (default stderr).
    """

    model: Any = "en_medical"
    id_col: str = "note_id"
    text_col: str = "text"
    input_format: str = "auto"
    output_format: str = "auto"
    errors_path: Optional[Union[str, Path]] = None
    n_process: int = 1
    batch_size: int = 64
    engine: str = "local"
    spark_master: Optional[str] = None
    resume: bool = False
    overwrite: bool = False
    html_path: Optional[Union[str, Path]] = None
    html_notes: int = 50
    limit: Optional[int] = None
    allow_failures: bool = False
    raw_csv: bool = False
    file_mode: int = DEFAULT_FILE_MODE
    checkpoint_every: int = 1000
    checkpoint_seconds: float = 60.0
    chunk_chars: int = DEFAULT_CHUNK_CHARS
    progress: bool = True
    progress_stream: Optional[TextIO] = None

    def with_overrides(self, **overrides: Any) -> "AnnotateOptions":
        """A copy with some settings changed; RAISES (TypeError) for an unknown setting."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise TypeError(Errors.E316.format(names=", ".join(unknown)))
        return replace(self, **overrides)

    def check(self) -> None:
        """RAISES (ValueError): For settings that contradict each other or are out of range."""
        if self.engine not in ENGINES:
            raise ValueError(Errors.E309.format(engine=self.engine))
        if self.engine == "spark" and not isinstance(self.model, (str, Path)):
            raise ValueError(Errors.E312.format(reason="pass the model as a package name or path, not a loaded pipeline"))
        if self.resume and self.overwrite:
            raise ValueError(Errors.E317.format(reason="--resume and --overwrite contradict each other; choose one"))
        for name in ("batch_size", "checkpoint_every", "chunk_chars", "html_notes"):
            if getattr(self, name) < 1:
                raise ValueError(Errors.E317.format(reason=f"{name} must be at least 1"))
        if self.limit is not None and self.limit < 0:
            raise ValueError(Errors.E317.format(reason="limit must not be negative"))
        if not 0 <= self.file_mode <= 0o777:
            raise ValueError(Errors.E317.format(reason=f"file_mode {self.file_mode:o} is not a permission mode"))
