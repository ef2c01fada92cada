"""Benchmark (issue 24): the rare classes of the Davidson file, recipe candidates side by side.

`../shared/data/davidson/train.csv` is split 80/20 (stratified, seed 42) into a development part and a held-out
test part of our own. On the development part (the job splits off 10% for validation, no test split) the script
trains, in one run:

- the TF-IDF baseline (`model_kind: tfidf`: word 1-2 grams + logistic regression with balanced class weights);
- the issue's other reference, a plain Hugging Face Trainer fine-tune of the bundled MiniLM (2 epochs, lr 5e-5,
  no class weights, argmax);
- the bundled MiniLM with the default recipe (`class_weighting: auto`, which is no weighting for multiclass);
- the same with `class_weighting: balanced`;
- the default recipe on soft labels (`soft_labels` 1 and 0.5: the annotators' shares per class, from Davidson's
  count columns, as training targets);

and scores the held-out part with each at argmax and at the run's own decision rule (per-class offsets fitted for
macro-F1 on validation, `decision.json`), plus each MiniLM run blended with the TF-IDF model as `ensemble: tfidf`
does (`core.models.blend`: the weighted mean of the two models' log-probabilities, the weight chosen on validation
by `core.evaluation.ensemble`, then the decision rule refitted on the blend).
Prints macro-F1, hate-speech F1 and macro ROC-AUC per candidate, and the training time of each run.

Goal (issue 24): the default recipe >= macro-F1 0.78 and hate-speech F1 0.50, above the TF-IDF baseline.
Run: .venv/bin/python bench/rare_classes.py [--epochs 2] [--keep DIR] [--only NAME,...] [--rows N (a quick check)]
(with --keep, a candidate whose run already succeeded in DIR is reused, not trained again)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import ROOT  # noqa: E402,F401  (puts the project on sys.path)

DAVIDSON = ROOT.parent / "shared" / "data" / "davidson" / "train.csv"


def split_file(folder: Path, rows: int | None = None) -> tuple[Path, Path]:
    """(development csv, held-out csv): 80/20, stratified by class, seed 42, in the Davidson layout (`rows`: a
    stratified sample of that many rows first, for a quick check of the script)."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    frame = pd.read_csv(DAVIDSON)
    if rows:
        frame = train_test_split(frame, train_size=rows, stratify=frame["class"], random_state=0)[0]
    dev, held = train_test_split(frame, test_size=0.2, stratify=frame["class"], random_state=42)
    paths = folder / "dev.csv", folder / "held.csv"
    dev.to_csv(paths[0], index=False)
    held.to_csv(paths[1], index=False)
    return paths


CANDIDATES = {  # run name -> (what the table calls it, config options)
    "tfidf": ("TF-IDF + LR, balanced", {"model_kind": "tfidf"}),
    "minilm-auto": ("MiniLM, default recipe (no class weights)", {}),
    "minilm-balanced": ("MiniLM, balanced class weights", {"class_weighting": "balanced"}),
    "minilm-soft": ("MiniLM, soft labels (shares alone)", {"soft_labels": 1.0}),
    "minilm-soft-half": ("MiniLM, soft labels (half shares, half majority)", {"soft_labels": 0.5}),
}


def train(folder: Path, data: Path, name: str, **options) -> Path:
    from core import runs
    from core.config import TrainConfig
    from core.training.job import run_job

    done = [p for p in sorted(folder.glob(f"*-{name}")) if runs.read_status(p).get("state") == "succeeded"]
    if done:
        print(f"reusing {done[-1]}", file=sys.stderr)
        return done[-1]
    run_dir = runs.new_run_dir(name, folder)
    TrainConfig.from_dict({"data": str(data), "val_fraction": 0.1, "test_fraction": 0.0, "run_name": name,
                           **options}).to_json(run_dir / runs.CONFIG)
    started = time.perf_counter()
    state = run_job(run_dir)
    if state != "succeeded":
        sys.exit(f"{name}: {state}: {runs.read_status(run_dir).get('error')}")
    print(f"trained {name} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return run_dir


def plain_trainer(folder: Path, dev: Path, texts: list[str], epochs: float) -> tuple[np.ndarray, float]:
    """The issue's reference: a plain Hugging Face Trainer fine-tune of the bundled MiniLM (its own [CLS] head,
    lr 5e-5, batch 16, no class weights, max_length 128, default sampling) on the whole development part, scored on
    `texts` at argmax. Returns (probabilities, training seconds); cached in `folder` for --keep reruns."""
    import torch
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer,
                              TrainingArguments)

    from core.data import load_dataset
    from core.models.catalog import bundled_model_path

    cache = folder / "plain-trainer.npz"
    if cache.exists():
        saved = np.load(cache)
        return saved["probs"], float(saved["seconds"])
    data = load_dataset(str(dev))
    path = bundled_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    torch.manual_seed(42)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=len(data.labels))
    encodings = tokenizer(data.frame["text"].astype(str).tolist(), truncation=True, max_length=128)
    labels = data.label_matrix()
    rows = [{"input_ids": ids, "attention_mask": mask, "labels": int(label)}
            for ids, mask, label in zip(encodings["input_ids"], encodings["attention_mask"], labels)]
    args = TrainingArguments(output_dir=tempfile.mkdtemp(), num_train_epochs=epochs, per_device_train_batch_size=16,
                             learning_rate=5e-5, seed=42, report_to="none", save_strategy="no", eval_strategy="no",
                             use_cpu=not torch.cuda.is_available(), logging_steps=100, disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=rows, processing_class=tokenizer,
                      data_collator=DataCollatorWithPadding(tokenizer))
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    model.eval()
    logits = []
    with torch.inference_mode():
        for i in range(0, len(texts), 64):
            batch = tokenizer(texts[i:i + 64], truncation=True, max_length=128, padding=True, return_tensors="pt")
            logits.append(model(**batch.to(model.device)).logits.float().cpu().numpy())
    logits = np.vstack(logits)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    np.savez(cache, probs=probs, seconds=seconds)
    print(f"trained the plain Trainer in {seconds:.0f} s", file=sys.stderr)
    return probs, seconds


