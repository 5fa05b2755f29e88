"""Speed and memory of the transformer pipeline (configs/trf.cfg) against a blank CNN `ner`.

Measured in one run on the same realistic texts (ACI-Bench reference notes, column `note`):
inference words/s for the CNN baseline and for the transformer pipeline with torch threads 1 vs 2,
`torch.inference_mode`, batching by length, int8 dynamic quantization (FFN output layers kept in
float with one scale per output row, en_medical's default; one scale per matrix; every Linear
layer) and wider window strides; peak RSS and warm
`spacy.load` time in a fresh process; training words/s of full fine-tuning, LoRA (peft) and a
frozen encoder. Writes metrics/trf_speed.json.

    nice -n 10 python bench/trf_speed.py --n-notes 12 [--model training/trf/model-best]

Without --model the pipeline is untrained (initialized on two invented sentences): its speed is
that of a trained one, but the int8 "agreement" then only compares hidden states.
The machine is shared: the load average at start and end is written beside the numbers.
"""
import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterable, List

import spacy
from spacy.training import Example
from spacy.util import load_config, load_model_from_config

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _notes import aci_notes, peak_rss_mb  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["DISEASE", "SYMPTOM", "DRUG"]
# Loads a pipeline with its encoder in float even where its config quantizes it (en_medical).
FLOAT = {"nlp": {"after_pipeline_creation": None}}
INVENTED = [
    ("Patient denies chest pain but has diabetes, takes metformin.", [(15, 25, "SYMPTOM"), (34, 42, "DISEASE"), (50, 59, "DRUG")]),
    ("Fever and cough since Monday; started amoxicillin for pneumonia.", [(0, 5, "SYMPTOM"), (10, 15, "SYMPTOM"), (38, 49, "DRUG"), (54, 63, "DISEASE")]),
]


def load_avg() -> float:
    return round(os.getloadavg()[0], 2)


def untrained_trf(path: Path) -> Path:
    """configs/trf.cfg initialized on two invented sentences, saved to `path`."""
    nlp = load_model_from_config(load_config(ROOT / "configs" / "trf.cfg"), auto_fill=True, validate=True)
    nlp.initialize(lambda: [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in INVENTED])
    nlp.to_disk(path)
    return path


def blank_cnn() -> spacy.Language:
    """The baseline of the issue's speed target: spacy.blank("en") + default `ner`."""
    nlp = spacy.blank("en")
    nlp.add_pipe("ner")
    nlp.initialize(lambda: [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in INVENTED])
    return nlp


def words_per_s(nlp, texts: List[str], by_length: bool = False, inference: bool = False, batch_size: int = 8) -> Dict:
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i])) if by_length else list(range(len(texts)))
    ctx = torch.inference_mode() if inference else contextlib.nullcontext()
    start = time.perf_counter()
    with ctx:
        docs = list(nlp.pipe((texts[i] for i in order), batch_size=batch_size))
    seconds = time.perf_counter() - start
    docs_in_order = [None] * len(texts)
    for i, doc in zip(order, docs):
        docs_in_order[i] = doc
    words = sum(len(d) for d in docs)
    return {"words": words, "seconds": round(seconds, 2), "words_per_s": round(words / seconds, 1), "docs": docs_in_order}


def token_vectors(doc):
    """Mean of each token's wordpiece rows (windows are padded differently from run to run)."""
    import numpy

    hidden = doc._.trf_data.model_output.last_hidden_state
    rows = hidden.reshape(-1, hidden.shape[-1])
    align = doc._.trf_data.align
    out = numpy.zeros((len(doc), rows.shape[-1]), dtype="float32")
    for i in range(len(doc)):
        idx = align[i].dataXd.ravel()
        if len(idx):
            out[i] = rows[idx].mean(0)
    return out


def hidden_cosine(docs_a, docs_b) -> float:
    """Mean cosine of the last hidden states of two runs over the same docs."""
    import numpy

    sims = []
    for a, b in zip(docs_a, docs_b):
        x, y = token_vectors(a), token_vectors(b)
        num = (x * y).sum(-1)
        den = numpy.linalg.norm(x, axis=-1) * numpy.linalg.norm(y, axis=-1) + 1e-9
        sims.append(float((num / den).mean()))
    return round(sum(sims) / max(len(sims), 1), 4)


