"""medical_linker and its concept KB: a tiny invented vocabulary end to end, serialization, NIL,
abbreviations and bad input."""
import pytest
import spacy

from spacy_medical.kb import ConceptKB, alias_key
from spacy_medical.kb.build import build_kb
from spacy_medical.pipeline.linker import linked_fields
from tiny_vocabularies import DRUGBANK, MESH, write_lexicons


@pytest.fixture(scope="module")
def kb_dir(tmp_path_factory):
    root = write_lexicons(tmp_path_factory.mktemp("lexicons"))
    kb, _ = build_kb(root, [root / "train.PubTator.txt"])
    kb.to_disk(root / "kb")
    return root / "kb"


@pytest.fixture
def nlp(kb_dir):
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    nlp.add_pipe("medical_abbreviations")
    nlp.add_pipe("medical_linker")
    nlp.config["initialize"]["components"]["medical_linker"] = {"kb_path": str(kb_dir)}
    nlp.initialize()
    ruler.add_patterns([  # what a ner would find
        {"label": label, "pattern": p} for label, phrases in {
            "DISEASE": ["heart attack", "diabetis mellitus", "cancer of the breast", "myocardial infarction",
                        "MI", "zork qux", "breast cancers", "breast and ovarian cancer",
                        "renal and hepatic failure", "cancer of the breast or ovary"],
            "SYMPTOM": ["pyrexia", "headache"], "DRUG": ["aspirin", "MP"], "TEST": ["troponin"],
        }.items() for p in phrases
    ])
    return nlp


def links(doc):
    return {ent.text: (ent.kb_id_, ent._.codes) for ent in doc.ents}


def test_kb_joins_vocabularies_where_the_sources_say_so(kb_dir):
    kb = ConceptKB.from_disk(kb_dir)
    by_id = {c["id"]: c for c in kb.concepts}
    # DO through its MeSH xref; SYMP and DrugBank by a name shared with one MeSH concept.
    assert by_id["MESH:D009203"]["codes"] == {"MESH": "D009203", "DOID": "5844"}
    assert by_id["MESH:D006261"]["codes"] == {"MESH": "D006261", "SYMP": "0000504"}
    assert by_id["MESH:D006261"]["groups"] == ["disease", "symptom"]
    assert by_id["MESH:D001241"]["codes"]["DRUGBANK"] == "DB00945"
    # Without a shared name or xref a concept stays on its own; obsolete terms are dropped.
    assert by_id["DRUGBANK:DB00331"]["groups"] == ["drug"]
    assert by_id["DOID:9999"]["codes"] == {"DOID": "9999"}
    assert "SYMP:0000001" not in by_id
    # A training id missing from the descriptors becomes a concept; surfaces become priors.
    assert by_id["MESH:D005334"]["name"] == "Fever"
    assert kb.priors[alias_key("MP")] == {kb.concepts.index(by_id["MESH:D008775"]): 1}


def test_variants_misspellings_and_labels_link(nlp):
    doc = nlp("Heart attack in 2019, diabetis mellitus, cancer of the breast, breast cancers, "
              "pyrexia and headache; takes aspirin.")
    found = links(doc)
    assert found["Heart attack"] == ("MESH:D009203", {"MESH": "D009203", "DOID": "5844"})
    assert found["diabetis mellitus"][0] == "MESH:D003920"
    assert found["cancer of the breast"][0] == "MESH:D001943"
    assert found["breast cancers"][0] == "MESH:D001943"  # plural and word order
    assert found["pyrexia"][0] == "SYMP:0000614"
    assert found["headache"][1] == {"MESH": "D006261", "SYMP": "0000504"}
    aspirin = [e for e in doc.ents if e.text == "aspirin"][0]
    assert aspirin._.codes == {"MESH": "D001241", "DRUGBANK": "DB00945", "CAS": "50-78-2", "UNII": "R16CO5Y76E"}
    assert aspirin._.concept_name == "Aspirin"
    assert aspirin._.candidates[0]["id"] == "MESH:D001241"
    assert linked_fields(aspirin) == {"kb_id": "MESH:D001241", "concept_name": "Aspirin", "codes": aspirin._.codes}


