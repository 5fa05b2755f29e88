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
over the arms alike; each arm's time is its best round. As differences of whole runs stay noisy
on a shared machine, the linker's own time inside the runs with it (`MedicalLinker.link_docs`,
all of its work) is also measured: its share of those runs' time needs no second run to compare
with. Never run as a test.
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
    linker_seconds = [0.0]
    link_docs = linker.link_docs

    def timed_link_docs(docs: list) -> list:
        start = time.perf_counter()
        try:
            return link_docs(docs)
        finally:
            linker_seconds[0] += time.perf_counter() - start

    linker.link_docs = timed_link_docs  # type: ignore[method-assign]
    timings = {"with_linker": [], "with_linker_warm": [], "without_linker": []}
    inside = {"with_linker": [], "with_linker_warm": []}  # the linker's own seconds in those runs
    cache = {"with_linker": "cold", "with_linker_warm": "warm"}
    for _ in range(ROUNDS):
        linker.kb.clear_cache()
        seconds = dict.fromkeys(timings, 0.0)
        linker_in = dict.fromkeys(inside, 0.0)
        docs = {arm: [] for arm in timings}
        for chunk in range(0, len(texts), CHUNK):
            for arm in timings:  # cold first, so that warm finds the chunk's mentions cached
                with nlp.select_pipes(disable=["medical_linker"] if arm == "without_linker" else []):
                    linker_seconds[0] = 0.0
                    start = time.perf_counter()
                    docs[arm] += nlp.pipe(texts[chunk : chunk + CHUNK], batch_size=64)
                    seconds[arm] += time.perf_counter() - start
                    if arm in inside:
                        linker_in[arm] += linker_seconds[0]
        for arm in timings:
            timings[arm].append(seconds[arm])
        for arm in inside:
            inside[arm].append(linker_in[arm])
    entities = sum(len(doc.ents) for doc in docs["with_linker"])
    linked = sum(1 for doc in docs["with_linker"] for ent in doc.ents if ent.kb_id_)
    best = {arm: min(seconds) for arm, seconds in timings.items()}
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
        # The linker's own time inside the runs with it: its share of all their time, and its words/s.
        "linker_share_of_time_inside": {cache[arm]: round(sum(inside[arm]) / sum(timings[arm]), 3) for arm in inside},
        "linker_words_per_s_inside": {cache[arm]: round(words / min(inside[arm])) for arm in inside},
        "kb_load_s": round(kb_load_s, 2),
        "kb_rss_mb": round(kb_rss_mb, 1),
        "pipeline_load_s" if shipped_linker else "pipeline_load_s_without_linker": round(pipeline_load_s, 2),
        "load_average_at_end": [round(load, 1) for load in os.getloadavg()],  # the machine is shared
        **({"note": args.note} if args.note else {}),
        "timings_s": {arm: [round(s, 2) for s in seconds] for arm, seconds in {**timings, **{f"linker_inside_{cache[a]}": s for a, s in inside.items()}}.items()},
    }
    print(json.dumps(report, indent=2))
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf8")


if __name__ == "__main__":
    main()
