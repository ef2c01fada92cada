"""Benchmark (GPU): training a randomly initialised classifier shaped like mdeberta-v3-base, bf16, max_length 256.

Weights don't change speed, so the model is built from mdeberta-v3-base's config with random weights (the Hub is
out of reach here). In one run, on the same rows, batch size and learning rate:
  (a) plain Hugging Face Trainer: bf16=True, DataCollatorWithPadding, random sampling
  (c) ours: build_classifier_trainer (precision `auto` = bf16 on this GPU, length buckets, numpy padding collator)
  (d) ours with token batches (issue 28): `batch_tokens` BATCH_TOKENS per step, widths rounded to PAD_MULTIPLE
  (e) (d) with `attention: disentangled-flash` (the package's Triton kernels for DeBERTa's attention)
Prints training samples/s, peak GPU memory, and model FLOPs utilisation two ways: the FLOPs of the batches each
one actually ran (forward + backward, counted by torch.utils.flop_counter on the padded shapes; padding counts as
work, so this says how busy the GPU was), and the FLOPs of the real tokens alone (each row at its own length: the
issue's figure, which padding does not inflate), over the device's dense bf16 peak.

Text: ROWS rows of Jigsaw train.csv, tokenised with the bundled MiniLM's WordPiece tokenizer (mdeberta's
SentencePiece model is on the Hub too); English token counts of the two are close.

Run: python bench/gpu_train.py [ROWS] [BATCH]
Env: JIGSAW_DIR (default ../shared/data/jigsaw), TOKENIZER_DIR (default: the bundled MiniLM folder),
     PEAK_TFLOPS (default 989, the H100 SXM's dense bf16 peak), BATCH_TOKENS (default 16384),
     PAD_MULTIPLE (default 64).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import JIGSAW, ROOT  # noqa: F401  (puts the project on sys.path)

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402
from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding,  # noqa: E402
                          DebertaV2Config, Trainer, TrainingArguments)

from core.config import TrainConfig  # noqa: E402
from core.data import load_dataset  # noqa: E402
from core.training.classifier import build_classifier_trainer  # noqa: E402
from core.training.data import TrainingData  # noqa: E402

MAX_LENGTH, LR = 256, 2e-5
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")


def mdeberta_shaped_folder(labels: list[str], tokenizer_dir: Path) -> Path:
    """A local model folder: mdeberta-v3-base's architecture with random weights, plus a WordPiece tokenizer."""
    config = DebertaV2Config(
        vocab_size=251000, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
        hidden_act="gelu", max_position_embeddings=512, type_vocab_size=0, relative_attention=True,
        max_relative_positions=-1, position_buckets=256, norm_rel_ebd="layer_norm", share_att_key=True,
        pos_att_type=["p2c", "c2p"], position_biased_input=False, layer_norm_eps=1e-7, pad_token_id=0,
        num_labels=len(labels), problem_type="multi_label_classification")
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_config(config)
    folder = Path(tempfile.mkdtemp(prefix="mdeberta-shaped-"))
    model.save_pretrained(folder)  # safetensors
    for name in TOKENIZER_FILES:
        if (tokenizer_dir / name).exists():
            shutil.copy(tokenizer_dir / name, folder / name)
    return folder


