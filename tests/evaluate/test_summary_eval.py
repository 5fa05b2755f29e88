"""Tests of the ACI-Bench summary/section evaluation on invented rows."""
import spacy

from spacy_medical.evaluate.summary import (
    concept_recall,
    evaluate_split,
    gold_headers,
    lead_n,
    plain_dialogue,
)
from spacy_medical.io.aci_bench import read_aci

NOTE = "CHIEF COMPLAINT\n\nCough.\n\nHISTORY OF PRESENT ILLNESS\n\nHe has asthma.\nMSK: normal gait.\n\nASSESSMENT AND PLAN\n\nAsthma. Albuterol."
DIALOGUE = "[doctor] hello there , nice to meet you .\n[patient] i have asthma and a cough .\n[doctor] we will start albuterol for the asthma ."


def tiny_nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_sentences")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns([{"label": "DISEASE", "pattern": "asthma"}, {"label": "SYMPTOM", "pattern": "cough"}, {"label": "DRUG", "pattern": "albuterol"}])
    nlp.add_pipe("medical_sections")
    nlp.add_pipe("medical_summarizer", config={"max_sentences": 1})
    return nlp


def test_gold_headers_are_header_lines_only():
    headers = gold_headers(NOTE)
    assert [label for _, label in headers] == ["chief_complaint", "history_of_present_illness", "assessment_and_plan"]
    assert all(NOTE[start:].split("\n")[0].isupper() for start, _ in headers)


def test_baseline_helpers():
    assert plain_dialogue(DIALOGUE).split("\n")[0] == "hello there , nice to meet you ."
    assert lead_n(DIALOGUE, 3) == "hello there ,"
    assert concept_recall(["asthma", "cough"], "Asthma, no cough.") == 1.0
    assert concept_recall(["asthma", "chest pain"], "chest") == 0.0
    assert concept_recall([], "anything") is None


def test_evaluate_split_runs_all_systems(tmp_path):
    csv_path = tmp_path / "aci.csv"
    import csv

    with open(csv_path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["dataset", "encounter_id", "dialogue", "note"])
        writer.writerow(["x", "E1", DIALOGUE, NOTE])
        writer.writerow(["x", "E2", "", "PLAN\nRest."])
    rows = read_aci(csv_path)
    result = evaluate_split(tiny_nlp(), rows)
    for system in ("summarizer", "lead_n", "textrank"):
        assert set(result[system]) == {"rouge1", "rouge2", "rougeL", "concept_recall"}
    # The summarizer picks the asthma/albuterol turn, lead-N the greeting.
    assert result["summarizer"]["concept_recall"] > result["lead_n"]["concept_recall"]
    assert result["sections"]["sections_header_p"] == 1.0 and result["sections"]["sections_header_r"] == 1.0
