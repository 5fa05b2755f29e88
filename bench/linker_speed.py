"""What medical_linker costs: words/s with and without it in the same run, its load time and RSS.

    python bench/linker_speed.py training/kb [--model en_medical_sm] [--output metrics/linker_speed.json]

The texts are BC5CDR dev abstracts. The pipeline is `--model` (default: en_medical_sm when it
is installed; or a folder: `spacy assemble configs/en_medical_sm.cfg ...` as `spacy project run
assemble` does, or a bare tok2vec + ner), with a medical_linker on the KB added when the model
has none; without a model it is a blank English pipeline with an entity_ruler on the Disease
Ontology, Symptom Ontology and DrugBank terms, which runs far faster than any trained NER, so
the linker's share of the time is an upper bound there.

Three arms take turns on each chunk of 50 docs, three rounds over all docs: with the linker cold
(its candidate cache emptied at the start of each round: every distinct mention is searched
once), with it warm (every mention of the chunk already cached, as in a long job over notes that
repeat mentions) and without it. Taking turns chunk by chunk spreads the load of a shared machine
over the arms alike; each arm's time is its best round. The linker alone is also timed (cold and
warm) on the docs of the runs without it, in the same process. Never run as a test.
"""
import argparse
import json
import os
import time
from pathlib import Path

import spacy
from spacy.util import is_package

from spacy_medical.io.corpora import corpora_dir
from spacy_medical.io.lexicons import disease_terms, drug_terms, symptom_terms
from spacy_medical.io.pubtator import read_pubtator
from spacy_medical.kb import ConceptKB

ROUNDS = 3
CHUNK = 50


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
    parser.add_argument("--note", help="What the pipeline is, copied into the report")
    args = parser.parse_args()

    rss_before = rss_mb()
    start = time.perf_counter()
    kb = ConceptKB.from_disk(args.kb)
    kb_load_s, kb_rss_mb = time.perf_counter() - start, rss_mb() - rss_before

    start = time.perf_counter()
    nlp = spacy.load(args.model) if args.model else ruler_pipeline()
    pipeline_load_s = time.perf_counter() - start
    shipped_linker = "medical_linker" in nlp.pipe_names
    if not shipped_linker:
        nlp.add_pipe("medical_linker").set_kb(kb)
    linker = nlp.get_pipe("medical_linker")

    texts = [d.text for d in read_pubtator(corpora_dir() / "bc5cdr" / "pubtator" / "CDR_DevelopmentSet.PubTator.txt")]
    words = sum(len(doc) for doc in nlp.tokenizer.pipe(texts))
    list(nlp.pipe(texts[:20]))  # warm-up
    timings = {"with_linker": [], "with_linker_warm": [], "without_linker": []}
    for _ in range(ROUNDS):
        linker.kb.clear_cache()
        seconds = dict.fromkeys(timings, 0.0)
        docs = {arm: [] for arm in timings}
        for chunk in range(0, len(texts), CHUNK):
            for arm in timings:  # cold first, so that warm finds the chunk's mentions cached
                with nlp.select_pipes(disable=["medical_linker"] if arm == "without_linker" else []):
                    start = time.perf_counter()
                    docs[arm] += nlp.pipe(texts[chunk : chunk + CHUNK], batch_size=64)
                    seconds[arm] += time.perf_counter() - start
        for arm in timings:
            timings[arm].append(seconds[arm])
    entities = sum(len(doc.ents) for doc in docs["with_linker"])
    linked = sum(1 for doc in docs["with_linker"] for ent in doc.ents if ent.kb_id_)
    best = {arm: min(seconds) for arm, seconds in timings.items()}
    docs = docs["without_linker"]
    # The linker alone, on the docs of the last run without it (it relinks them from their ents).
    alone = {"cold": [], "warm": []}
    for _ in range(ROUNDS):
        for arm in alone:
            if arm == "cold":
                linker.kb.clear_cache()
            start = time.perf_counter()
            list(linker.pipe(docs, batch_size=64))
            alone[arm].append(time.perf_counter() - start)
    linker_s = {arm: min(seconds) for arm, seconds in alone.items()}
    report = {
        "pipeline": args.model or "blank en + entity_ruler (DO, SYMP, DrugBank terms) + medical_abbreviations",
        "documents": len(texts),
        "words": words,
        "entities": entities,
        "entities_linked": linked,
        "words_per_s_without_linker": round(words / best["without_linker"]),
        "words_per_s_with_linker": round(words / best["with_linker"]),
        "words_per_s_with_linker_warm": round(words / best["with_linker_warm"]),
        "linker_share_of_time": round(1 - best["without_linker"] / best["with_linker"], 3),
        "linker_share_of_time_warm": round(1 - best["without_linker"] / best["with_linker_warm"], 3),
        "linker_ms_per_1000_words": round(1000 * (best["with_linker"] - best["without_linker"]) / words * 1000, 2),
        # The linker timed alone, over the time of the pipeline without it plus the linker's.
        "linker_alone_words_per_s": {arm: round(words / s) for arm, s in linker_s.items()},
        "linker_alone_share_of_time": {arm: round(s / (best["without_linker"] + s), 3) for arm, s in linker_s.items()},
        "kb_load_s": round(kb_load_s, 2),
        "kb_rss_mb": round(kb_rss_mb, 1),
        "pipeline_load_s" if shipped_linker else "pipeline_load_s_without_linker": round(pipeline_load_s, 2),
        "load_average_at_end": [round(load, 1) for load in os.getloadavg()],  # the machine is shared
        **({"note": args.note} if args.note else {}),
        "timings_s": {arm: [round(s, 2) for s in seconds] for arm, seconds in {**timings, **{f"linker_alone_{a}": s for a, s in alone.items()}}.items()},
    }
    print(json.dumps(report, indent=2))
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf8")


if __name__ == "__main__":
    main()
