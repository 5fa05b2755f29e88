"""Assemble en_medical_dx: the trained classifier + `medical_diagnoses` with the dev threshold.

Usage: python scripts/assemble_dx.py MODEL_DIR METRICS_JSON OUTPUT_DIR
The threshold is metrics["shipped"]["threshold"] from scripts/evaluate_dx.py (chosen on dev).
"""
import json
import sys
from pathlib import Path

import spacy

import spacy_medical  # noqa: F401  (registers medical_diagnoses when not installed)


def main(model_dir: str, metrics_path: str, output_dir: str) -> None:
    shipped = json.loads(Path(metrics_path).read_text(encoding="utf8"))["shipped"]
    nlp = spacy.load(model_dir)
    diagnoses = nlp.add_pipe("medical_diagnoses", config={"threshold": shipped["threshold"]})
    diagnoses.initialize()
    nlp.meta["name"] = "medical_dx"
    nlp.meta["description"] = (
        "Diagnosis suggestions for triage research on 24 conditions (Symptom2Disease labels) from a "
        "patient's own description: doc.cats and doc._.diagnoses. Not a diagnosis."
    )
    nlp.to_disk(output_dir)
    print(f"{output_dir}: {nlp.pipe_names}, threshold {shipped['threshold']} ({shipped['system']})")


if __name__ == "__main__":
    main(*sys.argv[1:])
