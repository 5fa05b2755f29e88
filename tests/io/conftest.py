"""Fixtures for the converter tests: a tiny, invented copy of the corpora folder layout."""
from pathlib import Path

import pytest
MACCROBAT_TEXT = "A 60 year old man had chest pain and fever.\nHe took aspirin for his hypertension.\nNo rash was seen on the left arm.\n"
# T1 SYMPTOM "chest pain" (0-based offsets in MACCROBAT_TEXT), T2 SYMPTOM "fever",
# T3 DRUG "aspirin", T4 DISEASE "hypertension", T5 a discontinuous "rash ... arm" symptom,
# T6 overlapping T1 ("pain", shorter, dropped), T7 an unmapped type.
MACCROBAT_ANN = """T1\tSign_symptom 22 32\tchest pain
E1\tSign_symptom:T1
T2\tSign_symptom 37 42\tfever
T3\tMedication 52 59\taspirin
T4\tDisease_disorder 68 80\thypertension
T5\tSign_symptom 85 89;111 114\trash arm
E2\tSign_symptom:T5
A1\tPOLARITY E2 NEG
T6\tSign_symptom 28 32\tpain
T7\tBiological_structure 102 114\tthe left arm
R1\tMODIFY Arg1:T7 Arg2:E2
#1\tAnnotatorNotes T1\tinvented
"""

PUBTATOR = """1001|t|Clonidine caused hypotension.
1001|a|Benzene exposure and seizures were not linked to nephropathy.
1001\t0\t9\tClonidine\tChemical\tD003000
1001\t17\t28\thypotension\tDisease\tD007022
1001\t30\t37\tBenzene\tChemical\tD001554
1001\t51\t59\tseizures\tDisease\tD012640
1001\t79\t90\tnephropathy\tDisease\tD007674
1001\tCID\tD003000\tD007022

"""

IOB = "Familial\tB-Disease\nbreast\tI-Disease\ncancer\tI-Disease\nwith\tO\nheadache\tO\nafter\tO\naspirin\tO\n.\tO\n\nNo\tO\nnephropathy\tB-Disease\n\n"

OBO = """format-version: 1.2

[Term]
id: SYMP:0000099
name: headache
synonym: "cephalalgia" EXACT []

[Term]
id: SYMP:0000001
name: hypotension

[Term]
id: SYMP:0000002
name: seizures

[Term]
id: SYMP:0000003
name: fever

[Term]
id: SYMP:0000004
name: old symptom
is_obsolete: true
"""

DRUGBANK = (
    "DrugBank ID,Accession Numbers,Common name,CAS,UNII,Synonyms,Standard InChI Key\n"
    "DB00575,,Clonidine,,,Clonidine | Catapres,\n"
    "DB00945,,Acetylsalicylic acid,,,Aspirin | ASA,\n"
)


def write_corpora(root: Path, split_ids=("101",)) -> Path:
    """Write the fixture corpora under `root`; every split of BC5CDR/NCBI gets the same content."""
    (root / "maccrobat" / "brat").mkdir(parents=True)
    for doc_id in split_ids:
        (root / "maccrobat" / "brat" / f"{doc_id}.txt").write_text(MACCROBAT_TEXT, encoding="utf8")
        (root / "maccrobat" / "brat" / f"{doc_id}.ann").write_text(MACCROBAT_ANN, encoding="utf8")
    (root / "bc5cdr" / "pubtator").mkdir(parents=True)
    for name in ("CDR_TrainingSet", "CDR_DevelopmentSet", "CDR_TestSet"):
        (root / "bc5cdr" / "pubtator" / f"{name}.PubTator.txt").write_text(PUBTATOR, encoding="utf8")
    (root / "ncbi_disease" / "iob").mkdir(parents=True)
    for name in ("train", "devel", "test"):
        (root / "ncbi_disease" / "iob" / f"{name}.tsv").write_text(IOB, encoding="utf8")
    (root / "lexicons" / "symptom_ontology").mkdir(parents=True)
    (root / "lexicons" / "symptom_ontology" / "symp.obo").write_text(OBO, encoding="utf8")
    (root / "lexicons" / "drugbank_open_vocabulary").mkdir(parents=True)
    (root / "lexicons" / "drugbank_open_vocabulary" / "drugbank_vocabulary.csv").write_text(DRUGBANK, encoding="utf8")
    return root


@pytest.fixture
def fake_corpora(tmp_path) -> Path:
    """The fixture corpora in `tmp_path/corpora`, one MACCROBAT document per id below."""
    return write_corpora(tmp_path / "corpora", split_ids=[str(i) for i in range(101, 161)])
