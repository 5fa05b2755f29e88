"""Build the concept KB from the shared lexicons and BC5CDR training annotations.

One concept per MeSH descriptor (the ids BC5CDR and NCBI-disease annotate), with semantic groups
from its tree numbers (C and F03: disease, D: drug/chemical). The other vocabularies join a MeSH
concept where the sources say they are the same, and otherwise stay concepts of their own:
- Disease Ontology: through its MeSH cross-references (MESHinDO.tsv);
- Symptom Ontology and DrugBank: by a shared name (alias key) with exactly one MeSH concept of a
  compatible group; an ambiguous name joins nothing.
BC5CDR mentions (train, and dev for the shipped KB; never test) add their surfaces as aliases,
the MeSH ids the descriptors lack (Supplementary Concept Records, "C..." ids) as concepts, and
the mention -> id counts used as priors.
"""
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set, Tuple

from ..io.lexicons import read_disease_ontology, read_drugbank, read_mesh, read_symptom_ontology
from ..io.pubtator import read_pubtator
from .index import ConceptKB, alias_key, fold_text

# BC5CDR types -> semantic group of a concept first seen in its annotations.
PUBTATOR_GROUPS = {"Disease": "disease", "Chemical": "drug"}
# Grouping classes, not findings: as a link they would only say "some disease".
ROOT_TERMS = {"disease", "symptom"}


def mesh_groups(tree_numbers: str) -> List[str]:
    """Semantic groups of a MeSH descriptor from its tree numbers."""
    groups = set()
    for tree in tree_numbers.split(";"):
        if tree.startswith("C") or tree.startswith("F03"):
            groups.add("disease")
        elif tree.startswith("D"):
            groups.add("drug")
    return sorted(groups)


class _Builder:
    def __init__(self) -> None:
        self.concepts: List[dict] = []
        self.index: Dict[str, int] = {}
        self.aliases: Set[Tuple[str, int]] = set()
        self.mesh_keys: Dict[str, Set[int]] = defaultdict(set)

    def add_concept(self, curie: str, name: str, groups: Iterable[str], codes: Dict[str, str]) -> int:
        self.index[curie] = len(self.concepts)
        self.concepts.append({"id": curie, "name": name, "groups": sorted(set(groups)), "codes": codes})
        return self.index[curie]

    def add_aliases(self, concept: int, names: Iterable[str]) -> None:
        for name in names:
            folded = fold_text(name)
            if folded:
                self.aliases.add((folded, concept))

    def join(self, concept: int, vocabulary: str, code: str, group: Optional[str], names: Iterable[str]) -> None:
        """Add another vocabulary's code (the first one wins), group and names to a concept."""
        record = self.concepts[concept]
        record["codes"].setdefault(vocabulary, code)
        if group and group not in record["groups"]:
            record["groups"] = sorted(record["groups"] + [group])
        self.add_aliases(concept, names)

    def unique_mesh_match(self, names: Iterable[str], group: str) -> Optional[int]:
        matches = {c for name in names for c in self.mesh_keys.get(alias_key(name), ()) if group in self.concepts[c]["groups"]}
        return matches.pop() if len(matches) == 1 else None