def ents_agreement(docs_a, docs_b) -> Dict:
    """F1 of run b's entities against run a's (a proxy for the F1 cost of a variant)."""
    a = {(i, e.start_char, e.end_char, e.label_) for i, d in enumerate(docs_a) for e in d.ents}
    b = {(i, e.start_char, e.end_char, e.label_) for i, d in enumerate(docs_b) for e in d.ents}
    both = len(a & b)
    f1 = 2 * both / (len(a) + len(b)) if (a or b) else 1.0
    return {"reference_ents": len(a), "variant_ents": len(b), "f1_vs_reference": round(f1, 4)}


def child_load_and_annotate(model: str, n_notes: int, threads: int) -> None:
    """Run in a fresh process: warm spacy.load time and peak RSS while annotating."""
    import torch

    torch.set_num_threads(threads)
    spacy.load(model)  # first load warms the OS file cache
    start = time.perf_counter()
    nlp = spacy.load(model)
    load_s = time.perf_counter() - start
    texts = aci_notes()[:n_notes]
    with torch.inference_mode():
        for _ in nlp.pipe(texts, batch_size=8):
            pass
    print(json.dumps({"spacy_load_warm_s": round(load_s, 2), "peak_rss_mb": round(peak_rss_mb(), 1)}))


def train_words_per_s(model: str, mode: str, n_batches: int, batch_words: int = 1000) -> Dict:
    """Words/s of nlp.update on real train docs: full fine-tuning, LoRA (peft) or frozen encoder."""
    import torch
    from spacy.tokens import DocBin
    from thinc.api import Adam

    nlp = spacy.load(model)
    docs = []
    for name in ("maccrobat", "bc5cdr", "ncbi"):
        path = ROOT / "corpus" / "train" / f"{name}.spacy"
        if path.exists():
            docs.extend(list(DocBin().from_disk(path).get_docs(nlp.vocab))[:40])
    if not docs:
        return {"skipped": "corpus/train/*.spacy not found (run the convert step)"}
    examples = [Example(nlp.make_doc(d.text), d) for d in docs]
    batches, current, size = [], [], 0
    for eg in examples:
        current.append(eg)
        size += len(eg.reference)
        if size >= batch_words:
            batches.append(current)
            current, size = [], 0
    batches = batches[: n_batches + 1]
    shim = nlp.get_pipe("transformer").model.layers[0].shims[0]
    result: Dict = {"mode": mode}
    if mode == "lora":
        from peft import LoraConfig, get_peft_model

        lora = get_peft_model(shim._model, LoraConfig(r=8, lora_alpha=16, target_modules=["query", "value"], lora_dropout=0.1))
        shim._model = lora
        shim._hfmodel.transformer = lora
        result["trainable_params"] = sum(p.numel() for p in lora.parameters() if p.requires_grad)
    elif mode == "frozen":
        for p in shim._model.parameters():
            p.requires_grad_(False)
    optimizer = Adam(5e-5)
    exclude = ["transformer"] if mode == "frozen" else []
    words, seconds = 0, 0.0
    for i, batch in enumerate(batches):
        if mode == "frozen":
            # A frozen encoder only annotates: its features could be cached once per epoch.
            for eg in batch:
                nlp.get_pipe("transformer")(eg.predicted)
        start = time.perf_counter()
        nlp.update(batch, sgd=optimizer, exclude=exclude, losses={})
        if i > 0:  # the first batch pays for allocations and lazy init
            seconds += time.perf_counter() - start
            words += sum(len(eg.reference) for eg in batch)
    result.update({"words": words, "seconds": round(seconds, 2), "words_per_s": round(words / max(seconds, 1e-9), 1)})
    del torch
    return result


