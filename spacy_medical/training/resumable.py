"""`spacy train` that can be stopped and continued: spaCy's training loop with a full checkpoint.

On 2 CPU cores en_medical's transformer trains for hours (configs/trf.cfg), and `spacy train`
cannot continue a run: model-last holds the weights but not the optimizer's moments, the random
generators or the position in the shuffled training data, and for a LoRA encoder it holds the
merged weights, not the adapter. A laptop that sleeps or a scheduler that stops the job loses the
run. `train` here runs the same loop (`spacy.training.loop.train`, which it mirrors step for
step) and, at every evaluation, writes beside model-best and model-last a `checkpoint/` with the
raw training state. `train(..., resume=True)` continues from it, and gives the same weights bit
for bit as a run that was never stopped; a run that is never stopped gives the weights of
`spacy train` with the same config (both tested).

The checkpoint holds:
- every thinc parameter and every PyTorch shim's state dict (the LoRA encoder as it trains);
- the optimizer's Adam moments, averages and update counts, keyed by the node's place in the
  pipeline (thinc's ids are per process), and the number of schedule steps taken;
- the states of Python's, NumPy's and PyTorch's random generators;
- the order of the training examples in the current epoch and the batches already taken;
- the evaluation results so far (model-best and patience depend on them);
- a fingerprint of the config and of the training and dev files: a checkpoint of another run is
  never continued.
"""
import hashlib
import random
import shutil
import sys
from pathlib import Path
from timeit import default_timer as timer
from typing import IO, Any, Dict, Iterator, List, Optional, Tuple, Union

from spacy import util
from spacy.language import Language
from spacy.schemas import ConfigSchemaTraining
from spacy.training.initialize import init_nlp
from spacy.training.loop import (
    DIR_MODEL_BEST,
    DIR_MODEL_LAST,
    clean_output_dir,
    create_before_to_disk_callback,
    create_evaluation_callback,
    subdivide_batch,
    update_meta,
)
from thinc.api import Config, Optimizer, constant, fix_random_seed
from wasabi import Printer

from ..errors import Errors
from .checkpoint import has_state, read_state, restore_state, write_state

DIR_CHECKPOINT = "checkpoint"


class TrainingStream:
    """spaCy's `create_train_batches` for a corpus read once (max_epochs >= 0), with a position.

    The examples are shuffled in place with Python's global generator at the start of each epoch,
    as in spaCy; keeping the order as a list of indices lets a checkpoint restore it. The orders of
    the finished epochs are kept too: a batch size given as a schedule (a generator the batcher
    shares across epochs) is advanced on resume by batching them again, without training.
    """

    def __init__(self, examples: List, batcher, max_epochs: int):
        if not examples:
            raise ValueError(Errors.E450)
        self.examples = examples
        self.batcher = batcher
        self.max_epochs = max_epochs
        self.order = list(range(len(examples)))
        self.past_orders: List[List[int]] = []
        self.epoch = 0
        self.batches_taken = 0  # in the current epoch
        self.shuffled = False  # whether the current epoch's shuffle has happened
        self.replay: List[List[int]] = []

    def state(self) -> Dict[str, Any]:
        return {
            "order": list(self.order),
            "past_orders": [list(order) for order in self.past_orders],
            "epoch": self.epoch,
            "batches_taken": self.batches_taken,
            "shuffled": self.shuffled,
        }

    def restore(self, state: Dict[str, Any]) -> None:
        self.order = list(state["order"])
        self.past_orders = [list(order) for order in state["past_orders"]]
        self.replay = self.past_orders
        self.epoch, self.batches_taken, self.shuffled = state["epoch"], state["batches_taken"], state["shuffled"]

    def _batches(self, order: List[int]):
        return self.batcher([self.examples[i] for i in order])

    def __iter__(self) -> Iterator[Tuple[int, List]]:
        for order in self.replay:
            for _ in self._batches(order):
                pass
        self.replay = []
        while self.max_epochs < 1 or self.epoch != self.max_epochs:
            if not self.shuffled:
                random.shuffle(self.order)  # the same draws as shuffling the examples themselves
                self.shuffled = True
            for index, batch in enumerate(self._batches(self.order)):
                if index < self.batches_taken:  # trained on before the checkpoint
                    continue
                self.batches_taken += 1
                yield self.epoch, batch
            self.past_orders.append(list(self.order))
            self.epoch, self.batches_taken, self.shuffled = self.epoch + 1, 0, False


