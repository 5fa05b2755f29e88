"""An invented vocabulary for medical_linker tests: MeSH, Disease Ontology, Symptom Ontology and
DrugBank files in the shared lexicons' formats, and BC5CDR-style training mentions."""


MESH = (
    "id\tname\ttree_numbers\tsynonyms\n"
    "D009203\tMyocardial Infarction\tC14.280.647.500\tHeart Attack|Myocardial Infarct\n"
    "D003920\tDiabetes Mellitus\tC18.452.394.750\t\n"
    "D001943\tBreast Neoplasms\tC04.588.180\tBreast Cancer|Cancer of Breast\n"
    "D006261\tHeadache\tC23.888.592.612.441\tCephalalgia\n"
    "D001241\tAspirin\tD02.455.426.559.389.657.410.595.125\tAcetylsalicylic Acid\n"
    "D008775\tMethylprednisolone\tD04.210.500.745.432.769\t\n"
    "D010051\tOvarian Neoplasms\tC04.588.322.455\tOvarian Cancer\n"
    "D051437\tRenal Insufficiency\tC12.777.419.780\tRenal Failure|Kidney Failure\n"
    "D017093\tLiver Failure\tC06.552.380\tHepatic Failure\n"
)
HUMAN_DO = '"id"\t"label"\t"subClassOf"\n"DOID:5844"\t"myocardial infarction"\t"coronary artery disease"\n"DOID:9999"\t"frobnitz syndrome"\t"syndrome"\n'
MESH_IN_DO = '"id"\t"label"\t"xrefs"\n"DOID:5844"\t"myocardial infarction"\t"MESH:D009203"\n'
SYMP = (
    "format-version: 1.2\n\n"
    "[Term]\nid: SYMP:0000504\nname: headache\n\n"
    "[Term]\nid: SYMP:0000614\nname: fever\nsynonym: \"pyrexia\" EXACT []\n\n"
    "[Term]\nid: SYMP:0000001\nname: old sign\nis_obsolete: true\n"
)
DRUGBANK = (
    "DrugBank ID,Accession Numbers,Common name,CAS,UNII,Synonyms,Standard InChI Key\n"
    "DB00945,APRD00264,Aspirin,50-78-2,R16CO5Y76E,Acetylsalicylic acid | ASA,\n"
    "DB00331,APRD00099,Metformin,657-24-9,9100L32L2N,Metformine,\n"
)
PUBTATOR = (
    "1|t|Methylprednisolone and MP.\n1|a|Fever.\n"
    "1\t0\t18\tMethylprednisolone\tChemical\tD008775\n"
    "1\t23\t25\tMP\tChemical\tD008775\n"
    "1\t27\t32\tFever\tDisease\tD005334\n\n"
)


def write_lexicons(root, **override):
    files = {
        "mesh/mesh_descriptors.tsv": MESH, "disease_ontology/HumanDO.tsv": HUMAN_DO,
        "disease_ontology/MESHinDO.tsv": MESH_IN_DO, "symptom_ontology/symp.obo": SYMP,
        "drugbank_open_vocabulary/drugbank_vocabulary.csv": DRUGBANK, **override,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf8")
    (root / "train.PubTator.txt").write_text(PUBTATOR, encoding="utf8")
    return root
