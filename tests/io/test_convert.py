"""Converters: offsets, label mapping, missing-label marking, discontinuous and overlapping spans."""
import json
import re

import pytest
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from spacy_medical.io.brat import read_brat
from spacy_medical.io.convert import CorpusConverter, convert_benchmark, convert_corpora
from spacy_medical.io.docbuild import resolve_overlaps
from spacy_medical.io.iob import read_iob
from spacy_medical.io.lexicons import drug_terms, symptom_terms
from spacy_medical.io.maccrobat import split_ids
from spacy_medical.io.pubtator import read_pubtator


def ents(doc):
    return [(e.text, e.label_) for e in doc.ents]


def missing(doc):
    return [t.text for t in doc if t.ent_iob == 0]


def test_lexicons(fake_corpora):
    terms = symptom_terms(fake_corpora / "lexicons/symptom_ontology/symp.obo")
    assert {"headache", "cephalalgia", "hypotension", "fever"} <= terms
    assert "old symptom" not in terms  # obsolete
    assert {"clonidine", "aspirin", "acetylsalicylic acid"} <= drug_terms(fake_corpora / "lexicons/drugbank_open_vocabulary/drugbank_vocabulary.csv")


def test_maccrobat_mapping_discontinuous_and_overlap(fake_corpora):
    converter = CorpusConverter(fake_corpora)
    doc = next(converter.maccrobat("train"))
    assert ents(doc) == [("chest pain", "SYMPTOM"), ("fever", "SYMPTOM"), ("aspirin", "DRUG"), ("hypertension", "DISEASE")]
    # the discontinuous "rash ... arm" is not an entity, and its tokens are unknown rather than O
    assert missing(doc) == ["rash", "was", "seen", "on", "the", "left", "arm"]
    assert [s.text.strip() for s in doc.sents][1] == "He took aspirin for his hypertension."
    report = converter.report.to_dict()["maccrobat/train"]
    assert report["skipped_spans"] == {"discontinuous (tokens marked missing)": 1, "overlapping span (shorter one dropped)": 1}


def test_bc5cdr_drugbank_chemicals_and_symptom_relabel(fake_corpora):
    converter = CorpusConverter(fake_corpora, chemicals="drugbank", symptom_mentions="relabel")
    doc = next(converter.bc5cdr("test"))
    assert doc.user_data["doc_id"] == "1001"
    assert ents(doc) == [("Clonidine", "DRUG"), ("hypotension", "SYMPTOM"), ("seizures", "SYMPTOM"), ("nephropathy", "DISEASE")]
    assert missing(doc) == ["Benzene"]  # a chemical that is not a DrugBank drug: neither DRUG nor O
    relabelled = converter.report.to_dict()["bc5cdr/test"]["relabelled"]
    assert relabelled == {"chemical -> missing": 1, "disease -> SYMPTOM (Symptom Ontology term)": 2}


def test_symptom_relabel_follows_maccrobat_where_it_labels_the_term(fake_corpora):
    # The fixture's MACCROBAT train documents label "hypertension" Disease_disorder and "fever"
    # Sign_symptom; once the ontology lists hypertension, it must still stay DISEASE.
    obo = fake_corpora / "lexicons/symptom_ontology/symp.obo"
    obo.write_text(obo.read_text() + "\n[Term]\nid: SYMP:0000005\nname: malignant hypertension\n\n[Term]\nid: SYMP:0000006\nname: hypertension\n")
    text = "Fever, hypertension and malignant hypertension, not hypotension."
    mentions = [(m.start(), m.end()) for m in re.finditer(r"Fever|malignant hypertension|(?<!malignant )hypertension|hypotension", text)]
    lines = [f"2001|t|{text}", "2001|a|"] + [f"2001\t{a}\t{b}\t{text[a:b]}\tDisease\tD0" for a, b in mentions]
    (fake_corpora / "bc5cdr/pubtator/CDR_TestSet.PubTator.txt").write_text("\n".join(lines) + "\n\n")
    converter = CorpusConverter(fake_corpora)
    doc = next(converter.bc5cdr("test"))
    assert ents(doc) == [("Fever", "SYMPTOM"), ("hypertension", "DISEASE"), ("malignant hypertension", "DISEASE"), ("hypotension", "SYMPTOM")]
    assert converter.report.to_dict()["bc5cdr/test"]["relabelled"] == {
        "disease -> SYMPTOM (Symptom Ontology term)": 2,
        "disease kept (Symptom Ontology term, MACCROBAT: Disease_disorder)": 2,
    }


