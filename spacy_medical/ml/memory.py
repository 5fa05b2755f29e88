"""Give freed heap memory back to the OS during CPU training of the transformer.

Training the transformer on CPU allocates tensors of a different size at every step (batches of
notes of different lengths). glibc keeps the freed blocks in its heap instead of returning them,
so the resident size of `spacy train configs/trf.cfg` grew by about 0.3 GB a minute here and
reached 12 GB after 20 minutes, of which 1.7 GB was in use; one `malloc_trim(0)` brought it
back to 3.6 GB. Calling it every few steps keeps a 16 GB laptop from running out of memory.
It changes no number the training computes.
"""
import ctypes
import ctypes.util
from typing import Any, Callable, Dict, Optional

from spacy.language import Language


def find_malloc_trim() -> Optional[Callable[[int], int]]:
    """glibc's malloc_trim, or None on a C library without it (macOS, musl, Windows)."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


def make_trim_heap(every: int = 20) -> Callable[[Language, Dict[str, Any]], None]:
    """A `[training.before_update]` callback that trims the heap every `every` steps.

    every (int): Steps between two trims.
    """
    if every < 1:
        raise ValueError(f"[spacy-medical.trim_heap.v1] every must be >= 1, got {every}")
    trim = find_malloc_trim()

    def before_update(nlp: Language, args: Dict[str, Any]) -> None:
        if trim is not None and args["step"] % every == 0:
            trim(0)

    return before_update
