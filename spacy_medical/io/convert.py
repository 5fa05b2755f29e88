"""Turn the public corpora into spaCy training and evaluation data (`.spacy` DocBins).

Label definitions differ between corpora, so each conversion makes four decisions explicit
(all counted in the report and documented in the README):

- `chemicals`: BC5CDR "Chemical" covers every chemical, not only drugs. "drugbank" labels a
  mention DRUG when its surface is a DrugBank open-vocabulary name and marks the other
  chemicals *missing* (neither DRUG nor O, because the lexicon misses spellings and
  abbreviations of real drugs); "all" labels every chemical DRUG; "missing" marks them all missing.
- `symptom_mentions`: BC5CDR and NCBI annotate symptoms such as "hypotension" or "seizures" as
  Disease, MACCROBAT calls them Sign_symptom. "relabel" turns gold Disease mentions whose
  surface is a Symptom Ontology term into SYMPTOM; "missing" marks them missing; "keep" leaves them.
  "relabel-concept" relabels by the finding a mention names rather than its exact surface: a
  plural of a term counts as the term ("seizures" as "seizure"), and in BC5CDR a short form
  ("ICH") takes the label of its MeSH concept's full-form mentions in the same document
  ("intracerebral hemorrhage"), as `medical_abbreviations` does at prediction time.
  The ontology also lists "heart failure", "hepatitis", "arrhythmia", which MACCROBAT, the corpus
  that defines SYMPTOM here, annotates as Disease_disorder; such terms stay DISEASE
  (`maccrobat_says_disease`), so the corpora do not contradict each other.
- `mask_unannotated`: BC5CDR and NCBI never annotate SYMPTOM (and NCBI never DRUG). With True,
  unlabelled tokens that match the Symptom Ontology (and DrugBank, where DRUG is unannotated)
  are marked missing instead of O, so those corpora stop teaching that symptoms are not entities.
- `ncbi_outside`: what NCBI-disease's tokens outside a Disease mention teach. "o" (default) makes them
  O, apart from the lexicon matches above. "edges" marks them missing except the token just before
  and just after each mention, which keep teaching where a Disease span ends: NCBI-disease
  annotates no symptom or drug at all, so its O tokens say "not an entity" of symptom phrases
  that no lexicon lists.
"""
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

import spacy
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from ..errors import Errors
from ..labels import DISEASE, DRUG, SYMPTOM
from .corpora import corpora_dir
from .docbuild import ConversionReport, LexiconMasker, char_span_or_expand, finish_doc, iob_entity_ranges, is_short_form, write_docbin
from .iob import read_iob
from .lexicons import drug_terms, normalize_term, symptom_terms
from .maccrobat import LABEL_MAP as MACCROBAT_LABELS
from .maccrobat import read_maccrobat
from .pubtator import PubtatorMention, read_pubtator

CHEMICAL_CHOICES = ("drugbank", "all", "missing")
SYMPTOM_CHOICES = ("relabel", "relabel-concept", "missing", "keep")
NCBI_OUTSIDE_CHOICES = ("o", "edges")
SPLITS = ("train", "dev", "test")
BC5CDR_FILES = {"train": "CDR_TrainingSet.PubTator.txt", "dev": "CDR_DevelopmentSet.PubTator.txt", "test": "CDR_TestSet.PubTator.txt"}
IOB_FILES = {"train": "train.tsv", "dev": "devel.tsv", "test": "test.tsv"}


