"""Progress reporting: a tqdm bar on a terminal, plain periodic log lines otherwise.

Only counts, rates and row numbers are reported, never note text.
"""
import sys
import time
from typing import Any, Callable, Optional, TextIO, Tuple


class Progress:
    """Report progress of a batch job.

    position (Callable[[], Tuple[int, Optional[int], str]]): Returns (done, total, unit) of the
        input read so far (bytes or rows), for the ETA.
    stream (TextIO): Where to write (default stderr).
    enabled (bool): False for silence.
    interval (float): Seconds between log lines when not on a terminal.
    """

    def __init__(
        self,
        position: Callable[[], Tuple[int, Optional[int], str]],
        *,
        stream: Optional[TextIO] = None,
        enabled: bool = True,
        interval: float = 10.0,
    ) -> None:
        self.position = position
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.interval = interval
        self.start = time.monotonic()
        self.last_log = self.start
        self.notes = 0
        self.bar: Any = None
        if enabled and getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm

            _, total, unit = position()
            self.bar = tqdm(total=total, unit=unit, unit_scale=unit == "B", file=self.stream,
                            desc="annotate")
            self._bar_done = 0

    def update(self, notes: int, annotated: int, failed: int, row: int) -> None:
        """Record that `notes` more records are done."""
        self.notes += notes
        if not self.enabled:
            return
        now = time.monotonic()
        if self.bar is not None:
            done, _, _ = self.position()
            self.bar.update(max(0, done - self._bar_done))
            self._bar_done = done
            if now - self.last_log >= 0.5:
                rate = self.notes / max(now - self.start, 1e-9)
                self.bar.set_postfix(notes=self.notes, notes_s=f"{rate:.1f}", failed=failed, refresh=False)
                self.last_log = now
            return
        if now - self.last_log >= self.interval:
            self.last_log = now
            self.stream.write(self.line(annotated, failed, row) + "\n")
            self.stream.flush()

    def line(self, annotated: int, failed: int, row: int) -> str:
        elapsed = max(time.monotonic() - self.start, 1e-9)
        rate = self.notes / elapsed
        done, total, unit = self.position()
        eta = ""
        if total and done:
            remaining = elapsed * (total - done) / done
            eta = f", {100 * done / total:.1f}% of input, ETA {remaining:.0f}s"
        return (f"annotate: row {row}, {annotated} annotated, {failed} failed, "
                f"{rate:.1f} notes/s{eta}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
