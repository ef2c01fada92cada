"""Benchmark (issue 24): the rare classes of the Davidson file, recipe candidates side by side.

`../shared/data/davidson/train.csv` is split 80/20 (stratified, seed 42) into a development part and a held-out
test part of our own. On the development part (the job splits off 10% for validation, no test split) the script
trains, in one run:

- the TF-IDF baseline (`model_kind: tfidf`: word 1-2 grams + logistic regression with balanced class weights);
- the issue's other reference, a plain Hugging Face Trainer fine-tune of the bundled MiniLM (2 epochs, lr 5e-5,
  no class weights, argmax);
- the bundled MiniLM with the default recipe (since session 17: balanced class weights and `ensemble: auto`, the
  TF-IDF blend, for multiclass data);
- the earlier default (no class weights, no blend), balanced class weights without the blend, soft labels
  (`soft_labels` 1 and 0.5: the annotators' shares per class, from Davidson's count columns, as training targets),
  and the [CLS] head with learning rate 5e-5 (the plain Trainer's settings, with our recipe otherwise);

and scores the held-out part with each at argmax and at the run's own decision rule (per-class offsets fitted for
macro-F1 on validation, `decision.json`), plus each MiniLM run blended with the TF-IDF model as `ensemble: tfidf`
does (`core.models.blend`: the weighted mean of the two models' log-probabilities, the weight chosen on validation
by `core.evaluation.ensemble`, then the decision rule refitted on the blend).
Prints macro-F1, hate-speech F1 and macro ROC-AUC per candidate, and the training time of each run.

Goal (issue 24): the default recipe >= macro-F1 0.78 and hate-speech F1 0.50, above the TF-IDF baseline.
Run: .venv/bin/python bench/rare_classes.py [--epochs 2] [--keep DIR] [--only NAME,...] [--rows N (a quick check)]
[--seed S (the training seed of every run, the plain Trainer's too; the split stays seed 42)]
(with --keep, a candidate whose run already succeeded in DIR with the same config.json is reused; after a default
changes its meaning without changing the file, e.g. `max_length: null`, rerun without --keep)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import ROOT  # noqa: E402,F401  (puts the project on sys.path)

DAVIDSON = ROOT.parent / "shared" / "data" / "davidson" / "train.csv"
JIGSAW = ROOT.parent / "shared" / "data" / "jigsaw"


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
    "minilm-default": ("MiniLM, default recipe (balanced class weights, TF-IDF blend)", {}),
    # the trust options (issue 23), which `auto` leaves off for multiclass data
    "minilm-trust": ("MiniLM, default recipe with normalisation and identity sentences",
                     {"normalize": "unicode+leet", "identity_augmentation": True}),
    "minilm-normalised": ("MiniLM, default recipe with normalisation", {"normalize": "unicode+leet"}),
    "minilm-default-nogroup": ("MiniLM, default recipe without length-grouped batches", {"length_grouping": False}),
    "minilm-default-len128": ("MiniLM, default recipe with max_length 128", {"max_length": 128}),
    "minilm-unweighted": ("MiniLM, no class weights (the default before session 17)",
                          {"class_weighting": "none", "ensemble": "none"}),
    "minilm-balanced": ("MiniLM, balanced class weights", {"class_weighting": "balanced", "ensemble": "none"}),
    "minilm-soft": ("MiniLM, soft labels (shares alone)",
                    {"soft_labels": 1.0, "class_weighting": "none", "ensemble": "none"}),
    "minilm-soft-half": ("MiniLM, soft labels (half shares, half majority)",
                         {"soft_labels": 0.5, "class_weighting": "none", "ensemble": "none"}),
    "minilm-cls-lr5e5": ("MiniLM, [CLS] head, learning rate 5e-5",
                         {"pooling": "cls", "learning_rate": 5e-5, "class_weighting": "none", "ensemble": "none"}),
}


def train(folder: Path, data: Path, name: str, **options) -> Path:
    from core import runs
    from core.config import TrainConfig
    from core.training.job import run_job

    config = TrainConfig.from_dict({"data": str(data), "val_fraction": 0.1, "test_fraction": 0.0, "run_name": name,
                                    **options})
    for kept in sorted(folder.glob(f"*-{name}"), reverse=True):
        # a kept run is reused only when it succeeded with exactly this recipe (today's defaults included)
        # the saved file as written: a run from before an option existed, or before a default changed, is retrained
        same = json.loads((kept / runs.CONFIG).read_text()) == config.to_dict()
        if same and runs.read_status(kept).get("state") == "succeeded":
            print(f"reusing {kept}", file=sys.stderr)
            return kept
    run_dir = runs.new_run_dir(name, folder)
    config.to_json(run_dir / runs.CONFIG)
    started = time.perf_counter()
    state = run_job(run_dir)
    if state != "succeeded":
        sys.exit(f"{name}: {state}: {runs.read_status(run_dir).get('error')}")
    print(f"trained {name} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return run_dir


def plain_trainer(folder: Path, dev: Path, texts: list[str], epochs: float, seed: int = 42) -> tuple[np.ndarray, float]:
    """The issue's reference: a plain Hugging Face Trainer fine-tune of the bundled MiniLM (its own [CLS] head,
    lr 5e-5, batch 16, no class weights, max_length 128, default sampling) on the whole development part, scored on
    `texts` at argmax. Returns (probabilities, training seconds); cached in `folder` for --keep reruns."""
    import torch
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer,
                              TrainingArguments)

    from core.data import load_dataset
    from core.models.catalog import bundled_model_path

    cache = folder / ("plain-trainer.npz" if seed == 42 else f"plain-trainer-seed{seed}.npz")
    if cache.exists():
        saved = np.load(cache)
        return saved["probs"], float(saved["seconds"])
    data = load_dataset(str(dev))
    path = bundled_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=len(data.labels))
    encodings = tokenizer(data.frame["text"].astype(str).tolist(), truncation=True, max_length=128)
    labels = data.label_matrix()
    rows = [{"input_ids": ids, "attention_mask": mask, "labels": int(label)}
            for ids, mask, label in zip(encodings["input_ids"], encodings["attention_mask"], labels)]
    args = TrainingArguments(output_dir=tempfile.mkdtemp(), num_train_epochs=epochs, per_device_train_batch_size=16,
                             learning_rate=5e-5, seed=seed, report_to="none", save_strategy="no", eval_strategy="no",
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


def jigsaw(folder: Path, epochs: float) -> None:
    """The default recipe on Jigsaw `train.csv` (10% validation), and the TF-IDF baseline on the same split, both
    scored on `test.csv`: macro and per-label ROC-AUC side by side, and the default recipe's training time."""
    from core import runs
    from core.data import load_dataset
    from core.evaluate import evaluate_run
    from core.evaluation.metrics import multilabel_metrics
    from core.scoring.scorer import Scorer

    data = JIGSAW / "train.csv"
    model, baseline = train(folder, data, "jigsaw-default", epochs=epochs), train(folder, data, "jigsaw-tfidf",
                                                                                 model_kind="tfidf")
    test = str(JIGSAW / "test.csv")
    rows = load_dataset(test, for_evaluation=True)
    found = {name: evaluate_run(run, test, backend="exact") for name, run in (("run", model), ("tfidf", baseline))}
    alone = None
    if (model / runs.ENSEMBLE).exists():  # the fine-tuned model without its TF-IDF partner, for reference
        scorer = Scorer.from_run(model, backend="exact", calibrated=False)
        weight = scorer.partner_weight
        scorer = scorer.alone()
        probs = scorer.predict_proba(rows.frame["text"].astype(str).tolist())
        alone = (weight, multilabel_metrics(probs, rows.label_matrix(), scorer.labels))
    metrics = runs.read_run(model).metrics
    print(f"\nJigsaw, ../shared/data/jigsaw/test.csv ({len(rows.frame):,} rows); "
          "trained on train.csv with 10% for validation\n")
    header = "| label | default recipe | TF-IDF baseline | gap |"
    if alone:
        header = (f"| label | default recipe | fine-tuned model alone (blend weight {alone[0]:g}) | TF-IDF baseline "
                  "| gap |")
    print(header + "\n|" + "---|" * (header.count("|") - 1))
    for label in [*found["run"]["per_label"], "macro"]:
        ours, theirs = ((f["macro_roc_auc"] if label == "macro" else f["per_label"][label]["roc_auc"])
                        for f in (found["run"], found["tfidf"]))
        middle = ""
        if alone:
            own = alone[1]["macro_roc_auc"] if label == "macro" else alone[1]["per_label"][label]["roc_auc"]
            middle = f" {own:.4f} |"
        print(f"| {label} | {ours:.4f} |{middle} {theirs:.4f} | {ours - theirs:+.4f} |")
    print(f"\ndefault recipe: {metrics.get('train_seconds', 0):.0f} s of training "
          f"({metrics.get('global_step')} steps), the whole job {_job_seconds(model):.0f} s; runs in {folder}")


