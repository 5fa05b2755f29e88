"""`bench/annotate_speed.py` of two source trees in one run, interleaved: before/after a change.

Each round runs the benchmark of tree A, then of tree B, each in a fresh process with its own
`spacy_medical` on PYTHONPATH (and its own bench script), over the same notes and model. The best
run of each tree counts (the machine is shared: single runs are noisy). Prints and writes the
notes/s of both and their ratio per measured run.

Usage: python bench/annotate_speed_ab.py --before OLD_CHECKOUT [--after .] [--model tiny] [--n-notes 1000] [--rounds 2] [--output metrics/annotate_speed_ab.json]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict


def run_tree(tree: Path, args: argparse.Namespace) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speed.json"
        cmd = [sys.executable, str(tree / "bench" / "annotate_speed.py"), "--model", args.model,
               "--n-notes", str(args.n_notes), "--rounds", "1", "--no-spark", "--output", str(out)]
        env = dict(os.environ, PYTHONPATH=str(tree))
        subprocess.run(cmd, env=env, cwd=str(tree), check=True, stdout=subprocess.DEVNULL)
        return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="Source tree of the baseline")
    parser.add_argument("--after", type=Path, default=Path("."), help="Source tree of the change")
    parser.add_argument("--model", default="tiny")
    parser.add_argument("--n-notes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    best: Dict[str, Dict[str, float]] = {"before": {}, "after": {}}
    for _ in range(args.rounds):
        for arm, tree in (("before", args.before), ("after", args.after)):
            runs = run_tree(tree.resolve(), args)["runs"]
            for name, run in runs.items():
                best[arm][name] = max(best[arm].get(name, 0.0), run["notes_per_s"])
    report = {
        "model": args.model, "notes": args.n_notes, "rounds": args.rounds,
        "before": str(args.before), "after": str(args.after),
        "notes_per_s": best,
        "after_over_before": {k: round(best["after"][k] / best["before"][k], 3) for k in best["before"] if k in best["after"]},
    }
    print(json.dumps(report, indent=2))
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
