"""Tables of the ablations run by experiments/project.yml, from metrics/*.json (docs/experiments.md)."""
from table_format import (ABLATION_SEEDS, METRICS, check_same_pipeline, corpora_f_table, load, pct, prf,
                          seeds_table, two_arm_table)

def ablation_table():
    arms = [(n, load(f"ablation_{n}")) for n in ("base", "nomask", "allchem")]
    arms = [(n, r) for n, r in arms if r]
    if len(arms) < 2:
        return []
    names = {"base": "default (DrugBank chemicals, lexicon masking)", "nomask": "no missing-label masking", "allchem": "all BC5CDR chemicals as DRUG"}
    out = ["**Conversion choices, MACCROBAT dev, same short training budget** (experiments: `spacy project run ablations`, `metrics/ablation_{base,nomask,allchem}.json`):", "",
           "| arm | DISEASE F | SYMPTOM P | SYMPTOM R | SYMPTOM F | DRUG P | DRUG R | DRUG F |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, report in arms:
        t = report["maccrobat"]["scores"]["ents_per_type"]
        g = lambda label, k: pct(t[label][k]) if label in t else "-"
        out.append(f"| {names[name]} | {g('DISEASE','f')} | {g('SYMPTOM','p')} | {g('SYMPTOM','r')} | {g('SYMPTOM','f')} | {g('DRUG','p')} | {g('DRUG','r')} | {g('DRUG','f')} |")
    return out + [""]


PRETRAIN_ABLATIONS = (
    ("ablation_pretrain", "**Pre-training the tok2vec** (experiments: `spacy project run ablation-pretrain`: en_medical_sm's NER "
     "against the same config, seed and budget trained from the `spacy pretrain` tok2vec; the pre-training text "
     "leaves out these dev documents; dev splits, F):"),
    ("ablation_pretrain_trf", "**Domain-adaptive MLM pre-training of the transformer encoder** (experiments: `spacy project run "
     "ablation-pretrain-trf`: en_medical's fine-tuning, same config, seed and budget, from the packaged encoder and "
     "from the MLM-adapted one; the pre-training text leaves out these dev documents; dev splits, F):"),
)


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


def finetune_table():
    return two_arm_table(
        "**LoRA against full fine-tuning of the encoder** (experiments: `spacy project run ablation-finetune`: "
        "configs/trf.cfg on BC5CDR's own labels, same seed and budget (`vars.ablation_bc5cdr_steps`); LoRA rank 16 at learn rate 5e-4, "
        "full fine-tuning at 5e-5; best dev checkpoint of each; `metrics/ablation_finetune_{lora,full}.json`):",
        (("LoRA", "ablation_finetune_lora"), ("full", "ablation_finetune_full")))


def spelling_table():
    return two_arm_table(
        "**A spelling encoder beside the transformer** (experiments: `spacy project run ablation-spelling`: the LoRA arm above against the same "
        "run with the ner also reading `spacy-medical.TransformerWithSpelling.v1`'s case-sensitive spelling features "
        "(`vars.spelling_width`); best dev checkpoint of each; `metrics/ablation_finetune_lora.json`, `metrics/ablation_spelling.json`):",
        (("transformer", "ablation_finetune_lora"), ("+ spelling", "ablation_spelling")))


def dictionary_tables():
    intro = ("**Dictionary features beside the spelling encoder, {corpus}** (experiments: `spacy project run ablation-lexicon`: {baseline} against "
             "the same run with the ner's spelling encoder also reading each token's Disease Ontology, Symptom Ontology and DrugBank "
             "match tag (`vars.lexicon_width`); best dev checkpoint of each; `metrics/{a}.json`, `metrics/{b}.json`):")
    arms = (("BC5CDR", "the spelling arm of ablation-spelling", "ablation_spelling", "ablation_lexicon_bc5cdr"),
            ("NCBI-disease", "bench-ncbi-trf's checkpoint scored without medical_abbreviations (the dictionary arm predates it)",
             "bench_ncbi_trf_no_abbreviations", "ablation_lexicon_ncbi"))
    return [line for corpus, baseline, a, b in arms for line in two_arm_table(
        intro.format(corpus=corpus, baseline=baseline, a=a, b=b), (("spelling", a), ("+ dictionaries", b)))]


def label_rule_table():
    return seeds_table(
        "**Labelling findings by surface or by concept** (experiments: `spacy project run ablation-labels`: en_medical_sm's NER, "
        "2,000 steps, seeds 0, 1 and 2, trained on `--symptom-mentions relabel` (en_medical's) and on `relabel-concept`, "
        "each scored on the dev split converted with its own rule; `metrics/ablation_labels_{surface,concept}_seed*.json`). "
        "The merged row (SYMPTOM merged into DISEASE) scores both against the same gold spans, BC5CDR's own Disease:",
        (("surface", "ablation_labels_surface_seed{seed}"), ("concept", "ablation_labels_concept_seed{seed}")))


def maccrobat_weight_table():
    return seeds_table(
        "**MACCROBAT's weight in the training mix** (experiments: `spacy project run ablation-maccrobat-weight`, once with "
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
        "**NCBI-disease in the training mix** (experiments: `spacy project run ablation-ncbi-weight`: en_medical_sm's NER, 2,000 steps, "
        "seeds 0, 1 and 2, NCBI-disease once per epoch (both shipped configs; the surface arm of ablation-labels) against "
        "left out (`--vars.ablation_ncbi_weight 0`)"
        + ("; experiments: `spacy project run ablation-ncbi-edges`: NCBI-disease once, its tokens away from a Disease mention marked missing "
           "(`convert --ncbi-outside edges`)" if edges else "")
        + "; dev splits; `metrics/ablation_labels_surface_seed*.json`, `metrics/ablation_ncbi_weight0_seed*.json`"
        + (", `metrics/ablation_ncbi_edges_seed*.json`" if edges else "") + "):",
        arms)


def trf_maccrobat_weight_table():
    shipped, lighter = load("trf_restored_dev"), load("ablation_trf_maccrobat_weight2")
    if not (shipped and lighter):
        return []
    return corpora_f_table(
        "**MACCROBAT's weight in en_medical's training mix** (experiments: `spacy project run ablation-trf-maccrobat-weight`: configs/trf.cfg "
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
                f"**en_medical's transformer NER, another seed, {split}** (experiments: `spacy project run ablation-trf-seed`: train-trf as shipped "
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
    return bench + ["**medical_abbreviations, en_medical** (experiments: `spacy project run evaluate-abbreviations`: `metrics/{split}_no_abbreviations.json`, "
            "the pipeline without it, against `metrics/{split}.json`, the same pipeline with it):", "",
            "| split | corpus | label | without P | R | F | with P | R | F |", "|---|---|---|---:|---:|---:|---:|---:|---:|"] + rows + [""]


def ncbi_grouped_tables():
    intro = ("**Sentences per Doc, NCBI-disease, {what}** (experiments: `spacy project run ablation-ncbi-grouped`: bench-ncbi-trf, one sentence "
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
    out = [f"**Sentences per Doc, NCBI-disease, seeds {names}** (experiments: `spacy project run ablation-ncbi-seed --vars.ablation_ncbi_seed N`: "
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


def dx_table():
    """en_medical_dx's arms, all scored in one evaluate-dx run (metrics/dx.json), dev columns first."""
    report = load("dx")
    if not report:
        return []
    shipped = report.get("shipped", {}).get("system")
    out = ["**Diagnosis suggestions, every arm in one run** (`spacy project run evaluate-dx`, `metrics/dx.json`; dev and test are "
           "Symptom2Disease's near-duplicate-free split, OOD the 48 hand-written descriptions of `corpus/dx_ood.jsonl`; "
           f"shipped: `{shipped}`):", "",
           "| arm | dev top-1 | dev macro F1 | test top-1 | test macro F1 | OOD top-1 | OOD top-3 |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, system in report["systems"].items():
        dev, test, ood = system["dev"], system["test"], system["ood"]
        out.append(f"| {name}{' (shipped)' if name == shipped else ''} | {dev['accuracy']:.3f} | {dev['macro']['f1']:.3f} "
                   f"| {test['accuracy']:.3f} | {test['macro']['f1']:.3f} | {ood['accuracy']:.3f} | {ood['top3']:.3f} |")
    return out + [""]