def test_a_defined_short_form_links_through_its_long_form(nlp):
    defined = nlp("She had a myocardial infarction (MI) last year. The MI was treated.")
    assert [ent.kb_id_ for ent in defined.ents if ent.text == "MI"] == ["MESH:D009203", "MESH:D009203"]
    undefined = nlp("The MI was treated.")
    assert [ent.kb_id_ for ent in undefined.ents] == [""]


def test_coordinated_mentions_carry_one_link_per_part(nlp):
    doc = nlp("Breast and ovarian cancer, renal and hepatic failure, cancer of the breast or ovary, heart attack.")
    parts = {ent.text: [(p["text"], p["kb_id"]) for p in ent._.composite_links or []] for ent in doc.ents}
    assert parts == {
        "Breast and ovarian cancer": [("Breast cancer", "MESH:D001943"), ("ovarian cancer", "MESH:D010051")],
        "renal and hepatic failure": [("renal failure", "MESH:D051437"), ("hepatic failure", "MESH:D017093")],
        "cancer of the breast or ovary": [("cancer of the breast", "MESH:D001943"), ("cancer of the ovary", "MESH:D010051")],
        "heart attack": [],  # not coordinated: composite_links is None
    }
    whole = doc.ents[0]
    assert whole._.composite_links[1]["codes"] == {"MESH": "D010051"} and whole._.composite_links[1]["concept_name"] == "Ovarian Neoplasms"
    assert doc.ents[-1]._.composite_links is None
    # Records, reports and summary items carry the parts of a coordinated mention only.
    assert linked_fields(whole)["composite_links"][0] == {"text": "Breast cancer", "kb_id": "MESH:D001943", **{
        k: whole._.composite_links[0][k] for k in ("concept_name", "codes")}}
    assert "composite_links" not in linked_fields(doc.ents[-1])


def test_only_joining_words_and_spaced_commas_split_a_mention(nlp):
    linker = nlp.get_pipe("medical_linker")

    def parts(text):
        doc = nlp.make_doc(text)
        return linker.composite_queries(doc[:], [])

    assert parts("cyclic adenosine 3',5'-monophosphate") == parts("heart attack") == []
    assert [variants[0] for variants in parts("Myoclonic, atonic, and absence seizures")] == ["Myoclonic", "atonic", "absence seizures"]
    assert parts("breast and ovarian cancer") == [["breast", "breast cancer"], ["ovarian cancer"]]
    assert parts(" and ".join(["x"] * 20)) == []  # too long to be one coordinated name


def test_nil_and_unknown_labels(nlp):
    doc = nlp("zork qux; troponin was normal.")
    nil, test = doc.ents
    assert (nil.kb_id_, nil._.codes, nil._.concept_name) == ("", {}, None)
    assert isinstance(nil._.candidates, list)  # kept for audit even when nothing is good enough
    assert (test.label_, test.kb_id_, test._.codes, test._.candidates) == ("TEST", "", None, None)


def test_a_100000_character_entity_is_linked_without_trouble(nlp):
    doc = nlp.make_doc("heart " + "a" * 100_000)
    doc.ents = [doc.char_span(0, len(doc.text), label="DISEASE")]
    doc = nlp.get_pipe("medical_linker")(doc)
    assert doc.ents[0]._.candidates is not None


def everything(doc):
    return [(e.text, e.kb_id_, e._.codes, e._.concept_name, e._.candidates, e._.composite_links) for e in doc.ents]


def test_pipe_and_the_cache_give_the_same_links_as_call(nlp):
    texts = ["Heart attack and aspirin.", "No headache.", "zork qux", "breast and ovarian cancer, heart attack"]
    kb = nlp.get_pipe("medical_linker").kb
    kb.clear_cache()
    batched = [everything(doc) for doc in nlp.pipe(texts, batch_size=3)]
    warm = [everything(doc) for doc in nlp.pipe(texts, batch_size=3)]  # every mention from the cache
    one_by_one = []
    for text in texts:
        kb.clear_cache()
        one_by_one.append(everything(nlp(text)))
    assert batched == warm == one_by_one
    assert any(ent[5] for ent in batched[3]) and all(ent[4] for doc in batched for ent in doc if ent[1])


