"""Train a text classifier on labelled texts: CSV -> split -> DocBins -> `spacy train` -> report.

`spacy-medical train-classifier` runs `train_classifier` on a user's CSV; the `dx` workflow runs
the same steps on Symptom2Disease (scripts/dx_data.py -> `write_corpus`, scripts/train_dx.py ->
`train_textcat`, then scripts/evaluate_dx.py). The pipeline is one exclusive-class `textcat` on a
CNN (`--base en_medical_sm`, spacy_medical/configs/dx_cnn.cfg) or on the frozen MiniLM encoder
that en_medical starts from, all-MiniLM-L6-v2 (`--base en_medical`, configs/dx_trf.cfg).
"""
import json
import random
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import spacy
from spacy.tokens import DocBin
from thinc.api import Config
from wasabi import msg

from .errors import Errors
from .evaluate.classification import classification_report, pipeline_scores, report_markdown, require_sklearn
from .io.labelled_text import SPLITS, LabelledText, labels_of, read_labelled_csv, split_rows

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
BASE_CONFIGS = {"en_medical_sm": CONFIG_DIR / "dx_cnn.cfg", "en_medical": CONFIG_DIR / "dx_trf.cfg"}


def base_config(base: str) -> Path:
    """The training config of a `--base` name."""
    if base not in BASE_CONFIGS:
        raise ValueError(Errors.E658.format(base=base, known=", ".join(BASE_CONFIGS)))
    return BASE_CONFIGS[base]


def write_docbin(rows: Sequence[LabelledText], labels: Sequence[str], path: Union[str, Path]) -> Path:
    """Write rows as a DocBin of tokenized docs with one-hot `cats` over `labels`."""
    nlp = spacy.blank("en")
    doc_bin = DocBin(store_user_data=False)
    for doc, item in zip(nlp.tokenizer.pipe(item.text for item in rows), rows):
        doc.cats = {label: float(label == item.label) for label in labels}
        doc_bin.add(doc)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc_bin.to_disk(path)
    return path


def write_corpus(
    rows: Sequence[LabelledText],
    out_dir: Union[str, Path],
    augmentations: Sequence[Callable[[Sequence[LabelledText]], List[LabelledText]]] = (),
    **split_settings: float,
) -> Dict[str, Any]:
    """Split the rows and write train/dev/test DocBins plus `split.json` (ids and labels per split).

    augmentations: Functions that rewrite train rows into new rows; with any, also write
        train_augmented.spacy: the train rows plus every function's rows (dev and test are
        never augmented).

    RETURNS (Dict[str, Any]): The split manifest: labels, and per split the row ids and counts.
    RAISES (ValueError): A split is empty (too few rows).
    """
    out_dir = Path(out_dir)
    parts = split_rows(rows, **split_settings)
    for name in SPLITS:
        if not parts[name]:
            raise ValueError(Errors.E660.format(split=name, n=len(rows)))
    labels = labels_of(rows)
    manifest: Dict[str, Any] = {"labels": labels, "split_settings": split_settings}
    for name in SPLITS:
        write_docbin(parts[name], labels, out_dir / f"{name}.spacy")
        manifest[name] = {"n": len(parts[name]), "ids": [item.id for item in parts[name]]}
    if augmentations:
        augmented = list(parts["train"]) + [new for augment in augmentations for new in augment(parts["train"])]
        write_docbin(augmented, labels, out_dir / "train_augmented.spacy")
        manifest["train_augmented"] = {"n": len(augmented)}
    (out_dir / "split.json").write_text(json.dumps(manifest, indent=1), encoding="utf8")
    return manifest


def rows_of_split(rows: Sequence[LabelledText], manifest: Dict[str, Any], split: str) -> List[LabelledText]:
    """The rows a manifest put in one split, in file order."""
    ids = set(manifest[split]["ids"])
    return [item for item in rows if item.id in ids]


def train_textcat(
    config_path: Union[str, Path],
    corpus_dir: Union[str, Path],
    output_dir: Union[str, Path],
    overrides: Optional[Dict[str, Any]] = None,
) -> Path:
    """Train on corpus_dir/{train,dev}.spacy (override paths.train for an augmented set).

    RETURNS (Path): output_dir/model-best.

    A config whose encoder is frozen (configs/dx_trf.cfg) trains with `train_over_frozen_encoder`,
    every other one with `spacy train`.
    """
    from spacy.cli.train import train
    from spacy.util import load_config

    corpus_dir = Path(corpus_dir)
    settings = {"paths.train": str(corpus_dir / "train.spacy"), "paths.dev": str(corpus_dir / "dev.spacy"), **(overrides or {})}
    config = load_config(Path(config_path), overrides=settings, interpolate=False)
    if config["training"]["frozen_components"]:
        return train_over_frozen_encoder(config, Path(output_dir))
    train(Path(config_path), Path(output_dir), use_gpu=-1, overrides=settings)
    return Path(output_dir) / "model-best"


