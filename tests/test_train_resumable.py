"""spacy-medical train: the weights of `spacy train`, and a stopped run continues to the same bytes."""
import io
from pathlib import Path

import numpy
import pytest
import spacy
from spacy.cli.train import train as spacy_train
from spacy.tokens import DocBin

from spacy_medical.training.resumable import DIR_CHECKPOINT, train

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

MORE_TRAIN = [
    ("Denies nausea; on lisinopril for hypertension.", [("nausea", "SYMPTOM"), ("lisinopril", "DRUG"), ("hypertension", "DISEASE")]),
    ("Headache improved after ibuprofen.", [("Headache", "SYMPTOM"), ("ibuprofen", "DRUG")]),
    ("History of asthma, uses albuterol when wheezing.", [("asthma", "DISEASE"), ("albuterol", "DRUG"), ("wheezing", "SYMPTOM")]),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, clinical_train):
    """Five invented sentences as a train and dev .spacy file."""
    nlp = spacy.blank("en")
    db = DocBin()
    for text, mentions in list(clinical_train) + MORE_TRAIN:
        doc = nlp(text)
        spans = []
        for mention in mentions:
            if isinstance(mention[0], str):
                start = text.index(mention[0])
                mention = (start, start + len(mention[0]), mention[1])
            spans.append(doc.char_span(*mention))
        doc.ents = spans
        db.add(doc)
    path = tmp_path_factory.mktemp("corpus") / "train.spacy"
    db.to_disk(path)
    return path


def overrides(corpus, **more):
    return {"paths.train": str(corpus), "paths.dev": str(corpus), "training.eval_frequency": 3, "training.max_steps": 12, **more}


def weights(path: Path) -> dict:
    return {pipe: (path / pipe / "model").read_bytes() for pipe in ("tok2vec", "ner", "transformer") if (path / pipe / "model").exists()}


def said(log: io.StringIO) -> str:
    """What the run printed, with wasabi's line wrapping undone."""
    return " ".join(log.getvalue().split())


def quiet(**kwargs):
    return train(stdout=io.StringIO(), **kwargs)


# tiny.cfg's batch size is a schedule and its five sentences are one batch: every step is an
# epoch. With 20 words a batch, an epoch has several batches and the run stops inside one.
@pytest.mark.parametrize("more", [{}, {"training.batcher.size": 20}], ids=["size-schedule", "size-20"])
def test_stopped_run_continues_to_the_same_weights(tmp_path, corpus, more):
    config = CONFIGS / "tiny.cfg"
    quiet(config_path=config, output_path=tmp_path / "straight", overrides=overrides(corpus, **more))
    # Stopped at step 7: its last checkpoint is step 6's, so step 7 is trained again on resume.
    quiet(config_path=config, output_path=tmp_path / "resumed", overrides=overrides(corpus, **more, **{"training.max_steps": 7}))
    log = io.StringIO()
    train(config, tmp_path / "resumed", overrides=overrides(corpus, **more), resume=True, stdout=log)
    assert "Continuing from step 6" in said(log)
    straight, resumed = weights(tmp_path / "straight" / "model-last"), weights(tmp_path / "resumed" / "model-last")
    assert set(straight) == {"tok2vec", "ner"}
    assert resumed == straight
    assert weights(tmp_path / "resumed" / "model-best") == weights(tmp_path / "straight" / "model-best")


def test_same_weights_as_spacy_train(tmp_path, corpus):
    config = CONFIGS / "tiny.cfg"
    spacy_train(config, tmp_path / "spacy", overrides=overrides(corpus, **{"training.batcher.size": 20}))
    quiet(config_path=config, output_path=tmp_path / "ours", overrides=overrides(corpus, **{"training.batcher.size": 20}))
    assert weights(tmp_path / "ours" / "model-last") == weights(tmp_path / "spacy" / "model-last")
    assert (tmp_path / "ours" / DIR_CHECKPOINT / "state.json").is_file()


def test_stop_while_the_checkpoint_is_replaced_loses_nothing(tmp_path, corpus):
    config = CONFIGS / "tiny.cfg"
    quiet(config_path=config, output_path=tmp_path / "straight", overrides=overrides(corpus))
    quiet(config_path=config, output_path=tmp_path / "run", overrides=overrides(corpus, **{"training.max_steps": 6}))
    # write_state renames the old checkpoint aside before moving the new one in.
    (tmp_path / "run" / DIR_CHECKPOINT).rename(tmp_path / "run" / f"{DIR_CHECKPOINT}.old")
    log = io.StringIO()
    train(config, tmp_path / "run", overrides=overrides(corpus), resume=True, stdout=log)
    assert "Continuing from step 6" in said(log)
    assert weights(tmp_path / "run" / "model-last") == weights(tmp_path / "straight" / "model-last")


