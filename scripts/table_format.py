"""Shared pieces of the generated results tables: loading metrics/*.json, number formats, and the
side-by-side tables that refuse to compare runs scored with different pipeline components."""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METRICS = ROOT / "metrics"


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


def f3(x):
    return f"{x:.3f}"


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
