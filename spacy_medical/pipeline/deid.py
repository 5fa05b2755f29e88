"""`medical_deid`: protected health information (PHI) in `doc.spans["phi"]`, and the note without it.

Labels (HIPAA safe-harbour identifiers as they appear in notes): NAME (patients, relatives,
clinicians), DATE (any date element more specific than a year), AGE (90 and over), CONTACT (phone,
fax, e-mail, URL, IP address), ID (record, account, social security, licence, device, serial
numbers), LOCATION (addresses, cities, ZIP codes, hospitals, clinics and other organisations).

`doc._.deidentified` is the text with every PHI span replaced: by its label in `mask` mode
(`[NAME]`), or by a keyed, consistent surrogate in `surrogate` mode (see `deid_surrogates`).
With `replace_doc = true` the component returns a new Doc of the de-identified text, so every
later component, and any output written from the Doc, only ever sees de-identified text.

Detection is rule-based (`deid_rules`); the rules are data, loaded in `initialize` and saved
with the pipeline. Optionally a trained PHI tagger (a spaCy pipeline whose `ner` predicts the six
labels, `configs/deid_ner.cfg`) is loaded in `initialize(phi_model=...)`, saved inside the component,
and its spans are unioned with the rules': the rules win on overlaps and labels, the model adds
what the rules miss (see `union_with_model`).
"""
import json
import os
import secrets
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

import spacy
import srsly
from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import ensure_path, load_model_from_config
from thinc.api import Config

from ..errors import Errors
from .deid_rules import PHIRules
from .deid_surrogates import Surrogates

RULES_DIR = Path(__file__).parent.parent / "rules"
DEFAULT_RULES = RULES_DIR / "phi_rules.jsonl"
DEFAULT_LEXICONS = RULES_DIR / "phi_lexicons.jsonl"
MODES = ("mask", "surrogate")
# Where __call__ keeps the offsets of each replacement (for output records and evaluation).
PHI_RECORDS_KEY = "medical_deid.phi"


