"""Domain-adaptive pre-training of the packaged encoder: masked-language-model (MLM) training on
in-domain raw text, before the NER fine-tuning.

all-MiniLM-L6-v2 was trained on general English and then tuned for sentence embeddings; PubMed
abstracts and clinical notes use many words it rarely saw. Continuing its MLM objective on the
project's own raw text (train splits only, `scripts/pretrain_text.py`) is the cheapest domain
adaptation there is. Like the fine-tuning (spacy_medical.ml.lora), it trains LoRA adapters rather
than the encoder: the result is an adapter of a few MB, merged into the packaged weights before
fine-tuning starts (`domain_adapter` of `spacy-medical.PackagedTransformerModel.v1`). The
fine-tuned pipeline carries it next to its own adapter, so `restore_lora_pipeline` rebuilds the
same encoder from the installed weights.

The packaged checkpoint has no MLM head (sentence-transformers drop it): the head's transform layer
starts at random and trains fully; its output projection is tied to the word embeddings, which
stay frozen. The head is discarded afterwards. The loss is computed on the masked positions only,
which saves most of the cost of the 30k-word output layer.
"""
import io
import json
import random
import time
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Union

import srsly

from ..errors import Errors
from .lora import DOMAIN_ADAPTER, merge_adapter
from .memory import find_malloc_trim
from .weights import OFFLINE_KWARGS, packaged_weights_dir

ADAPTER_FILE = "adapter.msgpack"
# BERT's recipe: 15% of the wordpieces are predicted; of those 80% are replaced by [MASK], 10% by
# a random wordpiece and 10% left as they are.
MASK_PROB = 0.15


def read_raw_text(path: Union[str, Path]) -> List[str]:
    """Texts of a JSONL file with one {"text": ...} object per line (spaCy's raw text format).

    path (Path): The file.
    RETURNS (List[str]): The non-empty texts, in file order.
    """
    texts = []
    for line_no, record in enumerate(srsly.read_jsonl(path), start=1):
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise ValueError(Errors.E407.format(path=path, line=line_no))
        if record["text"].strip():
            texts.append(record["text"])
    return texts


def chunk_wordpieces(tokenizer, texts: Iterable[str], length: int) -> List[List[int]]:
    """Cut the texts, joined by [SEP], into windows of `length` wordpieces framed by [CLS] ... [SEP].

    The last window, shorter than `length`, is left out (fewer than `length` wordpieces of text).
    """
    stream: List[int] = []
    body = length - 2
    for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]:
        stream.extend(ids)
        stream.append(tokenizer.sep_token_id)
    return [
        [tokenizer.cls_token_id] + stream[start : start + body] + [tokenizer.sep_token_id]
        for start in range(0, len(stream) - body + 1, body)
    ]


def mask_wordpieces(input_ids, tokenizer, generator):
    """BERT's masking: (masked input ids, labels with -100 where nothing is predicted)."""
    import torch

    labels = input_ids.clone()
    special = (input_ids == tokenizer.cls_token_id) | (input_ids == tokenizer.sep_token_id)
    probs = torch.full(input_ids.shape, MASK_PROB).masked_fill(special, 0.0)
    predicted = torch.bernoulli(probs, generator=generator).bool()
    labels[~predicted] = -100
    masked = input_ids.clone()
    to_mask = torch.bernoulli(torch.full(input_ids.shape, 0.8), generator=generator).bool() & predicted
    masked[to_mask] = tokenizer.mask_token_id
    to_random = torch.bernoulli(torch.full(input_ids.shape, 0.5), generator=generator).bool() & predicted & ~to_mask
    random_ids = torch.randint(len(tokenizer), input_ids.shape, generator=generator)
    masked[to_random] = random_ids[to_random]
    return masked, labels


