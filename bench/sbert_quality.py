"""Benchmark: frozen bundled MiniLM + head vs fine-tuned SBERT + head on Jigsaw, and MNRL throughput on our Q&A sample.

Part 1 (Jigsaw, ../shared/data/jigsaw): a real SBERT job (`python -m core.training.job` steps, in process) with the
default loss for labelled text (`softmax`: a linear head on the embedding, BCE with pos_weight), trained on
train.csv minus a stratified 10% validation split, evaluated on test.csv. The job itself records the base
(frozen) model's figures on the same test split, so the comparison is one run: logistic-regression head
macro ROC-AUC and kNN (k=5, cosine, training split as the index) macro-F1 for both.

Part 2: MNRL fine-tuning of the bundled MiniLM on data/qa_sample.jsonl (in-batch negatives), samples/s.

Run: .venv/bin/python bench/sbert_quality.py [TRAIN_ROWS|all] [EPOCHS] [MAX_LENGTH]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from _common import JIGSAW_TEST, JIGSAW_TRAIN, ROOT

from core.config import TrainConfig
from core.data import SplitOptions, load_dataset, split_dataset
from core.fileio import read_json
from core.training.job import run_job


def jigsaw_files(folder: Path, rows: int | None) -> tuple[Path, Path, Path]:
    """train/val CSVs (stratified 90/10 of train.csv, or of a random `rows` of it) and test.csv."""
    train = load_dataset(JIGSAW_TRAIN)
    if rows:
        train = train.with_frame(train.frame.sample(n=rows, random_state=42).reset_index(drop=True))
    parts = split_dataset(train, SplitOptions(0.9, 0.1, 0.0, 42))
    paths = []
    for name in ("train", "val"):
        path = folder / f"{name}.csv"
        parts[name].frame.to_csv(path, index=False)
        paths.append(path)
    return paths[0], paths[1], JIGSAW_TEST


def run(folder: Path, name: str, config: TrainConfig) -> dict:
    run_dir = folder / name
    run_dir.mkdir(parents=True)
    config.to_json(run_dir / "config.json")
    started = time.perf_counter()
    state = run_job(run_dir)
    seconds = time.perf_counter() - started
    if state != "succeeded":
        sys.exit(f"{name}: {state}: {read_json(run_dir / 'status.json', {}).get('error')}")
    metrics = read_json(run_dir / "metrics.json")
    metrics["wall_seconds"] = round(seconds, 1)
    return metrics


def main() -> None:
    rows = None if len(sys.argv) < 2 or sys.argv[1] == "all" else int(sys.argv[1])
    epochs = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    max_length = int(sys.argv[3]) if len(sys.argv) > 3 else 128
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if JIGSAW_TRAIN.exists():
            train, val, test = jigsaw_files(folder, rows)
            config = TrainConfig(model_kind="sbert", train_file=str(train), val_file=str(val), test_file=str(test),
                                 epochs=epochs, batch_size=32, max_length=max_length, logging_steps=50,
                                 early_stopping_patience=0, run_name="bench-sbert-jigsaw")
            metrics = run(folder, "jigsaw", config)
            emb, head = metrics["embedding"], metrics["head"]
            print(f"Jigsaw: {metrics['rows']} rows, loss {metrics['loss']}, {epochs} epoch(s), max_length {max_length},"
                  f" train {metrics['train_seconds']} s, whole job {metrics['wall_seconds']} s")
            print(f"{'model':<28}{'head macro ROC-AUC':>20}{'kNN macro-F1':>15}{'kNN accuracy':>15}")
            for name, key in (("frozen MiniLM + head", "base"), ("fine-tuned SBERT + head", "fine_tuned")):
                print(f"{name:<28}{head[key]['macro_roc_auc']:>20.4f}{emb[key]['knn']['macro_f1']:>15.4f}"
                      f"{emb[key]['knn']['accuracy']:>15.4f}")
            print(f"TF-IDF baseline test macro ROC-AUC {metrics['baseline_tfidf']['test']['macro_roc_auc']:.4f}; "
                  f"head with tuned thresholds: test macro ROC-AUC {metrics['test']['macro_roc_auc']:.4f}, "
                  f"macro-F1 {metrics['test']['macro_f1']:.4f}")
            print(json.dumps({"head": head, "embedding": emb}, default=str)[:4000])
        else:
            print(f"skipped the Jigsaw part: {JIGSAW_TRAIN} is absent")
        qa = TrainConfig(model_kind="sbert", data=str(ROOT / "data" / "qa_sample.jsonl"), loss="mnrl", epochs=10,
                         batch_size=8, val_fraction=0.15, test_fraction=0.15, logging_steps=5,
                         early_stopping_patience=0, run_name="bench-sbert-qa")
        metrics = run(folder, "qa", qa)
        tuned, base = metrics["embedding"]["fine_tuned"]["retrieval"], metrics["embedding"]["base"]["retrieval"]
        print(f"MNRL on data/qa_sample.jsonl: {metrics['rows']['train']} training pairs x 10 epochs in "
              f"{metrics['train_seconds']} s = {metrics['samples_per_second']} samples/s (batch 8); "
              f"test nDCG@10 {base['ndcg@10']:.4f} -> {tuned['ndcg@10']:.4f}, MRR@10 {base['mrr@10']:.4f} -> "
              f"{tuned['mrr@10']:.4f}")


if __name__ == "__main__":
    main()
