"""`medical_linker`: a concept code for every DISEASE, SYMPTOM and DRUG entity.

For each entity whose label it knows, the linker asks the concept KB (spacy_medical/kb) for
candidates of a compatible semantic group and keeps the best when its score reaches the NIL
threshold (chosen on BC5CDR dev: `spacy project run evaluate-linking`). It sets
- `ent.kb_id_`: the concept as a CURIE (`MESH:D003920`, `DOID:9352`, `SYMP:0000614`,
  `DRUGBANK:DB00945`), "" when nothing is good enough;
- `ent._.codes`: vocabulary -> id for that concept, cross-references included ({} when NIL);
- `ent._.concept_name`: the concept's preferred name (None when NIL);
- `ent._.candidates`: the top k, each {"id", "name", "score"}, kept for audit even when NIL;
- `ent._.composite_links`: for a coordinated mention ("breast and ovarian cancer"), one link
  per part ("breast cancer", "ovarian cancer"), each {"text", "kb_id", "concept_name", "codes"};
  None for any other mention. The mention's own kb_id_ and codes stay those of the whole.
Entities with other labels are left as they are.

A short form the note defines ("myocardial infarction (MI)", found by `medical_abbreviations`,
which must run before) is linked through its long form: "MI" alone is too ambiguous to link.
"""
import re
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple, Union

import srsly
from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import ensure_path, minibatch

from ..errors import Errors
from ..kb import Candidate, ConceptKB
from ..kb.index import GROUPS

KB_DIR = "kb"
DEFAULT_LABEL_GROUPS = {"DISEASE": ["disease", "symptom"], "SYMPTOM": ["symptom", "disease"], "DRUG": ["drug"]}
# Words that join the parts of a coordinated mention; a comma joins only when a space follows
# ("3',5'-monophosphate" is one chemical name).
COORDINATORS = {"and", "or", "and/or", "&"}
# A cheap test on the text before the tokens are read: most mentions join nothing.
MAY_BE_COORDINATED = re.compile(r"\b(?:and|or)\b|&|, ", re.IGNORECASE)
# Longer spans are not split into parts: no coordinated disease name is that long.
MAX_COMPOSITE_TOKENS = 16


