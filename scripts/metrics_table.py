"""Regenerate the results tables of README.md from metrics/*.json (never typed by hand).

Replaces the text between `<!-- metrics:start -->` and `<!-- metrics:end -->`.
"""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METRICS = ROOT / "metrics"
START, END = "<!-- metrics:start -->", "<!-- metrics:end -->"
# Published test F1 (joint over the benchmark's labels unless the row says otherwise). BioBERT v1.1:
# Lee et al. 2020, Bioinformatics 36(4); PubMedBERT: Gu et al. 2021, ACM HEALTH (BLURB), which
# report BC5CDR per entity type, so only their DISEASE figure sits beside a DISEASE row here.
PUBLISHED = {
    "bc5cdr": [("scispaCy en_ner_bc5cdr_md", "84.28"), ("Stanza (bc5cdr)", "88.08"),
               ("BioBERT v1.1, DISEASE only", "87.15"), ("PubMedBERT (BLURB), DISEASE only", "85.62")],
    "ncbi": [("scispaCy, NCBI-disease model", "81.65"), ("Stanza (ncbi_disease)", "87.49"),
             ("BioBERT v1.1", "89.71"), ("PubMedBERT (BLURB)", "87.82")],
}


def load(name):
    path = METRICS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf8")) if path.exists() else None


def pct(x):
    return f"{100 * x:.1f}"


# The two shipped pipelines and the suffix of their metrics files (metrics/test.json, test_sm.json...).
MODELS = (("en_medical", ""), ("en_medical_sm", "_sm"))


def prf(s):
    return f"{pct(s['p'])} | {pct(s['r'])} | {pct(s['f'])}" if s else "- | - | -"


def joint_prf(scores):
    """P | R | F over every label of a spaCy scores dict."""
    return prf({"p": scores["ents_p"], "r": scores["ents_r"], "f": scores["ents_f"]})


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


