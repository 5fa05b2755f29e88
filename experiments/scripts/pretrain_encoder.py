"""Domain-adaptive MLM pre-training of en_medical's encoder (see spacy_medical/ml/domain.py).

    (in experiments/) python scripts/pretrain_encoder.py corpus/pretrain/raw_train.jsonl training/pretrain_trf \
        --config configs/trf.cfg --steps 600

The LoRA settings and the weights package are read from the transformer of `--config`, so the
domain adapter fits the fine-tuning that follows. Writes the adapter and `report.json` (held-out
MLM loss before/after) to the output folder, and a copy of the report to `--metrics`.
"""
import argparse
import json
import shutil
from pathlib import Path

from spacy.util import load_config

from spacy_medical.ml.domain import pretrain_encoder, read_raw_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("raw_text", type=Path, help="JSONL, one {'text': ...} per line")
    parser.add_argument("output", type=Path)
    parser.add_argument("--config", type=Path, default=Path("configs/trf.cfg"))
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learn-rate", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--metrics", type=Path, default=None, help="also copy report.json here")
    args = parser.parse_args()
    model = load_config(args.config)["components"]["transformer"]["model"]
    report = pretrain_encoder(
        read_raw_text(args.raw_text),
        args.output,
        package=model["package"],
        subdir=model["subdir"],
        lora=dict(model["lora"]),
        steps=args.steps,
        batch_size=args.batch_size,
        learn_rate=args.learn_rate,
        seed=args.seed,
        log=lambda record: print(json.dumps(record), flush=True),
    )
    print(json.dumps(report))
    if args.metrics is not None:
        args.metrics.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.output / "report.json", args.metrics)


if __name__ == "__main__":
    main()
