"""Evaluate `medical_details` on MACCROBAT: spans per label and attribute -> DRUG/TEST links.

Strict character offsets: a predicted span is right when its start, end and label equal a gold
span's; a link is right when both its attribute span and its entity span are exact. Systems,
measured in the same run on the same documents:
- "rules": the regex rules and TEST names only;
- "model": the trained details span model (the spancat) only (if given), "both": its union with the rules;
- "ner", "ner_both": the same for the second span model, the CNN NER `medical_details_ner` (if given);
- "chosen": per label, the source ("rules", "model" or "both") with the best F on dev, the way
  the shipped default `sources` was set, with the span model ("chosen_model": "spancat" or "ner")
  whose per-label choice has the better mean F over the labels on dev.
The entities the details start from are a NER's predictions (`ner_model`, e.g. en_medical's
restored transformer NER), or else gold DRUG mentions (MACCROBAT Medication); "entities_from"
in the report says which. The linkers alone are also scored on gold attribute and entity spans
("links_on_gold_spans").
"""
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

import spacy
import srsly
from spacy.language import Language
from spacy.tokens import Doc

from ..errors import Errors
from ..io.maccrobat_details import SPANS_KEY, CharSpan, DetailsGold, link_examples, read_details_gold
from ..pipeline.details import ATTRIBUTE_LABELS, ENTITY_LABELS
from ..pipeline.details_links import link_learned, link_nearest, train_link_weights

SPAN_LABELS = ATTRIBUTE_LABELS + ENTITY_LABELS


def prf(tp: int, n_pred: int, n_gold: int) -> Dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return {"p": p, "r": r, "f": 2 * p * r / (p + r) if p + r else 0.0, "tp": tp, "pred": n_pred, "gold": n_gold}


SPAN_MODEL_PIPES = ("details_spancat", "details_ner")


def details_pipeline(model: Optional[Path], sources: Dict[str, str], link_weights: Optional[Dict] = None) -> Language:
    """A blank pipeline with sentences, the details span model (if given) and medical_details
    (with the learned linker when `link_weights` are given, else the nearest-attribute rule)."""
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_sentences")
    if model is not None:
        add_details_model(nlp, model)
    # Only the new component is initialized: nlp.initialize() would reset the sourced model's weights.
    linker = "learned" if link_weights else "nearest"
    nlp.add_pipe("medical_details", config={"sources": sources, "linker": linker}).initialize(link_weights=link_weights)
    return nlp


def add_details_model(nlp: Language, model: Path, before: Optional[str] = None) -> None:
    """Source a trained details span model (configs/details_spancat.cfg or configs/details_ner.cfg) into a pipeline.

    model (Path): The trained pipeline folder (e.g. training/details_ner/model-best).
    before (Optional[str]): Insert before this pipe (e.g. "medical_details"); default: at the end.
    """
    source = spacy.load(model)
    names = [name for name in SPAN_MODEL_PIPES if name in source.pipe_names]
    if not names or _spans_key(source.get_pipe(names[0])) != SPANS_KEY:
        raise ValueError(Errors.E706.format(path=model, key=SPANS_KEY))
    nlp.add_pipe(names[0], source=source, before=before)


def _spans_key(pipe) -> Optional[str]:
    # spaCy's spancat calls it `key`; medical_details_ner `spans_key`.
    return getattr(pipe, "key", None) or getattr(pipe, "spans_key", None)


def ner_entities(ner_model: Optional[Path], golds: Sequence[DetailsGold]) -> List[List[CharSpan]]:
    """The entities each document starts with: a NER's predictions, or gold DRUG (Medication) mentions.

    ner_model (Optional[Path]): A pipeline with the NER (e.g. training/trf_restored); None for gold DRUG.
    """
    if ner_model is None:
        return [[span for span in gold.spans if span[2] == "DRUG"] for gold in golds]
    ner = spacy.load(ner_model)
    return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in ner.pipe(g.text for g in golds)]