CONCEPT_TEXT = "Hypotension (HT) and fevers; HT resolved. Nephropathy (NP) improved. Headache or migraine disorder (MD) persisted."
CONCEPT_MENTIONS = [("Hypotension", "D007022"), ("HT", "D007022"), ("fevers", "D005334"), ("HT", "D007022"), ("Nephropathy", "D007674"), ("NP", "D007674"), ("Headache", "D1"), ("migraine disorder", "D1"), ("MD", "D1")]


@pytest.mark.parametrize(
    "symptom_mentions,expected_labels,expected_relabelled",
    [
        # By surface: the short form "HT" and the plural "fevers" are no ontology terms.
        ("relabel", ["SYMPTOM", "DISEASE", "DISEASE", "DISEASE", "DISEASE", "DISEASE", "SYMPTOM", "DISEASE", "DISEASE"], {"disease -> SYMPTOM (Symptom Ontology term)": 2}),
        # By concept: "HT" follows "Hypotension", "fevers" is "fever"; "MD" keeps its label
        # because its concept's full forms disagree (Headache SYMPTOM, migraine disorder DISEASE).
        (
            "relabel-concept",
            ["SYMPTOM", "SYMPTOM", "SYMPTOM", "SYMPTOM", "DISEASE", "DISEASE", "SYMPTOM", "DISEASE", "DISEASE"],
            {
                "disease -> SYMPTOM (Symptom Ontology term)": 2,
                "disease -> SYMPTOM (plural of a Symptom Ontology term)": 1,
                "disease short form -> SYMPTOM (its concept's full form in the document)": 2,
            },
        ),
    ],
)
def test_symptom_relabel_by_surface_or_by_concept(fake_corpora, symptom_mentions, expected_labels, expected_relabelled):
    lines, start = [f"3001|t|{CONCEPT_TEXT}", "3001|a|"], 0
    for surface, concept in CONCEPT_MENTIONS:
        start = CONCEPT_TEXT.index(surface, start)
        lines.append(f"3001\t{start}\t{start + len(surface)}\t{surface}\tDisease\t{concept}")
        start += len(surface)
    path = fake_corpora / "bc5cdr/pubtator/CDR_TestSet.PubTator.txt"
    path.write_text("\n".join(lines) + "\n\n")
    assert [m.concept for m in next(read_pubtator(path)).mentions] == [c for _, c in CONCEPT_MENTIONS]
    converter = CorpusConverter(fake_corpora, symptom_mentions=symptom_mentions)
    doc = next(converter.bc5cdr("test"))
    assert ents(doc) == list(zip([s for s, _ in CONCEPT_MENTIONS], expected_labels))
    assert converter.report.to_dict()["bc5cdr/test"]["relabelled"] == expected_relabelled


@pytest.mark.parametrize(
    "chemicals,symptom_mentions,expected,expected_missing",
    [
        ("all", "keep", [("Clonidine", "DRUG"), ("hypotension", "DISEASE"), ("Benzene", "DRUG"), ("seizures", "DISEASE"), ("nephropathy", "DISEASE")], []),
        ("missing", "missing", [("nephropathy", "DISEASE")], ["Clonidine", "hypotension", "Benzene", "seizures"]),
    ],
)
def test_bc5cdr_options(fake_corpora, chemicals, symptom_mentions, expected, expected_missing):
    doc = next(CorpusConverter(fake_corpora, chemicals=chemicals, symptom_mentions=symptom_mentions).bc5cdr("train"))
    assert ents(doc) == expected
    assert missing(doc) == expected_missing


def test_benchmark_keeps_own_labels(fake_corpora):
    doc = next(CorpusConverter(fake_corpora).bc5cdr("dev", benchmark=True))
    assert [label for _, label in ents(doc)] == ["CHEMICAL", "DISEASE", "CHEMICAL", "DISEASE", "DISEASE"]
    assert missing(doc) == []


@pytest.mark.parametrize("mask,expected_missing", [(True, ["headache", "aspirin"]), (False, [])])
def test_ncbi_marks_unannotated_labels_missing(fake_corpora, mask, expected_missing):
    doc = next(CorpusConverter(fake_corpora, mask_unannotated=mask).ncbi("train"))
    assert ents(doc) == [("Familial breast cancer", "DISEASE")]
    assert missing(doc) == expected_missing


