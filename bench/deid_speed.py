"""Words/s of a pipeline with and without `medical_deid`, same texts, same process.

Texts: the ACI-Bench reference notes. The pipeline is loaded twice; `medical_deid` (mask mode)
is removed from one copy (or added to the other) so both differ only by it. Rounds alternate;
the best round of each is reported, and the cost is 1 - (words/s with) / (words/s without).
With `--phi-model`, a third copy runs `medical_deid` with that trained PHI tagger unioned with the
rules (`cost_with_phi_model`), in the same rounds.

    python bench/deid_speed.py [--model en_medical_sm] [--rounds 3] [--output metrics/deid_speed.json]
        [--phi-model training/deid_ner/model-best]
"""
import argparse
import json
import os
import sys
from pathlib import Path

import spacy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _notes import aci_notes  # noqa: E402
from speed import words_per_second  # noqa: E402


def _portable(model: str) -> str:
    """`model` as given; an absolute path from `training/` on (or its last two parts)."""
    parts = Path(model).parts
    if not Path(model).is_absolute():
        return model
    return str(Path(*parts[parts.index("training"):])) if "training" in parts else str(Path(*parts[-2:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="en_medical_sm", help="pipeline name or path")
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--output", type=Path, default=Path("metrics/deid_speed.json"))
    parser.add_argument("--phi-model", type=Path, default=None, help="a trained PHI tagger for a third arm")
    args = parser.parse_args()

    texts = aci_notes()[: args.limit]
    without, with_deid = spacy.load(args.model), spacy.load(args.model)
    if "medical_deid" in without.pipe_names:
        without.remove_pipe("medical_deid")
    else:
        with_deid.add_pipe("medical_deid").initialize()
    arms = {"without": without, "with": with_deid}
    if args.phi_model:
        arms["with_phi_model"] = spacy.load(args.model)
        if "medical_deid" not in arms["with_phi_model"].pipe_names:
            arms["with_phi_model"].add_pipe("medical_deid")
        arms["with_phi_model"].get_pipe("medical_deid").initialize(phi_model=args.phi_model)
    words = sum(len(d) for d in without.tokenizer.pipe(texts))
    best = {arm: 0.0 for arm in arms}
    for _ in range(args.rounds):
        for arm, nlp in arms.items():
            best[arm] = max(best[arm], words_per_second(nlp, texts, words, args.batch_size))
    meta = with_deid.meta
    result = {
        # A folder is named as the project names it, never by a machine path.
        "model": f"{meta['lang']}_{meta['name']} {meta['version']} ({_portable(args.model)})",
        "pipeline_with": with_deid.pipe_names,
        "texts": len(texts),
        "words": words,
        "cores": os.cpu_count(),
        "rounds": args.rounds,
        "wps_without_deid": round(best["without"], 1),
        "wps_with_deid": round(best["with"], 1),
        "cost": round(1 - best["with"] / best["without"], 3),
    }
    if args.phi_model:
        result.update({"phi_model": str(args.phi_model), "wps_with_deid_phi_model": round(best["with_phi_model"], 1),
                       "cost_with_phi_model": round(1 - best["with_phi_model"] / best["without"], 3)})
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