def train(
    config_path: Union[str, Path],
    output_path: Union[str, Path],
    *,
    overrides: Dict[str, Any] = {},
    resume: bool = False,
    stdout: Optional[IO] = None,
) -> Path:
    """Train a pipeline like `spacy train` (CPU), checkpointing the full state at every evaluation.

    config_path (Path): The training config.
    output_path (Path): Where model-best, model-last and checkpoint/ go.
    overrides (dict): Config overrides, as `spacy train` takes them (`{"paths.train": ...}`).
    resume (bool): Continue from output_path/checkpoint if it was written by this config on the
        same data; otherwise (no checkpoint, or another run's) start from step 0 and say so.
    stdout (IO): Where progress goes (sys.stdout when None).
    RETURNS (Path): The model-last folder.
    """
    msg = Printer(no_print=True)
    stdout = stdout or sys.stdout
    output_path = Path(output_path)
    config = util.load_config(config_path, overrides=overrides, interpolate=False)
    nlp = init_nlp(config, use_gpu=-1)
    config = nlp.config.interpolate()
    fingerprint = run_fingerprint(config)
    checkpoint = output_path / DIR_CHECKPOINT
    previous = checkpoint.with_name(checkpoint.name + ".old")
    if resume and not checkpoint.exists() and has_state(previous):
        previous.rename(checkpoint)  # stopped between the two renames of write_state
    saved = None
    if resume and has_state(checkpoint):
        saved = read_state(checkpoint)
        if saved[0]["fingerprint"] != fingerprint:
            stdout.write(msg.warn(f"{checkpoint} was written by another config or other data: starting from step 0") + "\n")
            saved = None
    elif resume:
        stdout.write(msg.info(f"No checkpoint in {output_path}: starting from step 0") + "\n")

    if config["training"]["seed"] is not None:
        fix_random_seed(config["training"]["seed"])
    T = util.registry.resolve(config["training"], schema=ConfigSchemaTraining)
    train_corpus, dev_corpus = util.resolve_dot_names(config, [T["train_corpus"], T["dev_corpus"]])
    if T["max_epochs"] < 0:
        raise ValueError(Errors.E451)
    if T["accumulate_gradient"] != 1 or T["frozen_components"] or T["annotating_components"]:
        raise ValueError(Errors.E452)
    optimizer: Optimizer = T["optimizer"]
    before_to_disk = create_before_to_disk_callback(T["before_to_disk"])
    stream = TrainingStream(list(train_corpus(nlp)), T["batcher"], T["max_epochs"])
    evaluate = create_evaluation_callback(nlp, dev_corpus, T["score_weights"])
    progress = {"step": -1, "results": [], "words": 0}
    if saved is not None:
        stream.restore(restore_state(nlp, optimizer, progress, *saved, checkpoint))
        if finished(progress["step"], progress["results"], T):
            stdout.write(msg.good(f"The run in {output_path} had finished at step {progress['step']}") + "\n")
            return output_path / DIR_MODEL_LAST
        stdout.write(msg.info(f"Continuing from step {progress['step']} ({checkpoint})") + "\n")
    else:
        clean_output_dir(output_path)
        if checkpoint.exists():
            shutil.rmtree(checkpoint)
        output_path.mkdir(parents=True, exist_ok=True)

    def save_last() -> None:
        with nlp.use_params(optimizer.averages):
            before_to_disk(nlp).to_disk(output_path / DIR_MODEL_LAST)

    def save(is_best: bool) -> None:
        save_last()
        if is_best:
            if (output_path / DIR_MODEL_BEST).exists():
                shutil.rmtree(output_path / DIR_MODEL_BEST)
            shutil.copytree(output_path / DIR_MODEL_LAST, output_path / DIR_MODEL_BEST)
        write_state(nlp, optimizer, stream.state(), progress, fingerprint, checkpoint)

    stdout.write(msg.info(f"Pipeline: {nlp.pipe_names}") + "\n")
    stdout.write(msg.info(f"Initial learn rate: {optimizer.learn_rate}") + "\n")
    log_step, finalize_logger = T["logger"](nlp, stdout, sys.stderr)
    try:
        for info, is_best in train_steps(nlp, optimizer, stream, evaluate, T, progress):
            if is_best is not None:
                update_meta(T, nlp, info)
                save(is_best)
                info["output_path"] = str(output_path / DIR_MODEL_LAST)
            log_step(info if is_best is not None else None)
    finally:
        finalize_logger()
        save_last()  # as spacy train does, also after an error; checkpoint/ keeps the last evaluation
    stdout.write(msg.good("Saved pipeline to output directory", output_path / DIR_MODEL_LAST) + "\n")
    return output_path / DIR_MODEL_LAST