def test_ncbi_outside_edges_keeps_o_only_next_to_a_mention(fake_corpora):
    converter = CorpusConverter(fake_corpora, ncbi_outside="edges")
    first, second = converter.ncbi("train")
    assert ents(first) == [("Familial breast cancer", "DISEASE")]
    # "with" follows the mention and stays O; the rest of the sentence teaches nothing
    assert missing(first) == ["headache", "after", "aspirin", "."]
    assert missing(second) == []
    assert converter.report.to_dict()["ncbi/train"]["missing_tokens"]["outside a Disease mention, not next to one"] == 4
    assert missing(next(CorpusConverter(fake_corpora, ncbi_outside="edges").ncbi("train", benchmark=True))) == []
    with pytest.raises(ValueError, match="ncbi_outside"):
        CorpusConverter(fake_corpora, ncbi_outside="missing")


def test_ncbi_groups_consecutive_sentences_into_one_doc(fake_corpora):
    # An I- opening the second sentence starts a new entity, never continues the first one's.
    (fake_corpora / "ncbi_disease" / "iob" / "train.tsv").write_text(
        "Familial\tB-Disease\ncancer\tI-Disease\n\nnephropathy\tI-Disease\nfollows\tO\n\nNo\tO\nfever\tO\n\n", encoding="utf8")
    grouped = list(CorpusConverter(fake_corpora, ncbi_sentences_per_doc=2).ncbi("train", benchmark=True))
    assert [d.user_data["doc_id"] for d in grouped] == ["train.tsv:1", "train.tsv:7"]
    assert ents(grouped[0]) == [("Familial cancer", "DISEASE"), ("nephropathy", "DISEASE")]
    assert [s.text for s in grouped[0].sents] == ["Familial cancer", "nephropathy follows"]
    assert [t.text for t in grouped[1]] == ["No", "fever"]
    ungrouped = list(CorpusConverter(fake_corpora).ncbi("train", benchmark=True))
    assert [d.user_data["doc_id"] for d in ungrouped] == ["train.tsv:1", "train.tsv:4", "train.tsv:7"]
    assert not ungrouped[0].has_annotation("SENT_START")
    with pytest.raises(ValueError, match="ncbi_sentences_per_doc"):
        CorpusConverter(fake_corpora, ncbi_sentences_per_doc=0)


def test_convert_corpora_writes_docbins_and_report(fake_corpora, tmp_path):
    out = tmp_path / "out"
    report = convert_corpora(out, root=fake_corpora)
    for split in ("train", "dev", "test"):
        for name in ("maccrobat", "bc5cdr", "ncbi"):
            docs = list(DocBin().from_disk(out / split / f"{name}.spacy").get_docs(Vocab()))
            assert docs and all(d.user_data.get("doc_id") for d in docs)
    # missing marks survive the round trip through DocBin
    ncbi = list(DocBin().from_disk(out / "train" / "ncbi.spacy").get_docs(Vocab()))
    assert missing(ncbi[0]) == ["headache", "aspirin"]
    on_disk = json.loads((out / "conversion_report.json").read_text())
    assert on_disk == json.loads(json.dumps(report))
    assert sum(on_disk["corpora"][f"maccrobat/{s}"]["docs"] for s in ("train", "dev", "test")) == 60
    bench = convert_benchmark(tmp_path / "bench", "ncbi", root=fake_corpora)
    assert bench["corpora"]["ncbi-bench/test"]["entities"] == {"DISEASE": 2}
    assert bench["options"] == {"benchmark": "ncbi"}
    grouped = convert_benchmark(tmp_path / "grouped", "ncbi", root=fake_corpora, ncbi_sentences_per_doc=2)
    assert grouped["corpora"]["ncbi-bench/test"] == {**bench["corpora"]["ncbi-bench/test"], "docs": 1}
    assert grouped["options"] == {"benchmark": "ncbi", "ncbi_sentences_per_doc": 2}


