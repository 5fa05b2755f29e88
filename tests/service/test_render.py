"""The record renderer shared by the page and `annotate --html`: every qualifier visible, the
summary readable, codes on hover, note markup escaped. Every note is invented."""
import re
from html.parser import HTMLParser

from service_notes import NOTE

from spacy_medical.io.render import render_record, render_report
from spacy_medical.labels import ASSERTIONS


class _Marks(HTMLParser):
    """Collects each <mark>: its attributes and the text inside it."""

    def __init__(self):
        super().__init__()
        self.marks, self._open = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "mark":
            self._open = dict(attrs, text="")
            self.marks.append(self._open)

    def handle_endtag(self, tag):
        if tag == "mark":
            self._open = None

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data


def _marks(html):
    parser = _Marks()
    parser.feed(html)
    return parser.marks


def test_every_qualifier_is_marked_by_class_and_word(client):
    record = client.post("/annotate", json={"note_id": "r1", "text": NOTE}).json()
    html = render_record(NOTE, record)
    marks = {m["text"].split("DISEASE")[0].split("SYMPTOM")[0].split("DRUG")[0]: m for m in _marks(html)}
    assert "negated" in marks["chest pain"]["class"].split() and marks["chest pain"]["data-label"] == "SYMPTOM"
    assert marks["chest pain"]["text"].endswith("negated")  # a word, not only a colour
    assert "uncertain" in marks["pneumonia"]["class"] and "historical" in marks["asthma"]["class"]
    assert "family" in marks["diabetes"]["class"] and marks["aspirin"]["class"] == "ent"
    assert "hypothetical" in marks["cough"]["class"] and marks["metformin"]["class"] == "ent"
    assert 'data-section="family_history"' in html and ">family history<" in html


def test_summary_is_readable_text_never_internal_units(client):
    record = client.post("/annotate", json={"note_id": "r2", "text": NOTE}).json()
    assert record["summary"]["units"]  # present in the record ...
    html = render_record(NOTE, record)
    aside = html[html.index("<aside>"):]
    assert "units" not in aside and "score" not in aside and "start_char" not in aside  # ... never shown
    assert "{" not in aside and "Ruled out (negated)" in aside and "PAST MEDICAL HISTORY" in aside
    assert re.search(r"<li>chest pain <small>\(negated, history of present illness\)</small></li>", aside)


def test_codes_on_hover_and_both_offset_spellings():
    text = "No asthma; takes aspirin."
    record = {"row": 1, "note_id": "c", "status": "ok", "sections": [], "summary": None, "entities": [
        {"text": "asthma", "label": "DISEASE", "start_char": 3, "end_char": 9, "negated": True,
         "kb_id": "MESH:D001249", "concept_name": "Asthma", "codes": {"DOID": "2841"}},
        {"text": "aspirin", "label": "DRUG", "start": 17, "end": 24},
    ]}
    marks = _marks(render_record(text, record))
    assert [m["text"] for m in marks] == ["asthmaDISEASEnegated", "aspirinDRUG"]
    assert "MESH:D001249 Asthma" in marks[0]["title"] and "DOID:2841" in marks[0]["title"]
    assert marks[0]["data-kb-id"] == "MESH:D001249"


def test_note_markup_is_escaped_and_failed_records_show_their_error():
    text = "<script>alert(1)</script> asthma"
    record = {"row": 1, "note_id": "<x>", "status": "ok", "sections": [], "summary": None,
              "entities": [{"text": "asthma", "label": "DISEASE", "start": 26, "end": 32}]}
    html = render_record(text, record)
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;x&gt;" in html
    failed = render_record("", {"row": 2, "note_id": "f", "status": "failed", "error": "row 2: the pipeline failed"})
    assert 'class="record failed"' in failed and "the pipeline failed" in failed


def test_report_is_a_standalone_page_with_every_note(client, tmp_path):
    texts = [NOTE, "Cough."]
    records = client.post("/annotate", json=[{"note_id": f"h{i}", "text": t} for i, t in enumerate(texts)]).json()
    path = tmp_path / "report.html"
    render_report([{"text": t, "result": r} for t, r in zip(texts, records)], path, max_chars=40)
    html = path.read_text(encoding="utf-8")
    assert html.count('<article class="record">') == 2 and "<style>" in html and "http" not in html
    assert "more characters not shown" in html
    assert all(q in html for q in ASSERTIONS)
