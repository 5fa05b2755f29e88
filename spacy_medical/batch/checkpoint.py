"""Checkpoints of a batch job, so that `--resume` after a crash (even kill -9) is exact.

The output files are append-only. Every checkpoint first flushes and fsyncs them, then atomically
replaces the checkpoint file (write a temporary file, fsync, rename) with:
- `rows_done`: every input record with `row <= rows_done` has its output or error record on disk;
- the byte offsets (or Parquet part counts) of every output file at that point;
- the counts read/annotated/failed up to that point;
- the job's identity (input file size and mtime, columns, formats, model) to refuse resuming a
  different job.
On resume the files are truncated back to the recorded offsets (dropping whatever was written
after the last checkpoint) and the job restarts at row `rows_done + 1`: no gap, no duplicate.
"""
import json
import os
from pathlib import Path
from typing import Any, Dict, Optional, Union

from ..errors import Errors

CHECKPOINT_VERSION = 1


def checkpoint_path(output: Union[str, Path]) -> Path:
    """The checkpoint file of an output: OUTPUT.checkpoint.json beside it."""
    output = Path(output)
    return output.with_name(output.name + ".checkpoint.json")


def job_identity(input_path: Path, **options: Any) -> Dict[str, Any]:
    """What must not change between a run and its resume."""
    stat = input_path.stat()
    return {"input": str(input_path.resolve()), "input_size": stat.st_size,
            "input_mtime_ns": stat.st_mtime_ns, **options}


class Checkpoint:
    """The checkpoint file of one output.

    path (Path): Where the checkpoint is stored.
    job (Dict[str, Any]): The job identity (see `job_identity`).
    """

    def __init__(self, path: Path, job: Dict[str, Any]) -> None:
        self.path = path
        self.job = job

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
        changed = sorted(k for k in set(self.job) | set(state.get("job", {})) if self.job.get(k) != state["job"].get(k))
        if changed:
            raise ValueError(Errors.E308.format(path=self.path, reason="changed: " + ", ".join(changed)))
        return state

    def save(self, *, rows_done: int, counts: Dict[str, int], writers: Dict[str, Any], complete: bool = False) -> None:
        """Atomically record progress. Call only after the writers' own checkpoints."""
        state = {"version": CHECKPOINT_VERSION, "job": self.job, "rows_done": rows_done,
                 "counts": counts, "writers": writers, "complete": complete}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(state, handle)
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