def test_split_is_deterministic_and_disjoint():
    ids = [str(i) for i in range(1000, 1160)]
    split = split_ids(ids)
    assert split == split_ids(list(reversed(ids)))
    assert [len(split[s]) for s in ("train", "dev", "test")] == [104, 24, 32]
    assert not set(split["train"]) & set(split["test"]) and not set(split["dev"]) & set(split["test"])
    # adding a document never moves an existing one to another split
    bigger = split_ids(ids + ["9999"])
    assert set(split["test"]) - set(bigger["test"]) <= set(bigger["dev"]) | set(bigger["test"])


def test_overlap_rule_prefers_longest_then_label_priority():
    from spacy.tokens import Doc, Span

    doc = Doc(Vocab(), words=["chronic", "kidney", "disease", "pain"])
    spans = [Span(doc, 1, 3, "SYMPTOM"), Span(doc, 0, 3, "DISEASE"), Span(doc, 3, 4, "DRUG"), Span(doc, 3, 4, "SYMPTOM")]
    kept, dropped = resolve_overlaps(spans)
    assert [(s.text, s.label_) for s in kept] == [("chronic kidney disease", "DISEASE"), ("pain", "SYMPTOM")]
    assert dropped == 2


# --- malformed input: the error names the file and the line -------------------------------------
@pytest.mark.parametrize(
    "ann,match",
    [
        ("T1\tSign_symptom 0 500\tpain\n", "line 1: offsets 0-500 are outside"),
        ("T1\tSign_symptom 2 7\tpain\n", "line 1: surface string does not match"),
        ("T1\tSign_symptom\n", "line 1: text-bound annotation needs 3"),
        ("T1\tSign_symptom 0 5\tchest\nT2\tSign_symptom x y\tpain\n", "line 2: offsets are not two integers"),
        ("Q1\tsomething\n", "line 1: unknown annotation kind"),
    ],
)
def test_brat_malformed(tmp_path, ann, match):
    (tmp_path / "d.txt").write_text("chest pain", encoding="utf8")
    (tmp_path / "d.ann").write_text(ann, encoding="utf8")
    with pytest.raises(ValueError, match=match) as err:
        read_brat(tmp_path / "d.txt")
    assert "d.ann" in str(err.value)


def test_brat_attributes_reach_the_span(tmp_path):
    (tmp_path / "d.txt").write_text("no rash", encoding="utf8")
    (tmp_path / "d.ann").write_text("T1\tSign_symptom 3 7\trash\nE1\tSign_symptom:T1 \nA1\tPOLARITY E1 NEG\n", encoding="utf8")
    doc = read_brat(tmp_path / "d.txt")
    assert doc.span_attributes("T1") == {"POLARITY": "NEG"}


@pytest.mark.parametrize(
    "content,match",
    [
        ("1|t|Aspirin.\n1|a|Text.\n1\t0\t7\tAspirin\tProtein\t-1\n", "line 3: unknown label 'Protein'"),
        ("1|t|Aspirin.\n1|a|Text.\n1\t0\t99\tAspirin\tChemical\t-1\n", "line 3: offsets 0-99"),
        ("1|t|Aspirin.\n1|a|Text.\n1\t0\t7\tAspirix\tChemical\t-1\n", "line 3: offsets do not reproduce"),
        ("1|t|Aspirin.\n1|a|Text.\n1\t0\n", "line 3: mention line needs"),
        ("1\t0\t7\tAspirin\tChemical\t-1\n", "line 1: annotation line before"),
    ],
)
def test_pubtator_malformed(tmp_path, content, match):
    path = tmp_path / "bad.PubTator.txt"
    path.write_text(content, encoding="utf8")
    with pytest.raises(ValueError, match=match) as err:
        list(read_pubtator(path))
    assert "bad.PubTator.txt" in str(err.value)


@pytest.mark.parametrize(
    "content,match",
    [("a\tO\nb\n", "line 2: expected"), ("a\tB-Chemical\n", "line 1: unknown label 'B-Chemical'"), ("a\tX-Disease\n", "line 1: unknown label")],
)
def test_iob_malformed(tmp_path, content, match):
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf8")
    with pytest.raises(ValueError, match=match):
        list(read_iob(path, {"Disease"}))


def test_iob_sentences_and_line_numbers(tmp_path):
    path = tmp_path / "ok.tsv"
    path.write_text("a\tB-Disease\nb\tI-Disease\n\nc\tO\n", encoding="utf8")
    assert list(read_iob(path, {"Disease"})) == [(1, ["a", "b"], ["B-Disease", "I-Disease"]), (4, ["c"], ["O"])]
