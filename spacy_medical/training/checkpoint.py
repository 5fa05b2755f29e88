"""The checkpoint of `spacy-medical train`: the raw training state, as data that cannot run code.

A checkpoint folder holds `state.json` (counters, places, random states, the data order) and
`arrays.npz` (every array: parameters, PyTorch shim tensors, Adam moments), read with
`allow_pickle=False`. Nothing in it is ever unpickled, so a crafted file in the output folder can
at worst be refused; the pickle `state.pkl` of earlier versions is never opened.

Arrays are keyed by their place in the pipeline (pipe name, index in `model.walk()`), which is the
same in every process that builds the pipeline from the same config, unlike thinc's ids.
"""
import json
import random
import shutil
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import numpy
from spacy.language import Language
from thinc.api import Optimizer

from ..errors import Errors

STATE_FILE = "state.json"
ARRAYS_FILE = "arrays.npz"
# Earlier versions pickled the state: such a file is refused, never read.
LEGACY_PICKLE = "state.pkl"
FORMAT = 2
OPTIMIZER_TABLES = ("mom1", "mom2", "averages")
OPTIMIZER_COUNTS = ("nr_update", "last_seen")


def has_state(checkpoint: Path) -> bool:
    """Whether a folder holds a checkpoint (of this format or a refused legacy one)."""
    return (checkpoint / STATE_FILE).exists() or (checkpoint / LEGACY_PICKLE).exists()


def nodes(nlp: Language) -> Iterator[Tuple[Tuple, Any]]:
    """Every model node of the pipeline with its place (pipe name, index in `model.walk()`)."""
    seen = set()
    for name, proc in nlp.pipeline:
        model = getattr(proc, "model", None)
        if model in (None, True, False):
            continue
        for index, node in enumerate(model.walk()):
            if node.id not in seen:
                seen.add(node.id)
                yield (name, index), node


def optimizer_keys(nlp: Language) -> Dict[Tuple, Tuple]:
    """thinc's optimizer key of every parameter -> the parameter's place in the pipeline.

    The optimizer keys a node's parameter by (node.id, name) and a PyTorch shim's by
    (shim.id, name); nodes and shims are numbered by separate counters, so each key is listed
    here with the names it really has.
    """
    keys = {}
    for place, node in nodes(nlp):
        for name in node.param_names:
            keys[(node.id, name)] = ("param", place, name)
        for shim_index, shim in enumerate(node.shims):
            for name, _ in shim._model.named_parameters():
                keys[(shim.id, name)] = ("shim", place + (shim_index,), name)
    return keys


