"""Concept linking on BC5CDR: gold-mention accuracy@1 and document-level disease concept P/R/F.

- Gold mentions: every BC5CDR mention is given to the linker as a span (Disease as DISEASE,
  Chemical as DRUG); it is correct when the MeSH code of its link is one of the gold ids
  ("D001|D002" gives two). Mentions without a gold id ("-1") count only in the NIL tuning.
- Dictionary baseline, in the same run: the mention's lowercased surface looked up in the
  training mentions (most frequent id), then in MeSH names and entry terms.
- Ranking weights and the NIL threshold are chosen on dev, with a KB whose aliases and priors come
  from train only; test is scored with the shipped KB (train + dev). Test is never used to build
  or tune anything.
- Composite mentions ("breast and ovarian cancer": D001943|D010051): the share of their gold ids
  found by the mention's link alone, and by the link plus `composite_links` (one link per part).
- End to end (BioCreative V DNER): per abstract, the set of MeSH codes of the pipeline's DISEASE
  and SYMPTOM entities against the set of gold Disease ids; micro P/R/F over abstracts.
"""
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import spacy
from spacy.language import Language
from spacy.tokens import Span
from spacy.util import filter_spans

from ..io.lexicons import read_mesh
from ..io.pubtator import read_pubtator
from ..kb import Candidate, ConceptKB
from ..pipeline.linker import MedicalLinker

PUBTATOR_LABELS = {"Disease": "DISEASE", "Chemical": "DRUG"}
PRIOR_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)
THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(0, 41))
POOL = 50


class GoldMention:
    def __init__(self, span: Span, kind: str, gold: Set[str]):
        self.span, self.kind, self.gold = span, kind, gold


def gold_mentions(path: Path, nlp: Language) -> Tuple[List[GoldMention], Dict[str, Set[str]]]:
    """Spans for every mention of a PubTator file, with `doc.spans["abbreviations"]` set as
    `medical_abbreviations` sets it, and the gold Disease ids per document."""
    abbreviations = nlp.create_pipe("medical_abbreviations")  # its factory settings, not added to nlp
    mentions: List[GoldMention] = []
    doc_diseases: Dict[str, Set[str]] = {}
    for document in read_pubtator(path):
        doc = nlp.make_doc(document.text)
        doc_mentions = []
        for m in document.mentions:
            span = doc.char_span(m.start, m.end, label=PUBTATOR_LABELS[m.type], alignment_mode="expand")
            gold = {g for g in m.concept.split("|") if g and g != "-1"}
            doc_mentions.append(GoldMention(span, m.type, gold))
        doc.ents = filter_spans([m.span for m in doc_mentions])
        abbreviations(doc)
        mentions += doc_mentions
        doc_diseases[document.doc_id] = {g for m in doc_mentions if m.kind == "Disease" for g in m.gold}
    return mentions, doc_diseases


def mesh_code(kb: ConceptKB, candidate: Optional[Candidate]) -> Optional[str]:
    return kb.concepts[candidate.concept]["codes"].get("MESH") if candidate else None


def rescore(pool: List[Candidate], prior_weight: float) -> Optional[Candidate]:
    """The best of a candidate pool under another prior weight (the formula of ConceptKB)."""
    if not pool:
        return None
    score = lambda c: c.similarity + prior_weight * c.prior  # noqa: E731
    best = min(pool, key=lambda c: (-score(c), c.concept))
    return Candidate(best.concept, best.id, best.name, score(best), best.similarity, best.prior, best.exact)


def accuracy(kb: ConceptKB, mentions: Sequence[GoldMention], links: Sequence[Optional[Candidate]]) -> Dict[str, Dict[str, float]]:
    """Accuracy@1 per BC5CDR type on mentions with a gold id (NIL links count as wrong)."""
    result = {}
    for kind in PUBTATOR_LABELS:
        pairs = [(m, link) for m, link in zip(mentions, links) if m.kind == kind and m.gold]
        correct = sum(mesh_code(kb, link) in m.gold for m, link in pairs)
        result[kind] = {"accuracy": round(correct / max(len(pairs), 1), 4), "correct": correct, "mentions": len(pairs)}
    return result