class MedicalLinker(Pipe):
    """Links entities to concepts of a `ConceptKB` (see module doc)."""

    def __init__(
        self,
        nlp: Language,
        name: str = "medical_linker",
        *,
        label_groups: Dict[str, List[str]],
        top_k: int,
        threshold: float,
        prior_weight: float,
        abbreviations_key: str,
    ):
        for label, groups in label_groups.items():
            unknown = sorted(set(groups) - set(GROUPS))
            if unknown:
                raise ValueError(Errors.E507.format(label=label, groups=unknown, known=", ".join(GROUPS)))
        self.name = name
        self.kb: Optional[ConceptKB] = None
        self.cfg = {
            "label_groups": {label: list(groups) for label, groups in label_groups.items()},
            "top_k": top_k,
            "threshold": threshold,
            "prior_weight": prior_weight,
            "abbreviations_key": abbreviations_key,
        }

    def initialize(
        self,
        get_examples: Optional[Callable[[], Iterable[Example]]] = None,
        *,
        nlp: Optional[Language] = None,
        kb_path: Optional[Union[str, Path]] = None,
    ) -> None:
        """Load the concept KB.

        kb_path (Optional[Union[str, Path]]): A folder written by `spacy-medical build-kb`
            (`spacy project run kb`).
        """
        if kb_path is None:
            raise ValueError(Errors.E506)
        self.set_kb(ConceptKB.from_disk(kb_path))

    def set_kb(self, kb: ConceptKB) -> None:
        """Use `kb`, with this component's ranking weights."""
        kb.set_prior_weight(self.cfg["prior_weight"])
        self.kb = kb

    # --- linking -----------------------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc]))

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        # The mentions of a whole batch are ranked together, each distinct mention once.
        for docs in minibatch(stream, size=batch_size):
            yield from self.link_docs(docs)

    def link_docs(self, docs: List[Doc]) -> List[Doc]:
        """Link the entities of a batch of docs (all of the work of `pipe`, in one call)."""
        # doc.ents builds every token of the doc: read it once per doc.
        all_ents = [list(doc.ents) for doc in docs]
        ents = [[ent for ent in doc_ents if ent.label_ in self.cfg["label_groups"]] for doc_ents in all_ents]
        spans = [ent for doc_ents in ents for ent in doc_ents]
        results, composites = iter(self.link(spans)), iter(self.link_composites(spans))
        for doc, doc_all_ents, doc_ents in zip(docs, all_ents, ents):
            links = [(next(results), next(composites)) for _ in doc_ents]
            self._set_annotations(doc, doc_all_ents, doc_ents, links)
        return docs

    def link(self, spans: List[Span]) -> List[List[Candidate]]:
        """The ranked candidates of each span, best first; the first is the link when its score
        reaches `threshold`. Spans need not be entities (evaluation links gold mentions)."""
        if self.kb is None:
            raise ValueError(Errors.E506)
        groups = [self.cfg["label_groups"].get(span.label_) for span in spans]
        short_forms = self._short_forms_of_docs(spans)
        texts = [self.query_text(span, short_forms[id(span.doc)]) for span in spans]
        return self.kb.candidates_batch(texts, groups, k=self.cfg["top_k"])

    def link_composites(self, spans: List[Span]) -> List[Optional[List[Tuple[str, List[Candidate]]]]]:
        """For each coordinated span, per part the text it stands for and its ranked candidates;
        None for a span that is not coordinated (see `composite_queries`)."""
        if self.kb is None:
            raise ValueError(Errors.E506)
        short_forms = self._short_forms_of_docs(spans)
        per_span = [self.composite_queries(span, short_forms[id(span.doc)]) for span in spans]
        texts, groups = [], []
        for span, parts in zip(spans, per_span):
            for variants in parts:
                texts += variants
                groups += [self.cfg["label_groups"].get(span.label_)] * len(variants)
        ranked = iter(self.kb.candidates_batch(texts, groups, k=self.cfg["top_k"]))
        result: List[Optional[List[Tuple[str, List[Candidate]]]]] = []
        for parts in per_span:
            if not parts:
                result.append(None)
                continue
            chosen = []
            for variants in parts:
                # The reading whose best candidate scores highest; ties go to the part as written.
                scored = [(variant, next(ranked)) for variant in variants]
                chosen.append(max(scored, key=lambda pair: pair[1][0].score if pair[1] else 0.0))
            result.append(chosen)
        return result

    def composite_queries(self, span: Span, short_forms: Optional[List[Span]] = None) -> List[List[str]]:
        """The parts of a coordinated mention, each as the texts it may stand for: itself, and
        itself completed with the head or the modifier the parts share. [] for a mention
        that is not coordinated.

        "breast and ovarian cancer" -> [["breast", "breast cancer"], ["ovarian cancer"]];
        "cancer of the breast or ovary" -> [["cancer of the breast"], ["ovary", "cancer of the ovary"]].
        The ranker picks the reading per part.
        """
        if len(span) > MAX_COMPOSITE_TOKENS or not MAY_BE_COORDINATED.search(span.text):
            return []
        parts, start = [], span.start
        for token in span:
            if token.lower_ in COORDINATORS or (token.text == "," and token.whitespace_):
                if token.i > start:
                    parts.append(span.doc[start : token.i])
                start = token.i + 1
        if start < span.end:
            parts.append(span.doc[start : span.end])
        if len(parts) < 2:
            return []
        words = [self.query_text(part, short_forms).split() for part in parts]
        first, last = words[0], words[-1]
        queries = []
        for i, part in enumerate(words):
            variants = [part]
            if i < len(words) - 1:  # a head shared at the end: "breast [cancer] and ovarian cancer"
                variants += [part + last[n:] for n in range(len(last) - 1, 0, -1)]
            if 0 < i and len(part) < len(first):  # a modifier shared at the start, in parallel:
                variants.append(first[: len(first) - len(part)] + part)  # "cancer of the breast or [cancer of the] ovary"
            queries.append([" ".join(variant) for variant in variants])
        return queries

    def _short_forms_of_docs(self, spans: List[Span]) -> Dict[int, List[Span]]:
        short_forms: Dict[int, List[Span]] = {}
        for span in spans:
            if id(span.doc) not in short_forms:
                short_forms[id(span.doc)] = self._short_forms(span.doc)
        return short_forms

    def query_text(self, span: Span, short_forms: Optional[List[Span]] = None) -> str:
        """The span's text with each short form the doc defines replaced by its long form.

        short_forms (Optional[List[Span]]): The doc's abbreviation spans (default: read from
            `doc.spans`), labelled with their long forms.
        """
        if short_forms is None:
            short_forms = self._short_forms(span.doc)
        inside = [a for a in short_forms if span.start <= a.start and a.end <= span.end]
        if not inside:
            return span.text
        # Offsets into the span's own text: building doc.text for every mention is slow.
        text, offset, parts, position = span.text, span.start_char, [], 0
        for abbreviation in sorted(inside, key=lambda a: a.start_char):
            parts += [text[position : abbreviation.start_char - offset], abbreviation.label_]
            position = abbreviation.end_char - offset
        parts.append(text[position:])
        return "".join(parts)

    def _short_forms(self, doc: Doc) -> List[Span]:
        key = self.cfg["abbreviations_key"]
        return list(doc.spans[key]) if key in doc.spans else []

    def best(self, candidates: List[Candidate]) -> Optional[Candidate]:
        """The link among ranked candidates, or None (NIL) when the best is below threshold."""
        if candidates and candidates[0].score >= self.cfg["threshold"]:
            return candidates[0]
        return None

    def _set_annotations(
        self, doc: Doc, all_ents: List[Span], ents: List[Span],
        results: List[Tuple[List[Candidate], Optional[List[Tuple[str, List[Candidate]]]]]],
    ) -> None:
        """Set kb_id and the extensions of `ents` (those of `all_ents`, the doc's entities, with a
        known label) from their (candidates, composite parts), as `link` and `link_composites` give them."""
        if not ents:
            return
        links = {(ent.start, ent.end): (self.best(candidates), candidates, parts) for ent, (candidates, parts) in zip(ents, results)}
        # kb_id lives on the tokens, so it is set through doc.ents; the extensions are then set
        # on the new spans (span extension values are keyed by the span's kb_id as well).
        new_ents = []
        for ent in all_ents:
            if (ent.start, ent.end) not in links:
                new_ents.append(ent)
                continue
            best, candidates, parts = links[(ent.start, ent.end)]
            ent = Span(doc, ent.start, ent.end, label=ent.label, kb_id=best.id if best else "")
            ent._.codes = self.kb.concepts.codes(best.concept) if best else {}
            ent._.concept_name = best.name if best else None
            ent._.candidates = [c.to_dict() for c in candidates]
            if parts is not None:
                ent._.composite_links = [{"text": text, **self._link_fields(self.best(ranked))} for text, ranked in parts]
            new_ents.append(ent)
        doc.ents = new_ents

    def _link_fields(self, best: Optional[Candidate]) -> Dict[str, object]:
        if best is None:
            return {"kb_id": "", "concept_name": None, "codes": {}}
        return {"kb_id": best.id, "concept_name": best.name, "codes": self.kb.concepts.codes(best.concept)}

    # --- serialization -----------------------------------------------------------------------
    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg", self.cfg)
        if self.kb is not None and KB_DIR not in exclude:
            self.kb.to_disk(path / KB_DIR)

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> "MedicalLinker":
        path = ensure_path(path)
        if (path / "cfg").exists():
            self.cfg.update(srsly.read_json(path / "cfg"))
        if KB_DIR not in exclude:
            self.set_kb(ConceptKB.from_disk(path / KB_DIR))  # a missing KB is an error naming the path
        return self


