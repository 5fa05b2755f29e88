"""Fixtures of the batch tests: a tiny entity_ruler pipeline saved to disk as the model."""
import pytest
import spacy

PATTERNS = [
    {"label": "DISEASE", "pattern": [{"LOWER": "asthma"}]},
    {"label": "DISEASE", "pattern": [{"LOWER": "diabetes"}]},
    {"label": "DISEASE", "pattern": [{"LOWER": "pneumonia"}]},
    {"label": "SYMPTOM", "pattern": [{"LOWER": "chest"}, {"LOWER": "pain"}]},
    {"label": "SYMPTOM", "pattern": [{"LOWER": "cough"}]},
    {"label": "DRUG", "pattern": [{"LOWER": "aspirin"}]},
    {"label": "DRUG", "pattern": [{"LOWER": "metformin"}]},
]


def make_tiny_nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns(PATTERNS)
    nlp.meta["name"] = "tiny_test"
    nlp.meta["version"] = "0.0.1"
    return nlp


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """Path of a blank English pipeline with an entity_ruler (DISEASE, SYMPTOM, DRUG)."""
    path = tmp_path_factory.mktemp("model") / "tiny"
    make_tiny_nlp().to_disk(path)
    return path


@pytest.fixture
def tiny_nlp():
    """A factory of fresh in-memory tiny pipelines."""
    return make_tiny_nlp


@pytest.fixture
def notes_csv():
    """A factory writing a CSV export of n invented notes: notes_csv(path, n)."""
    return write_notes_csv


def write_notes_csv(path, n, start=0):
    """A CSV export of `n` invented notes with ids N00000..., some with no entities."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["note_id", "text"])
        for i in range(start, start + n):
            text = [
                f"HPI: patient {i} denies chest pain.\nHas asthma, takes aspirin.",
                f"Cough for {i % 7} days.\r\nPlan: metformin for diabetes.",
                "No complaints today.",
            ][i % 3]
            writer.writerow([f"N{i:05d}", text])
    return path
