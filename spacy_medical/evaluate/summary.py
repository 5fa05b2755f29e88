"""Evaluate `medical_summarizer` and `medical_sections` on ACI-Bench.

Summaries: each ACI-Bench dialogue is summarized by the pipeline and by two baselines of the
same length in words, in the same run:
- lead-N: the first words of the dialogue (speaker tags removed);
- TextRank: `pytextrank`'s sentence extraction. No tagger or parser is installable offline, so
  the TextRank doc gets a POS-free stand-in: every alphabetic non-stop token is a NOUN node and
  its own candidate phrase (plus the NER entities); sentences end at line breaks and . ? !.
Scores against the reference note: ROUGE-1/2/L F1 (`rouge-score`, Porter stemming) and
clinical concept recall, the share of the reference note's distinct DISEASE/SYMPTOM/DRUG
mentions (found by running the same NER over the note) whose normalized text occurs in the
summary. ROUGE is computed on the chosen units' text without the summarizer's section
headings, so the three systems compete on extracted words only.

Sections: gold headers are the reference notes' header lines, i.e. lines whose text (without a
trailing colon) is one of `ACI_HEADERS`. That vocabulary was fixed by listing every stand-alone
upper-case line across ACI-Bench and keeping those that open a note section; sub-headers
inside a section ("MSK:", "Musculoskeletal:") and diagnosis lines ("GERD.") are not gold, so
predicting them counts against precision. The rules were written by the same person, so the
score measures coverage of ACI-Bench's header style, not generalization to other sites.
"""
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example

from ..io.aci_bench import ACI_SPLITS, read_aci
from ..labels import ENTITY_LABELS
from ..pipeline.dialogue import find_turns, is_dialogue
from ..pipeline.sections import score_sections
from ..pipeline.summary_lists import normalize, unit_text
from ..pipeline.summary_pipeline import load_summary_pipeline

# Header lines of ACI-Bench reference notes -> the section category they open.
ACI_HEADERS: Dict[str, str] = {
    "CHIEF COMPLAINT": "chief_complaint",
    "CC": "chief_complaint",
    "HISTORY OF PRESENT ILLNESS": "history_of_present_illness",
    "HPI": "history_of_present_illness",
    "SUBJECTIVE": "history_of_present_illness",
    "REVIEW OF SYSTEMS": "review_of_systems",
    "REVIEW OF SYMPTOMS": "review_of_systems",
    "PHYSICAL EXAM": "physical_exam",
    "PHYSICAL EXAMINATION": "physical_exam",
    "EXAM": "physical_exam",
    "VITALS": "vital_signs",
    "VITALS REVIEWED": "vital_signs",
    "RESULTS": "results",
    "ASSESSMENT AND PLAN": "assessment_and_plan",
    "ASSESSMENT": "assessment",
    "IMPRESSION": "assessment",
    "PLAN": "plan",
    "ORDERS": "plan",
    "INSTRUCTIONS": "instructions",
    "SOCIAL HISTORY": "social_history",
    "FAMILY HISTORY": "family_history",
    "MEDICAL HISTORY": "past_medical_history",
    "PAST HISTORY": "past_medical_history",
    "PAST MEDICAL HISTORY": "past_medical_history",
    "BIRTH HISTORY": "past_medical_history",
    "SURGICAL HISTORY": "past_surgical_history",
    "PAST SURGICAL HISTORY": "past_surgical_history",
    "MEDICATIONS": "medications",
    "CURRENT MEDICATIONS": "medications",
    "ALLERGIES": "allergies",
    "PROCEDURE": "procedures",
}


def gold_headers(note: str) -> List[Tuple[int, str]]:
    """(start char, category) of every header line of an ACI-Bench reference note."""
    out = []
    pos = 0
    for line in note.split("\n"):
        stripped = line.strip()
        key = stripped[:-1].strip() if stripped.endswith(":") else stripped
        if key in ACI_HEADERS:
            out.append((pos + len(line) - len(line.lstrip()), ACI_HEADERS[key]))
        pos += len(line) + 1
    return out


