"""MACCROBAT -> clinical details: attribute spans, TEST/PROCEDURE spans and their MODIFY links.

Mapping (MACCROBAT type -> label): Dosage -> DOSE, Administration -> ROUTE, Frequency ->
FREQUENCY, Duration -> DURATION, Lab_value -> VALUE (the attributes), Diagnostic_procedure ->
TEST, Therapeutic_procedure -> PROCEDURE, Medication -> DRUG (the entities attributes link to).
A link is a MODIFY relation from an attribute to a DRUG or TEST; relation arguments that are
events are resolved to their trigger span. Discontinuous spans are skipped (a span model cannot
predict them) and counted. The split is MACCROBAT's project split (`io.maccrobat.split_ids`).
"""
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Set, Tuple

from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span
from spacy.util import filter_spans

from ..errors import Errors
from ..pipeline.details_links import LINKED_ENTITY_LABELS
from .brat import BratDocument
from .maccrobat import maccrobat_dir, read_maccrobat

ATTRIBUTE_TYPES = {"Dosage": "DOSE", "Administration": "ROUTE", "Frequency": "FREQUENCY", "Duration": "DURATION", "Lab_value": "VALUE"}
ENTITY_TYPES = {"Diagnostic_procedure": "TEST", "Therapeutic_procedure": "PROCEDURE", "Medication": "DRUG"}
# The labels a details span model learns (DRUG comes from the main NER).
SPAN_MODEL_LABELS = {**ATTRIBUTE_TYPES, "Diagnostic_procedure": "TEST", "Therapeutic_procedure": "PROCEDURE"}
SPANS_KEY = "details"

CharSpan = Tuple[int, int, str]  # (start char, end char, label)


@dataclass
class DetailsGold:
    """Gold details of one document, in character offsets."""

    doc_id: str
    text: str
    spans: List[CharSpan] = field(default_factory=list)
    # (attribute span, entity span) for MODIFY relations from an attribute to a DRUG or TEST
    links: Set[Tuple[CharSpan, CharSpan]] = field(default_factory=set)
    skipped: Counter = field(default_factory=Counter)


def read_modify_relations(ann_path: Path) -> List[Tuple[str, str]]:
    """Read the MODIFY relations of a BRAT file (`io.brat` skips relation lines).

    ann_path (Path): The `.ann` file.
    RETURNS (List[Tuple[str, str]]): (Arg1 id, Arg2 id) per MODIFY relation; ids are T or E ids.
    """
    relations = []
    with Path(ann_path).open(encoding="utf8") as f:
        for line_no, raw in enumerate(f, start=1):
            if not raw.startswith("R"):
                continue
            fields = raw.rstrip("\n").split("\t")
            head = fields[1].split() if len(fields) > 1 else []
            if len(head) != 3 or not all(":" in arg for arg in head[1:]):
                raise ValueError(Errors.E002.format(path=ann_path, line=line_no, reason="relation needs TYPE Arg1:ID Arg2:ID"))
            if head[0] == "MODIFY":
                relations.append((head[1].split(":", 1)[1], head[2].split(":", 1)[1]))
    return relations


def details_gold(source: BratDocument, ann_path: Path) -> DetailsGold:
    """Collect the detail spans and attribute -> DRUG/TEST links of one MACCROBAT document."""
    gold = DetailsGold(doc_id=source.doc_id, text=source.text)
    by_id: Dict[str, CharSpan] = {}
    for ann in source.spans:
        label = ATTRIBUTE_TYPES.get(ann.type) or ENTITY_TYPES.get(ann.type)
        if label is None:
            continue
        if ann.discontinuous:
            gold.skipped[f"{label} discontinuous"] += 1
            continue
        by_id[ann.id] = (ann.start, ann.end, label)
        gold.spans.append(by_id[ann.id])
    for arg1, arg2 in read_modify_relations(ann_path):
        attribute = by_id.get(source.events.get(arg1, arg1))
        entity = by_id.get(source.events.get(arg2, arg2))
        if attribute and entity and attribute[2] in ATTRIBUTE_TYPES.values() and entity[2] in LINKED_ENTITY_LABELS:
            gold.links.add((attribute, entity))
    return gold