def test_checkpoint_of_another_config_starts_over(tmp_path, corpus):
    config = CONFIGS / "tiny.cfg"
    quiet(config_path=config, output_path=tmp_path / "run", overrides=overrides(corpus, **{"training.max_steps": 6}))
    log = io.StringIO()
    train(config, tmp_path / "run", overrides=overrides(corpus, **{"training.dropout": 0.2}), resume=True, stdout=log)
    assert "another config or other data: starting from step 0" in said(log)
    quiet(config_path=config, output_path=tmp_path / "fresh", overrides=overrides(corpus, **{"training.dropout": 0.2}))
    assert weights(tmp_path / "run" / "model-last") == weights(tmp_path / "fresh" / "model-last")


def test_finished_run_is_not_trained_further(tmp_path, corpus):
    config = CONFIGS / "tiny.cfg"
    quiet(config_path=config, output_path=tmp_path / "run", overrides=overrides(corpus))
    before = weights(tmp_path / "run" / "model-last")
    log = io.StringIO()
    train(config, tmp_path / "run", overrides=overrides(corpus), resume=True, stdout=log)
    assert "had finished at step 12" in said(log)
    assert weights(tmp_path / "run" / "model-last") == before


def test_unsupported_config_is_refused(tmp_path, corpus):
    with pytest.raises(ValueError, match="accumulate_gradient = 1"):
        quiet(config_path=CONFIGS / "tiny.cfg", output_path=tmp_path / "run", overrides=overrides(corpus, **{"training.accumulate_gradient": 2}))


@pytest.mark.slow
def test_lora_transformer_run_continues_to_the_same_weights(tmp_path, corpus):
    """The LoRA encoder trains in a PyTorch shim with its own random generator; saved pipelines
    hold merged weights, so only the checkpoint's raw state can continue it."""
    config = CONFIGS / "trf_tiny.cfg"
    more = {"training.max_steps": 6, "training.eval_frequency": 2}
    quiet(config_path=config, output_path=tmp_path / "straight", overrides=overrides(corpus, **more))
    quiet(config_path=config, output_path=tmp_path / "resumed", overrides=overrides(corpus, **{**more, "training.max_steps": 3}))
    quiet(config_path=config, output_path=tmp_path / "resumed", overrides=overrides(corpus, **more), resume=True)
    straight = weights(tmp_path / "straight" / "model-last")
    assert set(straight) == {"transformer", "ner"}
    assert weights(tmp_path / "resumed" / "model-last") == straight


def test_cli_passes_overrides_and_resume(tmp_path, corpus):
    from typer.testing import CliRunner

    from spacy_medical.cli import app

    args = ["train", str(CONFIGS / "tiny.cfg"), "--output", str(tmp_path / "run"), "--paths.train", str(corpus),
            "--paths.dev", str(corpus), "--training.max_steps", "4", "--training.eval_frequency", "2", "--resume"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert (tmp_path / "run" / "model-best" / "ner" / "model").is_file()
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "had finished at step 4" in " ".join(second.output.split())


class WritesMarker:
    """Unpickling this runs `Path(marker).touch()`: what a crafted checkpoint could do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_resume_never_unpickles_a_crafted_checkpoint(tmp_path, corpus):
    import pickle

    config, marker = CONFIGS / "tiny.cfg", tmp_path / "code-ran"
    # A legacy pickle where a checkpoint belongs: refused, never opened.
    legacy = tmp_path / "legacy" / DIR_CHECKPOINT
    legacy.mkdir(parents=True)
    (legacy / "state.pkl").write_bytes(pickle.dumps(WritesMarker(marker)))
    with pytest.raises(ValueError, match="never unpickled"):
        quiet(config_path=config, output_path=tmp_path / "legacy", overrides=overrides(corpus), resume=True)
    assert not marker.exists()
    # A real checkpoint whose arrays file was swapped for one holding a pickled object.
    quiet(config_path=config, output_path=tmp_path / "run", overrides=overrides(corpus, **{"training.max_steps": 6}))
    numpy.savez(tmp_path / "run" / DIR_CHECKPOINT / "arrays.npz", a0=numpy.array([WritesMarker(marker)], dtype=object))
    (tmp_path / "run" / DIR_CHECKPOINT / "state.pkl").write_bytes(pickle.dumps(WritesMarker(marker)))
    with pytest.raises(ValueError, match="cannot be read without pickle"):
        quiet(config_path=config, output_path=tmp_path / "run", overrides=overrides(corpus), resume=True)
    assert not marker.exists()
    pickle.loads((tmp_path / "run" / DIR_CHECKPOINT / "state.pkl").read_bytes())
    assert marker.exists()  # the crafted file does run code when unpickled: the test can fail