class Deidentifier(Pipe):
    """Finds PHI and writes the de-identified text (see the module doc)."""

    def __init__(self, nlp: Language, name: str = "medical_deid", *, spans_key: str = "phi", mode: str = "mask",
                 key_env: Optional[str] = "SPACY_MEDICAL_DEID_KEY", replace_doc: bool = False) -> None:
        if mode not in MODES:
            raise ValueError(Errors.E552.format(mode=mode, modes=", ".join(MODES)))
        self.name = name
        self.vocab = nlp.vocab
        self.tokenizer = nlp.tokenizer
        self.spans_key = spans_key
        self.mode = mode
        self.key_env = key_env
        self.replace_doc = replace_doc
        self.rules_data: List[Dict[str, Any]] = []
        self.names_data: List[Dict[str, Any]] = []
        self._rules: Optional[PHIRules] = None
        self._surrogates: Optional[Surrogates] = None
        self.phi_model: Optional[Language] = None

    # --- data ----------------------------------------------------------------------------
    def initialize(self, get_examples: Optional[Callable[[], Iterable[Example]]] = None, *,
                   nlp: Optional[Language] = None, rules_path: Optional[Union[str, Path]] = None,
                   lexicons_path: Optional[Union[str, Path]] = None,
                   phi_model: Optional[Union[str, Path]] = None) -> None:
        """Load the PHI rules and the name and place lexicons (the packaged ones by default).

        rules_path (Optional[Union[str, Path]]): A `phi_rules.jsonl` of your own.
        lexicons_path (Optional[Union[str, Path]]): A `phi_lexicons.jsonl` of your own (names, places).
        phi_model (Optional[Union[str, Path]]): A trained PHI tagger (a pipeline with `ner`) whose
            spans are unioned with the rules'; None: rules only.
        """
        self.set_data(_read_jsonl(rules_path or DEFAULT_RULES), _read_jsonl(lexicons_path or DEFAULT_LEXICONS))
        self.phi_model = _load_phi_model(phi_model) if phi_model else None

    def set_data(self, rules: List[Dict[str, Any]], names: List[Dict[str, Any]]) -> None:
        self.rules_data, self.names_data = rules, names
        self._rules = PHIRules(rules, names)
        self._surrogates = None

    @property
    def rules(self) -> PHIRules:
        if self._rules is None:
            # A component added without nlp.initialize() works with the packaged rules.
            self.initialize()
        return self._rules  # type: ignore[return-value]

    @property
    def surrogates(self) -> Surrogates:
        if self._surrogates is None:
            secret = os.environ.get(self.key_env) if self.key_env else None
            # No key from the user: a key that lives only in this process, so the surrogates
            # are consistent within the run but nothing can reproduce them later.
            key = secret.encode("utf-8") if secret else secrets.token_bytes(32)
            names = {row["list"]: row["words"] for row in self.names_data}
            self._surrogates = Surrogates(key, names.get("first_names", []), names.get("last_names", []))
        return self._surrogates

    # --- processing ----------------------------------------------------------------------
    def __call__(self, doc: Doc) -> Doc:
        found = self.find(doc.text)
        spans = [doc.char_span(start, end, label=label, alignment_mode="expand") for start, end, label in found]
        doc.spans[self.spans_key] = [span for span in spans if span is not None]
        replaced = self.replacements(doc, found)
        text = apply_replacements(doc.text, replaced)
        records, shift = [], 0
        for start, end, label, replacement in replaced:
            records.append({"label": label, "start": start, "end": end,
                            "out_start": start + shift, "out_end": start + shift + len(replacement)})
            shift += len(replacement) - (end - start)
        doc.user_data[PHI_RECORDS_KEY] = records
        if not self.replace_doc:
            doc._.deidentified = text
            return doc
        return self._deidentified_doc(doc, text, records)

    def find(self, text: str) -> List[Tuple[int, int, str]]:
        """The PHI of `text` as sorted, disjoint (start, end, label): the rules', plus the model's."""
        found = self.rules.find(text)
        if self.phi_model is None:
            return found
        predicted = [(ent.start_char, ent.end_char, ent.label_) for ent in self.phi_model(text).ents]
        return union_with_model(found, self.rules.without_clinical_terms(text, predicted))

    def replacements(self, doc: Doc, found: List[Tuple[int, int, str]]) -> List[Tuple[int, int, str, str]]:
        """(start, end, label, replacement) for every PHI span of `doc`."""
        if self.mode == "mask":
            return [(start, end, label, f"[{label}]") for start, end, label in found]
        scope = str(doc._.patient_id or doc._.note_id or "")
        return [(start, end, label, self.surrogates.replace(label, doc.text[start:end], scope)) for start, end, label in found]

    def _deidentified_doc(self, doc: Doc, text: str, records: List[Dict[str, Any]]) -> Doc:
        new = self.tokenizer(text)
        new._.note_id = doc._.note_id
        new._.patient_id = doc._.patient_id
        new._.deidentified = text
        # Offsets of the original text would point into PHI: only the new ones are kept.
        new.user_data[PHI_RECORDS_KEY] = [{**r, "start": r["out_start"], "end": r["out_end"]} for r in records]
        spans = [new.char_span(r["out_start"], r["out_end"], label=r["label"], alignment_mode="expand") for r in records]
        new.spans[self.spans_key] = [span for span in spans if span is not None]
        return new

    # --- serialization -------------------------------------------------------------------
    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        if "rules" not in exclude:
            self.rules  # loads the packaged rules when none were loaded
            srsly.write_jsonl(path / "phi_rules.jsonl", self.rules_data)
            srsly.write_jsonl(path / "phi_lexicons.jsonl", self.names_data)
        if "phi_model" not in exclude and self.phi_model is not None:
            self.phi_model.to_disk(path / "phi_model")

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> "Deidentifier":
        path = ensure_path(path)
        if "rules" not in exclude:
            if not (path / "phi_rules.jsonl").exists():
                raise ValueError(Errors.E553.format(path=path / "phi_rules.jsonl"))
            self.set_data(_read_jsonl(path / "phi_rules.jsonl"), _read_jsonl(path / "phi_lexicons.jsonl"))
        if "phi_model" not in exclude:
            self.phi_model = _load_phi_model(path / "phi_model") if (path / "phi_model").exists() else None
        return self

    def to_bytes(self, *, exclude: Iterable[str] = tuple()) -> bytes:
        self.rules  # loads the packaged rules when none were loaded
        model = None
        if self.phi_model is not None and "phi_model" not in exclude:
            model = {"config": self.phi_model.config.to_str(), "bytes": self.phi_model.to_bytes()}
        return srsly.msgpack_dumps({"rules": self.rules_data, "names": self.names_data, "phi_model": model})

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = tuple()) -> "Deidentifier":
        content = srsly.msgpack_loads(data)
        self.set_data(content["rules"], content["names"])
        model = content.get("phi_model")
        if "phi_model" not in exclude:
            self.phi_model = None
            if model:
                self.phi_model = load_model_from_config(Config().from_str(model["config"]), auto_fill=False)
                self.phi_model.from_bytes(model["bytes"])
        return self