def build_kb(lexicons_dir: Path, pubtator_files: Iterable[Path] = ()) -> Tuple[ConceptKB, Dict[str, int]]:
    """Build the KB.

    lexicons_dir (Path): The `lexicons` folder of the corpora (mesh/, disease_ontology/, ...).
    pubtator_files (Iterable[Path]): BC5CDR PubTator files giving aliases and priors (train, dev).
    RETURNS (Tuple[ConceptKB, Dict[str, int]]): The KB and counts for the build report.
    """
    lexicons_dir = Path(lexicons_dir)
    builder = _Builder()
    report: Counter = Counter()
    for descriptor in read_mesh(lexicons_dir / "mesh" / "mesh_descriptors.tsv"):
        concept = builder.add_concept(f"MESH:{descriptor.id}", descriptor.name, mesh_groups(descriptor.extra["tree_numbers"]), {"MESH": descriptor.id})
        names = (descriptor.name, *descriptor.synonyms)
        builder.add_aliases(concept, names)
        for name in names:
            builder.mesh_keys[alias_key(name)].add(concept)
    report["mesh"] = len(builder.concepts)

    do_dir = lexicons_dir / "disease_ontology"
    for term in read_disease_ontology(do_dir / "HumanDO.tsv", do_dir / "MESHinDO.tsv"):
        if term.name.lower() in ROOT_TERMS:
            continue
        number = term.id.split(":", 1)[1]
        mesh_ids = [m for m in term.extra["MESH"].split("|") if m]
        known = [builder.index[f"MESH:{m}"] for m in mesh_ids if f"MESH:{m}" in builder.index]
        if known:
            builder.join(known[0], "DOID", number, "disease", [term.name])
            report["doid_joined_mesh"] += 1
        else:
            codes = {"DOID": number, **({"MESH": mesh_ids[0]} if mesh_ids else {})}
            builder.add_aliases(builder.add_concept(term.id, term.name, ["disease"], codes), [term.name])
            report["doid_own"] += 1

    for term in read_symptom_ontology(lexicons_dir / "symptom_ontology" / "symp.obo"):
        if term.name.lower() in ROOT_TERMS:
            continue
        number, names = term.id.split(":", 1)[1], (term.name, *term.synonyms)
        match = builder.unique_mesh_match(names, "disease")
        if match is not None:
            builder.join(match, "SYMP", number, "symptom", names)
            report["symp_joined_mesh"] += 1
        else:
            builder.add_aliases(builder.add_concept(term.id, term.name, ["symptom"], {"SYMP": number}), names)
            report["symp_own"] += 1

    for drug in read_drugbank(lexicons_dir / "drugbank_open_vocabulary" / "drugbank_vocabulary.csv"):
        names = (drug.name, *drug.synonyms)
        codes = {"DRUGBANK": drug.id, **{k: v for k, v in drug.extra.items() if v}}
        match = builder.unique_mesh_match([drug.name], "drug")
        if match is not None:
            for vocabulary, code in codes.items():
                builder.join(match, vocabulary, code, None, names)
            report["drugbank_joined_mesh"] += 1
        else:
            builder.add_aliases(builder.add_concept(f"DRUGBANK:{drug.id}", drug.name, ["drug"], codes), names)
            report["drugbank_own"] += 1

    priors: Dict[str, Counter] = defaultdict(Counter)
    surfaces: Dict[int, Counter] = defaultdict(Counter)
    for path in pubtator_files:
        for document in read_pubtator(path):
            for mention in document.mentions:
                if not mention.concept or "|" in mention.concept or mention.concept == "-1":
                    report["pubtator_skipped_composite_or_nil"] += 1
                    continue  # composite ("D001|D002") and unlinked mentions give no single alias
                curie = f"MESH:{mention.concept}"
                concept = builder.index.get(curie)
                if concept is None:
                    concept = builder.add_concept(curie, mention.surface, [PUBTATOR_GROUPS[mention.type]], {"MESH": mention.concept})
                    report["pubtator_new_concepts"] += 1
                surfaces[concept][mention.surface] += 1
                builder.add_aliases(concept, [mention.surface])
                priors[alias_key(mention.surface)][concept] += 1
                report["pubtator_mentions"] += 1
    for concept, counts in surfaces.items():
        if concept >= report["mesh"] and builder.concepts[concept]["id"].startswith("MESH:C"):
            builder.concepts[concept]["name"] = counts.most_common(1)[0][0]  # most frequent surface

    aliases = sorted(builder.aliases)
    report.update(concepts=len(builder.concepts), aliases=len(aliases), prior_keys=len(priors))
    kb = ConceptKB(builder.concepts, [a for a, _ in aliases], [c for _, c in aliases], {k: dict(v) for k, v in priors.items()})
    return kb, dict(report)
