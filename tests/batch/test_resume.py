"""Resume after a real kill -9: the resumed output equals an uninterrupted run's, byte for byte."""
import json
import os
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest
from spacy.language import Language

from spacy_medical.batch.checkpoint import checkpoint_path

SCRIPT = '''
import os, sys, time
from spacy.language import Language

@Language.component("test_slow")
def slow(doc):
    time.sleep(float(os.environ.get("SLOW", "0")))
    return doc

from spacy_medical.batch import annotate
src, out, model, resume = sys.argv[1:5]
result = annotate(src, out, model=model, resume=resume == "1", checkpoint_every=50,
                  checkpoint_seconds=3600, batch_size=8, progress=False)
sys.exit(result.exit_code)
'''


@Language.component("test_slow")
def _slow(doc):
    return doc


def run(script, src, out, model, resume, slow="0"):
    env = dict(os.environ, SLOW=slow)
    return subprocess.Popen([sys.executable, str(script), str(src), str(out), str(model), "1" if resume else "0"], env=env)


def read_output(out):
    if out.suffix == ".parquet":
        return [pq.read_table(out / name).to_pylist() for name in ("entities", "notes")]
    if out.suffix == ".csv":
        return [out.read_bytes(), out.with_name(out.stem + ".notes.csv").read_bytes()]
    return [out.read_bytes()]


@pytest.mark.parametrize(
    "suffix", [".jsonl", pytest.param(".csv", marks=pytest.mark.slow), pytest.param(".parquet", marks=pytest.mark.slow)]
)
def test_resume_after_kill_9_no_gap_no_duplicate(tmp_path, tiny_nlp, notes_csv, hostile_csv, suffix):
    nlp = tiny_nlp()
    nlp.add_pipe("test_slow")
    model = tmp_path / "slow_model"
    nlp.to_disk(model)
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    src = notes_csv(tmp_path / "notes.csv", 1200)
    # Add failing rows so that the errors file is resumed too.
    with open(src, "ab") as handle:
        handle.write(b"BAD1,too,many\n" + b"N9,\"asthma\"\n" * 3 + b",\"no id\"\n")

    base = tmp_path / f"base{suffix}"
    assert run(script, src, base, model, False).wait() == 1  # records failed -> exit 1

    out = tmp_path / f"out{suffix}"
    proc = run(script, src, out, model, False, slow="0.004")
    ckpt = checkpoint_path(out)
    deadline = time.monotonic() + 120  # a guard against hanging, not a timing assertion
    while time.monotonic() < deadline and proc.poll() is None:
        if ckpt.exists() and json.loads(ckpt.read_text())["rows_done"] >= 100:
            break
        time.sleep(0.05)
    time.sleep(0.3)  # let it write past the checkpoint, so resume must truncate
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    state = json.loads(ckpt.read_text())
    assert 100 <= state["rows_done"] < 1205 and not state["complete"]

    assert run(script, src, out, model, True).wait() == 1
    assert read_output(out) == read_output(base)
    errors = (tmp_path / f"out{suffix}.errors.jsonl").read_text().splitlines()
    assert errors == (tmp_path / f"base{suffix}.errors.jsonl").read_text().splitlines()
    assert [json.loads(e)["row"] for e in errors] == [1201, 1205]
    final = json.loads(ckpt.read_text())
    assert final["complete"] and final["counts"] == {"read": 1205, "annotated": 1203, "failed": 2}


def test_resume_rejects_another_job(tmp_path, tiny_model, notes_csv):
    from spacy_medical.batch import annotate

    src = notes_csv(tmp_path / "notes.csv", 20)
    annotate(src, tmp_path / "o.jsonl", model=tiny_model, progress=False, limit=10)
    result = annotate(src, tmp_path / "o.jsonl", model=tiny_model, progress=False, resume=True)
    assert (result.read, result.annotated) == (20, 20)
    assert [json.loads(l)["row"] for l in (tmp_path / "o.jsonl").read_text().splitlines()] == list(range(1, 21))
    notes_csv(src, 21)  # the input changed
    with pytest.raises(ValueError, match="checkpoint does not match"):
        annotate(src, tmp_path / "o.jsonl", model=tiny_model, progress=False, resume=True)