def flops_fit(model, device) -> tuple[float, float, float]:
    """(c, a, b) with forward+backward FLOPs of a batch of N samples of S tokens = c + N*(a*S + b*S^2).

    c: per batch, DeBERTa's projection of its fixed span of relative-position embeddings; a: every token's
    matmuls and its scores against that span; b: attention scores and their weighted sums. Fitted on three
    shapes; a fourth checks the fit.
    """
    def count(batch: int, length: int) -> float:
        ids = torch.randint(1000, 20000, (batch, length), device=device)
        with torch.autocast("cuda", dtype=torch.bfloat16), FlopCounterMode(display=False) as counter:
            model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits.float().sum().backward()
        model.zero_grad(set_to_none=True)
        return counter.get_total_flops()

    f2_64, f4_64, f2_256 = count(2, 64), count(4, 64), count(2, 256)
    per64 = (f4_64 - f2_64) / 2
    c = f2_64 - 2 * per64
    per256 = (f2_256 - c) / 2
    b = (per256 / 256 - per64 / 64) / (256 - 64)
    a = per64 / 64 - b * 64
    check = count(3, 160)
    print(f"FLOPs fit c + N*(a*S + b*S^2): c={c:.3e} a={a:.3e} b={b:.3e}; N=3 S=160 counted {check:.4e}, "
          f"fit {c + 3 * (a * 160 + b * 160 ** 2):.4e}", flush=True)
    return c, a, b


class ShapeLog:
    """Records (batch, length) of every training forward pass: a forward pre-hook on the model."""

    def __init__(self, model):
        self.shapes: list[tuple[int, int]] = []
        model.register_forward_pre_hook(self._hook, with_kwargs=True)

    def _hook(self, module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        if module.training and ids is not None:
            self.shapes.append(tuple(ids.shape))

    def flops(self, c: float, a: float, b: float) -> float:
        return float(sum(c + n * (a * s + b * s * s) for n, s in self.shapes))


def real_flops(lengths: np.ndarray, batches: int, fit) -> float:
    """Forward + backward FLOPs of the rows at their own lengths (no padding), in `batches` batches."""
    c, a, b = fit
    lengths = lengths.astype(np.float64)
    return float(batches * c + (a * lengths + b * lengths ** 2).sum())


def _timed(trainer, model, rows: int, fit, label: str, lengths: np.ndarray | None = None) -> dict:
    log = ShapeLog(model)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    result = trainer.train()
    torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    tokens = sum(n * s for n, s in log.shapes)
    flops = log.flops(*fit)
    out = {"samples_s": rows / seconds, "seconds": seconds, "peak_gib": torch.cuda.max_memory_allocated() / 2**30,
           "tflops": flops / seconds / 1e12, "padded_tokens": tokens, "loss": result.training_loss,
           "batches": len(log.shapes)}
    if lengths is not None:
        out["real_tflops"] = real_flops(lengths, len(log.shapes), fit) / seconds / 1e12
    print(f"{label:38s} {out['samples_s']:7.1f} samples/s  {seconds:6.1f} s  peak {out['peak_gib']:5.2f} GiB  "
          f"{out['tflops']:6.1f} TFLOP/s  padded tokens {tokens:,}  train loss {out['loss']:.4f}", flush=True)
    return out


def baseline(folder: Path, train, batch: int, fit, lengths) -> dict:
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder, use_safetensors=True)
    encodings = tokenizer(train.frame["text"].tolist(), truncation=True, max_length=MAX_LENGTH)
    labels = train.label_matrix().astype(np.float32)
    dataset = [{"input_ids": encodings["input_ids"][i], "attention_mask": encodings["attention_mask"][i],
                "labels": labels[i]} for i in range(len(labels))]
    args = TrainingArguments(output_dir=tempfile.mkdtemp(), num_train_epochs=1, per_device_train_batch_size=batch,
                             learning_rate=LR, warmup_steps=0.1, weight_decay=0.01, seed=42, report_to="none",
                             save_strategy="no", eval_strategy="no", bf16=True, logging_steps=50, disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                      data_collator=DataCollatorWithPadding(tokenizer))
    return _timed(trainer, model, len(dataset), fit, "(a) HF Trainer, bf16, random sampling", lengths)