def main(argv: Iterable[str] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-notes", type=int, default=12)
    parser.add_argument("--model", default=None, help="trained trf pipeline; default: untrained trf.cfg")
    parser.add_argument("--train-batches", type=int, default=3, help="0 skips the training measurements")
    parser.add_argument("--out", default=str(ROOT / "metrics" / "trf_speed.json"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_load_and_annotate(args.model, args.n_notes, args.threads)

    import torch

    from spacy_medical.ml.encoder import is_quantized, quantize_transformer

    report: Dict = {"load_avg_start": load_avg(), "cpu_count": os.cpu_count(), "torch": torch.__version__}
    texts = aci_notes()[: args.n_notes]
    report["texts"] = {"source": "aci_bench notes", "n": len(texts)}
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or str(untrained_trf(Path(tmp) / "trf"))
        report["model"] = args.model or "untrained configs/trf.cfg"
        cnn = blank_cnn()
        words_per_s(cnn, texts[:2])  # warm-up
        # The baseline takes well under a second on these notes: the best of several runs, before
        # and after the transformer variants, so that one noisy timing does not set every ratio.
        cnn_runs = [words_per_s(cnn, texts, batch_size=64) for _ in range(5)]
        report["texts"]["words"] = cnn_runs[0]["words"]
        inference = {}
        report["default_variant"] = "trf_int8_inference_mode_by_length" if is_quantized(spacy.load(model)) else "trf_threads2"
        nlp = spacy.load(model, config=FLOAT)
        words_per_s(nlp, texts[:1])  # warm-up
        for threads in (1, 2):
            torch.set_num_threads(threads)
            inference[f"trf_threads{threads}"] = words_per_s(nlp, texts)
        inference["trf_threads2_inference_mode"] = words_per_s(nlp, texts, inference=True)
        inference["trf_threads2_inference_mode_by_length"] = words_per_s(nlp, texts, by_length=True, inference=True)
        qnlp = quantize_transformer(spacy.load(model, config=FLOAT))
        words_per_s(qnlp, texts[:1])  # warm-up, and quantizes
        inference["trf_int8_inference_mode_by_length"] = words_per_s(qnlp, texts, by_length=True, inference=True)
        qmatrix = quantize_transformer(spacy.load(model, config=FLOAT), per_channel=False)
        words_per_s(qmatrix, texts[:1])
        inference["trf_int8_per_matrix_inference_mode_by_length"] = words_per_s(qmatrix, texts, by_length=True, inference=True)
        del qmatrix
        qall = quantize_transformer(spacy.load(model, config=FLOAT), keep_float=())
        words_per_s(qall, texts[:1])
        inference["trf_int8_all_linear_inference_mode_by_length"] = words_per_s(qall, texts, by_length=True, inference=True)
        # Fewer, less overlapping windows (the trained pipeline reads 128 wordpieces every 96): less
        # work, but less context at the window edges, so the entities change.
        for stride in (112, 128):
            wide = spacy.load(model, config={**FLOAT, "components": {"transformer": {"model": {"get_spans": {"stride": stride}}}}})
            words_per_s(wide, texts[:1])
            inference[f"trf_stride{stride}_inference_mode_by_length"] = words_per_s(wide, texts, by_length=True, inference=True)
            del wide
        reference = inference["trf_threads2_inference_mode"]["docs"]
        report["int8_vs_float"] = {}
        for name in ("trf_int8_inference_mode_by_length", "trf_int8_per_matrix_inference_mode_by_length",
                     "trf_int8_all_linear_inference_mode_by_length"):
            docs = inference[name]["docs"]
            report["int8_vs_float"][name] = {"hidden_cosine": hidden_cosine(reference, docs), **ents_agreement(reference, docs)}
        report["stride_vs_default"] = {
            name: ents_agreement(reference, inference[name]["docs"]) for name in inference if name.startswith("trf_stride")
        }
        for run in inference.values():
            run.pop("docs")
        cnn_runs += [words_per_s(cnn, texts, batch_size=64) for _ in range(5)]
        baseline = max(cnn_runs, key=lambda run: run["words_per_s"])
        baseline.pop("docs")
        inference = {"cnn_blank_ner": baseline, **inference}
        cnn_wps = baseline["words_per_s"]
        for name, run in inference.items():
            run["x_cnn"] = round(run["words_per_s"] / cnn_wps, 3)
        report["inference"] = inference
        del nlp, qnlp, qall
        child = subprocess.run(
            [sys.executable, __file__, "--child", "--model", model, "--n-notes", str(args.n_notes)],
            capture_output=True, text=True, check=True,
        )
        report["fresh_process"] = json.loads(child.stdout.strip().splitlines()[-1])
        if args.train_batches:
            torch.set_num_threads(2)
            report["training"] = [train_words_per_s(model, mode, args.train_batches) for mode in ("full", "lora", "frozen")]
    report["load_avg_end"] = load_avg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