def predict(nlp: Language, golds: Sequence[DetailsGold], entities: Sequence[Sequence[CharSpan]]) -> List[Doc]:
    """Run the pipeline on each document with the given entities set first (they stand in for the NER)."""
    docs = []
    for gold, ents in zip(golds, entities):
        doc = nlp.make_doc(gold.text)
        spans = [doc.char_span(s, e, label=label, alignment_mode="expand") for s, e, label in ents]
        doc.set_ents(spacy.util.filter_spans([span for span in spans if span is not None]))
        for _, pipe in nlp.pipeline:
            doc = pipe(doc)
        docs.append(doc)
    return docs


def score_docs(docs: Sequence[Doc], golds: Sequence[DetailsGold]) -> Dict[str, Dict]:
    """Per-label span P/R/F and link P/R/F of predicted Docs against gold."""
    tp, n_pred, n_gold = Counter(), Counter(), Counter()
    link_tp = link_pred = link_gold = 0
    for doc, gold in zip(docs, golds):
        predicted = {(s.start_char, s.end_char, s.label_) for s in doc.spans["attributes"]}
        predicted |= {(e.start_char, e.end_char, e.label_) for e in doc.ents if e.label_ in ENTITY_LABELS}
        expected = {span for span in gold.spans if span[2] in SPAN_LABELS}
        for label in SPAN_LABELS:
            p = {s for s in predicted if s[2] == label}
            g = {s for s in expected if s[2] == label}
            tp[label] += len(p & g)
            n_pred[label] += len(p)
            n_gold[label] += len(g)
        links = {((a_s, a_e, a_l), (e_s, e_e, e_l)) for a_s, a_e, a_l, e_s, e_e, e_l in doc._.attribute_links or []}
        link_tp += len(links & gold.links)
        link_pred += len(links)
        link_gold += len(gold.links)
    spans = {label: prf(tp[label], n_pred[label], n_gold[label]) for label in SPAN_LABELS}
    attributes = prf(sum(tp[x] for x in ATTRIBUTE_LABELS), sum(n_pred[x] for x in ATTRIBUTE_LABELS), sum(n_gold[x] for x in ATTRIBUTE_LABELS))
    return {"spans": spans, "attributes_micro": attributes, "links": prf(link_tp, link_pred, link_gold)}


def score_links_on_gold_spans(nlp: Language, golds: Sequence[DetailsGold], max_gap: int, link_weights: Optional[Dict] = None) -> Dict[str, Dict]:
    """The linkers alone: link P/R/F on gold attribute and entity spans."""
    linkers = {"nearest": lambda doc, a, e: link_nearest(doc, a, e, max_gap)}
    if link_weights:
        linkers["learned"] = lambda doc, a, e: link_learned(doc, a, e, link_weights, max_gap)
    key = lambda span: (span.start_char, span.end_char, span.label_)  # noqa: E731
    examples = list(link_examples(nlp, golds))
    report = {}
    for name, linker in linkers.items():
        tp = n_pred = n_gold = 0
        for doc, attributes, entities, gold in examples:
            predicted = {(key(a), key(e)) for a, e in linker(doc, attributes, entities)}
            expected = {(key(a), key(e)) for a, e in gold}
            tp += len(predicted & expected)
            n_pred += len(predicted)
            n_gold += len(expected)
        report[name] = prf(tp, n_pred, n_gold)
    return report


def choose_sources(by_system: Dict[str, Dict], labels: Iterable[str] = SPAN_LABELS, min_gold: int = 10, model: str = "model") -> Dict[str, str]:
    """Per label, the source with the best dev F (ties: rules, the simpler and faster).

    A label with fewer than `min_gold` dev spans (FREQUENCY has 1) is too rare to choose by: it
    keeps the rules, unless it has none (PROCEDURE), then the model.
    model (str): The systems of the span model: `model` and `{model}_both` ("model" and "both"
        for the spancat, "ner" and "ner_both" for medical_details_ner).
    """
    systems = {"rules": "rules", "model": model, "both": "both" if model == "model" else f"{model}_both"}
    chosen = {}
    for label in labels:
        scores = {source: by_system[system]["spans"][label]["f"] for source, system in systems.items() if system in by_system}
        best = max(scores, key=lambda s: (scores[s], s == "rules"))
        if by_system["rules"]["spans"][label]["gold"] < min_gold:
            best = "rules"
        chosen[label] = best if scores[best] > 0 or best == "rules" else "none"
    return chosen