def _tuples(value: Any) -> Any:
    """JSON lists back to the tuples they were written from (places are dict keys)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


class ArrayStore:
    """Arrays named a0, a1, ... for `arrays.npz`; the JSON state refers to them by name."""

    def __init__(self, arrays: Dict[str, numpy.ndarray] = None):
        self.arrays: Dict[str, numpy.ndarray] = dict(arrays or {})

    def put(self, array: Any) -> str:
        name = f"a{len(self.arrays)}"
        self.arrays[name] = numpy.asarray(array)
        return name

    def get(self, name: str) -> numpy.ndarray:
        return self.arrays[name]


def write_state(nlp: Language, optimizer: Optimizer, stream_state: Dict, progress: Dict, fingerprint: str, checkpoint: Path) -> None:
    """Write the training state to `checkpoint` (through a temporary folder, so that a run stopped
    while writing leaves the previous checkpoint whole)."""
    import torch

    store = ArrayStore()
    params, shims = [], []
    for place, node in nodes(nlp):
        params.extend([place, name, store.put(node.get_param(name))] for name in node.param_names if node.has_param(name))
        for shim_index, shim in enumerate(node.shims):
            for name, tensor in shim._model.state_dict().items():
                shims.append([place + (shim_index,), name, store.put(tensor.detach().cpu().numpy())])
    places = optimizer_keys(nlp)
    tables = {
        table: [[places[key], store.put(value)] for key, value in getattr(optimizer, table).items()]
        for table in OPTIMIZER_TABLES
        if getattr(optimizer, table) is not None
    }
    counts = {table: [[places[key], value] for key, value in getattr(optimizer, table).items()] for table in OPTIMIZER_COUNTS}
    version, mt_state, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = numpy.random.get_state()
    state = {
        "format": FORMAT,
        "fingerprint": fingerprint,
        "places": [place for place, _ in nodes(nlp)],
        "params": params,
        "shims": shims,
        "optimizer": {**tables, **counts},
        "random": {
            "python": [version, list(mt_state), gauss],
            "numpy": [kind, store.put(keys), int(pos), int(has_gauss), float(cached)],
            "torch": store.put(torch.get_rng_state().numpy()),
        },
        "stream": stream_state,
        "progress": {"step": progress["step"], "results": [list(r) for r in progress["results"]], "words": progress["words"]},
    }
    tmp = checkpoint.with_name(checkpoint.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    numpy.savez(tmp / ARRAYS_FILE, **store.arrays)
    (tmp / STATE_FILE).write_text(json.dumps(state), encoding="utf8")
    old = checkpoint.with_name(checkpoint.name + ".old")
    if checkpoint.exists():
        checkpoint.rename(old)
    tmp.rename(checkpoint)
    if old.exists():
        shutil.rmtree(old)


def read_state(checkpoint: Path) -> Tuple[Dict, ArrayStore]:
    """Read a checkpoint written by `write_state`; refuse anything else without running it.

    RETURNS (Tuple[Dict, ArrayStore]): The JSON state and its arrays.
    """
    if not (checkpoint / STATE_FILE).exists():
        raise ValueError(Errors.E460.format(path=checkpoint / LEGACY_PICKLE))
    try:
        state = json.loads((checkpoint / STATE_FILE).read_text(encoding="utf8"))
        found = state.get("format") if isinstance(state, dict) else None
    except (ValueError, UnicodeDecodeError):
        found = "unreadable"
    if found != FORMAT:
        raise ValueError(Errors.E453.format(path=checkpoint, found=found, expected=FORMAT))
    try:
        with numpy.load(checkpoint / ARRAYS_FILE, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError) as err:  # ValueError: an object array, which would need pickle
        raise ValueError(Errors.E461.format(path=checkpoint / ARRAYS_FILE, reason=type(err).__name__)) from None
    return state, ArrayStore(arrays)


def restore_state(nlp: Language, optimizer: Optimizer, progress: Dict, state: Dict, store: ArrayStore, checkpoint: Path) -> Dict:
    """Put the saved parameters, optimizer tables, counters and random states back.

    RETURNS (Dict): The saved state of the training stream (see TrainingStream.restore).
    """
    import torch

    by_place = dict(nodes(nlp))
    params: Dict[Tuple, Dict[str, str]] = {}
    for place, name, array in state["params"]:
        params.setdefault(_tuples(place), {})[name] = array
    if set(by_place) != {_tuples(place) for place in state["places"]}:
        raise ValueError(Errors.E454.format(path=checkpoint))
    shims: Dict[Tuple, Dict[str, Any]] = {}
    for place, name, array in state["shims"]:
        shims.setdefault(_tuples(place), {})[name] = torch.from_numpy(store.get(array))
    for place, node in by_place.items():
        for name, array in params.get(place, {}).items():
            node.set_param(name, node.ops.asarray(store.get(array)))
        for shim_index, shim in enumerate(node.shims):
            if place + (shim_index,) not in shims:
                raise ValueError(Errors.E454.format(path=checkpoint))
            shim._model.load_state_dict(shims[place + (shim_index,)])
    keys = {place: key for key, place in optimizer_keys(nlp).items()}
    saved = state["optimizer"]
    if any(_tuples(place) not in keys for place, _ in saved["mom1"]):
        raise ValueError(Errors.E454.format(path=checkpoint))
    for table in OPTIMIZER_TABLES:
        if table in saved:
            setattr(optimizer, table, {keys[_tuples(place)]: store.get(array) for place, array in saved[table]})
    for table in OPTIMIZER_COUNTS:
        counts = getattr(optimizer, table)
        counts.clear()
        counts.update({keys[_tuples(place)]: value for place, value in saved[table]})
    # The schedules are generators: advance fresh ones by the steps taken.
    for _ in range(state["progress"]["step"] + 1):
        optimizer.step_schedules()
    saved_progress = state["progress"]
    progress.update(step=saved_progress["step"], results=[tuple(r) for r in saved_progress["results"]], words=saved_progress["words"])
    version, mt_state, gauss = state["random"]["python"]
    random.setstate((version, tuple(mt_state), gauss))
    kind, keys_array, pos, has_gauss, cached = state["random"]["numpy"]
    numpy.random.set_state((kind, store.get(keys_array), pos, has_gauss, cached))
    torch.set_rng_state(torch.from_numpy(store.get(state["random"]["torch"]).copy()))
    return state["stream"]
