"""Regenerate the results tables of README.md from metrics/*.json (never typed by hand).

Replaces the text between `<!-- metrics:start -->` and `<!-- metrics:end -->`.
"""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METRICS = ROOT / "metrics"
START, END = "<!-- metrics:start -->", "<!-- metrics:end -->"
PUBLISHED = {
    "bc5cdr": [("scispaCy en_ner_bc5cdr_md", "84.28"), ("Stanza (bc5cdr)", "88.08")],
    "ncbi": [("scispaCy en_ner_bc5cdr_md / NCBI model", "81.65"), ("Stanza (ncbi_disease)", "87.49")],
}


def load(name):
    path = METRICS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf8")) if path.exists() else None


def pct(x):
    return f"{100 * x:.1f}"


def per_label_rows(report, corpora, labels):
    rows = []
    for corpus in corpora:
        if corpus not in report:
            continue
        per_type = report[corpus]["scores"]["ents_per_type"]
        for label in labels.get(corpus, sorted(per_type)):
            if label in per_type:
                s = per_type[label]
                rows.append(f"| {corpus} | {label} | {pct(s['p'])} | {pct(s['r'])} | {pct(s['f'])} |")
    return rows


def ner_tables():
    out = []
    labels = {"maccrobat": ["DISEASE", "SYMPTOM", "DRUG"], "bc5cdr": ["DISEASE", "SYMPTOM", "DRUG"], "ncbi": ["DISEASE", "SYMPTOM"]}
    for split in ("test", "dev"):
        report = load(split)
        if not report:
            continue
        out += [f"**en_medical on the {split} splits** (`metrics/{split}.json`, label definitions harmonized as described under *Training data*):", "",
                "| corpus | label | P | R | F |", "|---|---|---:|---:|---:|"]
        out += per_label_rows(report, ["maccrobat", "bc5cdr", "ncbi"], labels)
        out.append("")
        merged = [(c, r["merged"]["scores"]) for c, r in report.items() if "merged" in r and c != "maccrobat"]
        if merged:
            out += [f"With SYMPTOM merged into DISEASE on both sides, i.e. on the corpora's own Disease definition ({split}):", "",
                    "| corpus | DISEASE P | R | F |", "|---|---:|---:|---:|"]
            for corpus, scores in merged:
                s = scores["ents_per_type"].get("DISEASE")
                if s:
                    out.append(f"| {corpus} | {pct(s['p'])} | {pct(s['r'])} | {pct(s['f'])} |")
            out.append("")
    return out


def bench_tables():
    out = []
    for name, title in (("bc5cdr", "BC5CDR (CHEMICAL + DISEASE)"), ("ncbi", "NCBI-disease (DISEASE)")):
        report = load(f"bench_{name}")
        if not report:
            continue
        scores = report["test"]["scores"]
        out += [f"**{title} test, same CNN architecture trained on the benchmark's own labels** (`metrics/bench_{name}.json`):", "",
                "| system | P | R | F |", "|---|---:|---:|---:|",
                f"| spacy-medical CNN (this repo, measured) | {pct(scores['ents_p'])} | {pct(scores['ents_r'])} | {pct(scores['ents_f'])} |"]
        for system, f in PUBLISHED[name]:
            out.append(f"| {system} (published) | | | {f} |")
        per_type = ", ".join(f"{label} F {pct(s['f'])}" for label, s in scores["ents_per_type"].items())
        out += ["", f"Per label: {per_type}.", ""]
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


def speed_table():
    report = load("speed")
    if not report:
        return []
    return [f"**Speed** (`bench/speed.py`, {report['texts']} texts, {report['words']} words, {report['cores']} cores, same run):", "",
            "| pipeline | words/s | ratio |", "|---|---:|---:|",
            f"| blank spaCy CNN `ner` (baseline) | {report['baseline_wps']:.0f} | 1.00 |",
            f"| {report['model']} | {report['model_wps']:.0f} | {report['ratio']:.2f} |", ""]


def main() -> None:
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf8")
    if START not in text or END not in text:
        raise SystemExit(f"{readme} has no {START} ... {END} block")
    body = ner_tables() + bench_tables() + ablation_table() + speed_table()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(head + START + "\n" + "\n".join(body) + "\n" + END + tail, encoding="utf8")


if __name__ == "__main__":
    main()