def mean_f(scores: Dict, labels: Iterable[str] = SPAN_LABELS) -> float:
    """The mean span F over `labels` (each label counts once, however frequent)."""
    labels = list(labels)
    return sum(scores["spans"][label]["f"] for label in labels) / len(labels)


def evaluate_details(model: Optional[Path] = None, link_weights: Optional[Path] = None, folder: Optional[Path] = None, max_gap: int = 10,
                     ner_model: Optional[Path] = None, details_ner: Optional[Path] = None) -> Dict:
    """Score rules, the span models and the per-label choice on MACCROBAT dev and test.

    model (Optional[Path]): Trained details spancat folder; without it (and `details_ner`) only the rules are scored.
    details_ner (Optional[Path]): Trained `medical_details_ner` folder (configs/details_ner.cfg), a second span model.
    link_weights (Optional[Path]): Learned linker weights; adds "chosen_learned_links" beside
        "chosen" (nearest-attribute rule) and the learned linker on gold spans.
    folder (Optional[Path]): MACCROBAT BRAT folder; defaults to the corpora folder's.
    ner_model (Optional[Path]): The NER whose entities the details start from (DRUG to link to;
        TEST is added only where it overlaps none); None: gold DRUG mentions.
    RETURNS (Dict): {"dev"|"test": {system: scores}, "chosen_sources": {...}, ...}.
    """
    weights = srsly.read_json(link_weights) if link_weights else None
    golds = {split: list(read_details_gold(split, folder)) for split in ("dev", "test")}
    entities = {split: ner_entities(ner_model, golds[split]) for split in golds}
    span_models = {name: path for name, path in (("model", model), ("ner", details_ner)) if path is not None}
    # (system, span model folder or None, source of every label)
    systems = [("rules", None, "rules")]
    for name, path in span_models.items():
        systems += [(name, path, "model"), ("both" if name == "model" else f"{name}_both", path, "both")]
    report: Dict = {"dev": {}, "test": {}}
    for split in ("dev", "test"):
        for name, path, source in systems:
            nlp = details_pipeline(path, {label: source for label in SPAN_LABELS})
            report[split][name] = score_docs(predict(nlp, golds[split], entities[split]), golds[split])
    # Per label among rules / model / both, for each span model; the span model with the better
    # mean dev F of its choice is the one shipped (a pipeline carries one span model).
    candidates = {}
    for name, path in span_models.items():
        sources = choose_sources(report["dev"], model=name)
        candidates[name] = (path, sources, mean_f(score_docs(predict(details_pipeline(path, sources), golds["dev"], entities["dev"]), golds["dev"])))
    chosen_name = max(candidates, key=lambda name: candidates[name][2]) if candidates else None
    model, chosen, _ = candidates[chosen_name] if candidates else (None, choose_sources(report["dev"]), 0.0)
    report["chosen_sources"] = chosen
    report["chosen_model"] = {"model": "spancat", "ner": "ner"}.get(chosen_name)
    report["chosen_mean_dev_f"] = {("spancat" if name == "model" else name): round(c[2], 4) for name, c in candidates.items()}
    for split in ("dev", "test"):
        nlp = details_pipeline(model, chosen)
        report[split]["chosen"] = score_docs(predict(nlp, golds[split], entities[split]), golds[split])
        if weights:
            learned = details_pipeline(model, chosen, weights)
            report[split]["chosen_learned_links"] = score_docs(predict(learned, golds[split], entities[split]), golds[split])
        report[split]["links_on_gold_spans"] = score_links_on_gold_spans(nlp, golds[split], max_gap, weights)
    report["documents"] = {split: len(g) for split, g in golds.items()}
    report["model"] = str(model) if model else None
    report["span_models"] = {("spancat" if name == "model" else name): str(path) for name, path in span_models.items()}
    report["entities_from"] = str(ner_model) if ner_model else "gold DRUG (MACCROBAT Medication)"
    report["link_weights"] = str(link_weights) if link_weights else None
    return report