def linked_fields(span: Span) -> Dict[str, object]:
    """The link of an entity as plain fields, for batch records, reports and summary items.

    RETURNS (Dict[str, object]): {"kb_id": CURIE or "", "concept_name": str or None,
        "codes": vocabulary -> id ({} when unlinked)}, and "composite_links" (one link per part)
        for a coordinated mention such as "breast and ovarian cancer".
    """
    fields: Dict[str, object] = {"kb_id": span.kb_id_, "concept_name": span._.concept_name,
                                 "codes": dict(span._.codes or {})}
    if span._.composite_links:
        fields["composite_links"] = [dict(part, codes=dict(part["codes"])) for part in span._.composite_links]
    return fields


FACTORY_META = dict(
    default_config={
        "label_groups": DEFAULT_LABEL_GROUPS,
        "top_k": 5,
        # Ranking weights and NIL threshold chosen on BC5CDR dev (metrics/linking.json, "tuning").
        "threshold": 0.35,
        "prior_weight": 0.25,
        "abbreviations_key": "abbreviations",
    },
    assigns=["token.ent_kb_id", "span._.codes", "span._.concept_name", "span._.candidates", "span._.composite_links"],
    requires=["doc.ents"],
)


def make_medical_linker(
    nlp: Language,
    name: str,
    label_groups: Dict[str, List[str]],
    top_k: int,
    threshold: float,
    prior_weight: float,
    abbreviations_key: str,
) -> MedicalLinker:
    return MedicalLinker(
        nlp, name, label_groups=label_groups, top_k=top_k, threshold=threshold,
        prior_weight=prior_weight, abbreviations_key=abbreviations_key,
    )