def ablation_table():
    arms = [(n, load(f"ablation_{n}")) for n in ("base", "nomask", "allchem")]
    arms = [(n, r) for n, r in arms if r]
    if len(arms) < 2:
        return []
    names = {"base": "default (DrugBank chemicals, lexicon masking)", "nomask": "no missing-label masking", "allchem": "all BC5CDR chemicals as DRUG"}
    out = ["**Conversion choices, MACCROBAT dev, same short training budget** (`metrics/ablation_*.json`):", "",
           "| arm | DISEASE F | SYMPTOM P | SYMPTOM R | SYMPTOM F | DRUG P | DRUG R | DRUG F |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, report in arms:
        t = report["maccrobat"]["scores"]["ents_per_type"]
        g = lambda label, k: pct(t[label][k]) if label in t else "-"
        out.append(f"| {names[name]} | {g('DISEASE','f')} | {g('SYMPTOM','p')} | {g('SYMPTOM','r')} | {g('SYMPTOM','f')} | {g('DRUG','p')} | {g('DRUG','r')} | {g('DRUG','f')} |")
    return out + [""]


PRETRAIN_ABLATIONS = (
    ("ablation_pretrain", "**Pre-training the tok2vec** (`spacy project run ablation-pretrain`: en_medical_sm's NER "
     "against the same config, seed and budget trained from the `spacy pretrain` tok2vec; the pre-training text "
     "leaves out these dev documents; dev splits, F):"),
    ("ablation_pretrain_trf", "**Domain-adaptive MLM pre-training of the transformer encoder** (`spacy project run "
     "ablation-pretrain-trf`: en_medical's fine-tuning, same config, seed and budget, from the packaged encoder and "
     "from the MLM-adapted one; the pre-training text leaves out these dev documents; dev splits, F):"),
)


def check_same_pipeline(title, results):
    """Raise ValueError if evaluate-ner results put side by side were scored with different components (e.g. one with
    medical_abbreviations, one without), which would credit the difference to what the table compares. Results from
    before evaluate-ner recorded its `pipeline` are not checked."""
    pipelines = {tuple(result["pipeline"]) for result in results if "pipeline" in result}
    if len(pipelines) > 1:
        raise ValueError(f"{title.split('(')[0].strip()} compares arms scored with different pipelines: {sorted(pipelines)}")


def corpora_f_table(title, arms, mean=False):
    """Dev F per corpus and label of single runs side by side; arms: ((name, report), ...), each report of three corpora.

    mean (bool): the arms are seeds of one config, so a last column gives their mean F.
    """
    check_same_pipeline(title, [report[corpus] for _, report in arms for corpus in report])
    names = [name for name, _ in arms] + (["mean"] if mean else [])
    out = [title, "", "| corpus | label | " + " | ".join(names) + " |", "|---|---|" + "---:|" * len(names)]

    def row(corpus, label, scores):
        cells = [pct(s["f"]) for s in scores] + ([pct(sum(s["f"] for s in scores) / len(scores))] if mean else [])
        return f"| {corpus} | {label} | " + " | ".join(cells) + " |"

    for corpus in ("maccrobat", "bc5cdr", "ncbi"):
        for label in (["DISEASE", "SYMPTOM", "DRUG"] if corpus != "ncbi" else ["DISEASE"]):
            scores = [report[corpus]["scores"]["ents_per_type"].get(label) for _, report in arms]
            if all(scores):
                out.append(row(corpus, label, scores))
        if corpus != "maccrobat":
            out.append(row(corpus, "DISEASE, SYMPTOM merged",
                           [report[corpus]["merged"]["scores"]["ents_per_type"]["DISEASE"] for _, report in arms]))
    return out + [""]


def pretrain_tables():
    out = []
    for prefix, title in PRETRAIN_ABLATIONS:
        on, off = load(f"{prefix}_on"), load(f"{prefix}_off")
        if on and off:
            out += corpora_f_table(title, (("without", off), ("with", on)))
    report = load("pretrain_trf")
    if report and load("ablation_pretrain_trf_on"):
        loss = report["heldout_mlm_loss"]
        out += [f"MLM pre-training (`metrics/pretrain_trf.json`): {report['steps']} steps of {report['batch_size']} windows "
                f"of {report['windows']['length']} wordpieces ({report['epochs_seen']} epochs of the text), "
                f"{report['seconds'] // 60} min; held-out MLM loss {loss['before']} -> {loss['after']}.", ""]
    return out


def two_arm_table(intro, arms, compares_components=False):
    """Dev and test P/R/F per label of two runs side by side; arms: ((name, metrics file), ...).

    compares_components (bool): the arms differ in their components on purpose, so their pipelines are not checked.
    """
    (name_a, a), (name_b, b) = ((name, load(stem)) for name, stem in arms)
    if not (a and b):
        return []
    out = [intro, "", f"| split | label | {name_a} P | R | F | {name_b} P | R | F |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for split in ("dev", "test"):
        if not compares_components:
            check_same_pipeline(intro, [a[split], b[split]])
        x, y = a[split]["scores"], b[split]["scores"]
        for label in x["ents_per_type"]:
            out.append(f"| {split} | {label} | {prf(x['ents_per_type'][label])} | {prf(y['ents_per_type'].get(label))} |")
        out.append(f"| {split} | joint | {joint_prf(x)} | {joint_prf(y)} |")
    return out + [""]


def finetune_table():
    return two_arm_table(
        "**LoRA against full fine-tuning of the encoder** (`spacy project run ablation-finetune`: "
        "configs/trf.cfg on BC5CDR's own labels, same seed and budget (`vars.ablation_bc5cdr_steps`); LoRA rank 16 at learn rate 5e-4, "
        "full fine-tuning at 5e-5; best dev checkpoint of each; `metrics/ablation_finetune_{lora,full}.json`):",
        (("LoRA", "ablation_finetune_lora"), ("full", "ablation_finetune_full")))


def spelling_table():
    return two_arm_table(
        "**A spelling encoder beside the transformer** (`spacy project run ablation-spelling`: the LoRA arm above against the same "
        "run with the ner also reading `spacy-medical.TransformerWithSpelling.v1`'s case-sensitive spelling features "
        "(`vars.spelling_width`); best dev checkpoint of each; `metrics/ablation_finetune_lora.json`, `metrics/ablation_spelling.json`):",
        (("transformer", "ablation_finetune_lora"), ("+ spelling", "ablation_spelling")))


def dictionary_tables():
    intro = ("**Dictionary features beside the spelling encoder, {corpus}** (`spacy project run ablation-lexicon`: {baseline} against "
             "the same run with the ner's spelling encoder also reading each token's Disease Ontology, Symptom Ontology and DrugBank "
             "match tag (`vars.lexicon_width`); best dev checkpoint of each; `metrics/{a}.json`, `metrics/{b}.json`):")
    arms = (("BC5CDR", "the spelling arm of ablation-spelling", "ablation_spelling", "ablation_lexicon_bc5cdr"),
            ("NCBI-disease", "bench-ncbi-trf's checkpoint scored without medical_abbreviations (the dictionary arm predates it)",
             "bench_ncbi_trf_no_abbreviations", "ablation_lexicon_ncbi"))
    return [line for corpus, baseline, a, b in arms for line in two_arm_table(
        intro.format(corpus=corpus, baseline=baseline, a=a, b=b), (("spelling", a), ("+ dictionaries", b)))]


ABLATION_SEEDS = (0, 1, 2)


def seeds_table(intro, arms):
    """Dev F per seed and its mean for arms of short trainings; arms: ((name, metrics file stem with {seed}), ...)."""
    runs = [(name, [load(stem.format(seed=seed)) for seed in ABLATION_SEEDS]) for name, stem in arms]
    if not all(all(reports) for _, reports in runs):
        return []
    check_same_pipeline(intro, [report[corpus] for _, reports in runs for report in reports for corpus in report])
    labels = {"maccrobat": ["DISEASE", "SYMPTOM", "DRUG"], "bc5cdr": ["DISEASE", "SYMPTOM", "DRUG", "merged"], "ncbi": ["DISEASE", "merged"]}

    def f_scores(reports, corpus, label):
        values = []
        for report in reports:
            scores = report[corpus]["merged"]["scores"] if label == "merged" else report[corpus]["scores"]
            per_type = scores["ents_per_type"].get("DISEASE" if label == "merged" else label)
            values.append(100 * per_type["f"] if per_type else 0.0)
        return " / ".join(f"{v:.1f}" for v in values) + f" | {sum(values) / len(values):.1f}"

    header = "".join(f" {name} F per seed | mean |" for name, _ in runs)
    out = [intro, "", f"| corpus | label |{header}", "|---|---|" + "---|---:|" * len(runs)]
    for corpus, names in labels.items():
        for label in names:
            name = "DISEASE, SYMPTOM merged" if label == "merged" else label
            out.append(f"| {corpus} | {name} |" + "".join(f" {f_scores(reports, corpus, label)} |" for _, reports in runs))
    return out + [""]


def label_rule_table():
    return seeds_table(
        "**Labelling findings by surface or by concept** (`spacy project run ablation-labels`: en_medical_sm's NER, "
        "2,000 steps, seeds 0, 1 and 2, trained on `--symptom-mentions relabel` (en_medical's) and on `relabel-concept`, "
        "each scored on the dev split converted with its own rule; `metrics/ablation_labels_{surface,concept}_seed*.json`). "
        "The merged row (SYMPTOM merged into DISEASE) scores both against the same gold spans, BC5CDR's own Disease:",
        (("surface", "ablation_labels_surface_seed{seed}"), ("concept", "ablation_labels_concept_seed{seed}")))


def maccrobat_weight_table():
    return seeds_table(
        "**MACCROBAT's weight in the training mix** (`spacy project run ablation-maccrobat-weight`, once with "
        "`--vars.ablation_maccrobat_weight 2` and once with 1: en_medical_sm's NER, 2,000 steps, seeds 0, 1 and 2, MACCROBAT "
        "repeated 3 times per epoch (`vars.maccrobat_weight`, both shipped configs; the surface arm of ablation-labels) against "
        "twice and once; dev splits; `metrics/ablation_labels_surface_seed*.json`, `metrics/ablation_maccrobat_weight{2,1}_seed*.json`):",
        (("weight 3", "ablation_labels_surface_seed{seed}"), ("weight 2", "ablation_maccrobat_weight2_seed{seed}"),
         ("weight 1", "ablation_maccrobat_weight1_seed{seed}")))


def ncbi_weight_table():
    arms = [("NCBI-disease once", "ablation_labels_surface_seed{seed}"), ("left out", "ablation_ncbi_weight0_seed{seed}")]
    edges = all(load(f"ablation_ncbi_edges_seed{seed}") for seed in ABLATION_SEEDS)
    if edges:
        arms.append(("O only next to a mention", "ablation_ncbi_edges_seed{seed}"))
    return seeds_table(
        "**NCBI-disease in the training mix** (`spacy project run ablation-ncbi-weight`: en_medical_sm's NER, 2,000 steps, "
        "seeds 0, 1 and 2, NCBI-disease once per epoch (both shipped configs; the surface arm of ablation-labels) against "
        "left out (`--vars.ablation_ncbi_weight 0`)"
        + ("; `spacy project run ablation-ncbi-edges`: NCBI-disease once, its tokens away from a Disease mention marked missing "
           "(`convert --ncbi-outside edges`)" if edges else "")
        + "; dev splits; `metrics/ablation_labels_surface_seed*.json`, `metrics/ablation_ncbi_weight0_seed*.json`"
        + (", `metrics/ablation_ncbi_edges_seed*.json`" if edges else "") + "):",
        arms)


def trf_maccrobat_weight_table():
    shipped, lighter = load("trf_restored_dev"), load("ablation_trf_maccrobat_weight2")
    if not (shipped and lighter):
        return []
    return corpora_f_table(
        "**MACCROBAT's weight in en_medical's training mix** (`spacy project run ablation-trf-maccrobat-weight`: configs/trf.cfg "
        "as shipped, MACCROBAT 3 times per epoch (`training/trf_restored`), against the same config, seed and steps with it twice "
        "(`vars.ablation_trf_maccrobat_weight`); one run each; the trained ner with its float encoder, without medical_abbreviations, before assembly "
        "into en_medical; dev splits, F; "
        "`metrics/trf_restored_dev.json`, `metrics/ablation_trf_maccrobat_weight2.json`):",
        (("weight 3", shipped), ("weight 2", lighter)))


def trf_seed_tables():
    seed = next((int(p.name.split("_")[2][len("seed"):]) for p in METRICS.glob("ablation_trf_seed*_test.json")), None)
    if seed is None:  # ablation-trf-seed not run yet
        return []
    out = []
    for split in ("dev", "test"):
        shipped, other = load(f"trf_restored_{split}"), load(f"ablation_trf_seed{seed}_{split}")
        if shipped and other:
            out += corpora_f_table(
                f"**en_medical's transformer NER, another seed, {split}** (`spacy project run ablation-trf-seed`: train-trf as shipped "
                f"(seed 0, `training/trf_restored`) against the same config, data and steps with `--system.seed {seed}`; the trained ner "
                f"with its float encoder, without medical_abbreviations; {split} splits, F; `metrics/trf_restored_{split}.json`, "
                f"`metrics/ablation_trf_seed{seed}_{split}.json`):",
                (("seed 0 (shipped)", shipped), (f"seed {seed}", other)), mean=True)
    return out


def abbreviations_table():
    labels = {"maccrobat": ["DISEASE", "SYMPTOM", "DRUG"], "bc5cdr": ["DISEASE", "SYMPTOM", "DRUG"], "ncbi": ["DISEASE"]}
    rows = []
    for split in ("dev", "test"):
        alone, full = load(f"{split}_no_abbreviations"), load(split)
        if not (alone and full):
            continue
        for corpus, names in labels.items():
            for label in names:
                a, b = (r[corpus]["scores"]["ents_per_type"].get(label) for r in (alone, full))
                rows.append(f"| {split} | {corpus} | {label} | {prf(a)} | {prf(b)} |")
            if corpus != "maccrobat":  # the corpora's own Disease definition, as in the tables above
                a, b = (r[corpus]["merged"]["scores"]["ents_per_type"]["DISEASE"] for r in (alone, full))
                rows.append(f"| {split} | {corpus} | DISEASE, SYMPTOM merged | {prf(a)} | {prf(b)} |")
    bench = [line for name in ("bc5cdr", "ncbi") for line in two_arm_table(
        f"**medical_abbreviations, bench-{name}-trf** (`spacy project run evaluate-bench-{name}-trf`: the checkpoint kept, "
        f"without the component and with it; `metrics/bench_{name}_trf_no_abbreviations.json`, `metrics/bench_{name}_trf.json`):",
        (("without", f"bench_{name}_trf_no_abbreviations"), ("with", f"bench_{name}_trf")), compares_components=True)]
    if not rows:
        return bench
    return bench + ["**medical_abbreviations, en_medical** (`spacy project run evaluate-abbreviations`: `metrics/{split}_no_abbreviations.json`, "
            "the pipeline without it, against `metrics/{split}.json`, the same pipeline with it):", "",
            "| split | corpus | label | without P | R | F | with P | R | F |", "|---|---|---|---:|---:|---:|---:|---:|---:|"] + rows + [""]


def ncbi_grouped_tables():
    intro = ("**Sentences per Doc, NCBI-disease, {what}** (`spacy project run ablation-ncbi-grouped`: bench-ncbi-trf, one sentence "
             "per Doc, against the same config, seed and steps on nine consecutive sentences per Doc (`vars.ncbi_sentences_per_doc`), "
             "each scored on its own conversion; best dev checkpoint of each; `metrics/{a}.json`, `metrics/{b}.json`):")
    arms = (("with medical_abbreviations", "bench_ncbi_trf", "ablation_ncbi_grouped"),
            ("without medical_abbreviations", "bench_ncbi_trf_no_abbreviations", "ablation_ncbi_grouped_no_abbreviations"))
    return [line for what, a, b in arms for line in two_arm_table(
        intro.format(what=what, a=a, b=b), (("1 sentence", a), ("9 sentences", b)))]


def ncbi_seeds_table():
    """ablation-ncbi-grouped's arms over every seed run so far: seed 0 is bench-ncbi-trf and ablation-ncbi-grouped."""
    seeds = sorted(int(path.name.split("_")[2][len("seed"):]) for path in METRICS.glob("ablation_ncbi_seed*_single.json"))
    runs = {"1 sentence": [("bench_ncbi_trf", 0)] + [(f"ablation_ncbi_seed{seed}_single", seed) for seed in seeds],
            "9 sentences": [("ablation_ncbi_grouped", 0)] + [(f"ablation_ncbi_seed{seed}_grouped", seed) for seed in seeds]}
    if not seeds or not all(load(stem) and load(stem + "_no_abbreviations") for arm in runs.values() for stem, _ in arm):
        return []
    names = " / ".join(str(seed) for _, seed in runs["1 sentence"])
    out = [f"**Sentences per Doc, NCBI-disease, seeds {names}** (`spacy project run ablation-ncbi-seed --vars.ablation_ncbi_seed N`: "
           "both arms above again with another seed; seed 0 is the tables above; "
           "`metrics/ablation_ncbi_seedN_{single,grouped}{,_no_abbreviations}.json`; F of each run's best dev checkpoint):", "",
           "| split | pipeline | " + " | ".join(f"{arm}, seed {names} | mean" for arm in runs) + " |", "|---|---|" + "---|---:|" * len(runs)]
    for split in ("dev", "test"):
        for pipeline, suffix in (("with medical_abbreviations", ""), ("NER alone", "_no_abbreviations")):
            check_same_pipeline(out[0], [load(stem + suffix)[split] for arm in runs.values() for stem, _ in arm])
            cells = []
            for arm in runs.values():
                values = [100 * load(stem + suffix)[split]["scores"]["ents_f"] for stem, _ in arm]
                cells.append(" / ".join(f"{v:.1f}" for v in values) + f" | {sum(values) / len(values):.1f}")
            out.append(f"| {split} | {pipeline} | " + " | ".join(cells) + " |")
    return out + [""]


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


def f3(x):
    return f"{x:.3f}"


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
        out += ["", f"{accuracy['split'].capitalize()} F of the same NER under these options (`spacy project run bench-trf-accuracy`, `metrics/{name}.json`; "
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


def main() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf8")
    if START not in text or END not in text:
        raise SystemExit(f"{readme} has no {START} ... {END} block")
    body = ner_tables() + error_table() + bench_tables() + ablation_table() + label_rule_table() + maccrobat_weight_table() + ncbi_weight_table() + trf_maccrobat_weight_table() + trf_seed_tables() + pretrain_tables() + finetune_table() + spelling_table() + dictionary_tables() + abbreviations_table() + ncbi_grouped_tables() + ncbi_seeds_table() + lexicon_table() + speed_table() + trf_table() + assertion_tables() + summary_tables() + annotate_tables()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(head + START + "\n" + "\n".join(body) + "\n" + END + tail, encoding="utf8")


if __name__ == "__main__":
    main()
