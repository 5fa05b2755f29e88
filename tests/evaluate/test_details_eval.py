"""evaluate_details on a tiny invented BRAT folder: gold reading, MODIFY links, strict scores."""
import pytest

from spacy_medical.evaluate.details import evaluate_details, prf
from spacy_medical.io.maccrobat_details import read_details_gold, read_modify_relations

TEXT = "She took aspirin 81 mg daily. Hemoglobin was 9.7 g/dL today.\n"
ANN = (
    "T1\tMedication 9 16\taspirin\n"
    "E1\tMedication:T1 \n"
    "T2\tDosage 17 28\t81 mg daily\n"
    "E2\tDosage:T2 \n"
    "R1\tMODIFY Arg1:E2 Arg2:E1\t\n"
    "T3\tDiagnostic_procedure 30 40\tHemoglobin\n"
    "E3\tDiagnostic_procedure:T3 \n"
    "T4\tLab_value 45 53\t9.7 g/dL\n"
    "E4\tLab_value:T4 \n"
    "R2\tMODIFY Arg1:E4 Arg2:E3\t\n"
    "R3\tBEFORE Arg1:E1 Arg2:E3\t\n"
)


@pytest.fixture
def brat_folder(tmp_path):
    (tmp_path / "100.txt").write_text(TEXT, encoding="utf8")
    (tmp_path / "100.ann").write_text(ANN, encoding="utf8")
    return tmp_path


def test_gold_links_resolve_events(brat_folder):
    assert read_modify_relations(brat_folder / "100.ann") == [("E2", "E1"), ("E4", "E3")]
    (gold,) = read_details_gold("dev", brat_folder)
    assert gold.links == {((17, 28, "DOSE"), (9, 16, "DRUG")), ((45, 53, "VALUE"), (30, 40, "TEST"))}


def test_rules_score_the_invented_note(brat_folder):
    report = evaluate_details(None, None, brat_folder)
    rules = report["dev"]["rules"]
    assert rules["spans"]["DOSE"]["f"] == 1.0
    assert rules["spans"]["VALUE"]["f"] == 1.0
    assert rules["spans"]["TEST"]["f"] == 1.0
    assert rules["links"]["f"] == 1.0
    assert report["dev"]["links_on_gold_spans"]["nearest"]["f"] == 1.0
    assert report["documents"] == {"dev": 1, "test": 0}


def test_malformed_relation_names_the_line(tmp_path):
    (tmp_path / "1.ann").write_text("R1\tMODIFY T1\n", encoding="utf8")
    with pytest.raises(ValueError, match="1.ann, line 1"):
        read_modify_relations(tmp_path / "1.ann")


def test_prf_without_predictions():
    assert prf(0, 0, 5) == {"p": 0.0, "r": 0.0, "f": 0.0, "tp": 0, "pred": 0, "gold": 5}
