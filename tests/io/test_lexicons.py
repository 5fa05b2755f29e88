"""The symptom_lexicon patterns: Symptom Ontology terms filtered by a gold corpus, used as a gap filler."""
import spacy
from spacy.tokens import Doc, Span

from spacy_medical.io.lexicons import symptom_patterns

TERMS = ["cough", "fever", "blood pressure", "headache", "ab"]


def gold_doc(nlp, text, symptoms):
    """A gold doc whose SYMPTOM spans are the given surface strings (first occurrence each)."""
    doc = nlp.make_doc(text)
    spans = []
    for surface in symptoms:
        start = text.index(surface)
        spans.append(doc.char_span(start, start + len(surface), label="SYMPTOM"))
    doc.ents = spans
    return doc


def test_terms_mostly_not_gold_symptoms_are_dropped():
    nlp = spacy.blank("en")
    docs = [
        gold_doc(nlp, "Cough and fever for two days. Blood pressure was 120/80.", ["Cough", "fever"]),
        gold_doc(nlp, "Blood pressure was normal. No cough.", ["cough"]),
    ]
    patterns, report = symptom_patterns(TERMS, docs, min_precision=0.3)
    kept = [p["pattern"] for p in patterns]
    assert kept == ["cough", "fever", "headache"]  # "ab" is too short; "headache" is unseen
    assert {p["label"] for p in patterns} == {"SYMPTOM"}
    assert report["dropped_terms"] == {"blood pressure": {"seen": 2, "gold_symptom": 0}}
    assert (report["kept"], report["dropped"], report["unseen"]) == (3, 1, 1)


def test_without_gold_docs_every_term_is_kept():
    patterns, report = symptom_patterns(TERMS, [], min_precision=0.3)
    assert [p["pattern"] for p in patterns] == ["blood pressure", "cough", "fever", "headache"]
    assert report["dropped"] == 0


def test_lexicon_fills_gaps_and_never_overrides_the_model():
    nlp = spacy.blank("en")
    patterns, _ = symptom_patterns(TERMS, [])
    # As in configs/en_medical.cfg: an entity_ruler after ner that keeps the ner's entities.
    ruler = nlp.add_pipe("entity_ruler", name="symptom_lexicon",
                         config={"phrase_matcher_attr": "LOWER", "overwrite_ents": False})
    ruler.add_patterns(patterns)
    doc = nlp.make_doc("No fever, but reports Cough and blood pressure drop.")
    doc.ents = [Span(doc, 1, 2, "DISEASE"), Span(doc, 7, 9, "SYMPTOM")]  # what a ner predicted
    doc = nlp.get_pipe("symptom_lexicon")(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("fever", "DISEASE"), ("Cough", "SYMPTOM"), ("blood pressure", "SYMPTOM")
    ]
    assert len(nlp(Doc(nlp.vocab, words=[" "])).ents) == 0


def test_token_patterns_match_what_the_phrase_patterns_match(tmp_path):
    import spacy
    import srsly

    from spacy_medical.io.lexicons import read_patterns, read_token_patterns

    path = tmp_path / "patterns.jsonl"
    srsly.write_jsonl(path, [{"label": "SYMPTOM", "pattern": p} for p in ("chest pain", "short of breath", "a-fib")]
                      + [{"label": "SYMPTOM", "pattern": [{"LOWER": "cough"}]}])
    assert read_token_patterns(path)[0]["pattern"] == [{"LOWER": "chest"}, {"LOWER": "pain"}]
    text = "Chest pain and A-fib; SHORT OF BREATH, no cough. chest painful."
    found = []
    for patterns in (read_patterns(path), read_token_patterns(path)):
        nlp = spacy.blank("en")
        nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"}).add_patterns(patterns)
        found.append([(e.text, e.label_) for e in nlp(text).ents])
    assert found[0] == found[1] == [("Chest pain", "SYMPTOM"), ("A-fib", "SYMPTOM"), ("SHORT OF BREATH", "SYMPTOM"), ("cough", "SYMPTOM")]