def union_with_model(found: List[Tuple[int, int, str]], predicted: List[Tuple[int, int, str]]) -> List[Tuple[int, int, str]]:
    """The rules' spans `found`, widened and added to by the model's `predicted` spans.

    The rules win: a predicted span overlapping rule spans only widens them (a part of a PHI string
    left unmasked is a leak) and takes their label; a predicted span overlapping none is added.
    Both lists are sorted and disjoint; so is the result.
    """
    merged: List[List[Any]] = []  # [start, end, label, from_rules]
    tagged = [(s, e, label, True) for s, e, label in found] + [(s, e, label, False) for s, e, label in predicted]
    for start, end, label, from_rules in sorted(tagged, key=lambda span: (span[0], not span[3])):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], end)
            if from_rules and not last[3]:
                last[2], last[3] = label, True
        else:
            merged.append([start, end, label, from_rules])
    return [(s, e, label) for s, e, label, _ in merged]


def apply_replacements(text: str, replaced: List[Tuple[int, int, str, str]]) -> str:
    """`text` with each (start, end, label, replacement) applied; spans are sorted and disjoint."""
    parts, last = [], 0
    for start, end, _, replacement in replaced:
        parts.append(text[last:start])
        parts.append(replacement)
        last = end
    parts.append(text[last:])
    return "".join(parts)


def deidentify_doc_record(doc: Doc) -> Tuple[str, List[Dict[str, Any]]]:
    """The de-identified text of a processed doc and its PHI spans, for output records.

    Each span gives its label, its offsets in the original text (`start`, `end`) and those of its
    replacement in the de-identified text (`out_start`, `out_end`); never the PHI string.

    doc (Doc): A doc processed by `medical_deid`.
    RETURNS (Tuple[str, List[Dict[str, Any]]]): The de-identified text and the spans.
    """
    if doc._.deidentified is None or PHI_RECORDS_KEY not in doc.user_data:
        raise ValueError(Errors.E554)
    return doc._.deidentified, [dict(record) for record in doc.user_data[PHI_RECORDS_KEY]]


def _load_phi_model(path: Union[str, Path]) -> Language:
    model = spacy.load(path)
    if "ner" not in model.pipe_names:
        raise ValueError(Errors.E558.format(path=path, pipe_names=", ".join(model.pipe_names)))
    return model


def _read_jsonl(path: Union[str, Path]) -> List[Dict[str, Any]]:
    path = Path(path)
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise ValueError(Errors.E002.format(path=path, line=number, reason=f"not JSON ({err.msg})")) from None
    return rows


FACTORY_META = dict(
    default_config={"spans_key": "phi", "mode": "mask", "key_env": "SPACY_MEDICAL_DEID_KEY", "replace_doc": False},
    assigns=["doc.spans", "doc._.deidentified"],
)


def make_medical_deid(nlp: Language, name: str, spans_key: str, mode: str, key_env: Optional[str],
                      replace_doc: bool) -> Deidentifier:
    return Deidentifier(nlp, name, spans_key=spans_key, mode=mode, key_env=key_env, replace_doc=replace_doc)
