"""The components behave like spaCy's own pipes: errors go to the pipeline's error handler under
`nlp.pipe`, serialization honours `exclude`, and a pipeline saved by the code before they became
`spacy.pipeline.Pipe` subclasses (tests/fixtures/saved_by_v0, see its README) loads and annotates
as it did. All notes are invented."""
import json
from pathlib import Path

import pytest
import spacy
from spacy.pipeline import Pipe

import spacy_medical.registry  # noqa: F401
from spacy_medical.labels import ASSERTIONS

SAVED_BY_V0 = Path(__file__).resolve().parents[1] / "fixtures" / "saved_by_v0"
COMPONENTS = ["medical_sentences", "medical_abbreviations", "medical_sections", "medical_context", "medical_summarizer"]
NOTES = [
    "HPI: Pt. denies fever but has cough. Congestive heart failure (CHF) stable.",
    "CRASH: this note makes one component raise.",
    "PLAN\nContinue albuterol for asthma.",
]


@pytest.fixture
def nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("medical_sentences")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns([{"label": label, "pattern": text} for text, label in [
        ("fever", "SYMPTOM"), ("cough", "SYMPTOM"), ("asthma", "DISEASE"),
        ("congestive heart failure", "DISEASE"), ("albuterol", "DRUG"),
    ]])
    for name in COMPONENTS[1:]:
        nlp.add_pipe(name)  # medical_context loads its packaged rules on the first note
    return nlp


@pytest.mark.parametrize("name", COMPONENTS)
def test_is_a_spacy_pipe(nlp, name):
    component = nlp.get_pipe(name)
    assert isinstance(component, Pipe)
    # spaCy's Pipe.pipe, which routes errors to the error handler: no loop of our own.
    assert type(component).pipe is Pipe.pipe


@pytest.mark.parametrize("name", COMPONENTS)
def test_error_goes_to_the_handler_and_other_notes_are_annotated(nlp, name, monkeypatch):
    component = nlp.get_pipe(name)
    annotate = type(component).__call__

    def raise_on_crash(self, doc):
        if doc.text.startswith("CRASH"):
            raise RuntimeError("this component failed")
        return annotate(self, doc)

    monkeypatch.setattr(type(component), "__call__", raise_on_crash)
    failures = []
    nlp.set_error_handler(lambda proc_name, proc, docs, error: failures.append((proc_name, [d.text for d in docs], str(error))))
    docs = list(nlp.pipe(NOTES, batch_size=2))
    assert failures == [(name, [NOTES[1]], "this component failed")]
    done = {doc.text: doc for doc in docs}
    for text in (NOTES[0], NOTES[2]):
        doc = done[text]
        assert doc.has_annotation("SENT_START")
        assert [e.label_ for e in doc.ents]
        assert doc.spans["sections"] and doc._.summary["text"]
    assert done[NOTES[0]].ents[0]._.negated  # "denies fever"
    assert "abbreviations" in done[NOTES[0]].spans


@pytest.mark.parametrize("name,part,file", [("medical_sections", "sections", "sections.jsonl"), ("medical_context", "rules", "rules.jsonl")])
def test_serialization_honours_exclude(nlp, tmp_path, name, part, file):
    component = nlp.get_pipe(name)
    component.initialize()  # the packaged rules
    component.to_disk(tmp_path / "all")
    component.to_disk(tmp_path / "without", exclude=[part])
    assert (tmp_path / "all" / file).is_file() and not (tmp_path / "without" / file).exists()
    fresh = spacy.blank("en").add_pipe(name)
    fresh.set_rules(component.rules[:1])
    fresh.from_disk(tmp_path / "all", exclude=[part])
    assert fresh.rules == component.rules[:1]
    fresh.from_bytes(component.to_bytes(exclude=[part]))
    assert fresh.rules == component.rules[:1]
    fresh.from_bytes(component.to_bytes())
    assert fresh.rules == component.rules


def test_settings_are_declared_once_in_the_factory(nlp):
    """The classes take every setting from the config: a class default could disagree with it."""
    import inspect

    for name in COMPONENTS:
        init = inspect.signature(type(nlp.get_pipe(name)).__init__)
        defaults = {p for p, param in init.parameters.items() if param.default is not inspect.Parameter.empty}
        assert not defaults, (name, defaults)


def record(doc) -> dict:
    return {
        "sents": [s.text for s in doc.sents] if len(doc) else [],
        "ents": [[e.start_char, e.end_char, e.label_, e._.section] + [e._.get(q) for q in ASSERTIONS] for e in doc.ents],
        "sections": [[s.start_char, s.end_char, s.label_] for s in doc.spans["sections"]],
        "abbreviations": [[s.start_char, s.end_char, s.label_] for s in doc.spans["abbreviations"]],
        "summary": doc._.summary,
    }


def test_pipeline_saved_by_v0_loads_and_annotates_as_before(tmp_path):
    expected = json.loads((SAVED_BY_V0 / "expected.json").read_text(encoding="utf8"))
    nlp = spacy.load(SAVED_BY_V0 / "pipeline")
    assert nlp.get_pipe("medical_context").max_scope == 10
    assert len(nlp.get_pipe("medical_context").rules) == 4
    assert len(nlp.get_pipe("medical_sections").rules) == 4
    records = [json.loads(json.dumps(record(doc))) for doc in nlp.pipe(expected["notes"])]
    assert records == expected["records"]
    # Saved again by today's code, it loads to the same annotations.
    nlp.to_disk(tmp_path / "again")
    again = [json.loads(json.dumps(record(doc))) for doc in spacy.load(tmp_path / "again").pipe(expected["notes"])]
    assert again == expected["records"]