def candidate_pools(linker: MedicalLinker, kb: ConceptKB, mentions: Sequence[GoldMention]) -> List[List[Candidate]]:
    """Up to POOL candidates per mention, ranked by string similarity alone (exact and prior
    candidates all have similarity 1, so every one of them is in the pool)."""
    kb.set_prior_weight(0.0)
    texts = [linker.query_text(m.span) for m in mentions]
    groups = [linker.cfg["label_groups"][m.span.label_] for m in mentions]
    pools = kb.candidates_batch(texts, groups, k=POOL)
    linker.set_kb(kb)  # with the linker's prior weight
    return pools


def tune(kb: ConceptKB, mentions: Sequence[GoldMention], pools: Sequence[List[Candidate]]) -> Dict[str, object]:
    """The prior weight by mean Disease/Chemical accuracy on dev, then the NIL threshold that
    makes the most right decisions (a right link, or NIL for a mention with no gold id)."""
    grid = {}
    for prior_weight in PRIOR_WEIGHTS:
        scores = accuracy(kb, mentions, [rescore(pool, prior_weight) for pool in pools])
        grid[prior_weight] = (scores["Disease"]["accuracy"] + scores["Chemical"]["accuracy"]) / 2
    prior_weight = max(grid, key=lambda w: (grid[w], -w))
    links = [rescore(pool, prior_weight) for pool in pools]
    right: Dict[float, int] = {}
    for threshold in THRESHOLDS:
        right[threshold] = sum(
            (mesh_code(kb, link) in m.gold) if (link and link.score >= threshold) else not m.gold
            for m, link in zip(mentions, links)
        )
    threshold = max(THRESHOLDS, key=lambda t: (right[t], -t))
    return {
        "prior_weight": prior_weight, "threshold": threshold,
        "grid_mean_accuracy": {str(p): round(v, 4) for p, v in grid.items()},
        "nil_mentions": sum(1 for m in mentions if not m.gold),
    }


def dictionary_baseline(train_files: Iterable[Path], mesh_path: Optional[Path] = None) -> Dict[str, str]:
    """Lowercased surface -> MeSH id: the most frequent id of training mentions, then (when
    `mesh_path` is given) MeSH names and entry terms."""
    counts: Dict[str, Counter] = defaultdict(Counter)
    for path in train_files:
        for document in read_pubtator(path):
            for m in document.mentions:
                if m.concept and m.concept != "-1":
                    counts[m.surface.lower()][m.concept] += 1
    table = {surface: ids.most_common(1)[0][0] for surface, ids in counts.items()}
    if mesh_path is None:
        return table
    for descriptor in read_mesh(mesh_path):
        for name in (descriptor.name, *descriptor.synonyms):
            table.setdefault(name.lower(), descriptor.id)
    return table


def baseline_accuracy(table: Dict[str, str], mentions: Sequence[GoldMention]) -> Dict[str, Dict[str, float]]:
    result = {}
    for kind in PUBTATOR_LABELS:
        pairs = [m for m in mentions if m.kind == kind and m.gold]
        correct = sum(bool(set(table.get(m.span.text.lower(), "").split("|")) & m.gold) for m in pairs)
        result[kind] = {"accuracy": round(correct / max(len(pairs), 1), 4), "correct": correct, "mentions": len(pairs)}
    return result


def recall_at_k(kb: ConceptKB, mentions: Sequence[GoldMention], pools: Sequence[List[Candidate]], k: int) -> Dict[str, float]:
    """Share of mentions whose gold id is among the first k candidates (candidate generation's ceiling)."""
    result = {}
    for kind in PUBTATOR_LABELS:
        pairs = [(m, pool) for m, pool in zip(mentions, pools) if m.kind == kind and m.gold]
        found = sum(any(mesh_code(kb, c) in m.gold for c in pool[:k]) for m, pool in pairs)
        result[kind] = round(found / max(len(pairs), 1), 4)
    return result