def train_linker(output: Path, folder: Optional[Path] = None, max_gap: int = 10) -> Dict[str, float]:
    """Fit the learned linker on MACCROBAT train's gold spans and MODIFY links; write its weights as JSON."""
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_sentences")
    weights = train_link_weights(link_examples(nlp, read_details_gold("train", folder)), max_gap)
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    srsly.write_json(output, weights)
    return weights


def evaluate_details_to_file(output: Path, model: Optional[Path] = None, link_weights: Optional[Path] = None, folder: Optional[Path] = None,
                             ner_model: Optional[Path] = None, details_ner: Optional[Path] = None) -> Dict:
    """Run `evaluate_details` and write the report as JSON."""
    report = evaluate_details(model, link_weights, folder, ner_model=ner_model, details_ner=details_ner)
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    srsly.write_json(output, report)
    return report


# The systems' names in the tables: "model" and "both" are the spancat's (the report's keys predate the NER).
SYSTEM_NAMES = {"rules": "rules", "model": "spancat", "both": "spancat+rules", "ner": "NER", "ner_both": "NER+rules", "chosen": "chosen"}


def results_markdown(report: Dict, speed: Optional[Dict] = None) -> str:
    """Markdown tables of a `metrics/details.json` report (and `metrics/details_speed.json`)."""
    systems = [s for s in ("rules", "model", "both", "ner", "ner_both", "chosen") if s in report["test"]]
    head = "| label | " + " | ".join(f"{SYSTEM_NAMES[s]} dev F | {SYSTEM_NAMES[s]} test P/R/F" for s in systems) + " |"
    lines = [head, "|" + "---|" * (1 + 2 * len(systems))]
    for label in SPAN_LABELS:
        cells = []
        for system in systems:
            dev, test = report["dev"][system]["spans"][label], report["test"][system]["spans"][label]
            cells.append(f"{dev['f']:.3f} | {test['p']:.3f} / {test['r']:.3f} / **{test['f']:.3f}** (n={test['gold']})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", f"Span model chosen on dev: {report.get('chosen_model')} (mean dev F of each one's per-label choice: "
              f"{report.get('chosen_mean_dev_f')}); sources: `{report['chosen_sources']}`", "", "| links (attribute -> DRUG/TEST, both spans exact) | dev P/R/F | test P/R/F |", "|---|---|---|"]
    fmt = lambda s: f"{s['p']:.3f} / {s['r']:.3f} / {s['f']:.3f}"  # noqa: E731
    for system in systems:
        lines.append(f"| {SYSTEM_NAMES[system]} spans, nearest rule | {fmt(report['dev'][system]['links'])} | {fmt(report['test'][system]['links'])} |")
    if "chosen_learned_links" in report["test"]:
        lines.append(f"| chosen spans, learned linker | {fmt(report['dev']['chosen_learned_links']['links'])} | {fmt(report['test']['chosen_learned_links']['links'])} |")
    for name, scores in report["test"]["links_on_gold_spans"].items():
        lines.append(f"| gold spans, {name} | {fmt(report['dev']['links_on_gold_spans'][name])} | {fmt(scores)} |")
    if speed:
        lines += ["", "| pipeline | words/s | ratio to base |", "|---|---|---|"]
        lines += [f"| {arm} | {wps} | {speed['ratio_to_base'][arm]:.3f} |" for arm, wps in speed["words_per_second"].items()]
        lines.append(f"\nSpeed: {speed['texts']}, {speed['words']} words, base = {speed['base_model']}, best of {speed['rounds']} rounds.")
    return "\n".join(lines)