def _job_seconds(run_dir: Path) -> float:
    from core import runs

    status = runs.read_status(run_dir)
    return float((status.get("finished_at") or 0) - (status.get("started_at") or 0))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", choices=("davidson", "jigsaw", "both"), default="both",
                        help="which shared file (Davidson about 30 min on 2 cores, Jigsaw about 35 min)")
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--keep", help="keep the runs in this folder (default: a temporary one)")
    parser.add_argument("--rows", type=int, help="use a stratified sample of this many rows (a quick check)")
    parser.add_argument("--no-plain", action="store_true", help="leave out the plain Trainer reference")
    parser.add_argument("--seed", type=int, default=42, help="training seed of every run (the split stays seed 42)")
    parser.add_argument("--only", help=f"comma-separated candidates (always with tfidf): {', '.join(CANDIDATES)}")
    args = parser.parse_args(argv)
    folder = Path(args.keep or tempfile.mkdtemp(prefix="cleanspeech-rare-"))
    folder.mkdir(parents=True, exist_ok=True)
    if args.file in ("davidson", "both"):
        davidson(folder, args)
    if args.file in ("jigsaw", "both"):
        if not (JIGSAW / "test.csv").exists():
            sys.exit(f"{JIGSAW} is absent: the Jigsaw part needs the shared Jigsaw files")
        jigsaw(folder, args.epochs)
    return 0