def composite_scores(kb: ConceptKB, linker: MedicalLinker, mentions: Sequence[GoldMention]) -> Dict[str, object]:
    """Gold ids of mentions with several found by the link alone and with the composite parts'
    links; and of all parts linked (on mentions with a gold id), the share whose MeSH id is gold."""
    spans = [m.span for m in mentions]
    links = [mesh_code(kb, linker.best(candidates)) for candidates in linker.link(spans)]
    parts = [[mesh_code(kb, linker.best(ranked)) for _, ranked in p] if p else [] for p in linker.link_composites(spans)]
    several = [i for i, m in enumerate(mentions) if len(mentions[i].gold) > 1]
    gold_ids = sum(len(mentions[i].gold) for i in several)
    alone = sum(len(mentions[i].gold & {links[i]}) for i in several)
    together = sum(len(mentions[i].gold & {links[i], *parts[i]}) for i in several)
    linked_parts = [(code, m.gold) for m, codes in zip(mentions, parts) if m.gold for code in codes if code]
    return {
        "mentions_with_several_ids": len(several), "their_gold_ids": gold_ids,
        "found_by_link": round(alone / max(gold_ids, 1), 4), "found_with_composite_links": round(together / max(gold_ids, 1), 4),
        "mentions_split": sum(1 for m, p in zip(mentions, parts) if p and m.gold), "parts_linked": len(linked_parts),
        "parts_correct": round(sum(code in gold for code, gold in linked_parts) / max(len(linked_parts), 1), 4),
    }


def document_concepts(nlp: Language, path: Path, thresholds: Optional[Sequence[float]] = None) -> Dict[str, object]:
    """BioCreative V DNER: micro P/R/F of per-abstract sets of disease MeSH ids.

    thresholds (Optional[Sequence[float]]): Also score with these NIL thresholds (the pipeline
        runs once, linking everything; a link counts at threshold t when its score is >= t).
    RETURNS (Dict[str, object]): P/R/F at the linker's own threshold, and per threshold under
        "by_threshold" when thresholds are given.
    """
    linker = nlp.get_pipe("medical_linker")
    own = linker.cfg["threshold"]
    levels = sorted({own, *(thresholds or ())})
    counts = {t: [0, 0, 0] for t in levels}  # tp, fp, fn
    documents = list(read_pubtator(path))
    linker.cfg["threshold"] = min(levels)
    try:
        for document, doc in zip(documents, nlp.pipe(d.text for d in documents)):
            gold = {g for m in document.mentions if m.type == "Disease" for g in m.concept.split("|") if g and g != "-1"}
            links = [((ent._.codes or {}).get("MESH"), ent._.candidates[0]["score"])
                     for ent in doc.ents if ent.label_ in ("DISEASE", "SYMPTOM") and ent.kb_id_]
            for t, c in counts.items():
                predicted = {code for code, score in links if code and score >= t}
                c[0], c[1], c[2] = c[0] + len(predicted & gold), c[1] + len(predicted - gold), c[2] + len(gold - predicted)
    finally:
        linker.cfg["threshold"] = own

    def prf(tp: int, fp: int, fn: int) -> Dict[str, float]:
        p, r = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
        return {"p": round(p, 4), "r": round(r, 4), "f": round(2 * p * r / max(p + r, 1e-9), 4)}

    result: Dict[str, object] = {**prf(*counts[own]), "documents": len(documents)}
    if thresholds:
        result["by_threshold"] = {str(t): prf(*counts[t]) for t in levels}
    return result