def pretrain_encoder(
    texts: List[str],
    output: Union[str, Path],
    *,
    package: str,
    subdir: str,
    lora: Dict,
    steps: int,
    batch_size: int = 32,
    length: int = 128,
    learn_rate: float = 5e-4,
    head_learn_rate: float = 2e-3,
    warmup: int = 100,
    heldout: int = 64,
    seed: int = 0,
    log: Optional[Callable[[Dict], None]] = None,
) -> Dict:
    """Train LoRA adapters of the packaged encoder on masked-language modelling; save the adapter.

    texts (List[str]): In-domain raw text (never the evaluation splits).
    output (Path): Folder for `adapter.msgpack` (adapter, LoRA config, weights package) and
        `report.json`.
    package (str): Importable name of the package holding the encoder weights.
    subdir (str): Folder of the weights inside the package.
    lora (dict): Keyword arguments of `peft.LoraConfig`.
    steps (int): Optimizer steps.
    batch_size (int): Windows per step.
    length (int): Wordpieces per window, [CLS] and [SEP] included.
    learn_rate (float): Peak learn rate of the adapters (linear warmup, then linear decay to 0).
    head_learn_rate (float): Peak learn rate of the MLM head, which starts at random: higher, so
        that it fits the encoder quickly instead of the encoder bending to a random head.
    warmup (int): Warmup steps.
    heldout (int): Windows kept out of training to measure the MLM loss before and after.
    seed (int): Seed of the window order, the masking and the head's initialization.
    log (Callable[[dict], None]): Receives a progress record every 50 steps.
    RETURNS (dict): The report (also written to `report.json`).
    """
    import torch
    from peft import LoraConfig, get_peft_model, get_peft_model_state_dict
    from transformers import AutoModelForMaskedLM, AutoTokenizer, get_linear_schedule_with_warmup

    trim = find_malloc_trim()  # see spacy_medical.ml.memory: glibc keeps each step's freed tensors
    started = time.perf_counter()
    torch.manual_seed(seed)
    weights = str(packaged_weights_dir(package, subdir))
    tokenizer = AutoTokenizer.from_pretrained(weights, use_fast=True, **OFFLINE_KWARGS)
    windows = chunk_wordpieces(tokenizer, texts, length)
    random.Random(seed).shuffle(windows)
    if len(windows) <= heldout:
        raise ValueError(Errors.E408.format(windows=len(windows), heldout=heldout, length=length))
    heldout_ids = torch.tensor(windows[:heldout])
    train_ids = windows[heldout:]
    mlm = AutoModelForMaskedLM.from_pretrained(weights, **OFFLINE_KWARGS)
    encoder = get_peft_model(mlm.bert, LoraConfig(**lora))
    head = mlm.cls
    adapter_params = [p for p in encoder.parameters() if p.requires_grad]
    head_params = [p for p in head.parameters() if p.requires_grad]
    params = adapter_params + head_params
    optimizer = torch.optim.AdamW(
        [{"params": adapter_params, "lr": learn_rate}, {"params": head_params, "lr": head_learn_rate}], weight_decay=0.01
    )
    schedule = get_linear_schedule_with_warmup(optimizer, warmup, steps)
    generator = torch.Generator().manual_seed(seed)

    def loss_of(input_ids, gen):
        masked, labels = mask_wordpieces(input_ids, tokenizer, gen)
        hidden = encoder(input_ids=masked, attention_mask=torch.ones_like(masked)).last_hidden_state
        predicted = labels != -100
        return torch.nn.functional.cross_entropy(head(hidden[predicted]), labels[predicted])

    def heldout_loss() -> float:
        encoder.eval()
        head.eval()
        with torch.no_grad():
            # The same masks before and after training: a fixed seed of its own.
            gen = torch.Generator().manual_seed(seed + 1)
            losses = [loss_of(heldout_ids[i : i + batch_size], gen).item() for i in range(0, heldout, batch_size)]
        encoder.train()
        head.train()
        return sum(losses) / len(losses)

    before = heldout_loss()
    order = random.Random(seed + 2)
    position, epoch, running = 0, 0, []
    for step in range(1, steps + 1):
        if position + batch_size > len(train_ids):
            position, epoch = 0, epoch + 1
            order.shuffle(train_ids)
        batch = torch.tensor(train_ids[position : position + batch_size])
        position += batch_size
        loss = loss_of(batch, generator)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        running.append(loss.item())
        if trim is not None and step % 10 == 0:
            trim(0)
        if log is not None and (step % 50 == 0 or step == steps):
            log({"step": step, "loss": round(sum(running) / len(running), 4), "seconds": round(time.perf_counter() - started)})
            running = []
    after = heldout_loss()

    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    state = io.BytesIO()
    torch.save({k: v.detach().clone() for k, v in get_peft_model_state_dict(encoder).items()}, state)
    adapter = {"package": package, "subdir": subdir, "config": dict(lora), "state": state.getvalue()}
    (output / ADAPTER_FILE).write_bytes(srsly.msgpack_dumps(adapter))
    report = {
        "package": package,
        "texts": len(texts),
        "windows": {"train": len(train_ids), "heldout": heldout, "length": length},
        "steps": steps,
        "batch_size": batch_size,
        "epochs_seen": round(steps * batch_size / len(train_ids), 3),
        "learn_rate": {"adapters": learn_rate, "head": head_learn_rate},
        "lora": dict(lora),
        "heldout_mlm_loss": {"before": round(before, 4), "after": round(after, 4)},
        "seconds": round(time.perf_counter() - started),
    }
    (output / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def load_domain_adapter(path: Union[str, Path]) -> Dict:
    """Read the adapter written by `pretrain_encoder` (its folder or the adapter file itself).

    RETURNS (dict): {"package", "subdir", "config", "state"}.
    """
    path = Path(path)
    file = path / ADAPTER_FILE if path.is_dir() else path
    if not file.is_file():
        raise ValueError(Errors.E409.format(path=file))
    return srsly.msgpack_loads(file.read_bytes())


def merge_domain_adapter(encoder, adapter: Dict):
    """The packaged encoder (a Hugging Face BertModel) with the domain adapter merged into it."""
    return merge_adapter(encoder, adapter, DOMAIN_ADAPTER)
