"""Assertion evaluation: `medical_context` against negspacy's Negex, in the same run.

Both systems see the same documents with the same gold entities (and the same sentence
boundaries, from `medical_sentences`), so the comparison measures assertion alone. Two sets:

- `dev`: corpus/assertion_dev.jsonl, invented clinical sentences with all five qualifiers
  (see scripts/make_assertion_dev.py); an entity's `section` comes from the line's `section`.
- `maccrobat`: DISEASE/SYMPTOM entities (`Disease_disorder`, `Sign_symptom`) of the MACCROBAT
  test split (`spacy_medical.io.maccrobat.split_ids`); negated = the event on the span has
  `POLARITY NEG`, uncertain = `POLARITY UNCERTAIN`. Discontinuous spans are skipped and
  overlapping spans keep the longest (as in the NER conversion); counts are reported.

negspacy only negates, so its other qualifiers are not reported.
"""
import json
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import filter_spans

from ..errors import Errors
from ..labels import ASSERTIONS, DISEASE, SYMPTOM
from ..pipeline.assertion_scoring import assertion_score

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_PATH = REPO_ROOT / "corpus" / "assertion_dev.jsonl"
# Written after the rules were tuned on DEV_PATH and MACCROBAT train, scored blind: an estimate
# of how much the rules fit the dev set.
HOLDOUT_PATH = REPO_ROOT / "corpus" / "assertion_holdout.jsonl"
MACCROBAT_LABELS = {"Disease_disorder": DISEASE, "Sign_symptom": SYMPTOM}
# A gold item: (text, [(start_char, end_char, label, {qualifier: bool})], section or None)
GoldItem = Tuple[str, List[Tuple[int, int, str, Dict[str, bool]]], Optional[str]]


def read_dev_set(path: Path = DEV_PATH) -> List[GoldItem]:
    """Read the assertion dev set.

    path (Path): JSONL with `text`, `spans` (start, end, label and the five booleans), `section`.
    RETURNS (List[GoldItem]): One item per line.
    """
    items: List[GoldItem] = []
    with Path(path).open(encoding="utf8") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                spans = [(s["start"], s["end"], s["label"], {q: bool(s.get(q, False)) for q in ASSERTIONS})
                         for s in record["spans"]]
                items.append((record["text"], spans, record.get("section")))
            except (ValueError, KeyError, TypeError) as err:
                raise ValueError(Errors.E106.format(path=path, line=line_no, reason=f"bad record ({type(err).__name__})")) from None
    return items


def read_maccrobat_gold(split: str = "test", folder: Optional[Path] = None) -> Tuple[List[GoldItem], Dict[str, int]]:
    """Read MACCROBAT DISEASE/SYMPTOM spans with their polarity.

    split (str): "train", "dev", "test" or "all".
    folder (Optional[Path]): BRAT folder; defaults to the corpora folder's.
    RETURNS (Tuple[List[GoldItem], Dict[str, int]]): Items (one per document) and counts.
    """
    from ..io.maccrobat import read_maccrobat

    items: List[GoldItem] = []
    counts = {"documents": 0, "spans": 0, "discontinuous_skipped": 0}
    for bdoc in read_maccrobat(folder, None if split == "all" else split):
        counts["documents"] += 1
        spans = []
        for span in bdoc.spans:
            label = MACCROBAT_LABELS.get(span.type)
            if label is None:
                continue
            if span.discontinuous:
                counts["discontinuous_skipped"] += 1
                continue
            polarity = bdoc.span_attributes(span.id).get("POLARITY")
            quals = dict.fromkeys(ASSERTIONS, False)
            quals["negated"] = polarity == "NEG"
            quals["uncertain"] = polarity == "UNCERTAIN"
            spans.append((span.start, span.end, label, quals))
        counts["spans"] += len(spans)
        items.append((bdoc.text, spans, None))
    return items, counts


def make_docs(nlp: Language, items: Sequence[GoldItem]) -> Tuple[List[Doc], List[Doc], Dict[str, int]]:
    """Tokenize, split sentences and set gold entities; returns (predicted, reference) pairs.

    Overlapping gold spans keep the longest (`filter_spans`); spans whose characters do not
    align with tokens are expanded to token boundaries.
    """
    splitter = nlp.get_pipe("medical_sentences") if "medical_sentences" in nlp.pipe_names else None
    preds, refs = [], []
    dropped = 0
    for text, spans, section in items:
        doc = nlp.make_doc(text)
        if splitter is not None:
            doc = splitter(doc)
        ents, quals = [], {}
        for start, end, label, flags in spans:
            ent = doc.char_span(start, end, label=label, alignment_mode="expand")
            if ent is None:
                dropped += 1
                continue
            ents.append(ent)
            quals[(ent.start_char, ent.end_char, label)] = flags
        kept = filter_spans(ents)
        dropped += len(ents) - len(kept)
        doc.ents = kept
        ref = doc.copy()
        for ent in ref.ents:
            for q, value in quals[(ent.start_char, ent.end_char, ent.label_)].items():
                ent._.set(q, value)
        if section:
            for d in (doc, ref):
                for ent in d.ents:
                    ent._.section = section
        preds.append(doc)
        refs.append(ref)
    return preds, refs, {"entities_dropped_overlap_or_alignment": dropped}