def with_linker(model: str, kb: ConceptKB, linker_cfg: Dict[str, object]) -> Language:
    """The pipeline `model`, with medical_abbreviations and a medical_linker on `kb` added at
    its end when it has none (a NER-only pipeline, or one built before the linker existed)."""
    nlp = spacy.load(model)
    if "medical_linker" not in nlp.pipe_names:
        if "medical_abbreviations" not in nlp.pipe_names:
            nlp.add_pipe("medical_abbreviations")
        nlp.add_pipe("medical_linker", config=linker_cfg).set_kb(kb)
    return nlp


def evaluate_linking(corpora: Path, kb_path: Path, model: Optional[str] = None) -> Dict[str, object]:
    """Everything of the module doc, as one JSON-serializable report.

    corpora (Path): The corpora folder (bc5cdr/pubtator, lexicons).
    kb_path (Path): The shipped KB (`spacy project run kb`: aliases and priors from train + dev).
    model (Optional[str]): A pipeline for the end-to-end measure (skipped when None).
    """
    from ..kb.build import build_kb

    pubtator = corpora / "bc5cdr" / "pubtator"
    train, dev, test = (pubtator / f"CDR_{s}.PubTator.txt" for s in ("TrainingSet", "DevelopmentSet", "TestSet"))
    mesh_path = corpora / "lexicons" / "mesh" / "mesh_descriptors.tsv"
    nlp = spacy.blank("en")
    linker: MedicalLinker = nlp.add_pipe("medical_linker")
    report: Dict[str, object] = {"kb": {"dev": "built in this run, train only", "test": str(kb_path)}}

    kb_train, _ = build_kb(corpora / "lexicons", [train])
    dev_mentions, _ = gold_mentions(dev, nlp)
    dev_pools = candidate_pools(linker, kb_train, dev_mentions)
    tuning = tune(kb_train, dev_mentions, dev_pools)
    report["tuning"] = tuning
    chosen = {key: tuning[key] for key in ("prior_weight", "threshold")}
    linker.cfg.update(chosen)
    report["factory_defaults_match_tuning"] = all(linker.cfg[k] == v for k, v in nlp.get_pipe_meta("medical_linker").default_config.items() if k in chosen)

    kb_shipped = ConceptKB.from_disk(kb_path)
    e2e_levels: List[float] = []  # the end-to-end threshold chosen on dev, scored again on test
    for split, path, kb, mentions, dictionary_files in (
        ("dev", dev, kb_train, dev_mentions, [train]),
        ("test", test, kb_shipped, None, [train, dev]),
    ):
        mentions = mentions if mentions is not None else gold_mentions(path, nlp)[0]
        pools = dev_pools if split == "dev" else candidate_pools(linker, kb, mentions)
        linker.set_kb(kb)
        links = [linker.best(candidates) for candidates in linker.link([m.span for m in mentions])]
        report[split] = {
            "linker": accuracy(kb, mentions, links),
            "recall_at_5": recall_at_k(kb, mentions, pools, 5),
            "recall_at_50": recall_at_k(kb, mentions, pools, POOL),
            "baseline_train_dictionary": baseline_accuracy(dictionary_baseline(dictionary_files), mentions),
            "baseline_train_dictionary_and_mesh": baseline_accuracy(dictionary_baseline(dictionary_files, mesh_path), mentions),
            "composite": composite_scores(kb, linker, mentions),
        }
        if model:
            # The NIL threshold for whole pipelines is chosen on dev, where the NER's false
            # positives (which gold mentions lack) are what a threshold can remove.
            e2e = document_concepts(with_linker(model, kb, linker.cfg), path, THRESHOLDS if split == "dev" else e2e_levels)
            if split == "dev":
                by_threshold = e2e["by_threshold"]
                e2e_threshold = float(max(by_threshold, key=lambda t: (by_threshold[t]["f"], -float(t))))
                e2e_levels = [e2e_threshold]
                report["tuning"]["end_to_end_threshold"] = e2e_threshold
            report[split]["end_to_end"] = {"model": model, **e2e}
    return report
