"""Train and evaluate the dialogue section classifier used by `medical_sections`.

The classifier is a blank English pipeline with one single-label `textcat`
(`spacy.TextCatBOW.v3`, unigrams + bigrams): it trains on CPU in well under a minute on
MTS-Dialog (1,201 dialogues, 20 section headers) and costs next to nothing at inference.
It predicts MTS-Dialog's own headers (so accuracy is comparable with the MTS-Dialog literature);
`sections.MTS_TO_SECTION` maps them to the package's categories at inference time.

Inputs are the lower-cased words of the turns without their speaker tags, exactly as
`MedicalSections.classify_turns` builds them from a windows of turns, because MTS-Dialog is
cased ("Doctor: ...") and ACI-Bench transcripts are lower-cased ("[doctor] ...").
"""
import random
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import minibatch
from thinc.api import Config, fix_random_seed

from ..io.mts_dialog import MTS_FILES, read_mts_dialog
from ..pipeline.dialogue import MTS_TO_SECTION, find_turns

TEXTCAT_CONFIG = """
[model]
@architectures = "spacy.TextCatBOW.v3"
exclusive_classes = true
ngram_size = 2
no_output_layer = false
length = 262144
"""


def dialogue_words(nlp: Language, text: str) -> List[str]:
    """The classifier's input: lower-cased words of every turn, speaker tags removed."""
    turns = find_turns(text)
    pieces = [text[content:end] for _, content, end, _ in turns] if turns else [text]
    words = [t.lower_ for piece in pieces for t in nlp.tokenizer(piece) if not t.is_space]
    return words or ["."]


def build_dialogue_classifier(labels: Sequence[str]) -> Language:
    """A blank English pipeline with an untrained single-label bag-of-words `textcat`."""
    nlp = spacy.blank("en")
    textcat = nlp.add_pipe("textcat", config=Config().from_str(TEXTCAT_CONFIG))
    for label in labels:
        textcat.add_label(label)
    return nlp


def make_examples(nlp: Language, data: Sequence[Tuple[str, str]], labels: Sequence[str]) -> List[Example]:
    examples = []
    for text, label in data:
        doc = Doc(nlp.vocab, words=dialogue_words(nlp, text))
        cats = {name: float(name == label) for name in labels}
        examples.append(Example.from_dict(doc, {"cats": cats}))
    return examples


def train_dialogue_classifier(
    train: Sequence[Tuple[str, str]],
    *,
    n_iter: int = 20,
    batch_size: int = 16,
    seed: int = 0,
    dev: Optional[Sequence[Tuple[str, str]]] = None,
) -> Tuple[Language, List[float], Dict[str, float]]:
    """Train the classifier; keep the epoch with the best dev accuracy (or the last one).

    train (Sequence[Tuple[str, str]]): (dialogue, label) pairs.
    n_iter (int): Epochs.
    dev (Optional[Sequence[Tuple[str, str]]]): Pairs to choose the epoch on.
    RETURNS (Tuple[Language, List[float], Dict[str, float]]): The pipeline, the loss of every
        epoch and the dev accuracy of the chosen epoch (empty without dev data).
    """
    fix_random_seed(seed)
    labels = sorted({label for _, label in train})
    nlp = build_dialogue_classifier(labels)
    examples = make_examples(nlp, train, labels)
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(seed)
    losses_per_epoch: List[float] = []
    best: Tuple[float, Optional[bytes]] = (-1.0, None)
    for _ in range(n_iter):
        rng.shuffle(examples)
        losses: Dict[str, float] = {}
        for batch in minibatch(examples, size=batch_size):
            nlp.update(batch, sgd=optimizer, losses=losses)
        losses_per_epoch.append(losses.get("textcat", 0.0))
        if dev:
            acc = accuracy(nlp, dev)["accuracy"]
            if acc > best[0]:
                best = (acc, nlp.to_bytes())
    if dev and best[1] is not None:
        nlp.from_bytes(best[1])
        return nlp, losses_per_epoch, {"dev_accuracy": best[0]}
    return nlp, losses_per_epoch, {}


def predict(nlp: Language, texts: Sequence[str]) -> List[str]:
    """The most likely MTS-Dialog header of each whole dialogue."""
    docs = [Doc(nlp.vocab, words=dialogue_words(nlp, text)) for text in texts]
    out = []
    for doc in nlp.get_pipe("textcat").pipe(docs):
        out.append(max(doc.cats, key=doc.cats.get))
    return out


def accuracy(nlp: Language, data: Sequence[Tuple[str, str]]) -> Dict[str, float]:
    """Accuracy on MTS-Dialog headers and on the package categories they map to."""
    if not data:
        return {"accuracy": 0.0, "section_accuracy": 0.0, "n": 0}
    guesses = predict(nlp, [t for t, _ in data])
    gold = [label for _, label in data]
    right = sum(g == p for g, p in zip(gold, guesses))
    right_sec = sum(MTS_TO_SECTION.get(g) == MTS_TO_SECTION.get(p) for g, p in zip(gold, guesses))
    return {"accuracy": right / len(data), "section_accuracy": right_sec / len(data), "n": len(data)}


def majority_baseline(train: Sequence[Tuple[str, str]], data: Sequence[Tuple[str, str]]) -> Dict[str, object]:
    """Accuracy of always answering the most frequent training header."""
    label = Counter(label for _, label in train).most_common(1)[0][0]
    sec = MTS_TO_SECTION.get(label)
    n = max(1, len(data))
    return {
        "label": label,
        "accuracy": sum(g == label for _, g in data) / n,
        "section_accuracy": sum(MTS_TO_SECTION.get(g) == sec for _, g in data) / n,
    }


def train_and_evaluate(corpus_dir: Union[str, Path], output: Union[str, Path], *, n_iter: int = 20, seed: int = 0) -> Dict[str, object]:
    """Train on MTS-Dialog train (epoch chosen on valid), save, and score test sets 1 and 2.

    corpus_dir (Union[str, Path]): The `mts_dialog` folder.
    output (Union[str, Path]): Folder for the trained pipeline (give it to
        `medical_sections` as `dialogue_model`).
    RETURNS (Dict[str, object]): The metrics, as written to metrics/mts_dialog.json.
    """
    corpus_dir = Path(corpus_dir)
    data = {split: read_mts_dialog(corpus_dir / name) for split, name in MTS_FILES.items()}
    nlp, losses, chosen = train_dialogue_classifier(data["train"], n_iter=n_iter, seed=seed, dev=data["valid"])
    nlp.to_disk(output)
    metrics: Dict[str, object] = {
        "model": "spacy.TextCatBOW.v3 (ngram_size=2, exclusive), lower-cased turn words",
        "n_iter": n_iter,
        "seed": seed,
        "train_examples": len(data["train"]),
        "valid": {**accuracy(nlp, data["valid"]), **chosen},
        "label_map": MTS_TO_SECTION,
    }
    for split in ("test1", "test2"):
        metrics[split] = {**accuracy(nlp, data[split]), "majority_baseline": majority_baseline(data["train"], data[split])}
    return metrics
