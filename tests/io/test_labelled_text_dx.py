"""Tests of the labelled-CSV reader and the near-duplicate split (train-classifier, en_medical_dx)."""
import pytest

from spacy_medical.io.corpora import corpora_dir
from spacy_medical.io.labelled_text import LabelledText, assign_splits, near_duplicate_groups, read_labelled_csv

SECRET = "Mrs Example has chest pain"


def write(tmp_path, text):
    path = tmp_path / "notes.csv"
    path.write_text(text, encoding="utf8")
    return path


def test_reads_rows_with_named_columns(tmp_path):
    path = write(tmp_path, "id,note,dept\n1,chest pain,cardio\n2,rash,derm\n3,palpitations,cardio\n4,itchy skin,derm\n")
    rows = read_labelled_csv(path, text_col="note", label_col="dept")
    assert [(r.text, r.label, r.row) for r in rows] == [("chest pain", "cardio", 1), ("rash", "derm", 2), ("palpitations", "cardio", 3), ("itchy skin", "derm", 4)]


def test_missing_column_names_file_and_column(tmp_path):
    path = write(tmp_path, "id,note,dept\n1,chest pain,cardio\n")
    with pytest.raises(ValueError, match="'label' not found.*--label-col.*3 fields: 'id', 'note', 'dept'") as error:
        read_labelled_csv(path, text_col="note", label_col="label")
    assert str(path) in str(error.value)


def test_empty_text_names_row_and_column_without_echoing_text(tmp_path):
    path = write(tmp_path, f"note,dept\n{SECRET},cardio\n   ,derm\n")
    with pytest.raises(ValueError, match=r"row 2 \(line 3\): column 'note' is empty") as error:
        read_labelled_csv(path, text_col="note", label_col="dept")
    assert SECRET not in str(error.value)


def test_label_with_one_example_is_refused(tmp_path):
    path = write(tmp_path, f"note,dept\n{SECRET},cardio\nrash,derm\nitchy skin,derm\n")
    with pytest.raises(ValueError, match=r"'cardio' \(row 1\)") as error:
        read_labelled_csv(path, text_col="note", label_col="dept")
    assert SECRET not in str(error.value)


def test_single_label_is_refused(tmp_path):
    path = write(tmp_path, "note,dept\nrash,derm\nitchy skin,derm\n")
    with pytest.raises(ValueError, match="at least two labels"):
        read_labelled_csv(path, text_col="note", label_col="dept")


TEXTS = [
    # A duplicate (case and punctuation differ), a paraphrase chain and distinct rows.
    ("I have a fever and chills every other day.", "Malaria"),
    ("i have a FEVER and chills, every other day", "Malaria"),
    ("I have had a fever and chills every other day", "Malaria"),
    ("Sweats at night after a trip to Ghana", "Malaria"),
    ("Shaking and high temperature that comes back", "Malaria"),
    ("Mosquito bites then a fever that comes and goes", "Malaria"),
    ("Burning when I pee and I need to go all the time", "urinary tract infection"),
    ("Cloudy urine that smells strong", "urinary tract infection"),
    ("Lower belly pain and blood in my urine", "urinary tract infection"),
    ("Peeing many times at night and it stings", "urinary tract infection"),
]
ROWS = [LabelledText(text, label, i + 1) for i, (text, label) in enumerate(TEXTS)]


def test_duplicates_and_paraphrases_share_a_group():
    groups = near_duplicate_groups(ROWS, min_overlap=0.6)
    assert groups[0] == groups[1] == groups[2]
    assert len(set(groups)) == len(ROWS) - 2


def test_split_keeps_groups_whole_is_fixed_and_trains_every_label():
    splits = assign_splits(ROWS, dev_share=0.2, test_share=0.2)
    assert splits[0] == splits[1] == splits[2]
    assert assign_splits(list(reversed(ROWS)), dev_share=0.2, test_share=0.2) == list(reversed(splits))
    assert {r.label for r, s in zip(ROWS, splits) if s == "train"} == {"Malaria", "urinary tract infection"}
    assert {"test", "dev"} <= set(splits)


CORPORA = corpora_dir(required=False)


@pytest.mark.corpora
@pytest.mark.skipif(not (CORPORA / "symptom2disease").is_dir(), reason=f"symptom2disease not found under {CORPORA}")
def test_symptom2disease_split_has_every_label_in_every_split():
    from spacy_medical.io.labelled_text import normalise
    from spacy_medical.io.symptom2disease import symptom2disease_splits

    parts = symptom2disease_splits()
    assert sum(len(rows) for rows in parts.values()) == 1200
    for rows in parts.values():
        assert len({r.label for r in rows}) == 24
    seen = {name: {normalise(r.text) for r in rows} for name, rows in parts.items()}
    assert not (seen["train"] & seen["test"]) and not (seen["train"] & seen["dev"]) and not (seen["dev"] & seen["test"])


def test_sentence_halves_and_context_are_deterministic_rewrites(tmp_path):
    import srsly

    from spacy_medical.io.labelled_text import sentence_halves
    from spacy_medical.io.symptom2disease import context_sentences

    rows = [LabelledText("Fever and chills. Sweats at night! Headache.", "Malaria", 1, "7"), LabelledText("Itchy rash", "allergy", 2, "8")]
    halves = sentence_halves(rows)
    assert [(r.text, r.label, r.id) for r in halves] == [
        ("Fever and chills. Sweats at night!", "Malaria", "7/a"),
        ("Headache.", "Malaria", "7/b"),
    ]
    table = tmp_path / "context.jsonl"
    srsly.write_jsonl(table, [{"label": "Malaria", "context": ["Back from Ghana.", "Back from Mali."]}])
    added = context_sentences(rows, table)
    assert len(added) == 1 and added[0].id == "7/context" and added[0].label == "Malaria"
    assert added[0].text.startswith("Fever and chills. Sweats at night! Headache. Back from ")
    assert context_sentences(rows, table) == added
    srsly.write_jsonl(table, [{"label": "Malaria", "context": "Back from Ghana."}])
    with pytest.raises(ValueError, match="line 1"):
        context_sentences(rows, table)
