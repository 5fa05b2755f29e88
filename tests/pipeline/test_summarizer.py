"""Tests of `medical_summarizer`: schema, de-duplication, assertions, bad input."""
import json

import pytest
import spacy

from spacy_medical.pipeline.summary_lists import format_summary

KEYS = {"problems", "symptoms", "negatives", "medications", "text", "units"}
ITEM_KEYS = {"text", "label", "start_char", "end_char", "section", "negated", "uncertain", "historical", "hypothetical", "family"}
TERMS = [("DISEASE", "asthma"), ("DISEASE", "hypertension"), ("SYMPTOM", "cough"), ("SYMPTOM", "fever"), ("DRUG", "albuterol"), ("DRUG", "lisinopril")]

NOTE = (
    "CHIEF COMPLAINT\nCough.\n\n"
    "HISTORY OF PRESENT ILLNESS\nThe patient has asthma and a cough for three days. He denies fever. "
    "Asthma has been worse this week.\n\n"
    "MEDICATIONS\nAlbuterol inhaler as needed. Lisinopril for hypertension.\n\n"
    "ASSESSMENT AND PLAN\nAsthma exacerbation. Continue albuterol.\n"
)
DIALOGUE = (
    "[doctor] hi , what brings you in today ?\n"
    "[patient] i have had a bad cough and my asthma is acting up .\n"
    "[doctor] okay . any fever ?\n"
    "[patient] no fever .\n"
    "[doctor] are you using the albuterol inhaler every day for the asthma ?\n"
    "[patient] yes , twice a day .\n"
)


def make_nlp(with_sections=True, **config):
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_sentences")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns([{"label": label, "pattern": term} for label, term in TERMS])
    if with_sections:
        nlp.add_pipe("medical_sections")
    nlp.add_pipe("medical_summarizer", config=config)
    return nlp


@pytest.fixture
def nlp():
    return make_nlp()


def test_schema_and_json(nlp):
    summary = nlp(NOTE)._.summary
    assert set(summary) == KEYS
    json.dumps(summary)
    for key in ("problems", "symptoms", "negatives", "medications"):
        for item in summary[key]:
            assert set(item) == ITEM_KEYS
            assert NOTE[item["start_char"] : item["end_char"]] == item["text"]


def test_lists_are_deduplicated_by_normalized_text(nlp):
    summary = nlp(NOTE)._.summary
    assert [i["text"].lower() for i in summary["problems"]] == ["asthma", "hypertension"]
    assert [i["text"].lower() for i in summary["medications"]] == ["albuterol", "lisinopril"]
    assert summary["problems"][0]["section"] == "history_of_present_illness"


def test_negated_mentions_go_to_negatives(nlp):
    doc = nlp.make_doc(NOTE)
    for name, proc in nlp.pipeline:
        doc = proc(doc)
        if name == "entity_ruler":
            for ent in doc.ents:
                ent._.negated = ent.text == "fever"
    summary = nlp.get_pipe("medical_summarizer").summarize(doc)
    assert [i["text"] for i in summary["negatives"]] == ["fever"]
    assert summary["negatives"][0]["negated"] is True
    assert "fever" not in [i["text"] for i in summary["symptoms"]]


def test_text_is_grouped_and_limited(nlp):
    summary = make_nlp(max_sentences=3)(NOTE)._.summary
    assert len(summary["units"]) == 3
    assert [u["start_char"] for u in summary["units"]] == sorted(u["start_char"] for u in summary["units"])
    headings = [line for line in summary["text"].split("\n") if line and not line.startswith("- ")]
    assert headings and all(h.isupper() for h in headings)
    assert "CHIEF COMPLAINT\n" not in NOTE[summary["units"][0]["start_char"] : summary["units"][0]["end_char"]]


def test_redundant_sentences_are_skipped():
    text = "The patient has asthma and cough.\nThe patient has asthma and cough.\nShe takes albuterol daily."
    summary = make_nlp(with_sections=False)(text)._.summary
    lines = summary["text"].split("\n")
    assert lines.count("- The patient has asthma and cough.") == 1
    assert len(lines) == 2


def test_dialogue_turns_are_units(nlp):
    summary = nlp(DIALOGUE)._.summary
    assert summary["units"]
    assert "[doctor]" not in summary["text"] and "[patient]" not in summary["text"]
    chosen = [DIALOGUE[u["start_char"] : u["end_char"]] for u in summary["units"]]
    assert any("asthma" in c for c in chosen)
    assert "okay . any fever ?" not in chosen or len(chosen) > 2


@pytest.mark.parametrize(
    "text",
    ["", "   \n\n ", "CHIEF COMPLAINT\nHPI:\nPLAN", "PLAN\nRest.\nPLAN\nRest.", "Asthma.\nASSESSMENT AND PLAN",
     "[patient] i have asthma .", "[doctor] hello .\n[doctor] any cough ?", "no headers, just asthma and cough"],
)
def test_bad_input_gives_valid_summary(nlp, text):
    for pipeline in (nlp, make_nlp(with_sections=False)):
        summary = pipeline(text)._.summary
        assert set(summary) == KEYS
        json.dumps(summary)
        assert isinstance(summary["text"], str)
        format_summary(summary)


def test_pipe_matches_call(nlp):
    texts = [NOTE, "", DIALOGUE]
    assert [d._.summary for d in nlp.pipe(texts)] == [nlp(t)._.summary for t in texts]


def test_without_sections_or_entities():
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_summarizer")
    summary = nlp("The patient feels well today and walks daily.\nShe sleeps well at night.")._.summary
    assert summary["problems"] == [] and summary["units"]
    assert all(u["section"] is None for u in summary["units"])


def test_round_trip(nlp, tmp_path):
    nlp.to_disk(tmp_path / "p")
    nlp2 = spacy.load(tmp_path / "p")
    assert nlp2(NOTE)._.summary == nlp(NOTE)._.summary


CONFIG = """
[nlp]
lang = "en"
pipeline = ["medical_sections", "medical_summarizer"]

[components]

[components.medical_sections]
factory = "medical_sections"

[components.medical_sections.scorer]
@scorers = "spacy-medical.sections_scorer.v1"

[components.medical_summarizer]
factory = "medical_summarizer"
max_sentences = 2
"""


def test_factories_build_from_config_string():
    from spacy.util import load_model_from_config
    from thinc.api import Config

    nlp = load_model_from_config(Config().from_str(CONFIG), auto_fill=True)
    nlp.initialize()
    assert nlp.pipe_names == ["medical_sections", "medical_summarizer"]
    assert nlp.get_pipe("medical_summarizer").max_sentences == 2
    doc = nlp("PLAN\nRest and fluids for the cold.\nCall the clinic if worse.\nReturn to clinic in one week.")
    assert len(doc._.summary["units"]) == 2
    assert [s.label_ for s in doc.spans["sections"]] == ["plan"]


def test_question_joins_its_short_answer(nlp):
    text = "[doctor] any fever at night ?\n[patient] no fever at all .\n[doctor] okay ."
    summary = nlp(text)._.summary
    assert "- any fever at night ? no fever at all ." in summary["text"].split("\n")
    assert "[patient]" not in summary["text"]
