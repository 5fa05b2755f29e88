"""Write Symptom2Disease's fixed split as DocBins: corpus/dx/{train,dev,test}.spacy + split.json.

Usage: python scripts/dx_data.py [CORPORA_CSV] [OUT_DIR]
"""
import sys
from collections import Counter

from spacy_medical.io.symptom2disease import read_symptom2disease
from spacy_medical.train_classifier import write_corpus


def main(csv_path: str = "", out_dir: str = "corpus/dx") -> None:
    rows = read_symptom2disease(csv_path or None)
    manifest = write_corpus(rows, out_dir)
    by_id = {item.id: item.label for item in rows}
    for split in ("train", "dev", "test"):
        per_label = Counter(by_id[i] for i in manifest[split]["ids"])
        print(f"{split}: {manifest[split]['n']} rows, {min(per_label.values())}-{max(per_label.values())} per label")


if __name__ == "__main__":
    main(*sys.argv[1:])
