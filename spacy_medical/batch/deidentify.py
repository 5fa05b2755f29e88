"""De-identified batch output: the pipeline for `spacy-medical deidentify` / `annotate --deidentify`.

`deid_pipeline` puts `medical_deid` first, in `replace_doc` mode: every later component (NER,
sections, summary) runs on the de-identified text, so entity offsets refer to it and no entity,
section or summary can contain an original PHI string.

`deid_parts` is the hook for the batch job's output records (`spacy_medical.batch.local.doc_parts`):
it gives the de-identified text and the PHI spans (label and offsets only, never the string).
"""
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from ..errors import Errors
from ..pipeline.deid import deidentify_doc_record


def deid_pipeline(model: Union[str, Path, Language] = "blank", *, mode: str = "mask", key_env: Optional[str] = None,
                  replace_doc: bool = True, phi_model: Optional[Union[str, Path]] = None) -> Language:
    """A pipeline whose first component is `medical_deid`.

    model (Union[str, Path, Language]): "blank" (medical_deid on a blank English tokenizer), a
        package name or path, or a loaded pipeline (changed in place).
    mode (str): "mask" or "surrogate".
    key_env (Optional[str]): Environment variable holding the surrogate key; None keeps the
        component's setting (SPACY_MEDICAL_DEID_KEY).
    replace_doc (bool): Later components see the de-identified text (for batch output).
    phi_model (Optional[Union[str, Path]]): A trained PHI tagger unioned with the rules (None: rules only).
    RETURNS (Language): The pipeline.
    """
    if isinstance(model, Language):
        nlp = model
    elif str(model) == "blank":
        nlp = spacy.blank("en")
    else:
        try:
            nlp = spacy.load(model)
        except OSError as err:
            raise ValueError(Errors.E555.format(model=model, reason=type(err).__name__)) from None
    config: Dict[str, Any] = {"mode": mode, "replace_doc": replace_doc}
    if key_env is not None:
        config["key_env"] = key_env
    for name in [n for n, pipe in nlp.pipeline if getattr(pipe, "__class__", None).__name__ == "Deidentifier"]:
        nlp.remove_pipe(name)
    nlp.add_pipe("medical_deid", first=True, config=config)
    nlp.get_pipe("medical_deid").initialize(phi_model=phi_model)
    return nlp


def deid_parts(doc: Doc, offset: int = 0) -> Dict[str, Any]:
    """The de-identified text and PHI spans of a doc, offsets shifted by `offset` (chunked notes).

    doc (Doc): A doc processed by `medical_deid`.
    offset (int): Where the doc's chunk starts in the de-identified note.
    RETURNS (Dict[str, Any]): {"text": str, "phi": [{"label", "start", "end"}]}.
    """
    text, spans = deidentify_doc_record(doc)
    phi: List[Dict[str, Any]] = [
        {"label": s["label"], "start": s["out_start"] + offset, "end": s["out_end"] + offset} for s in spans
    ]
    return {"text": text, "phi": phi}