def train_steps(nlp: Language, optimizer: Optimizer, stream: TrainingStream, evaluate, T: Dict, progress: Dict):
    """spaCy's `train_while_improving` for accumulate_gradient 1 and no frozen or annotating
    components, counting steps from progress["step"] + 1: yields (info, is_best) per step, with
    is_best None when the step was not evaluated."""
    dropouts = constant(T["dropout"]) if isinstance(T["dropout"], float) else T["dropout"]
    for _ in range(progress["step"] + 1):  # a dropout schedule continues where it stopped
        next(dropouts)
    before_update = T["before_update"]
    results: List[Tuple[float, int]] = progress["results"]
    losses: Dict[str, float] = {}
    start_time = timer()
    for epoch, batch in stream:
        step = progress["step"] + 1
        if before_update:
            before_update(nlp, {"step": step, "epoch": epoch})
        dropout = next(dropouts)
        for subbatch in subdivide_batch(batch, 1):
            nlp.update(subbatch, drop=dropout, losses=losses, sgd=False)
        for name, proc in nlp.pipeline:
            if getattr(proc, "is_trainable", False) and proc.model not in (True, False, None):
                proc.finish_update(optimizer)
        optimizer.step_schedules()
        progress["step"] = step
        progress["words"] += sum(len(eg) for eg in batch)
        if not (step % T["eval_frequency"]):
            if optimizer.averages:
                with nlp.use_params(optimizer.averages):
                    score, other_scores = evaluate()
            else:
                score, other_scores = evaluate()
            results.append((score, step))
            is_best = score == max(results)[0]
        else:
            score, other_scores, is_best = None, None, None
        info = {
            "epoch": epoch,
            "step": step,
            "score": score,
            "other_scores": other_scores,
            "losses": losses,
            "checkpoints": results,
            "seconds": int(timer() - start_time),
            "words": progress["words"],
        }
        yield info, is_best
        if is_best is not None:
            losses = {}
        if finished(step, results, T):
            break


def finished(step: int, results: List[Tuple[float, int]], T: Dict) -> bool:
    """spaCy's stopping rules: `patience` steps without a better evaluation, or `max_steps`."""
    if T["patience"] and results:
        best_step = -max((r_score, -r_step) for r_score, r_step in results)[1]
        if step - best_step >= T["patience"]:
            return True
    return bool(T["max_steps"]) and step >= T["max_steps"]


def run_fingerprint(config: Config) -> str:
    """A hash of the interpolated config and of the bytes of the training and dev files.

    `max_steps` and `patience` only say when to stop, so a finished run can be continued with a
    higher `max_steps`: they are left out.
    """
    config = config.copy()
    config["training"] = {**config["training"], "max_steps": None, "patience": None}
    digest = hashlib.sha256(config.to_str().encode("utf8"))
    for key in ("train", "dev"):
        path = config["paths"].get(key)
        if path is None:
            continue
        path = Path(path)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(file.name.encode("utf8"))
            digest.update(file.read_bytes() if file.exists() else b"")
    return digest.hexdigest()