def read_details_gold(split: Optional[str], folder: Path = None) -> Iterator[DetailsGold]:
    """Yield the gold details of the MACCROBAT documents of a split ("train", "dev", "test", None)."""
    folder = Path(folder) if folder else maccrobat_dir()
    for source in read_maccrobat(folder, split):
        yield details_gold(source, folder / f"{source.doc_id}.ann")


def gold_to_doc(nlp: Language, gold: DetailsGold, skipped: Counter) -> Doc:
    """Tokenize a document and set `doc.spans[SPANS_KEY]` to its span-model labels, and
    `doc.ents` to the same spans without overlaps (the gold of the `medical_details_ner` model).

    A span whose edges fall inside a token is expanded to token boundaries (counted in
    `skipped`), as the NER conversion does. Of overlapping spans (a handful in MACCROBAT) the
    longest is the entity, without whitespace tokens at its edges; every other token is outside
    (the details are fully annotated).
    """
    doc = nlp.make_doc(gold.text)
    spans = []
    for start, end, label in gold.spans:
        if label not in SPAN_MODEL_LABELS.values():
            continue
        span = doc.char_span(start, end, label=label)
        if span is None:
            span = doc.char_span(start, end, label=label, alignment_mode="expand")
            skipped[f"{label} expanded to token boundaries (kept)"] += 1
        spans.append(span)
    doc.spans[SPANS_KEY] = spans
    doc.set_ents(filter_spans(without_edge_space(span) for span in spans if not all(t.is_space for t in span)), default="outside")
    return doc


def without_edge_space(span: Span) -> Span:
    """The span without leading or trailing whitespace tokens (e.g. a hair space): an entity
    cannot start or end on one, and spaCy's NER cannot be trained on such a span (E024)."""
    start, end = span.start, span.end
    while span.doc[start].is_space:
        start += 1
    while span.doc[end - 1].is_space:
        end -= 1
    return Span(span.doc, start, end, label=span.label)


def convert_details(nlp: Language, output_dir: Path, folder: Path = None) -> Dict[str, Dict[str, int]]:
    """Write `details_{split}.spacy` for train/dev/test and return counts per split and label.

    nlp (Language): Supplies the tokenizer (use the pipeline's own).
    output_dir (Path): Folder for the DocBins.
    folder (Path): MACCROBAT BRAT folder; defaults to the corpora folder's.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    report = {}
    for split in ("train", "dev", "test"):
        counts: Counter = Counter()
        docbin = DocBin(store_user_data=False)
        for gold in read_details_gold(split, folder):
            doc = gold_to_doc(nlp, gold, counts)
            counts.update(span.label_ for span in doc.spans[SPANS_KEY])
            counts.update(gold.skipped)
            counts["docs"] += 1
            docbin.add(doc)
        docbin.to_disk(output_dir / f"details_{split}.spacy")
        report[split] = dict(sorted(counts.items()))
    return report


LinkExample = Tuple[Doc, List, List, Set[Tuple]]


def link_examples(nlp: Language, golds: Iterable[DetailsGold]) -> Iterator[LinkExample]:
    """Gold spans and links as Spans, for training and scoring a linker on gold spans.

    nlp (Language): Tokenizer and sentence splitter (its pipes run on each Doc).
    RETURNS: (doc, attribute spans, DRUG/TEST spans, {(attribute span, entity span)}) per document.
    """
    for gold in golds:
        doc = nlp(gold.text)
        spans = {}
        for start, end, label in gold.spans:
            span = doc.char_span(start, end, label=label, alignment_mode="expand")
            if span is not None:
                spans[(start, end, label)] = span
        attributes = [s for key, s in spans.items() if key[2] in ATTRIBUTE_TYPES.values()]
        entities = [s for key, s in spans.items() if key[2] in LINKED_ENTITY_LABELS]
        links = {(spans[a], spans[e]) for a, e in gold.links if a in spans and e in spans}
        yield doc, attributes, entities, links