def gold_sections_doc(nlp: Language, note: str, spans_key: str = "sections") -> Doc:
    """A reference doc whose section spans start at the gold header lines."""
    doc = nlp.make_doc(note)
    headers = gold_headers(note)
    spans = []
    for i, (start, label) in enumerate(headers):
        end = headers[i + 1][0] if i + 1 < len(headers) else len(note)
        span = doc.char_span(start, end, label=label, alignment_mode="expand")
        if span is not None:
            spans.append(span)
    doc.spans[spans_key] = spans
    return doc


# --- baselines ----------------------------------------------------------------------------
def plain_dialogue(text: str) -> str:
    """The transcript without speaker tags (one turn per line)."""
    turns = find_turns(text)
    if not turns:
        return text
    return "\n".join(text[content:end] for _, content, end, _ in turns)


def take_words(pieces: Iterable[str], n_words: int) -> str:
    """Join pieces until `n_words` words, cutting the last piece."""
    out: List[str] = []
    for piece in pieces:
        words = piece.split()
        out.extend(words[: max(0, n_words - len(out))])
        if len(out) >= n_words:
            break
    return " ".join(out)


def lead_n(text: str, n_words: int) -> str:
    """The first `n_words` words of the document (speaker tags removed)."""
    return take_words([plain_dialogue(text) if is_dialogue(text) else text], n_words)


def textrank_pipeline(nlp: Optional[Language] = None) -> Language:
    """A pipeline for pytextrank. `textrank_summary` adds sentence starts, the NER entities and
    the POS-free stand-in before the `textrank` step."""
    import pytextrank  # noqa: F401  (registers the "textrank" factory)

    tr = spacy.blank("en")

    # Without a parser, each content token is its own "noun chunk"; pytextrank only falls back
    # when noun_chunks raises NotImplementedError, which it does not for English.
    def chunks(doclike):
        for tok in doclike:
            if tok.pos_ == "NOUN":
                yield tok.i, tok.i + 1, tok.doc.vocab.strings.add("NP")

    tr.vocab.get_noun_chunks = chunks
    tr.add_pipe("textrank")
    return tr


def _sentences(doc: Doc) -> None:
    """Sentence starts at every line and after ".", "?", "!": the transcripts are lower-cased,
    so a case-based splitter would leave each turn, or the whole dialogue, as one sentence."""
    for i, tok in enumerate(doc):
        if i == 0:
            tok.is_sent_start = True
        else:
            prev = doc[i - 1]
            tok.is_sent_start = (prev.text in {".", "?", "!"} or "\n" in prev.text) and not tok.is_space


def _pos_stand_in(doc: Doc) -> None:
    from spacy.lang.en.stop_words import STOP_WORDS

    for tok in doc:
        tok.lemma_ = tok.lower_
        tok.pos_ = "NOUN" if tok.is_alpha and tok.lower_ not in STOP_WORDS else "X"


def textrank_summary(tr: Language, text: str, ents: Sequence[Tuple[int, int, str]], n_words: int) -> str:
    """pytextrank's top sentences (in document order) up to `n_words` words."""
    text = plain_dialogue(text) if is_dialogue(text) else text
    doc = tr.make_doc(text)
    for name, proc in tr.pipeline:
        if name == "textrank":
            _sentences(doc)
            _pos_stand_in(doc)
            spans = [doc.char_span(s, e, label=l, alignment_mode="contract") for s, e, l in ents]
            doc.ents = spacy.util.filter_spans([s for s in spans if s is not None])
        doc = proc(doc)
    n_sents = len(list(doc.sents))
    ranked = [s.text for s in doc._.textrank.summary(limit_phrases=20, limit_sentences=n_sents, preserve_order=False)]
    chosen: List[str] = []
    total = 0
    for sent in ranked:
        chosen.append(sent)
        total += len(sent.split())
        if total >= n_words:
            break
    order = {s.text: i for i, s in enumerate(doc.sents)}
    chosen.sort(key=lambda s: order.get(s, 0))
    return take_words(chosen, n_words)


# --- metrics ------------------------------------------------------------------------------
def concepts(doc: Doc) -> List[str]:
    """Distinct normalized DISEASE/SYMPTOM/DRUG mentions of a doc."""
    return sorted({normalize(e.text) for e in doc.ents if e.label_ in ENTITY_LABELS and normalize(e.text)})


