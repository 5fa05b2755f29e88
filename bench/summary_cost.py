"""Share of pipeline time spent in `medical_sections` + `medical_summarizer` on realistic notes.

Documents: the ACI-Bench reference notes (valid + the three test splits, 140 notes; EMR-style
text with section headers). The same pipeline runs with and without the two components,
interleaved for `--rounds` rounds in the same process; the best round of each counts, and the
per-component times of the full pipeline are reported too. Also times the dialogue path
(sections with the MTS-Dialog classifier + summarizer) on the ACI-Bench transcripts when
`--dialogue-model` exists. Run on demand; never as a test.

Usage: python bench/summary_cost.py [--model training/cpu/model-best] [--rounds 3]
       [--dialogue-model training/dialogue_sections] [--output metrics/summary_cost.json] [--no-dialogues]
"""
import argparse
import json
import platform
import time
from collections import defaultdict
from pathlib import Path

from spacy_medical.io.aci_bench import ACI_SPLITS, read_aci
from spacy_medical.pipeline.summary_pipeline import load_summary_pipeline
from spacy_medical.io.corpora import corpora_dir

OURS = ("medical_sections", "medical_summarizer")


def run(nlp, texts, disable=()):
    """Seconds for the whole pipeline, and per component, over the texts."""
    per = defaultdict(float)
    start = time.perf_counter()
    with nlp.select_pipes(disable=list(disable)):
        for text in texts:
            doc = nlp.make_doc(text)
            for name, proc in nlp.pipeline:
                t = time.perf_counter()
                doc = proc(doc)
                per[name] += time.perf_counter() - t
    return time.perf_counter() - start, dict(per)


def measure(nlp, texts, rounds):
    best_with, best_without, best_per = float("inf"), float("inf"), {}
    for _ in range(rounds):
        t_with, per = run(nlp, texts)
        t_without, _ = run(nlp, texts, disable=OURS)
        if t_with < best_with:
            best_with, best_per = t_with, per
        best_without = min(best_without, t_without)
    ours = sum(best_per.get(name, 0.0) for name in OURS)
    return {
        "docs": len(texts),
        "words": sum(len(t.split()) for t in texts),
        "seconds_with": round(best_with, 3),
        "seconds_without": round(best_without, 3),
        "share_of_pipeline_time": round(ours / sum(best_per.values()), 4),
        "overhead_vs_without": round(best_with / best_without - 1, 4),
        "per_component_seconds": {k: round(v, 4) for k, v in best_per.items()},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="training/cpu/model-best")
    parser.add_argument("--dialogue-model", default="training/dialogue_sections")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", default="metrics/summary_cost.json")
    parser.add_argument("--no-dialogues", action="store_true", help="Time the notes only")
    args = parser.parse_args()
    dialogue_model = args.dialogue_model if Path(args.dialogue_model).exists() else None
    nlp = load_summary_pipeline(args.model, dialogue_model=dialogue_model)
    rows = [r for split in ("valid", "test1", "test2", "test3") for r in read_aci(corpora_dir() / "aci_bench" / ACI_SPLITS[split])]
    result = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "model": args.model,
        "pipeline": nlp.pipe_names,
        "notes": measure(nlp, [r["note"] for r in rows], args.rounds),
    }
    if dialogue_model and not args.no_dialogues:
        result["dialogues"] = measure(nlp, [r["dialogue"] for r in rows], args.rounds)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    for kind in ("notes", "dialogues"):
        if kind in result:
            r = result[kind]
            print(f"{kind}: sections+summarizer = {r['share_of_pipeline_time']:.1%} of pipeline time "
                  f"({r['seconds_with']}s with, {r['seconds_without']}s without, {r['words']} words)")


if __name__ == "__main__":
    main()
