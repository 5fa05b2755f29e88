"""Tables of the shipped pipelines, the public benchmarks, the components and speed, from metrics/*.json."""
from table_format import MODELS, f3, joint_prf, load, pct, prf

# Published test F1 (joint over the benchmark's labels unless the row says otherwise). BioBERT v1.1:
# Lee et al. 2020, Bioinformatics 36(4); PubMedBERT: Gu et al. 2021, ACM HEALTH (BLURB), which
# report BC5CDR per entity type, so only their DISEASE figure sits beside a DISEASE row here.
PUBLISHED = {
    "bc5cdr": [("scispaCy en_ner_bc5cdr_md", "84.28"), ("Stanza (bc5cdr)", "88.08"),
               ("BioBERT v1.1, DISEASE only", "87.15"), ("PubMedBERT (BLURB), DISEASE only", "85.62")],
    "ncbi": [("scispaCy, NCBI-disease model", "81.65"), ("Stanza (ncbi_disease)", "87.49"),
             ("BioBERT v1.1", "89.71"), ("PubMedBERT (BLURB)", "87.82")],
}


def ner_tables():
    out = []
    labels = {"maccrobat": ["DISEASE", "SYMPTOM", "DRUG"], "bc5cdr": ["DISEASE", "SYMPTOM", "DRUG"], "ncbi": ["DISEASE", "SYMPTOM"]}
    for split in ("test", "dev"):
        found = [(name, suffix, load(split + suffix)) for name, suffix in MODELS]
        found = [(name, suffix, report) for name, suffix, report in found if report]
        if not found:
            continue
        reports = [(name, report) for name, _, report in found]
        names = " and ".join(f"{name} (`metrics/{split}{suffix}.json`)" for name, suffix, _ in found)
        head = "| corpus | label | " + " | ".join(f"{name} P | R | F" for name, _ in reports) + " |"
        rule = "|---|---|" + "---:|---:|---:|" * len(reports)
        out += [f"**{split} splits**, {names}, label definitions harmonized as described under *Training data*:", "", head, rule]
        for corpus in ("maccrobat", "bc5cdr", "ncbi"):
            for label in labels[corpus]:
                scores = [r.get(corpus, {}).get("scores", {}).get("ents_per_type", {}).get(label) for _, r in reports]
                if any(scores):
                    out.append(f"| {corpus} | {label} | " + " | ".join(prf(x) for x in scores) + " |")
        out += ["", f"With SYMPTOM merged into DISEASE on both sides, i.e. on the corpora's own Disease definition ({split}):", "",
                "| corpus | " + " | ".join(f"{name} DISEASE P | R | F" for name, _ in reports) + " |", "|---|" + "---:|---:|---:|" * len(reports)]
        for corpus in ("bc5cdr", "ncbi"):
            scores = [r.get(corpus, {}).get("merged", {}).get("scores", {}).get("ents_per_type", {}).get("DISEASE") for _, r in reports]
            if any(scores):
                out.append(f"| {corpus} | " + " | ".join(prf(x) for x in scores) + " |")
        out.append("")
    return out