def concept_recall(reference_concepts: Sequence[str], summary: str) -> Optional[float]:
    if not reference_concepts:
        return None
    padded = f" {normalize(summary)} "
    return sum(f" {c} " in padded for c in reference_concepts) / len(reference_concepts)


def _mean(values: Iterable[Optional[float]]) -> float:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else 0.0


def evaluate_split(nlp: Language, rows: Sequence[Dict[str, str]], tr: Optional[Language] = None) -> Dict[str, Any]:
    """Summary scores of the pipeline, lead-N and TextRank, and section P/R, on one split."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    tr = tr or textrank_pipeline(nlp)
    systems = ("summarizer", "lead_n", "textrank")
    scores: Dict[str, Dict[str, List[Optional[float]]]] = {s: {"rouge1": [], "rouge2": [], "rougeL": [], "concept_recall": []} for s in systems}
    lengths: List[int] = []
    dialogues = nlp.pipe([r["dialogue"] for r in rows])
    notes = nlp.pipe([r["note"] for r in rows])
    section_examples = []
    for row, doc, note_doc in zip(rows, dialogues, notes):
        units = doc._.summary["units"]
        text = doc.text
        ours = "\n".join(unit_text(text, u) for u in units)
        n_words = len(ours.split())
        lengths.append(n_words)
        ents = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        # Entities of the dialogue map onto the tag-free text only when offsets agree, so the
        # TextRank doc gets its own entities from the tag-free text.
        plain = plain_dialogue(row["dialogue"]) if is_dialogue(row["dialogue"]) else row["dialogue"]
        plain_ents = [(e.start_char, e.end_char, e.label_) for e in nlp(plain).ents] if ents else []
        outputs = {
            "summarizer": ours,
            "lead_n": lead_n(row["dialogue"], n_words),
            "textrank": textrank_summary(tr, row["dialogue"], plain_ents, n_words),
        }
        ref_concepts = concepts(note_doc)
        for system, summary in outputs.items():
            r = scorer.score(row["note"], summary)
            for key in ("rouge1", "rouge2", "rougeL"):
                scores[system][key].append(r[key].fmeasure)
            scores[system]["concept_recall"].append(concept_recall(ref_concepts, summary))
        section_examples.append(Example(note_doc, gold_sections_doc(nlp, row["note"])))
    result: Dict[str, Any] = {"n": len(rows), "mean_summary_words": _mean(lengths)}
    for system in systems:
        result[system] = {k: round(_mean(v), 4) for k, v in scores[system].items()}
    for system in ("lead_n", "textrank"):
        result[f"summarizer_vs_{system}"] = {
            k: round(result["summarizer"][k] / result[system][k], 3) if result[system][k] else None for k in ("rougeL", "concept_recall")
        }
    result["sections"] = {k: (round(v, 4) if v is not None else None) for k, v in score_sections(section_examples).items()}
    return result


def evaluate_summaries(
    model: str,
    corpus_dir: Union[str, Path],
    *,
    dialogue_model: Optional[Union[str, Path]] = None,
    splits: Sequence[str] = ("valid", "test1", "test2", "test3"),
    max_sentences: Optional[int] = None,
    limit: Optional[int] = None,
) -> Dict[str, Any]:
    """Evaluate on ACI-Bench splits.

    model (str): NER model (package, folder or "lexicon").
    corpus_dir (Union[str, Path]): The `aci_bench` folder.
    limit (Optional[int]): Only the first rows of each split (for quick checks).
    RETURNS (Dict[str, Any]): Per split: the three systems' scores, ratios and section P/R.
    """
    nlp = load_summary_pipeline(model, dialogue_model=dialogue_model, max_sentences=max_sentences)
    tr = textrank_pipeline(nlp)
    out: Dict[str, Any] = {
        "model": model,
        "pipeline": nlp.pipe_names,
        "max_sentences": nlp.get_pipe("medical_summarizer").max_sentences,
        "dialogue_model": str(dialogue_model) if dialogue_model else None,
    }
    for split in splits:
        rows = read_aci(Path(corpus_dir) / ACI_SPLITS[split])
        out[split] = evaluate_split(nlp, rows[:limit] if limit else rows, tr)
    return out
