"""Write Symptom2Disease's fixed split as DocBins in OUT_DIR (default corpus/dx).

train/dev/test.spacy + split.json (labelled_text.split_rows), and two augmented training sets
(dev and test are never augmented): train_halves.spacy (train + `sentence_halves`) and
train_augmented.spacy (train + `sentence_halves` + `context_sentences`).

Usage: python scripts/dx_data.py [CORPUS_CSV] [OUT_DIR]
"""
import sys
from collections import Counter
from pathlib import Path

from spacy_medical.io.labelled_text import sentence_halves
from spacy_medical.io.symptom2disease import context_sentences, read_symptom2disease
from spacy_medical.train_classifier import rows_of_split, write_corpus, write_docbin


def main(csv_path: str = "", out_dir: str = "corpus/dx") -> None:
    rows = read_symptom2disease(csv_path or None)
    manifest = write_corpus(rows, out_dir, augmentations=[sentence_halves, context_sentences])
    train = rows_of_split(rows, manifest, "train")
    write_docbin(train + sentence_halves(train), manifest["labels"], Path(out_dir) / "train_halves.spacy")
    by_id = {item.id: item.label for item in rows}
    for split in ("train", "dev", "test"):
        per_label = Counter(by_id[i] for i in manifest[split]["ids"])
        print(f"{split}: {manifest[split]['n']} rows, {min(per_label.values())}-{max(per_label.values())} per label")
    print(f"train_augmented: {manifest['train_augmented']['n']} rows")


if __name__ == "__main__":
    main(*sys.argv[1:])
