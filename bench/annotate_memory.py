"""Peak RSS and time of `annotate()` at two export sizes (default 10k and 100k notes).

Each size runs in its own fresh process (so each peak is its own), over a synthetic CSV export
cycled from ACI-Bench reference notes or their paragraphs (`--unit`), written to a temporary
folder and never committed. Flat memory: the peak at the large size should be within 10% of the
small one; linear time: seconds per note should stay about the same.
Run on demand; never as a test.

Usage: python bench/annotate_memory.py [--model tiny|PATH] [--sizes 10000 100000] [--unit note|paragraph]
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
from _notes import resolve_model, write_export  # noqa: E402

CHILD = """
import json, sys, time
from spacy_medical.batch import annotate
src, out, model, bench_dir = sys.argv[1:5]
sys.path.insert(0, bench_dir)
from _notes import peak_rss_mb
start = time.perf_counter()
result = annotate(src, out, model=model, progress=False)
seconds = time.perf_counter() - start
print(json.dumps({"read": result.read, "annotated": result.annotated, "failed": result.failed,
                  "seconds": seconds, "peak_rss_mb": peak_rss_mb()}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--unit", choices=["note", "paragraph"], default="note")
    parser.add_argument("--output", type=Path, default=None, help="Also write the results as JSON")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = resolve_model(args.model, tmp)
        for n in args.sizes:
            src = tmp / f"export_{n}.csv"
            texts = write_export(src, n, args.unit)
            words = sum(len(t.split()) for t in texts)
            del texts
            out = subprocess.run([sys.executable, "-c", CHILD, str(src), str(tmp / f"out_{n}.jsonl"), model, str(BENCH_DIR)],
                                 capture_output=True, text=True, check=True)
            run = json.loads(out.stdout.strip().splitlines()[-1])
            run.update(words=words, input_mb=round(src.stat().st_size / 2**20, 1),
                       ms_per_note=round(1000 * run["seconds"] / n, 3), seconds=round(run["seconds"], 1),
                       peak_rss_mb=round(run["peak_rss_mb"], 1))
            results[n] = run
            src.unlink()
            (tmp / f"out_{n}.jsonl").unlink()
            print(n, json.dumps(run), flush=True)
    small, large = results[min(results)], results[max(results)]
    report = {
        "model": args.model if model == args.model else "blank en + entity_ruler (tiny)", "unit": args.unit,
        "runs": results,
        "peak_rss_large_over_small": round(large["peak_rss_mb"] / small["peak_rss_mb"], 3),
        "ms_per_note_large_over_small": round(large["ms_per_note"] / small["ms_per_note"], 3),
    }
    print(json.dumps(report, indent=2))
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
