"""Write the raw in-domain text for `spacy pretrain` and `pretrain-trf` (one JSON line per paragraph).

Sources: the train documents of the converted NER corpora (PubMed abstracts from BC5CDR and
NCBI-disease, MACCROBAT case reports), the ACI-Bench train and valid notes and dialogues, and
the MTS-Dialog training and validation sections and dialogues. Never the NER dev documents,
because the effect of pre-training is measured on them, and never a test split. The output
lives under corpus/ (ignored by git): it is patient-like text.

Usage: python scripts/pretrain_text.py CORPUS_DIR (in experiments/) OUTPUT_JSONL [CORPORA_DIR]
"""
import argparse
import csv
import json
from pathlib import Path

import spacy
from spacy.tokens import DocBin

from spacy_medical.io.aci_bench import read_aci
from spacy_medical.io.corpora import corpora_dir

ACI_FILES = ("train.csv", "valid.csv")
MTS_FILES = ("MTS-Dialog-TrainingSet.csv", "MTS-Dialog-ValidationSet.csv")
MTS_FIELDS = ("section_text", "dialogue")


def paragraphs(text: str):
    for paragraph in text.split("\n\n"):
        paragraph = " ".join(paragraph.split())
        if len(paragraph.split()) >= 5:
            yield paragraph


def mts_texts(path: Path):
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for field in MTS_FIELDS:
                yield from paragraphs(row[field])


def main(corpus_dir: str, output: str, corpora: str = None) -> None:
    vocab = spacy.blank("en").vocab
    shared = Path(corpora) if corpora else corpora_dir()
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    counts = {}
    with open(out, "w", encoding="utf-8") as handle:
        def emit(source, texts):
            for text in texts:
                handle.write(json.dumps({"text": text}) + "\n")
                counts[source] = counts.get(source, 0) + len(text.split())

        for path in sorted(Path(corpus_dir, "train").glob("*.spacy")):
            docs = DocBin().from_disk(path).get_docs(vocab)
            emit(path.stem, (p for doc in docs for p in paragraphs(doc.text)))
        for name in ACI_FILES:
            rows = read_aci(shared / "aci_bench" / name)
            emit("aci_bench", (p for row in rows for field in ("dialogue", "note") for p in paragraphs(row[field])))
        for name in MTS_FILES:
            emit("mts_dialog", mts_texts(shared / "mts_dialog" / name))
    print(json.dumps({"output": str(out), "words": counts}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus_dir")
    parser.add_argument("output")
    parser.add_argument("corpora", nargs="?", default=None)
    args = parser.parse_args()
    main(args.corpus_dir, args.output, args.corpora)