def _negex_nlp(nlp: Language) -> Language:
    """A pipeline with only negspacy's Negex over the `en_clinical` termset."""
    import negspacy.negation  # noqa: F401  (negspacy has no entry point: importing registers `negex`)
    from negspacy.termsets import termset

    negex_nlp = spacy.blank(nlp.lang)
    negex_nlp.add_pipe(
        "negex",
        config={"neg_termset": termset("en_clinical").get_patterns(), "ent_types": [DISEASE, SYMPTOM]},
    )
    return negex_nlp


def compare(items: Sequence[GoldItem], nlp: Optional[Language] = None,
            qualifiers: Sequence[str] = ASSERTIONS) -> Dict[str, Any]:
    """Score `medical_context` and negspacy's Negex on the same documents.

    items (Sequence[GoldItem]): Gold data.
    nlp (Optional[Language]): A pipeline with `medical_sentences` and `medical_context`;
        a blank English one is built when None.
    qualifiers (Sequence[str]): Qualifiers the gold data annotates.
    RETURNS (Dict[str, Any]): {"medical_context": scores, "negspacy": scores, "counts": ...}.
    """
    if nlp is None:
        nlp = spacy.blank("en")
        nlp.add_pipe("medical_sentences")
        nlp.add_pipe("medical_context")
        nlp.initialize()
    context = nlp.get_pipe("medical_context")
    preds, refs, counts = make_docs(nlp, items)
    negex = _negex_nlp(nlp).get_pipe("negex")
    negex_preds = [d.copy() for d in preds]
    ours = [context(d) for d in preds]
    theirs = []
    for doc in negex_preds:
        doc = negex(doc)
        for ent in doc.ents:
            ent._.negated = bool(ent._.negex)
        theirs.append(doc)
    counts.update(documents=len(refs), entities=sum(len(r.ents) for r in refs))
    for q in qualifiers:
        counts[f"gold_{q}"] = sum(bool(e._.get(q)) for r in refs for e in r.ents)
    result: Dict[str, Any] = {"counts": counts}
    result["medical_context"] = _rounded(assertion_score([Example(p, r) for p, r in zip(ours, refs)],
                                                         qualifiers=qualifiers))
    result["negspacy"] = _rounded(assertion_score([Example(p, r) for p, r in zip(theirs, refs)],
                                                  qualifiers=("negated",)))
    return result


def _rounded(scores: Dict[str, Any]) -> Dict[str, Any]:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in scores.items()}


def evaluate_assertion(dev_path: Path = DEV_PATH, maccrobat_split: str = "test",
                       output: Optional[Path] = None, with_maccrobat: bool = True,
                       holdout_path: Optional[Path] = HOLDOUT_PATH) -> Dict[str, Any]:
    """Run the whole comparison and optionally write it as JSON.

    dev_path (Path): The assertion dev set.
    maccrobat_split (str): MACCROBAT split to score ("test" by default).
    output (Optional[Path]): Where to write the metrics JSON.
    with_maccrobat (bool): Also score MACCROBAT (needs the corpora folder).
    holdout_path (Optional[Path]): The blind hand-written set, scored when the file exists.
    RETURNS (Dict[str, Any]): {"dev": ..., "holdout": ..., "maccrobat": ..., "meta": ...}.
    """
    start = time.time()
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_sentences")
    nlp.add_pipe("medical_context")
    nlp.initialize()
    metrics: Dict[str, Any] = {"dev": compare(read_dev_set(dev_path), nlp)}
    if holdout_path is not None and Path(holdout_path).exists():
        metrics["holdout"] = compare(read_dev_set(holdout_path), nlp)
    if with_maccrobat:
        items, read_counts = read_maccrobat_gold(maccrobat_split)
        # MACCROBAT's POLARITY annotates negation and uncertainty only.
        metrics["maccrobat"] = compare(items, nlp, qualifiers=("negated", "uncertain"))
        metrics["maccrobat"]["counts"].update(read_counts, split=maccrobat_split)
    import negspacy

    metrics["meta"] = {
        "spacy": spacy.__version__, "negspacy": getattr(negspacy, "__version__", "1.1"),
        "negspacy_termset": "en_clinical", "seconds": round(time.time() - start, 1),
    }
    if output is not None:
        output = Path(output)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf8")
    return metrics


def format_table(metrics: Dict[str, Any]) -> str:
    """Markdown tables (one per evaluation set) of P/R/F per qualifier for both systems."""
    lines = []
    for name in ("dev", "holdout", "maccrobat"):
        if name not in metrics:
            continue
        m = metrics[name]
        lines += [f"\n{name} ({m['counts']['documents']} docs, {m['counts']['entities']} entities)\n",
                  "| qualifier | gold | system | P | R | F |", "|---|---|---|---|---|---|"]
        for q in ASSERTIONS:
            for system in ("medical_context", "negspacy"):
                s = m[system]
                if f"assertion_{q}_f" not in s:
                    continue
                vals = [s[f"assertion_{q}_{x}"] for x in "prf"]
                cells = " | ".join("-" if v is None else f"{v:.3f}" for v in vals)
                lines.append(f"| {q} | {m['counts'][f'gold_{q}']} | {system} | {cells} |")
    return "\n".join(lines)
