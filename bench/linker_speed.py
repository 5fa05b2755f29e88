"""What medical_linker costs: words/s with and without it in the same run, its load time and RSS.

    python bench/linker_speed.py training/kb [--model en_medical_sm] [--output metrics/linker_speed.json]

The texts are BC5CDR dev abstracts. The pipeline is `--model` (default: en_medical_sm when it
is installed), with a medical_linker on the KB added when the model has none; without a model
it is a blank English pipeline with an entity_ruler on the Disease Ontology, Symptom Ontology
and DrugBank terms, which runs far faster than any trained NER, so the linker's share of the
time is an upper bound there. Both arms run alternately, three times each, on the same docs; the
linker's candidate cache is emptied before each of its runs. Never run as a test.
"""
import argparse
import json
import time
from pathlib import Path

import spacy
from spacy.util import is_package

from spacy_medical.io.corpora import corpora_dir
from spacy_medical.io.lexicons import disease_terms, drug_terms, symptom_terms
from spacy_medical.io.pubtator import read_pubtator
from spacy_medical.kb import ConceptKB

ROUNDS = 3


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def ruler_pipeline() -> spacy.language.Language:
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER", "validate": False})
    ruler.add_patterns(
        [{"label": "DISEASE", "pattern": t} for t in sorted(disease_terms())]
        + [{"label": "SYMPTOM", "pattern": t} for t in sorted(symptom_terms())]
        + [{"label": "DRUG", "pattern": t} for t in sorted(drug_terms())]
    )
    nlp.add_pipe("medical_abbreviations")
    return nlp


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kb", type=Path)
    parser.add_argument("--model", default="en_medical_sm" if is_package("en_medical_sm") else None)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()

    rss_before = rss_mb()
    start = time.perf_counter()
    kb = ConceptKB.from_disk(args.kb)
    kb_load_s, kb_rss_mb = time.perf_counter() - start, rss_mb() - rss_before

    start = time.perf_counter()
    nlp = spacy.load(args.model) if args.model else ruler_pipeline()
    pipeline_load_s = time.perf_counter() - start
    if "medical_linker" not in nlp.pipe_names:
        nlp.add_pipe("medical_linker").set_kb(kb)
    linker = nlp.get_pipe("medical_linker")

    texts = [d.text for d in read_pubtator(corpora_dir() / "bc5cdr" / "pubtator" / "CDR_DevelopmentSet.PubTator.txt")]
    words = sum(len(doc) for doc in nlp.tokenizer.pipe(texts))
    list(nlp.pipe(texts[:20]))  # warm-up
    timings = {"with_linker": [], "without_linker": []}
    for _ in range(ROUNDS):
        for arm in timings:
            linker.kb.clear_cache()
            disabled = ["medical_linker"] if arm == "without_linker" else []
            with nlp.select_pipes(disable=disabled):
                start = time.perf_counter()
                docs = list(nlp.pipe(texts, batch_size=64))
                timings[arm].append(time.perf_counter() - start)
            if arm == "with_linker":
                entities = sum(len(doc.ents) for doc in docs)
                linked = sum(1 for doc in docs for ent in doc.ents if ent.kb_id_)
    best = {arm: min(seconds) for arm, seconds in timings.items()}
    report = {
        "pipeline": args.model or "blank en + entity_ruler (DO, SYMP, DrugBank terms) + medical_abbreviations",
        "documents": len(texts),
        "words": words,
        "entities": entities,
        "entities_linked": linked,
        "words_per_s_without_linker": round(words / best["without_linker"]),
        "words_per_s_with_linker": round(words / best["with_linker"]),
        "linker_share_of_time": round(1 - best["without_linker"] / best["with_linker"], 3),
        "linker_ms_per_1000_words": round(1000 * (best["with_linker"] - best["without_linker"]) / words * 1000, 2),
        "kb_load_s": round(kb_load_s, 2),
        "kb_rss_mb": round(kb_rss_mb, 1),
        "pipeline_load_s_without_linker": round(pipeline_load_s, 2),
        "timings_s": {arm: [round(s, 2) for s in seconds] for arm, seconds in timings.items()},
    }
    print(json.dumps(report, indent=2))
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf8")


if __name__ == "__main__":
    main()