class CorpusConverter:
    """Builds Docs for every corpus with one tokenizer and one set of labelling decisions."""

    def __init__(self, root: Path = None, *, chemicals: str = "drugbank", symptom_mentions: str = "relabel", mask_unannotated: bool = True,
                 ncbi_sentences_per_doc: int = 1, ncbi_outside: str = "o", lang: str = "en"):
        if chemicals not in CHEMICAL_CHOICES:
            raise ValueError(f"chemicals must be one of {CHEMICAL_CHOICES}")
        if symptom_mentions not in SYMPTOM_CHOICES:
            raise ValueError(f"symptom_mentions must be one of {SYMPTOM_CHOICES}")
        self.root = Path(root) if root else corpora_dir()
        self.chemicals = chemicals
        self.symptom_mentions = symptom_mentions
        self.mask_unannotated = mask_unannotated
        if ncbi_outside not in NCBI_OUTSIDE_CHOICES:
            raise ValueError(f"ncbi_outside must be one of {NCBI_OUTSIDE_CHOICES}")
        self.ncbi_outside = ncbi_outside
        if ncbi_sentences_per_doc < 1:
            raise ValueError(f"ncbi_sentences_per_doc must be at least 1, not {ncbi_sentences_per_doc}")
        self.ncbi_sentences_per_doc = ncbi_sentences_per_doc
        self.nlp = spacy.blank(lang)
        self.report = ConversionReport()
        self._masker = None
        self._maccrobat_usage = None

    @property
    def masker(self) -> LexiconMasker:
        if self._masker is None:
            lex = self.root / "lexicons"
            self._masker = LexiconMasker(self.nlp, {
                SYMPTOM: symptom_terms(lex / "symptom_ontology" / "symp.obo"),
                DRUG: drug_terms(lex / "drugbank_open_vocabulary" / "drugbank_vocabulary.csv"),
            })
        return self._masker

    @property
    def symptoms(self):
        return symptom_terms(self.root / "lexicons" / "symptom_ontology" / "symp.obo")

    @property
    def maccrobat_usage(self) -> Dict[str, Counter]:
        """How MACCROBAT train labels each finding surface: {term: Counter({SYMPTOM: n, DISEASE: m})}.

        Train split only, so the dev and test documents never shape the training labels.
        """
        if self._maccrobat_usage is None:
            self._maccrobat_usage = defaultdict(Counter)
            for source in read_maccrobat(self.root / "maccrobat" / "brat", "train"):
                for ann in source.spans:
                    label = MACCROBAT_LABELS.get(ann.type)
                    if label in (SYMPTOM, DISEASE) and not ann.discontinuous:
                        self._maccrobat_usage[normalize_term(ann.text)][label] += 1
        return self._maccrobat_usage

    def maccrobat_says_disease(self, term: str) -> bool:
        """Whether MACCROBAT train labels this finding DISEASE more often than SYMPTOM.

        The longest word-final part of the term that MACCROBAT labels decides, because English
        findings are head-final: "acute renal failure" follows "renal failure". A term MACCROBAT
        never labels is left to the Symptom Ontology.
        """
        words = term.split()
        for i in range(len(words)):
            usage = self.maccrobat_usage.get(" ".join(words[i:]))
            if usage:
                return usage[DISEASE] > usage[SYMPTOM]
        return False

    @property
    def drugs(self):
        return drug_terms(self.root / "lexicons" / "drugbank_open_vocabulary" / "drugbank_vocabulary.csv")

    # --- MACCROBAT -------------------------------------------------------------------------
    def maccrobat(self, split: str) -> Iterator[Doc]:
        key = f"maccrobat/{split}"
        for source in read_maccrobat(self.root / "maccrobat" / "brat", split):
            doc = self.nlp.make_doc(source.text)
            doc.user_data["doc_id"] = source.doc_id
            for token in doc[1:]:
                previous = doc[token.i - 1]
                # One sentence per line in MACCROBAT.
                token.is_sent_start = "\n" in previous.text
            spans, missing = [], []
            for ann in source.spans:
                label = MACCROBAT_LABELS.get(ann.type)
                if label is None:
                    continue
                if ann.discontinuous:
                    report_span = doc.char_span(ann.start, ann.end, alignment_mode="expand")
                    if report_span is not None:
                        missing.append((report_span.start, report_span.end))
                    self.report.skipped[key]["discontinuous (tokens marked missing)"] += 1
                    continue
                span = char_span_or_expand(doc, ann.start, ann.end, label, self.report, key)
                if span is not None:
                    spans.append(span)
            yield finish_doc(doc, spans, missing, self.report, key)

    # --- BC5CDR ----------------------------------------------------------------------------
    def bc5cdr(self, split: str, benchmark: bool = False) -> Iterator[Doc]:
        """BC5CDR PubTator docs. With `benchmark`, the corpus' own labels (CHEMICAL, DISEASE), unchanged."""
        key = f"bc5cdr{'-bench' if benchmark else ''}/{split}"
        path = self.root / "bc5cdr" / "pubtator" / BC5CDR_FILES[split]
        for source in read_pubtator(path):
            doc = self.nlp.make_doc(source.text)
            doc.user_data["doc_id"] = source.doc_id
            if benchmark:
                labels = [m.type.upper() for m in source.mentions]
            else:
                labels = [self._chemical_label(m.surface, key) if m.type == "Chemical" else self._disease_label(m.surface, key) for m in source.mentions]
                if self.symptom_mentions == "relabel-concept":
                    labels = self._short_forms_follow_concept(source.mentions, labels, key)
            spans, missing = [], []
            for (start, end, *_), label in zip(source.mentions, labels):
                span = char_span_or_expand(doc, start, end, label or "MISSING", self.report, key)
                if span is None:
                    continue
                if label is None:
                    missing.append((span.start, span.end))
                else:
                    spans.append(span)
            if not benchmark:
                missing.extend(self._unannotated(doc, spans, {SYMPTOM}, key))
            yield finish_doc(doc, spans, missing, self.report, key)

    # --- NCBI-disease ----------------------------------------------------------------------
    def ncbi(self, split: str, benchmark: bool = False) -> Iterator[Doc]:
        """NCBI-disease docs of `ncbi_sentences_per_doc` consecutive sentences each. The IOB release
        lost the abstract boundaries; grouping sentences gives the encoder and medical_abbreviations
        the neighbouring sentences of (mostly) the same abstract, as BC5CDR's abstracts do."""
        key = f"ncbi{'-bench' if benchmark else ''}/{split}"
        path = self.root / "ncbi_disease" / "iob" / IOB_FILES[split]
        for group in minibatch(read_iob(path, {"Disease"}), self.ncbi_sentences_per_doc):
            words, sent_starts, iob_spans = [], [], []
            for _, sentence_words, sentence_tags in group:
                iob_spans.extend((len(words) + start, len(words) + end) for start, end in iob_entity_ranges(sentence_tags))
                sent_starts.extend([True] + [False] * (len(sentence_words) - 1))
                words.extend(sentence_words)
            # One-sentence docs keep no boundary, as before grouping existed (same DocBin bytes).
            doc = Doc(self.nlp.vocab, words=words, sent_starts=sent_starts if len(group) > 1 else None)
            doc.user_data["doc_id"] = f"{path.name}:{group[0][0]}"
            spans, missing = [], []
            for start, end in iob_spans:
                span = doc[start:end]
                label = DISEASE if benchmark else self._disease_label(span.text, key)
                if label is None:
                    missing.append((start, end))
                else:
                    spans.append(Span(doc, start, end, label=label))
            if not benchmark:
                missing.extend(self._unannotated(doc, spans, {SYMPTOM, DRUG}, key))
                if self.ncbi_outside == "edges":
                    missing.extend(self._away_from_mentions(doc, iob_spans, key))
            yield finish_doc(doc, spans, missing, self.report, key)

    # --- labelling decisions ---------------------------------------------------------------
    def _chemical_label(self, surface: str, key: str) -> Optional[str]:
        if self.chemicals == "all":
            return DRUG
        if self.chemicals == "drugbank" and normalize_term(surface) in self.drugs:
            return DRUG
        self.report.relabelled[key]["chemical -> missing"] += 1
        return None

    def _disease_label(self, surface: str, key: str) -> Optional[str]:
        term = normalize_term(surface)
        plural = self.symptom_mentions == "relabel-concept" and term not in self.symptoms and term.endswith("s") and term[:-1] in self.symptoms
        if plural:
            term = term[:-1]
        if self.symptom_mentions == "keep" or term not in self.symptoms:
            return DISEASE
        if self.maccrobat_says_disease(term):
            self.report.relabelled[key]["disease kept (Symptom Ontology term, MACCROBAT: Disease_disorder)"] += 1
            return DISEASE
        if self.symptom_mentions != "missing":
            self.report.relabelled[key][f"disease -> SYMPTOM ({'plural of a ' if plural else ''}Symptom Ontology term)"] += 1
            return SYMPTOM
        self.report.relabelled[key]["disease -> missing (Symptom Ontology term)"] += 1
        return None

    def _short_forms_follow_concept(self, mentions: Sequence[PubtatorMention], labels: List[Optional[str]], key: str) -> List[Optional[str]]:
        """Give each Disease short form the label its concept's full-form mentions in the document agree on."""
        full_form_labels = defaultdict(set)
        for mention, label in zip(mentions, labels):
            if mention.type == "Disease" and mention.concept not in ("", "-1") and not is_short_form(mention.surface):
                full_form_labels[mention.concept].add(label)
        out = []
        for mention, label in zip(mentions, labels):
            agreed = full_form_labels.get(mention.concept, set()) if mention.type == "Disease" and is_short_form(mention.surface) else set()
            if len(agreed) == 1 and label not in agreed:
                label = next(iter(agreed))
                self.report.relabelled[key][f"disease short form -> {label} (its concept's full form in the document)"] += 1
            out.append(label)
        return out

    def _away_from_mentions(self, doc: Doc, mentions: List[Tuple[int, int]], key: str) -> List[Tuple[int, int]]:
        """Token ranges outside every mention and not next to one (`ncbi_outside="edges"`)."""
        kept = {i for start, end in mentions for i in range(start - 1, end + 1)}
        away = [i for i in range(len(doc)) if i not in kept]
        self.report.missing_tokens[key]["outside a Disease mention, not next to one"] += len(away)
        return [(i, i + 1) for i in away]

    def _unannotated(self, doc: Doc, spans: List[Span], labels: Set[str], key: str) -> List[Tuple[int, int]]:
        """Token ranges of lexicon matches for labels the corpus does not annotate."""
        if not self.mask_unannotated:
            return []
        gold = {i for s in spans for i in range(s.start, s.end)}
        out = []
        for start, end, label in self.masker(doc, labels):
            if not any(i in gold for i in range(start, end)):
                out.append((start, end))
                self.report.missing_tokens[key][f"unannotated {label} lexicon match"] += end - start
        return out


