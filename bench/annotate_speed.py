"""Throughput of `spacy-medical annotate` against plain `nlp.pipe` over the same notes, same run.

Measures notes/s and words/s of: plain `nlp.pipe` (texts in memory, docs discarded) with 1 and 2
processes; `annotate()` end to end (read the CSV export, annotate, write JSONL, checkpoints) with
1 and 2 processes; and the Spark engine on `local[2]` (session started before the clock; Python
workers and their pipelines load inside the timed job). Local runs are interleaved over `--rounds` rounds and the best of each counts; Spark runs once.
Prints the ratios of the targets:
annotate overhead on 1 process, 2-process speed-up, Spark local[2] / local 2-process.
Notes are ACI-Bench reference notes (cycled); the export is written to a temporary folder.
Run on demand; never as a test.

Usage: python bench/annotate_speed.py [--model training/cpu/model-best|tiny] [--n-notes 1000] [--rounds 3] [--no-spark]
"""
import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import spacy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _notes import resolve_model, write_export  # noqa: E402

from spacy_medical.batch import annotate  # noqa: E402


def plain(nlp, texts, n_process, batch_size):
    start = time.perf_counter()
    for _ in nlp.pipe(texts, n_process=n_process, batch_size=batch_size):
        pass
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="training/cpu/model-best")
    parser.add_argument("--n-notes", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="Interleaved rounds; the best of each counts")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--output", type=Path, default=None, help="Also write the results as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = resolve_model(args.model, tmp)
        src = tmp / "export.csv"
        texts = write_export(src, args.n_notes)
        words = sum(len(t.split()) for t in texts)
        nlp = spacy.load(model)
        list(nlp.pipe(texts[:20]))  # warm-up
        times = {}

        def run_annotate(n):
            start = time.perf_counter()
            result = annotate(src, tmp / f"out{n}.jsonl", model=nlp, n_process=n, batch_size=args.batch_size,
                              progress=False, overwrite=True)
            assert result.annotated == args.n_notes, result.accounting
            return time.perf_counter() - start

        # Interleaved rounds, best of each: the machine is shared, so single runs are noisy.
        for _ in range(args.rounds):
            for name, func in (("plain_pipe_1", lambda: plain(nlp, texts, 1, args.batch_size)),
                               ("annotate_local_1", lambda: run_annotate(1)),
                               ("plain_pipe_2", lambda: plain(nlp, texts, 2, args.batch_size)),
                               ("annotate_local_2", lambda: run_annotate(2))):
                times[name] = min(times.get(name, float("inf")), func())
        if not args.no_spark:
            from spacy_medical.batch.spark import get_session

            spark, _ = get_session("local[2]")
            start = time.perf_counter()
            result = annotate(src, tmp / "spark.jsonl", model=model, engine="spark", batch_size=args.batch_size, progress=False)
            times["annotate_spark_local2"] = time.perf_counter() - start
            spark.stop()
            assert result.annotated == args.n_notes, result.accounting
            same = (tmp / "spark.jsonl").read_bytes() == (tmp / "out1.jsonl").read_bytes()
    report = {
        "model": args.model if model == args.model else "blank en + entity_ruler (tiny)",
        "notes": args.n_notes, "words": words, "rounds": args.rounds, "machine": f"{platform.machine()}, {platform.python_version()}",
        "runs": {k: {"seconds": round(v, 2), "notes_per_s": round(args.n_notes / v, 1), "words_per_s": round(words / v)} for k, v in times.items()},
    }
    rate = {k: args.n_notes / v for k, v in times.items()}
    report["ratios"] = {
        "annotate_1_overhead_vs_plain_pipe_1": round(1 - rate["annotate_local_1"] / rate["plain_pipe_1"], 3),
        "annotate_2_over_annotate_1": round(rate["annotate_local_2"] / rate["annotate_local_1"], 2),
        "plain_pipe_2_over_plain_pipe_1": round(rate["plain_pipe_2"] / rate["plain_pipe_1"], 2),
    }
    if "annotate_spark_local2" in rate:
        report["ratios"]["spark_local2_over_annotate_2"] = round(rate["annotate_spark_local2"] / rate["annotate_local_2"], 2)
        report["spark_output_identical_to_local"] = same
    print(json.dumps(report, indent=2))
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
