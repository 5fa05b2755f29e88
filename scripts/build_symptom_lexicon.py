"""Write the `symptom_lexicon` entity_ruler patterns of en_medical (Symptom Ontology terms).

Terms that the MACCROBAT train split mostly annotates as something other than a SYMPTOM span
are dropped (`spacy_medical.io.lexicons.symptom_patterns`); the threshold was chosen on the dev
split. Writes the patterns JSONL and a report of what was dropped.

Usage: python scripts/build_symptom_lexicon.py TRAIN_DOCBIN OUTPUT_JSONL REPORT_JSON [CORPORA_DIR]
"""
import json
import sys
from pathlib import Path

import spacy
import srsly
from spacy.tokens import DocBin

from spacy_medical.io.lexicons import symptom_patterns, symptom_terms

MIN_PRECISION = 0.3


def main(train: str, output: str, report_path: str, corpora: str = None) -> None:
    obo = Path(corpora) / "lexicons" / "symptom_ontology" / "symp.obo" if corpora else None
    docs = DocBin().from_disk(train).get_docs(spacy.blank("en").vocab)
    patterns, report = symptom_patterns(symptom_terms(obo), docs, MIN_PRECISION)
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    srsly.write_jsonl(output, patterns)
    Path(report_path).write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    print(f"{report['kept']} symptom patterns ({report['unseen']} unseen in train), {report['dropped']} terms dropped")


if __name__ == "__main__":
    main(*sys.argv[1:])