def train_over_frozen_encoder(config: Config, output_dir: Path) -> Path:
    """Train the `textcat` of a config whose encoder is frozen, running the encoder once per text.

    `spacy train` runs a frozen encoder again on every batch of every epoch; its output never
    changes, so here each train and dev text is encoded once (the listener then reads
    `doc._.trf_data`) and only the classifier's layers are updated: the same optimizer, batch
    size, dropout and epochs as the config, in a fraction of the time. The epoch with the best dev
    `cats_score` is kept. Writes output_dir/model-best and output_dir/model-last.

    RETURNS (Path): output_dir/model-best.
    """
    from spacy.training import Corpus, Example
    from spacy.training.initialize import init_nlp
    from spacy.util import minibatch

    output_dir.mkdir(parents=True, exist_ok=True)
    nlp = init_nlp(config)
    training = nlp.config.interpolate()["training"]
    encoders = [nlp.get_pipe(name) for name in training["frozen_components"]]
    textcat = nlp.get_pipe("textcat")

    def encoded(path: str) -> List[Example]:
        examples = list(Corpus(path)(nlp))
        docs = [eg.predicted for eg in examples]
        for encoder in encoders:
            docs = list(encoder.pipe(docs, batch_size=nlp.batch_size))
        return [Example(doc, eg.reference) for doc, eg in zip(docs, examples)]

    train_examples = encoded(nlp.config.interpolate()["paths"]["train"])
    dev_examples = encoded(nlp.config.interpolate()["paths"]["dev"])
    optimizer = nlp.create_optimizer()
    rng = random.Random(training["seed"])
    batch_size = training["batcher"]["size"]
    best = (-1.0, b"")
    for epoch in range(training["max_epochs"]):
        rng.shuffle(train_examples)
        losses: Dict[str, float] = {}
        for batch in minibatch(train_examples, size=batch_size):
            textcat.update(batch, sgd=optimizer, drop=training["dropout"], losses=losses)
        with textcat.model.use_params(optimizer.averages) if optimizer.averages else nullcontext():
            dev_docs = [eg.predicted for eg in dev_examples]
            textcat.set_annotations(dev_docs, textcat.predict(dev_docs))
            score = textcat.score(dev_examples)["cats_score"]
            msg.text(f"epoch {epoch}: loss {losses.get(textcat.name, 0.0):.3f}, dev cats_score {score:.4f}")
            if score > best[0]:
                best = (score, textcat.to_bytes())
        if epoch == training["max_epochs"] - 1:
            nlp.to_disk(output_dir / "model-last")
    textcat.from_bytes(best[1])
    nlp.to_disk(output_dir / "model-best")
    return output_dir / "model-best"


def evaluate_splits(model: Union[str, Path], sets: Dict[str, Sequence[LabelledText]], labels: Sequence[str]) -> Dict[str, Any]:
    """The per-label report of a trained pipeline on each named set of rows."""
    nlp = spacy.load(model)
    return {
        name: classification_report([item.label for item in rows], pipeline_scores(nlp, [item.text for item in rows]), labels)
        for name, rows in sets.items()
    }


def train_classifier(
    data_path: Union[str, Path],
    output_dir: Union[str, Path],
    *,
    text_col: str = "text",
    label_col: str = "label",
    base: str = "en_medical_sm",
    config_path: Optional[Union[str, Path]] = None,
    overrides: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """Train a classifier on a labelled CSV and write its report.

    Writes output_dir/corpus/ (DocBins, split.json), output_dir/model-best/ (the loadable
    pipeline; `doc.cats` over the CSV's labels), output_dir/model-last/, and
    output_dir/report.json + report.md (per-label P/R/F1/support, macro and weighted, top-1/3
    and confusions on the dev and test splits).

    data_path (Union[str, Path]): The CSV (UTF-8, header row).
    output_dir (Union[str, Path]): Folder for everything written.
    text_col (str): Column of the texts.
    label_col (str): Column of the labels (one per row).
    base (str): `en_medical_sm` (CNN) or `en_medical` (frozen MiniLM transformer).
    config_path (Optional[Union[str, Path]]): A training config to use instead of `base`'s.
    overrides (Optional[Dict[str, Any]]): Config overrides (e.g. {"training.max_epochs": 5}).
    RETURNS (Dict[str, Any]): The report.
    """
    require_sklearn()
    config = Path(config_path) if config_path else base_config(base)
    rows = read_labelled_csv(data_path, text_col=text_col, label_col=label_col)
    output_dir = Path(output_dir)
    manifest = write_corpus(rows, output_dir / "corpus")
    model = train_textcat(config, output_dir / "corpus", output_dir, overrides)
    sets = {name: rows_of_split(rows, manifest, name) for name in ("dev", "test")}
    report = {
        "data": str(data_path),
        "config": str(config),
        "labels": manifest["labels"],
        "split": {name: manifest[name]["n"] for name in SPLITS},
        **evaluate_splits(model, sets, manifest["labels"]),
    }
    (output_dir / "report.json").write_text(json.dumps(report, indent=1), encoding="utf8")
    markdown = "\n".join(report_markdown(report[name], title=f"{name} split") for name in ("dev", "test"))
    (output_dir / "report.md").write_text(markdown, encoding="utf8")
    return report