def ours(folder: Path, train, val, labels, batch: int, fit, lengths, batch_tokens: int | None = None,
         pad_multiple: int | None = None, attention: str = "auto") -> dict:
    config = TrainConfig(data="unused", base_model=str(folder), epochs=1, batch_size=batch, learning_rate=LR,
                         max_length=MAX_LENGTH, early_stopping_patience=0, eval_steps=10**9, logging_steps=50,
                         batch_tokens=batch_tokens, pad_multiple=pad_multiple, attention=attention)
    data = TrainingData(train, val, None, "multilabel", labels, "bench")
    trainer = build_classifier_trainer(config, data, [], tempfile.mkdtemp())
    trainer.args.save_strategy = trainer.args.eval_strategy = "no"
    trainer.args.load_best_model_at_end = False
    trainer.args.disable_tqdm = True
    assert trainer.args.bf16, "precision auto did not pick bf16 on this GPU"
    label = (f"ours, {batch_tokens} tokens a step, widths x{pad_multiple}" if batch_tokens
             else "ours (length buckets, precision auto=bf16)") + (", disentangled-flash" if attention != "auto" else "")
    if attention != "auto":
        print(f"attention: {trainer.attention}", flush=True)
    return _timed(trainer, trainer.model, len(train.frame), fit, label, lengths)


def main() -> None:
    if not torch.cuda.is_available():
        sys.exit("no CUDA device: this benchmark measures GPU training (see bench/train_throughput.py for CPU)")
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 18716
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    jigsaw = Path(os.environ.get("JIGSAW_DIR", JIGSAW))
    tokenizer_dir = os.environ.get("TOKENIZER_DIR")
    if tokenizer_dir is None:
        from core.models.catalog import bundled_model_path
        tokenizer_dir = bundled_model_path()
    peak = float(os.environ.get("PEAK_TFLOPS", 989))
    full = load_dataset(jigsaw / "train.csv")
    train = full.with_frame(full.frame.sample(min(rows, len(full.frame)), random_state=0))
    val = full.with_frame(full.frame.head(64))  # ours needs a validation split; evaluation is switched off
    folder = mdeberta_shaped_folder(full.labels, Path(tokenizer_dir))
    device = torch.cuda.get_device_name(0)
    print(f"{device}, torch {torch.__version__}, rows {len(train.frame)}, batch {batch}, max_length {MAX_LENGTH}, "
          f"bf16, peak {peak:.0f} TFLOP/s", flush=True)
    probe = AutoModelForSequenceClassification.from_pretrained(folder, use_safetensors=True).cuda()
    print(f"parameters: {sum(p.numel() for p in probe.parameters()) / 1e6:.1f}M", flush=True)
    fit = flops_fit(probe, "cuda")
    del probe
    torch.cuda.empty_cache()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    lengths = np.array([len(ids) for ids in tokenizer(train.frame["text"].tolist(), truncation=True,
                                                       max_length=MAX_LENGTH)["input_ids"]])
    batch_tokens = int(os.environ.get("BATCH_TOKENS", 16384))
    pad_multiple = int(os.environ.get("PAD_MULTIPLE", 64))
    results = {"(a)": baseline(folder, train, batch, fit, lengths)}
    torch.cuda.empty_cache()
    results["ours"] = ours(folder, train, val, full.labels, batch, fit, lengths)
    torch.cuda.empty_cache()
    results["tokens"] = ours(folder, train, val, full.labels, batch, fit, lengths, batch_tokens, pad_multiple)
    torch.cuda.empty_cache()
    results["flash"] = ours(folder, train, val, full.labels, batch, fit, lengths, batch_tokens, pad_multiple,
                            "disentangled-flash")
    for name, r in results.items():
        print(f"{name:6s} MFU {100 * r['tflops'] / peak:5.1f}% (padded tokens), "
              f"{100 * r['real_tflops'] / peak:5.1f}% (real tokens)  peak memory {r['peak_gib']:.2f} GiB  "
              f"{r['batches']} steps")
    for name in ("ours", "tokens", "flash"):
        print(f"ratio {name} / (a): {results[name]['samples_s'] / results['(a)']['samples_s']:.2f}x samples/s")


if __name__ == "__main__":
    main()