def error_table():
    report = load("ner_errors")
    if not report:
        return []
    out = [f"**Kinds of NER errors** (`spacy project run ner-errors`, `metrics/ner_errors.json`, {report['model']}, {report['split']} splits): "
           "of the gold mentions, how many are found exactly, found with other edges, found with another label or missed; "
           "and the wrong predictions that overlap no gold mention.", "",
           "| corpus | label | gold | correct | other edges | other label | missed | spurious predictions |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for corpus, labels in report["corpora"].items():
        for label, k in sorted(labels.items()):
            if k["gold"]:
                out.append(f"| {corpus} | {label} | {k['gold']} | {k['correct']} | {k['gold_other_edges']} | {k['gold_other_label']} | {k['missed']} | {k['spurious']} |")
    return out + [""]


def features(report) -> str:
    """What the ner read beside its encoder, as the bench tables name it."""
    test = (report or {}).get("test", {})
    ner = "".join(f" + {name}" for name, key in (("spelling", "spelling_width"), ("dictionaries", "lexicon_width")) if test.get(key))
    return ner + (" + abbreviations" if "medical_abbreviations" in test.get("pipeline", ()) else "")


def bench_tables():
    out = []
    for name, title in (("bc5cdr", "BC5CDR (CHEMICAL + DISEASE)"), ("ncbi", "NCBI-disease (DISEASE)")):
        runs = [(arch, load(f"bench_{name}{suffix}")) for arch, suffix in (("CNN", ""), ("transformer", "_trf"))]
        runs = [(arch + features(report), report) for arch, report in runs]
        dev = [(arch, report["dev"]["scores"]) for arch, report in runs if report and "dev" in report]
        runs = [(arch, report["test"]["scores"]) for arch, report in runs if report]
        if not runs:
            continue
        files = ", ".join(f"`metrics/bench_{name}{'' if arch == 'CNN' else '_trf'}.json`" for arch, _ in runs)
        out += [f"**{title} test, en_medical's architectures trained on the benchmark's own labels** ({files}):", "",
                "| system | P | R | F |", "|---|---:|---:|---:|"]
        for arch, scores in runs:
            out.append(f"| spacy-medical {arch} (this repo, measured) | {joint_prf(scores)} |")
        for system, f in PUBLISHED[name]:
            out.append(f"| {system} (published) | | | {f} |")
        out.append("")
        for arch, scores in runs:
            per_type = ", ".join(f"{label} F {pct(s['f'])}" for label, s in scores["ents_per_type"].items())
            out.append(f"Per label ({arch}): {per_type}.")
        for arch, scores in dev:
            out.append(f"Dev F ({arch}, the checkpoint kept): {pct(scores['ents_f'])}.")
        out.append("")
    return out


def lexicon_table():
    rows = []
    for name, suffix in MODELS:
        for split in ("dev", "test"):
            alone, full = load(f"{split}{suffix}_ner_only"), load(split + suffix)
            if alone and full:
                a, b = (r["maccrobat"]["scores"]["ents_per_type"]["SYMPTOM"] for r in (alone, full))
                rows.append(f"| {name} | {split} | {prf(a)} | {prf(b)} |")
    if not rows:
        return []
    lexicon = load("symptom_lexicon") or {}
    note = (f" The lexicon keeps {lexicon['kept']} Symptom Ontology terms and drops {lexicon['dropped']} that MACCROBAT train "
            f"annotates as a symptom in under {pct(lexicon['min_precision'])}% of their occurrences (`metrics/symptom_lexicon.json`)."
            if lexicon else "")
    return [f"**symptom_lexicon, MACCROBAT SYMPTOM** (`metrics/{{split}}{{,_sm}}_ner_only.json`: the trained ner alone, against the "
            f"assembled pipeline in `metrics/{{split}}{{,_sm}}.json`).{note}", "",
            "| pipeline | split | ner alone P | R | F | with symptom_lexicon P | R | F |", "|---|---|---:|---:|---:|---:|---:|---:|"] + rows + [""]


def speed_table():
    report = load("speed")
    if not report:
        return []
    return [f"**Speed** (`bench/speed.py`, {report['texts']} ACI-Bench notes, {report['words']} words, {report['cores']} cores, same run):", "",
            "| pipeline | words/s | ratio |", "|---|---:|---:|",
            f"| blank spaCy CNN `ner` (baseline) | {report['baseline_wps']:.0f} | 1.00 |"] + [
            f"| {m['model']} | {m['wps']:.0f} | {m['ratio']:.2f} |" for m in report["models"]] + [""]


def assertion_tables():
    report = load("assertion")
    if not report:
        return []
    out = ["**Assertion, `medical_context` vs negspacy `en_clinical` Negex, same run, gold entities** "
           "(`spacy project run evaluate-assertion`, `metrics/assertion.json`):", "",
           "| set | qualifier | medical_context P | R | F | negspacy P | R | F |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    names = {"maccrobat": "MACCROBAT test (POLARITY)", "dev": "hand-written dev set", "holdout": "hand-written holdout"}
    for key in ("maccrobat", "dev", "holdout"):
        if key not in report:
            continue
        ours, base = report[key]["medical_context"], report[key].get("negspacy", {})
        for q in ("negated", "uncertain", "historical", "hypothetical", "family"):
            if f"assertion_{q}_f" not in ours:
                continue
            b = [f3(base[f"assertion_{q}_{m}"]) if f"assertion_{q}_{m}" in base else "-" for m in "prf"]
            out.append(f"| {names[key]} | {q} | {f3(ours[f'assertion_{q}_p'])} | {f3(ours[f'assertion_{q}_r'])} | {f3(ours[f'assertion_{q}_f'])} | {' | '.join(b)} |")
    speed = load("assertion_speed")
    if speed:
        wps = speed["words_per_second"]
        out += ["", f"Speed (`bench/assertion_speed.py`, {speed['documents']} MACCROBAT documents, same run): "
                f"medical_context {wps['medical_context']:,} words/s, negspacy {wps['negspacy_negex']:,} words/s, "
                f"ratio {speed['ratio_medical_context_to_negspacy']:.2f}."]
    return out + [""]


def encoder(report):
    """Which encoder a measured pipeline had, from the pipe names the report recorded."""
    pipes = report.get("pipeline") or []
    return "transformer" if "transformer" in pipes else "CNN tok2vec" if "tok2vec" in pipes else "encoder not recorded"


def summary_tables():
    summary, sections, mts = load("summary"), load("sections"), load("mts_dialog")
    out = []
    if summary:
        out += ["**Summaries of ACI-Bench transcripts vs the reference notes, same run** "
                f"(`spacy project run evaluate-summary`, `metrics/summary.json`, NER model `{summary['model']}`, {encoder(summary)}):", "",
                "| split | ROUGE-L: summarizer / lead-N / TextRank | concept recall: summarizer / lead-N / TextRank | summary words |",
                "|---|---|---|---:|"]
        for split in ("valid", "test1", "test2", "test3"):
            if split in summary:
                r = summary[split]
                rl = " / ".join(f3(r[k]["rougeL"]) for k in ("summarizer", "lead_n", "textrank"))
                cr = " / ".join(f3(r[k]["concept_recall"]) for k in ("summarizer", "lead_n", "textrank"))
                out.append(f"| {split} | {rl} | {cr} | {r['mean_summary_words']:.0f} |")
        out.append("")
    if sections:
        out += ["**Section header detection on the ACI-Bench reference notes** (`metrics/sections.json`):", "",
                "| split | P | R | label accuracy |", "|---|---:|---:|---:|"]
        for split in ("valid", "test1", "test2", "test3"):
            if split in sections:
                r = sections[split]
                out.append(f"| {split} | {f3(r['sections_header_p'])} | {f3(r['sections_header_r'])} | {f3(r['sections_label_acc'])} |")
        out.append("")
    cost = load("summary_cost")
    if cost:
        parts = [f"{kind} {100 * cost[kind]['share_of_pipeline_time']:.1f}% ({cost[kind]['docs']} docs)" for kind in ("notes", "dialogues") if kind in cost]
        out += [f"Share of pipeline time spent in `medical_sections` + `medical_summarizer` (`python bench/summary_cost.py --model {cost['model']}`, {encoder(cost)}, "
                f"`metrics/summary_cost.json`): " + ", ".join(parts) + ".", ""]
    if mts:
        out += ["**MTS-Dialog section classification** (`spacy project run train-dialogue-sections`, `metrics/mts_dialog.json`):", "",
                "| test set | accuracy | majority class | majority accuracy |", "|---|---:|---:|---:|"]
        for split in ("test1", "test2"):
            if split in mts:
                r = mts[split]
                out.append(f"| {split} ({r['n']}) | {f3(r['accuracy'])} | {r['majority_baseline']['label']} | {f3(r['majority_baseline']['accuracy'])} |")
        out.append("")
    return out


def annotate_tables():
    speed, memory = load("annotate_speed"), load("annotate_memory")
    out = []
    if speed:
        out += [f"**`spacy-medical annotate` throughput** (`python bench/annotate_speed.py --model {speed['model']} --n-notes {speed['notes']} "
                f"--rounds {speed['rounds']} --output metrics/annotate_speed.json`, ACI-Bench notes, best of the interleaved rounds):", "",
                "| run | notes/s | words/s |", "|---|---:|---:|"]
        for name, run in speed["runs"].items():
            out.append(f"| {name} | {run['notes_per_s']} | {run['words_per_s']} |")
        out += ["", "Ratios: " + ", ".join(f"{k} {v}" for k, v in speed["ratios"].items())
                + (f"; Spark output identical to local: {speed['spark_output_identical_to_local']}" if "spark_output_identical_to_local" in speed else "") + ".", ""]
    if memory:
        out += [f"**`annotate` memory** (`python bench/annotate_memory.py --model {memory['model']} --unit {memory['unit']} --output metrics/annotate_memory.json`, "
                "each size in a fresh process, one process):", "",
                "| notes | peak RSS (MB) | ms/note |", "|---:|---:|---:|"]
        for n, run in memory["runs"].items():
            out.append(f"| {n} | {run['peak_rss_mb']} | {run['ms_per_note']} |")
        out += ["", f"Peak RSS large/small: {memory['peak_rss_large_over_small']}; ms/note large/small: {memory['ms_per_note_large_over_small']}.", ""]
    return out


def trf_table():
    report = load("trf_speed")
    if not report:
        return []
    out = [f"**Transformer pipeline ({report['model']}), CPU variants vs a blank CNN `ner`, same run** "
           f"(`python bench/trf_speed.py`, `metrics/trf_speed.json`, {report['texts']['n']} ACI-Bench notes, "
           f"{report['texts']['words']} words, load average {report['load_avg_start']} at start):", "",
           "| variant | words/s | x blank CNN ner |", "|---|---:|---:|"]
    for name, run in report["inference"].items():
        default = " (the pipeline's default encoder)" if name == report.get("default_variant") else ""
        out.append(f"| {name}{default} | {run['words_per_s']:.0f} | {run['x_cnn']:.3f} |")
    for name, agreement in report.get("int8_vs_float", {}).items():
        out.append(f"| {name}: entities F1 against the float pipeline | {agreement['f1_vs_reference']:.3f} | |")
    for name, agreement in report.get("stride_vs_default", {}).items():
        out.append(f"| {name}: entities F1 against the trained stride (96) | {agreement['f1_vs_reference']:.3f} | |")
    for name in ("trf_accuracy_dev", "trf_accuracy"):
        accuracy = load(name)
        if not accuracy:
            continue
        runs = accuracy["variants"]
        out += ["", f"{accuracy['split'].capitalize()} F of the same NER under these options (experiments: `spacy project run trf-accuracy`, `metrics/{name}.json`; "
                f"window {accuracy['window']}, trained with stride {accuracy['trained_stride']}; strides in float; "
                "int8 is en_medical's encoder, one scale per output row):", "",
                "| corpus | label | " + " | ".join(runs) + " |", "|---|---|" + "---:|" * len(runs)]
        first = next(iter(runs.values()))
        for corpus, labels in first.items():
            for label in labels:
                if label == "DRUG" and corpus == "ncbi" or label == "SYMPTOM" and corpus != "maccrobat":
                    continue  # labels the corpus does not annotate (or only through relabelling)
                out.append(f"| {corpus} | {label} | " + " | ".join(pct(run[corpus][label]) for run in runs.values()) + " |")
    fresh = report.get("fresh_process", {})
    if fresh:
        out += ["", f"`spacy.load` warm {fresh['spacy_load_warm_s']} s; peak RSS while annotating {fresh['peak_rss_mb']:.0f} MB."]
    if report.get("training"):
        out += ["Training words/s: " + ", ".join(f"{t['mode']} {t['words_per_s']:.0f}" for t in report["training"]) + "."]
    return out + [""]


# The de-identification evaluation runs, in the order they were made: (metrics file, set key, row name).
DEID_RUNS = [
    ("deid_handwritten_first_run", "handwritten", "hand-written, first run"),
    ("deid", "handwritten", "hand-written, final (tuned on)"),
    ("deid_holdout_blind_run", "holdout", "hold-out, blind run"),
    ("deid", "holdout", "hold-out, final (its misses drove the issue-33 rules)"),
    ("deid_holdout2_blind_run", "holdout2", "second blind hold-out, first run"),
    ("deid", "holdout2", "second blind hold-out, final"),
    ("deid", "generated_dev", "generated dev"),
]
PHI_TYPES = ("NAME", "DATE", "AGE", "CONTACT", "ID", "LOCATION")
# Issue 33, third attempt: the rules against the rules + a trained PHI tagger, set by set.
DEID_MODEL_RUNS = [(name, key, title) for key, set_title in (("handwritten", "hand-written"), ("holdout", "hold-out"),
                                                            ("holdout2", "second hold-out (never tuned on)"),
                                                            ("generated_dev", "generated dev"))
                   for name, title in (("deid", f"{set_title}, rules"), ("deid_model", f"{set_title}, rules + PHI tagger"))]
DEID_HEADER = ["| set | notes | spans | " + " | ".join(PHI_TYPES) + " | overall | span R / P | leaked /100 | notes with a leak | terms kept |",
               "|---|---:|---:|" + "---|" * len(PHI_TYPES) + "---|---|---:|---:|---:|"]


def deid_rows(runs):
    """One table row per (metrics file, set, title) of `runs` that has been measured."""
    rows = []
    for name, key, title in runs:
        scores = (load(name) or {}).get("sets", {}).get(key)
        if not scores:
            continue
        types = " | ".join(f"{f3(scores['per_type'][t]['char_recall'])} / {f3(scores['per_type'][t]['char_precision'])}"
                           if scores["per_type"][t]["gold_spans"] else "-" for t in PHI_TYPES)
        overall, terms = scores["overall"], scores["clinical_terms_kept"]
        rows.append(f"| {title} (`metrics/{name}.json`) | {scores['notes']} | {overall['gold_spans']} | {types} | "
                    f"**{f3(overall['char_recall'])} / {f3(overall['char_precision'])}** | "
                    f"{f3(overall['span_recall'])} / {f3(overall['span_precision'])} | {scores['leaked_per_100_spans']:.2f} | "
                    f"{scores['notes_with_leak']}/{scores['notes']} | {'-' if terms is None else f3(terms)} |")
    return rows


def deid_model_table():
    """docs/experiments.md: the rules against the rules + the trained PHI tagger, with the cost of each."""
    rows = deid_rows(DEID_MODEL_RUNS)
    if not any("PHI tagger" in row for row in rows):
        return []
    out = ["**medical_deid: rules against rules + a trained PHI tagger** (`spacy project run evaluate-deid`: "
           "`metrics/deid.json`, `metrics/deid_model.json`; character recall / precision per PHI type):", ""] + DEID_HEADER + rows
    speed = load("deid_speed_model")
    if speed:
        out += ["", f"Cost (`bench/deid_speed.py --phi-model`, {speed['texts']} ACI-Bench notes, {speed['words']} words, same run): "
                f"{speed['wps_without_deid']:,.0f} words/s without `medical_deid`, {speed['wps_with_deid']:,.0f} with the rules "
                f"({pct(speed['cost'])}% slower), {speed['wps_with_deid_phi_model']:,.0f} with rules + PHI tagger "
                f"({pct(speed['cost_with_phi_model'])}% slower) ({speed['model']})."]
    return out


def deid_tables():
    rows = deid_rows(DEID_RUNS)
    if not rows:
        return []
    out = ["**De-identification, `medical_deid`, character recall / precision per PHI type** (`spacy project run "
           "evaluate-deid`; a leaked span is a gold span whose string is still in the de-identified text; see "
           "docs/deidentification.md for how each set was written):", ""] + DEID_HEADER + rows
    speed = load("deid_speed")
    if speed:
        out += ["", f"Cost (`bench/deid_speed.py`, {speed['texts']} ACI-Bench notes, {speed['words']} words, same run): "
                f"{speed['wps_without_deid']:,.0f} words/s without `medical_deid`, {speed['wps_with_deid']:,.0f} with: "
                f"{pct(speed['cost'])}% slower ({speed['model']})."]
    return out + [""]
