"""spacy-medical.trim_heap.v1: the training callback that returns freed heap memory to the OS."""
import pytest
from spacy.util import registry

from spacy_medical.ml import memory


def test_trims_every_n_steps(monkeypatch):
    calls = []
    monkeypatch.setattr(memory, "find_malloc_trim", lambda: calls.append)
    before_update = registry.callbacks.get("spacy-medical.trim_heap.v1")(every=3)
    for step in range(10):
        before_update(None, {"step": step, "epoch": 0})
    assert len(calls) == 4  # steps 0, 3, 6, 9
    assert set(calls) == {0}  # malloc_trim(0): trim everything above the heap's in-use top


def test_without_glibc_it_does_nothing(monkeypatch):
    monkeypatch.setattr(memory, "find_malloc_trim", lambda: None)
    before_update = memory.make_trim_heap(every=1)
    before_update(None, {"step": 0, "epoch": 0})  # no trim function: must not fail


def test_real_trim_runs_here():
    # On glibc (Linux) the real function is found and returns 0 or 1.
    trim = memory.find_malloc_trim()
    if trim is None:
        pytest.skip("this C library has no malloc_trim")
    assert trim(0) in (0, 1)


def test_every_must_be_positive():
    with pytest.raises(ValueError, match="every must be >= 1"):
        memory.make_trim_heap(every=0)