def davidson(folder: Path, args) -> None:
    """The Davidson candidates side by side (see the module docstring)."""
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
        if args.seed != 42:  # its own run name, so --keep never mixes seeds
            name, extra = f"{name}-seed{args.seed}", {**extra, "seed": args.seed}
        candidates[title] = train(folder, dev, name, **options, **extra)
    rows, scored = [], {}
    if not args.no_plain:
        probs, seconds = plain_trainer(folder, dev, texts, args.epochs, args.seed)
        rows.append(("plain Trainer, bundled MiniLM, no class weights, argmax (the issue's reference)",
                     figures(probs, truth, list(test.labels), None), seconds))
    for name, run_dir in candidates.items():
        scorer = Scorer.from_run(run_dir, backend="exact", calibrated=False)
        labels = list(scorer.labels)
        seconds = runs.read_run(run_dir).metrics.get("train_seconds")
        if scorer.partner is not None:  # an `ensemble: tfidf` run: the product's own blend, and the model alone
            probs = scorer.predict_proba(texts)
            rows.append((f"{name} (blended with TF-IDF by the job, weight {scorer.partner_weight:g}), "
                         "its decision rule", figures(probs, truth, labels, np.array(scorer.offsets)), seconds))
            scorer = scorer.alone()
            name = f"{name}, its fine-tuned model alone"
        val = SplitPredictions.from_frame(pd.read_parquet(run_dir / "predictions" / "val.parquet"), "val",
                                          "multiclass", labels)
        probs = scorer.predict_proba(texts)
        scored[name] = (val, probs, labels, run_dir)
        rows.append((f"{name}, argmax", figures(probs, truth, labels, None), seconds))
        if (run_dir / runs.ENSEMBLE).exists():
            continue  # its saved decision rule was fitted on the blend
        rows.append((f"{name}, tuned decision rule", figures(probs, truth, labels, np.array(scorer.offsets)), seconds))
    # `ensemble: tfidf` as the job computes it: the TF-IDF run was fitted on the same training split with the same
    # seed as the baseline inside each MiniLM job, so blending the two runs' scores is what the option saves
    tfidf_val, tfidf_test, _, _ = scored["TF-IDF + LR, balanced"]
    for name, (val, probs, labels, run_dir) in list(scored.items())[1:]:
        if (run_dir / runs.ENSEMBLE).exists():
            continue  # reported above as the job blended it
        val_truth = val.truth.argmax(axis=1) if val.truth.ndim == 2 else val.truth
        weight = fit_blend_weight(val.probs, tfidf_val.probs, val_truth, "multiclass", labels)["weight"]
        offsets = fit_offsets(blend(val.probs, tfidf_val.probs, weight, "multiclass"), val_truth)
        rows.append((f"{name} + TF-IDF ensemble (weight {weight:.1f}), tuned rule",
                     figures(blend(probs, tfidf_test, weight, "multiclass"), truth, labels, offsets), None))
    print(f"Davidson, held-out 20% of ../shared/data/davidson/train.csv ({len(texts):,} tweets, seed 42); "
          f"development part about {len(texts) * 4:,} rows, 10% of it for validation; training seed {args.seed}\n")
    print("| candidate | macro-F1 | hate-speech F1 | macro ROC-AUC | train s |\n|---|---|---|---|---|")
    for name, found, seconds in rows:
        print(f"| {name} | {found['macro_f1']:.3f} | {found['hate_f1']:.3f} | {found['macro_roc_auc']:.3f} | "
              f"{'' if seconds is None else f'{seconds:.0f}'} |")
    print(f"\nruns in {folder}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
