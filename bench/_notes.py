"""Synthetic EMR exports for the annotate benchmarks, built from ACI-Bench reference notes.

Built into a temporary folder, never committed. The notes come from ../shared/corpora/aci_bench
(or SPACY_MEDICAL_CORPORA); see that folder's PROVENANCE.md for the upstream source.
"""
import csv
import glob
import resource
from pathlib import Path
from typing import List

import spacy

from spacy_medical.io.aci_bench import read_aci
from spacy_medical.io.corpora import corpora_dir


def aci_notes(unit: str = "note") -> List[str]:
    """ACI-Bench reference notes ("note"), or their paragraphs ("paragraph")."""
    notes = []
    for path in sorted(glob.glob(str(corpora_dir() / "aci_bench" / "*.csv"))):
        if not path.endswith("_metadata.csv"):
            notes.extend(row["note"] for row in read_aci(path) if row["note"])
    if not notes:
        raise SystemExit(f"No ACI-Bench notes under {corpora_dir()}/aci_bench")
    if unit == "paragraph":
        notes = [p.strip() for note in notes for p in note.split("\n\n") if len(p.split()) >= 5]
    return notes


def write_export(path: Path, n: int, unit: str = "note") -> List[str]:
    """Write a CSV export of `n` notes (cycling over the ACI-Bench notes); RETURNS the texts."""
    base = aci_notes(unit)
    texts = [base[i % len(base)] for i in range(n)]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["note_id", "text"])
        writer.writerows((f"SYN{i:07d}", text) for i, text in enumerate(texts))
    return texts


def tiny_pipeline(path: Path) -> Path:
    """A blank English pipeline with a small entity_ruler, saved to `path`."""
    nlp = spacy.blank("en")
    words = {"DISEASE": ["hypertension", "diabetes", "asthma", "depression", "copd"],
             "SYMPTOM": ["pain", "cough", "fever", "nausea", "fatigue"],
             "DRUG": ["lisinopril", "metformin", "aspirin", "insulin", "albuterol"]}
    nlp.add_pipe("entity_ruler").add_patterns(
        [{"label": label, "pattern": [{"LOWER": w}]} for label, ws in words.items() for w in ws]
    )
    nlp.meta["name"] = "bench_tiny"
    nlp.to_disk(path)
    return path


def resolve_model(model: str, tmp: Path) -> str:
    """The model to benchmark: MODEL if it loads, else the tiny pipeline (said in the output)."""
    if model != "tiny":
        try:
            spacy.load(model)
            return model
        except (OSError, IOError) as err:
            print(f"model {model!r} not loadable ({type(err).__name__}); using a blank+entity_ruler pipeline")
    return str(tiny_pipeline(tmp / "tiny_model"))


def peak_rss_mb() -> float:
    """Peak resident size of this process image. Not ru_maxrss where /proc has VmHWM: Linux
    carries ru_maxrss across exec, so a child forked from this (large) benchmark process would
    report the parent's size at fork time."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