def test_the_search_within_groups_equals_filtering_the_whole_search(kb_dir):
    from spacy_medical.kb.index import group_bits

    kb = ConceptKB.from_disk(kb_dir)
    drug = group_bits(["drug"])
    for query in ("diabetis melitus", "asprin", "metformine", "heart"):
        everywhere = kb._neighbours([query])[0]
        expected = {c: sim for c, sim in everywhere.items() if "drug" in kb.concepts[c]["groups"]}
        assert kb._neighbours([query], drug)[0] == pytest.approx(expected)
    assert kb.candidates("diabetis melitus")[0].id == "MESH:D003920"
    assert all("drug" in kb.concepts[c.concept]["groups"] for c in kb.candidates("diabetis melitus", ["drug"]))
    assert kb.candidates("aspirin", ["organism"]) == []  # a group no concept has


def test_serialization_round_trip_and_missing_kb(nlp, tmp_path):
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    text = "Heart attack, pyrexia and aspirin."
    assert links(loaded(text)) == links(nlp(text))
    for name in (tmp_path / "pipeline" / "medical_linker" / "kb").iterdir():
        name.unlink()
    (tmp_path / "pipeline" / "medical_linker" / "kb").rmdir()
    with pytest.raises(FileNotFoundError, match="medical_linker/kb"):
        spacy.load(tmp_path / "pipeline")
    assert "medical_linker" not in spacy.load(tmp_path / "pipeline", exclude=["medical_linker"]).pipe_names


def test_initialize_needs_a_kb(kb_dir, tmp_path):
    nlp = spacy.blank("en")
    linker = nlp.add_pipe("medical_linker")
    with pytest.raises(ValueError, match="E506|kb_path"):
        linker.initialize()
    with pytest.raises(FileNotFoundError, match="nowhere"):
        linker.initialize(kb_path=tmp_path / "nowhere")
    with pytest.raises(ValueError, match="no concept KB"):
        nlp("text")
    (tmp_path / "broken").mkdir()
    for name in kb_dir.iterdir():
        (tmp_path / "broken" / name.name).write_bytes(name.read_bytes())
    (tmp_path / "broken" / "aliases.json").write_text("{not json", encoding="utf8")
    with pytest.raises(ValueError, match="broken"):
        linker.initialize(kb_path=tmp_path / "broken")


def test_unknown_semantic_group_is_an_error():
    with pytest.raises(ValueError, match="'LAB'.*'organism'"):
        spacy.blank("en").add_pipe("medical_linker", config={"label_groups": {"LAB": ["organism"]}})


@pytest.mark.parametrize(
    "name,text,match",
    [
        ("mesh/mesh_descriptors.tsv", "", "mesh_descriptors.tsv: the vocabulary file is empty"),
        ("mesh/mesh_descriptors.tsv", "id\tname\n", "lacks the column"),
        ("mesh/mesh_descriptors.tsv", MESH + "D0001\tBroken\tC01\n", r"mesh_descriptors.tsv, line 11: expected 4 fields"),
        ("drugbank_open_vocabulary/drugbank_vocabulary.csv", DRUGBANK + "DB1,A,,1,2,,\n", r"line 4: empty"),
        ("symptom_ontology/symp.obo", "format-version: 1.2\n", "symp.obo: the vocabulary file is empty"),
    ],
)
def test_bad_vocabulary_files_name_the_file_and_line(tmp_path, name, text, match):
    root = write_lexicons(tmp_path, **{name: text})
    with pytest.raises(ValueError, match=match):
        build_kb(root)


def test_a_missing_vocabulary_file_is_named(tmp_path):
    root = write_lexicons(tmp_path)
    (root / "symptom_ontology" / "symp.obo").unlink()
    with pytest.raises(FileNotFoundError, match="symp.obo: vocabulary file not found"):
        build_kb(root)


