"""Benchmark: classifier training throughput, ours vs two plain Hugging Face Trainer baselines, in one run.

Bundled MiniLM, N rows of ../shared/data/jigsaw/train.csv, max_length 128, batch 32, one epoch, same
learning rate / warm-up / weight decay / seed for all three:
  (a) Trainer + DataCollatorWithPadding, default (random) sampling
  (b) the same Trainer with train_sampling_strategy="group_by_length"
  (c) ours: build_classifier_trainer (length buckets, numpy padding collator, weighted loss, fused
      AdamW, fast CPU dropout)
Prints training samples/s, the ratios, and validation macro ROC-AUC on 1,000 rows of test.csv.

Run: .venv/bin/python bench/train_throughput.py [ROWS] [ours,a,b]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding,  # noqa: E402
                          Trainer, TrainingArguments)

from core.config import TrainConfig  # noqa: E402
from core.data import load_dataset  # noqa: E402
from core.evaluation.metrics import multilabel_metrics  # noqa: E402
from core.models.catalog import bundled_model_path  # noqa: E402
from core.training.classifier import build_classifier_trainer, predict_probs  # noqa: E402
from core.training.data import TrainingData  # noqa: E402

JIGSAW = ROOT.parent / "shared" / "data" / "jigsaw"
MAX_LENGTH, BATCH, LR = 128, 32, 5e-5


class _Rows(torch.utils.data.Dataset):
    def __init__(self, encodings, labels):
        self.encodings, self.labels = encodings, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"input_ids": self.encodings["input_ids"][i], "attention_mask": self.encodings["attention_mask"][i],
                "labels": self.labels[i].astype(np.float32)}


def baseline(train, val, labels, strategy: str) -> tuple[float, float]:
    path = bundled_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    torch.manual_seed(42)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=len(labels),
                                                               problem_type="multi_label_classification")
    encodings = tokenizer(train.frame["text"].tolist(), truncation=True, max_length=MAX_LENGTH)
    dataset = _Rows(encodings, train.label_matrix())
    args = TrainingArguments(output_dir=tempfile.mkdtemp(), num_train_epochs=1, per_device_train_batch_size=BATCH,
                             learning_rate=LR, warmup_steps=0.1, weight_decay=0.01, seed=42, report_to="none",
                             save_strategy="no", eval_strategy="no", use_cpu=True, logging_steps=50,
                             train_sampling_strategy=strategy, disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                      data_collator=DataCollatorWithPadding(tokenizer))
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    model.eval()
    with torch.inference_mode():
        logits = []
        texts = val.frame["text"].tolist()
        for i in range(0, len(texts), 64):
            batch = tokenizer(texts[i:i + 64], truncation=True, max_length=MAX_LENGTH, padding=True,
                              return_tensors="pt")
            logits.append(model(**batch).logits.numpy())
    probs = 1 / (1 + np.exp(-np.vstack(logits)))
    return len(dataset) / seconds, multilabel_metrics(probs, val.label_matrix(), labels)["macro_roc_auc"]


def ours(train, val, labels) -> tuple[float, float]:
    config = TrainConfig(data="unused", epochs=1, batch_size=BATCH, learning_rate=LR, max_length=MAX_LENGTH,
                         early_stopping_patience=0, eval_steps=10**9, logging_steps=50)
    data = TrainingData(train, val, None, "multilabel", labels, "bench")
    trainer = build_classifier_trainer(config, data, [], tempfile.mkdtemp())
    trainer.args.save_strategy = trainer.args.eval_strategy = "no"
    trainer.args.load_best_model_at_end = False
    trainer.args.disable_tqdm = True
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    probs = predict_probs(trainer, val.frame["text"].tolist(), "multilabel")
    return len(train.frame) / seconds, multilabel_metrics(probs, val.label_matrix(), labels)["macro_roc_auc"]


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    full = load_dataset(JIGSAW / "train.csv")
    train = full.with_frame(full.frame.sample(rows, random_state=0))
    test = load_dataset(JIGSAW / "test.csv")
    val = test.with_frame(test.frame.sample(1000, random_state=0))
    labels = full.labels
    print(f"torch threads: {torch.get_num_threads()}, rows: {rows}, max_length {MAX_LENGTH}, batch {BATCH}", flush=True)
    only = sys.argv[2].split(",") if len(sys.argv) > 2 else ["ours", "a", "b"]
    results = {}
    for key, name, run in [("ours", "ours", lambda: ours(train, val, labels)),
                           ("a", "(a) Trainer, random sampling", lambda: baseline(train, val, labels, "random")),
                           ("b", "(b) Trainer, group_by_length",
                            lambda: baseline(train, val, labels, "group_by_length"))]:
        if key not in only:
            continue
        results[name] = run()
        print(f"{name:32s} {results[name][0]:6.1f} samples/s   val macro ROC-AUC {results[name][1]:.4f}", flush=True)
    speed = results["ours"][0]
    for name, (other, _) in results.items():
        if name != "ours":
            print(f"ratio vs {name}: {speed / other:.2f}x")


if __name__ == "__main__":
    main()