def figures(probs: np.ndarray, truth: np.ndarray, labels: list[str], offsets: np.ndarray | None) -> dict:
    from core.evaluation.decision import decide
    from core.evaluation.metrics import f1_at, multiclass_metrics

    predicted = decide(probs, offsets)
    hate = labels.index("hate_speech") if "hate_speech" in labels else 0
    per_class = [f1_at(truth == i, predicted == i) for i in range(len(labels))]
    return {"macro_f1": float(np.mean(per_class)), "hate_f1": per_class[hate],
            "macro_roc_auc": multiclass_metrics(probs, truth, labels)["macro_roc_auc"]}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--keep", help="keep the runs in this folder (default: a temporary one)")
    parser.add_argument("--rows", type=int, help="use a stratified sample of this many rows (a quick check)")
    parser.add_argument("--no-plain", action="store_true", help="leave out the plain Trainer reference")
    parser.add_argument("--only", help=f"comma-separated candidates (always with tfidf): {', '.join(CANDIDATES)}")
    args = parser.parse_args(argv)
    if not DAVIDSON.exists():
        sys.exit(f"{DAVIDSON} is absent: this benchmark needs the shared Davidson file")
    import pandas as pd

    from core import runs
    from core.data import load_dataset
    from core.evaluation.decision import fit_offsets
    from core.evaluation.ensemble import fit_blend_weight
    from core.evaluation.predictions import SplitPredictions
    from core.models.blend import blend
    from core.scoring.scorer import Scorer

    folder = Path(args.keep or tempfile.mkdtemp(prefix="cleanspeech-rare-"))
    folder.mkdir(parents=True, exist_ok=True)
    dev, held = split_file(folder, args.rows)
    test = load_dataset(str(held))
    texts, truth = test.frame["text"].astype(str).tolist(), test.label_matrix()
    wanted = ["tfidf", *[n for n in (args.only.split(",") if args.only else CANDIDATES) if n != "tfidf"]]
    unknown = sorted(set(wanted) - set(CANDIDATES))
    if unknown:
        sys.exit(f"unknown candidate(s) {unknown}; choose from {list(CANDIDATES)}")
    candidates = {}
    for name in wanted:
        title, options = CANDIDATES[name]
        extra = {} if options.get("model_kind") == "tfidf" else {"epochs": args.epochs}
        candidates[title] = train(folder, dev, name, **options, **extra)
    rows, scored = [], {}
    if not args.no_plain:
        probs, seconds = plain_trainer(folder, dev, texts, args.epochs)
        rows.append(("plain Trainer, bundled MiniLM, no class weights, argmax (the issue's reference)",
                     figures(probs, truth, list(test.labels), None), seconds))
    for name, run_dir in candidates.items():
        scorer = Scorer.from_run(run_dir, backend="exact", calibrated=False)
        meta = runs.read_model_meta(run_dir)
        labels = list(meta["labels"])
        val = SplitPredictions.from_frame(pd.read_parquet(run_dir / "predictions" / "val.parquet"), "val",
                                          "multiclass", labels)
        probs = scorer.predict_proba(texts)
        scored[name] = (val, probs, labels)
        seconds = runs.read_run(run_dir).metrics.get("train_seconds")
        rows.append((f"{name}, argmax", figures(probs, truth, labels, None), seconds))
        rows.append((f"{name}, tuned decision rule", figures(probs, truth, labels, np.array(scorer.offsets)), seconds))
    # `ensemble: tfidf` as the job computes it: the TF-IDF run was fitted on the same training split with the same
    # seed as the baseline inside each MiniLM job, so blending the two runs' scores is what the option saves
    tfidf_val, tfidf_test, _ = scored["TF-IDF + LR, balanced"]
    for name in list(candidates)[1:]:
        val, probs, labels = scored[name]
        val_truth = val.truth.argmax(axis=1) if val.truth.ndim == 2 else val.truth
        weight = fit_blend_weight(val.probs, tfidf_val.probs, val_truth, "multiclass", labels)["weight"]
        offsets = fit_offsets(blend(val.probs, tfidf_val.probs, weight, "multiclass"), val_truth)
        rows.append((f"{name} + TF-IDF ensemble (weight {weight:.1f}), tuned rule",
                     figures(blend(probs, tfidf_test, weight, "multiclass"), truth, labels, offsets), None))
    print(f"Davidson, held-out 20% of ../shared/data/davidson/train.csv ({len(texts):,} tweets, seed 42); "
          f"development part about {len(texts) * 4:,} rows, 10% of it for validation\n")
    print("| candidate | macro-F1 | hate-speech F1 | macro ROC-AUC | train s |\n|---|---|---|---|---|")
    for name, found, seconds in rows:
        print(f"| {name} | {found['macro_f1']:.3f} | {found['hate_f1']:.3f} | {found['macro_roc_auc']:.3f} | "
              f"{'' if seconds is None else f'{seconds:.0f}'} |")
    print(f"\nruns in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