def test_document_level_disease_concepts_end_to_end(nlp, tmp_path):
    from spacy_medical.evaluate.linking import document_concepts

    pubtator = tmp_path / "gold.PubTator.txt"
    pubtator.write_text(
        "7|t|Heart attack after aspirin.\n7|a|No headache.\n"
        "7\t0\t12\tHeart attack\tDisease\tD009203\n7\t19\t26\taspirin\tChemical\tD001241\n"
        "7\t31\t39\theadache\tDisease\tD006261\n\n"
        "8|t|Diabetes mellitus.\n8|a|zork qux.\n"
        "8\t0\t17\tDiabetes mellitus\tDisease\tD003920\n\n",
        encoding="utf8",
    )
    # Doc 7: both diseases found and linked; doc 8: "Diabetes mellitus" is no entity of this
    # pipeline (a miss) and "zork qux" is NIL (no false positive).
    assert document_concepts(nlp, pubtator) == {"p": 1.0, "r": 0.6667, "f": 0.8, "documents": 2}


def test_rescoring_a_pool_agrees_with_the_kb_ranking(kb_dir):
    from spacy_medical.evaluate.linking import rescore

    kb = ConceptKB.from_disk(kb_dir)
    kb.set_prior_weight(0.0)
    pool = kb.candidates("MP", ["drug"], k=50)
    kb.set_prior_weight(2.0)
    best = kb.candidates("MP", ["drug"], k=1)[0]
    assert (rescore(pool, 2.0).id, rescore(pool, 2.0).score) == (best.id, best.score) == ("MESH:D008775", 3.0)


def test_loaded_tfidf_gives_scikit_learns_cosines(kb_dir):
    from sklearn.feature_extraction.text import TfidfVectorizer

    kb = ConceptKB.from_disk(kb_dir)
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), lowercase=False).fit(kb.alias_texts)
    for query in ("myocardial infarct", "diabetis  melitus", "a", "zork qux"):
        expected = (vectorizer.transform([query]) @ vectorizer.transform(kb.alias_texts).T).toarray()[0]
        best = {}
        for alias, sim in enumerate(expected):
            concept = int(kb.alias_concepts[alias])
            if sim > best.get(concept, 0.0):
                best[concept] = sim
        assert kb._neighbours([query])[0] == pytest.approx(best, abs=1e-5)


def test_codes_reach_the_batch_record_the_csv_table_and_the_summary(nlp):
    from spacy_medical.batch.records import annotated_record
    from spacy_medical.io.writers import entity_rows

    nlp.add_pipe("medical_summarizer")
    doc = nlp("Heart attack in 2019; takes aspirin.")
    record = annotated_record(nlp, doc, note_id="N1")
    by_text = {e["text"]: e for e in record["entities"]}
    assert by_text["aspirin"]["kb_id"] == "MESH:D001241" and by_text["aspirin"]["codes"]["DRUGBANK"] == "DB00945"
    assert by_text["Heart attack"]["concept_name"] == "Myocardial Infarction"
    assert [r["kb_id"] for r in entity_rows(record)] == ["MESH:D009203", "MESH:D001241"]
    medication = doc._.summary["medications"][0]
    assert (medication["text"], medication["kb_id"], medication["codes"]["MESH"]) == ("aspirin", "MESH:D001241", "D001241")


def test_composite_scores_count_the_gold_ids_the_parts_find(nlp, tmp_path):
    from spacy_medical.evaluate.linking import composite_scores, gold_mentions

    pubtator = tmp_path / "gold.PubTator.txt"
    pubtator.write_text(
        "9|t|Breast and ovarian cancer.\n9|a|Aspirin.\n"
        "9\t0\t25\tBreast and ovarian cancer\tDisease\tD001943|D010051\n9\t27\t34\tAspirin\tChemical\tD001241\n\n",
        encoding="utf8",
    )
    mentions, _ = gold_mentions(pubtator, nlp)
    linker = nlp.get_pipe("medical_linker")
    scores = composite_scores(linker.kb, linker, mentions)
    # The whole links to one of the two cancers; its parts find both.
    assert (scores["mentions_with_several_ids"], scores["their_gold_ids"]) == (1, 2)
    assert (scores["found_by_link"], scores["found_with_composite_links"]) == (0.5, 1.0)
    assert (scores["mentions_split"], scores["parts_linked"], scores["parts_correct"]) == (1, 2, 1.0)
