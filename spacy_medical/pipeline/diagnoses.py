"""`medical_diagnoses`: the top diagnosis suggestions of a text classifier, with codes.

Sits after a `textcat` (exclusive classes) and turns `doc.cats` into `doc._.diagnoses`: the
`top_k` labels by score, each with its MeSH / Disease Ontology codes where the label has a row in
the code table (`rules/dx_codes.jsonl`, looked up by hand in the shipped lexicons). When the best
score is below `threshold` (chosen on the in-distribution dev split, see docs/diagnoses.md), the
list is empty: "no suggestion" rather than a confident-looking guess.

These are suggestions for triage research on the classifier's labels, not a diagnosis.
"""
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Union

import srsly
from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import ensure_path

from ..errors import Errors

CODES_PATH = Path(__file__).resolve().parents[1] / "rules" / "dx_codes.jsonl"
CODES_FILE = "dx_codes.jsonl"


def read_codes(path: Union[str, Path] = CODES_PATH) -> Dict[str, Dict[str, Any]]:
    """Read the label -> codes table.

    path (Union[str, Path]): JSONL rows {"label", "codes": {vocabulary: id}, "concept_name"?, "match"?}.
    RETURNS (Dict[str, Dict[str, Any]]): The rows by label.
    """
    table = {}
    for line, row in enumerate(srsly.read_jsonl(path), start=1):
        if not (isinstance(row, dict) and isinstance(row.get("label"), str) and isinstance(row.get("codes"), dict)):
            raise ValueError(Errors.E655.format(path=path, line=line))
        table[row["label"]] = row
    return table


class MedicalDiagnoses(Pipe):
    """Set `doc._.diagnoses` from `doc.cats`: top suggestions with scores and codes."""

    def __init__(
        self,
        nlp: Language,
        name: str = "medical_diagnoses",
        *,
        threshold: float,
        top_k: int,
        textcat: str,
    ) -> None:
        if not 0.0 <= threshold <= 1.0 or top_k < 1:
            raise ValueError(Errors.E657.format(value=threshold, top_k=top_k))
        self.name = name
        self.cfg = {"threshold": float(threshold), "top_k": int(top_k), "textcat": textcat}
        self.codes: Dict[str, Dict[str, Any]] = {}

    @property
    def threshold(self) -> float:
        return self.cfg["threshold"]

    @threshold.setter
    def threshold(self, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError(Errors.E657.format(value=value, top_k=self.cfg["top_k"]))
        self.cfg["threshold"] = round(float(value), 4)

    def initialize(
        self,
        get_examples: Optional[Callable[[], Iterable[Example]]] = None,
        *,
        nlp: Optional[Language] = None,
        codes: Optional[Union[str, Path, Dict[str, Dict[str, Any]]]] = None,
    ) -> None:
        """Load the code table: the shipped one, another file, or a dict by label ({} for none)."""
        if codes is None or isinstance(codes, (str, Path)):
            codes = read_codes(codes or CODES_PATH)
        self.codes = dict(codes)

    def suggest(self, cats: Dict[str, float]) -> List[Dict[str, Any]]:
        """The suggestions for one doc's scores; empty when the best is below the threshold."""
        ranked = sorted(cats.items(), key=lambda item: (-item[1], item[0]))[: self.cfg["top_k"]]
        if not ranked or ranked[0][1] < self.cfg["threshold"]:
            return []
        out = []
        for label, score in ranked:
            row = self.codes.get(label, {})
            codes = dict(row.get("codes", {}))
            out.append(
                {
                    "label": label,
                    "score": round(float(score), 4),
                    # A CURIE, as `ent.kb_id_` of medical_linker; `codes` holds bare ids, as `ent._.codes`.
                    "kb_id": next((f"{vocab}:{codes[vocab]}" for vocab in ("MESH", "DOID") if codes.get(vocab)), None),
                    "concept_name": row.get("concept_name"),
                    "codes": codes,
                }
            )
        return out

    def __call__(self, doc: Doc) -> Doc:
        if not doc.cats:
            # A classifier always sets scores: none means it is missing or did not run.
            raise ValueError(Errors.E656.format(pipe=self.cfg["textcat"]))
        doc._.diagnoses = self.suggest(doc.cats)
        return doc

    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        if "cfg" not in exclude:
            srsly.write_json(path / "cfg", self.cfg)
        if "codes" not in exclude:
            srsly.write_jsonl(path / CODES_FILE, list(self.codes.values()))

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> "MedicalDiagnoses":
        path = ensure_path(path)
        if "cfg" not in exclude and (path / "cfg").exists():
            self.cfg.update(srsly.read_json(path / "cfg"))
            self.cfg["threshold"] = round(self.cfg["threshold"], 4)
        if "codes" not in exclude and (path / CODES_FILE).exists():
            self.codes = read_codes(path / CODES_FILE)
        return self

    def to_bytes(self, *, exclude: Iterable[str] = tuple()) -> bytes:
        return srsly.msgpack_dumps({"cfg": self.cfg, "codes": self.codes})

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = tuple()) -> "MedicalDiagnoses":
        msg = srsly.msgpack_loads(data)
        self.cfg.update(msg["cfg"])
        self.codes = msg["codes"]
        return self


def make_medical_diagnoses(nlp: Language, name: str, threshold: float, top_k: int, textcat: str) -> MedicalDiagnoses:
    """Build `medical_diagnoses`; see FACTORY_META for the defaults."""
    return MedicalDiagnoses(nlp, name, threshold=threshold, top_k=top_k, textcat=textcat)


FACTORY_META = dict(
    default_config={
        # No suggestion when the best score is below this; the dx workflow sets the value chosen
        # on the dev split (scripts/evaluate_dx.py) when it assembles en_medical_dx.
        "threshold": 0.0,
        "top_k": 3,
        "textcat": "textcat",
    },
    assigns=["doc._.diagnoses"],
    requires=["doc.cats"],
)
