"""Checkpoints of a batch job, so that `--resume` after a crash (even kill -9) is exact.

The output files are append-only. Every checkpoint first flushes and fsyncs them, then atomically
replaces the checkpoint file (write a temporary file, fsync, rename) with:
- `rows_done`: every input record with `row <= rows_done` has its output or error record on disk;
- the byte offsets (or Parquet part counts) of every output file at that point;
- the counts read/annotated/failed up to that point;
- the job's identity (see `job_identity`: the input's content hash, the pipeline's name,
  version, config hash and weights hash, the columns, formats and output options) to refuse
  resuming a different job, naming what differs.
On resume the files are truncated back to the recorded offsets (dropping whatever was written
after the last checkpoint) and the job restarts at row `rows_done + 1`: no gap, no duplicate.
"""
import codecs
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Dict, Optional, Tuple, Union

from spacy.language import Language

from ..errors import Errors
from ..io.writers import DEFAULT_FILE_MODE, create_private
from .paths import checkpoint_path  # noqa: F401  (part of this module's API)
from .records import model_info

CHECKPOINT_VERSION = 2
# How a difference is named in the refusal (keys not listed are named as they are).
_PART_NAMES = {
    "input_sha256": "input content", "input": "input path", "pipeline_name": "pipeline name",
    "pipeline_version": "pipeline version", "pipeline_config": "pipeline config",
    "pipeline_weights": "pipeline weights",
}


def _component_bytes(proc: Any) -> bytes:
    try:
        return proc.to_bytes(exclude=["vocab"])
    except TypeError:  # a to_bytes without `exclude`
        return proc.to_bytes()
    except NotImplementedError:  # a stateless component: its config (hashed too) says it all
        return b""


def pipeline_identity(nlp: Language) -> Dict[str, str]:
    """The pipeline's name, version, and sha256 digests of its config and of its weights.

    The weights digest covers the tokenizer, the vectors and every component's `to_bytes` (the
    string store is left out: it grows with every note a pipeline has seen). Computed once per
    job; a model rebuilt in place with other labels or weights gets another digest.

    nlp (Language): The pipeline.
    RETURNS (Dict[str, str]): pipeline_name, pipeline_version, pipeline_config, pipeline_weights.
    """
    weights = hashlib.sha256(nlp.tokenizer.to_bytes(exclude=["vocab"]))
    weights.update(nlp.vocab.vectors.to_bytes(exclude=["strings"]))
    for name, proc in nlp.pipeline:
        weights.update(name.encode("utf-8") + b"\0")
        if hasattr(proc, "to_bytes"):
            weights.update(hashlib.sha256(_component_bytes(proc)).digest())
    name, version = model_info(nlp)
    config = hashlib.sha256(nlp.config.to_str().encode("utf-8")).hexdigest()
    return {"pipeline_name": name, "pipeline_version": version, "pipeline_config": config,
            "pipeline_weights": weights.hexdigest()}


def fingerprint_export(path: Union[str, Path], input_format: str) -> Tuple[str, Optional[int]]:
    """Stream an export once: its sha256 and its record count, where the format allows one.

    The count is independent of the parser that reads the records, so a reader that stops early
    shows as a mismatch: JSONL counts its non-blank lines, Parquet reads its footer. A CSV's
    records cannot be counted without parsing quotes: None (unknown).

    path (Union[str, Path]): The export file.
    input_format (str): One of INPUT_FORMATS.
    RETURNS (Tuple[str, Optional[int]]): The hex sha256 of the file and the record count.
    """
    digest = hashlib.sha256()
    count: Optional[int] = 0 if input_format == "jsonl" else None
    with open(path, "rb") as handle:
        if input_format == "jsonl":
            for line_no, raw in enumerate(handle, 1):
                digest.update(raw)
                if line_no == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8):]
                count += 1 if raw.strip() else 0
        else:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    if input_format == "parquet":
        import pyarrow.parquet as pq

        try:
            count = pq.ParquetFile(path).metadata.num_rows
        except Exception:  # a broken file: the reader names the problem
            count = None
    return digest.hexdigest(), count


def job_identity(input_path: Path, input_sha256: str, nlp: Language, **options: Any) -> Dict[str, Any]:
    """What must not change between a run and its resume.

    input_path (Path): The input export.
    input_sha256 (str): The sha256 of its bytes (see `fingerprint_export`).
    nlp (Language): The pipeline.
    options: Columns, formats and output options that change the output.
    RETURNS (Dict[str, Any]): The identity stored in the checkpoint.
    """
    return {"input": str(input_path.resolve()), "input_sha256": input_sha256, **pipeline_identity(nlp), **options}


class Checkpoint:
    """The checkpoint file of one output.

    path (Path): Where the checkpoint is stored.
    job (Dict[str, Any]): The job identity (see `job_identity`).
    file_mode (int): Permission bits of the checkpoint file.
    """

    def __init__(self, path: Path, job: Dict[str, Any], file_mode: int = DEFAULT_FILE_MODE) -> None:
        self.path = path
        self.job = job
        self.file_mode = file_mode

    def load(self) -> Optional[Dict[str, Any]]:
        """The saved state, or None when there is no checkpoint (a fresh start).

        RAISES (ValueError): When the checkpoint belongs to another job.
        """
        if not self.path.exists():
            return None
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except ValueError:
            raise ValueError(Errors.E308.format(path=self.path, reason="unreadable checkpoint")) from None
        if state.get("version") != CHECKPOINT_VERSION:
            raise ValueError(Errors.E308.format(path=self.path, reason="checkpoint version"))
        saved = state.get("job", {})
        changed = sorted(_PART_NAMES.get(k, k) for k in set(self.job) | set(saved) if self.job.get(k) != saved.get(k))
        if changed:
            raise ValueError(Errors.E308.format(path=self.path, reason="differs: " + ", ".join(changed)))
        return state

    def save(self, *, rows_done: int, counts: Dict[str, int], writers: Dict[str, Any], complete: bool = False,
             unread: Optional[str] = None) -> None:
        """Atomically record progress. Call only after the writers' own checkpoints.

        unread (Optional[str]): Why part of the input could not be read (kept so that resuming a
            finished job reports it again).
        """
        state = {"version": CHECKPOINT_VERSION, "job": self.job, "rows_done": rows_done,
                 "counts": counts, "writers": writers, "complete": complete, "unread": unread}
        tmp = self.path.with_name(self.path.name + ".tmp")
        with create_private(tmp, self.file_mode) as handle:
            handle.write(json.dumps(state).encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        # fsync the folder so that the rename itself survives a power loss.
        try:
            fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            pass

    def remove(self) -> None:
        if self.path.exists():
            self.path.unlink()
