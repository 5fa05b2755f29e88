"""error_kinds: exact-match NER errors split into other edges, other label, missed and spurious; evaluate_to_file."""
import json

import spacy
from spacy.tokens import DocBin, Span

from spacy_medical.evaluate.ner import error_kinds, evaluate_to_file, feature_widths

TEXT = "Chronic hepatitis B with fever , rash and asthma ; no cough ."


def doc_with(nlp, ents, missing=()):
    doc = nlp.make_doc(TEXT)
    spans = [Span(doc, s, e, label=label) for s, e, label in ents]
    doc.set_ents(spans, missing=[doc[s:e] for s, e in missing], default="outside")
    return doc


def test_error_kinds_per_label():
    nlp = spacy.blank("en")
    # tokens: Chronic0 hepatitis1 B2 with3 fever4 ,5 rash6 and7 asthma8 ;9 no10 cough11 .12
    gold = doc_with(nlp, [(0, 3, "DISEASE"), (4, 5, "SYMPTOM"), (6, 7, "SYMPTOM"), (8, 9, "DISEASE")], missing=[(11, 12)])
    pred = doc_with(nlp, [(1, 3, "DISEASE"), (4, 5, "SYMPTOM"), (6, 7, "DISEASE"), (3, 4, "DRUG"), (11, 12, "SYMPTOM")])
    kinds = error_kinds([pred], [gold])
    assert kinds["DISEASE"] == {"gold": 2, "correct": 0, "gold_other_label": 0, "gold_other_edges": 1, "missed": 1,
                                "pred_other_label": 1, "pred_other_edges": 1, "spurious": 0}
    assert kinds["SYMPTOM"] == {"gold": 2, "correct": 1, "gold_other_label": 1, "gold_other_edges": 0, "missed": 0,
                                "pred_other_label": 0, "pred_other_edges": 0, "spurious": 0}
    # "with" as DRUG is spurious; "cough" as SYMPTOM sits on a token the gold leaves unknown: not counted
    assert kinds["DRUG"]["spurious"] == 1 and kinds["DRUG"]["gold"] == 0


def test_evaluate_to_file_scores_without_excluded_pipes(tmp_path):
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "SYMPTOM", "pattern": "fever"}])
    nlp.to_disk(tmp_path / "model")
    gold = doc_with(nlp, [(4, 5, "SYMPTOM")])
    DocBin(docs=[gold]).to_disk(tmp_path / "gold.spacy")
    full = evaluate_to_file(tmp_path / "model", [tmp_path / "gold.spacy"], tmp_path / "full.json")
    alone = evaluate_to_file(tmp_path / "model", [tmp_path / "gold.spacy"], tmp_path / "alone.json", exclude=["entity_ruler"])
    assert full["gold"]["scores"]["ents_f"] == 1.0
    assert alone["gold"]["scores"]["ents_f"] == 0.0
    assert json.loads((tmp_path / "alone.json").read_text())["gold"]["scores"]["ents_f"] == 0.0
    assert full["gold"]["spelling_width"] == full["gold"]["lexicon_width"] == 0  # no ner at all
    assert (full["gold"]["pipeline"], alone["gold"]["pipeline"]) == (["entity_ruler"], [])


def test_feature_widths_are_read_from_the_ner_config():
    nlp = spacy.blank("en")
    nlp.add_pipe("ner")
    assert feature_widths(nlp) == {"spelling_width": 0, "lexicon_width": 0}  # spaCy's default ner: its own tok2vec
    cnn = {"@architectures": "spacy.HashEmbedCNN.v2", "width": 16, "depth": 1, "embed_size": 100, "window_size": 1,
           "maxout_pieces": 2, "subword_features": True, "pretrained_vectors": None}
    features = {"@architectures": "spacy-medical.TransformerWithSpelling.v1", "transformer": cnn, "spelling_width": 8,
                "attrs": ["NORM", "SHAPE"], "rows": [50, 20], "window_size": 1, "depth": 1, "lexicon_width": 4}
    nlp = spacy.blank("en")
    nlp.add_pipe("ner", config={"model": {"@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner",
                                          "hidden_width": 8, "maxout_pieces": 2, "use_upper": False, "tok2vec": features}})
    assert feature_widths(nlp) == {"spelling_width": 8, "lexicon_width": 4}