CORPORA = ("maccrobat", "bc5cdr", "ncbi")
BENCHMARKS = ("bc5cdr", "ncbi")


def convert_corpora(output_dir: Path, corpora: Sequence[str] = CORPORA, *, limit: Optional[int] = None, root: Path = None, **options) -> dict:
    """Convert corpora to `{output_dir}/{split}/{corpus}.spacy` for the en_medical label set.

    output_dir (Path): Where to write.
    corpora (Sequence[str]): Which corpora.
    limit (Optional[int]): At most this many documents per file (for smoke tests).
    root (Path): Corpora folder (default: `corpora_dir()`).
    **options: `chemicals`, `symptom_mentions`, `mask_unannotated`, `ncbi_sentences_per_doc`, `ncbi_outside` of CorpusConverter.
    RETURNS (dict): The conversion report, also written to `{output_dir}/conversion_report.json`.
    """
    converter = CorpusConverter(root, **options)
    for name in corpora:
        if name not in CORPORA:
            raise ValueError(Errors.E006.format(name=name, names=", ".join(CORPORA)))
        for split in SPLITS:
            docs = getattr(converter, name)(split)
            write_docbin(_take(docs, limit), Path(output_dir) / split / f"{name}.spacy")
    return _write_report(converter, output_dir, options)


def convert_benchmark(output_dir: Path, name: str, *, limit: Optional[int] = None, root: Path = None, **options) -> dict:
    """Convert a benchmark with its own label set and standard splits to `{output_dir}/{split}.spacy`.

    **options: `ncbi_sentences_per_doc` of CorpusConverter (the labelling options do not apply).
    """
    if name not in BENCHMARKS:
        raise ValueError(Errors.E006.format(name=name, names=", ".join(BENCHMARKS)))
    converter = CorpusConverter(root, **options)
    for split in SPLITS:
        write_docbin(_take(getattr(converter, name)(split, benchmark=True), limit), Path(output_dir) / f"{split}.spacy")
    return _write_report(converter, output_dir, {"benchmark": name, **options})


def _take(docs: Iterator[Doc], limit: Optional[int]) -> Iterator[Doc]:
    for i, doc in enumerate(docs):
        if limit is not None and i >= limit:
            return
        yield doc


def _write_report(converter: CorpusConverter, output_dir: Path, options: dict) -> dict:
    report = {"options": options, "corpora": converter.report.to_dict()}
    path = Path(output_dir) / "conversion_report.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf8")
    return report
