"""The SBERT run: fine-tune a sentence-transformers model (`model_kind: sbert`), then, on labelled text, fit a
classification head on its embeddings so the run scores like a classifier."""

from __future__ import annotations

import os
import time
from pathlib import Path

from core import runs
from core.config import TrainConfig
from core.evaluation.metrics import evaluate_probs
from core.fileio import read_json, write_json, write_text_atomic
from core.models.catalog import resolve_model
from core.models.embedding import EmbeddingHead, load_sentence_model, memoized_encoder
from core.training.baseline import tfidf_baseline_metrics
from core.training.callbacks import ProgressCallback, StopFileCallback
from core.training.card import embedding_card
from core.training.data import TrainingData
from core.training.finish import finish
from core.training.sbert import build_sbert_trainer, loss_family, restore_loss_state
from core.training.sbert_eval import MAIN_METRIC, evaluate_embeddings


def _base_embedding_metrics(run_dir: Path, encode, data: TrainingData, family: str, config: TrainConfig,
                            split: str) -> dict:
    """The base model's embedding metrics (and its head's, for labelled data), computed once per run.

    Saved beside the checkpoints so a resumed run compares against the same base figures without
    re-embedding everything.
    """
    cache = run_dir / runs.CHECKPOINTS / "base_metrics.json"
    cached = read_json(cache, None)
    if cached:
        return cached
    result = {"embedding": evaluate_embeddings(encode, data, family, split, config.knn_k, config.seed,
                                                        n_clusters=config.n_clusters)}
    if family == "labelled":
        result["head"] = _head_metrics(encode, data, split, config.seed)[1]
    write_json(cache, result)
    return result


def _head_metrics(encode, data: TrainingData, split: str, seed: int):
    """Fit the embedding head on train; (head, its metrics on `split` at 0.5 / argmax)."""
    head = EmbeddingHead.fit(encode(data.train.frame["text"].astype(str).tolist()), data.train.label_matrix(),
                             data.task, data.labels, seed)
    part = data.test if split == "test" else data.val
    probs = head.predict_proba(encode(part.frame["text"].astype(str).tolist()))
    return head, evaluate_probs(probs, part, data.task, data.labels, None)


def train_sbert(run_dir: Path, config: TrainConfig, data: TrainingData, resume: bool, model=None) -> str:
    """SBERT steps: base metrics -> train -> save -> fine-tuned metrics -> head + thresholds (labelled data)."""
    if model is None:
        resolved = resolve_model(config.base_model)
        model = load_sentence_model(resolved.path, hub=resolved.source == "hub")
    family = loss_family(data)
    split = "test" if data.test is not None else "val"
    main_process = int(os.environ.get("RANK", "0")) == 0
    stop = StopFileCallback(run_dir)
    trainer = build_sbert_trainer(config, data, [ProgressCallback(run_dir), stop], str(run_dir / runs.CHECKPOINTS),
                                  model)
    if main_process:  # before training changes the weights (the base encoder is dropped afterwards)
        base = _base_embedding_metrics(run_dir, memoized_encoder(model), data, family, config, split)
    checkpoint = runs.last_checkpoint(run_dir) if resume else None
    restore_loss_state(trainer.loss, checkpoint)
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    train_seconds = round(time.perf_counter() - started, 2)
    if stop.stopped or not main_process:
        return "stopped" if stop.stopped else "succeeded"
    model = trainer.model
    model.save(str(run_dir / runs.MODEL), create_model_card=False, safe_serialization=True)
    extra = {"loss": trainer.loss_name, "data_kind": data.task, "train_seconds": train_seconds,
             "train_rows_used": trainer.pairs, "global_step": trainer.state.global_step,
             "best_checkpoint": trainer.state.best_model_checkpoint, "main_metric": trainer.main_metric,
             "main_metric_path": list(MAIN_METRIC[family]),
             "best_val_main_metric": trainer.state.best_metric, "max_length": model.max_seq_length,
             "samples_per_second": round(trainer.pairs * max(trainer.state.epoch or 0, 0) / max(train_seconds, 1e-9),
                                         2)}
    encode = memoized_encoder(model)  # the splits are embedded once for the metrics, the head and the predictions
    extra["embedding"] = {"split": split, "base": base["embedding"],
                          "fine_tuned": evaluate_embeddings(encode, data, family, split, config.knn_k, config.seed,
                                                        n_clusters=config.n_clusters)}
    meta = runs.ModelMeta("sbert", data.task, data.labels, model.max_seq_length, prediction_precision="fp32",
                          loss=trainer.loss_name, head=family == "labelled", normalize=config.resolved_normalize(data.task))
    if family != "labelled":  # pairs / triplets / Q&A: an embedding model, no scoring head
        metrics = {"task": data.task, "labels": [], "model_kind": "sbert",
                   "rows": {name: 0 if part is None else len(part.frame)
                            for name, part in (("train", data.train), ("val", data.val), ("test", data.test))},
                   **extra}
        runs.write_model_meta(run_dir, meta)
        write_json(run_dir / runs.METRICS, metrics)
        write_text_atomic(run_dir / runs.CARD, embedding_card(config, metrics, data.source))
        return "succeeded"
    head, head_metrics = _head_metrics(encode, data, split, config.seed)
    head.save(run_dir / runs.MODEL)
    runs.write_model_meta(run_dir, meta)
    extra["head"] = {"base": base.get("head"), "fine_tuned": head_metrics}
    extra["baseline_tfidf"] = tfidf_baseline_metrics(data, config.seed)
    finish(run_dir, config, data, lambda texts: head.predict_proba(encode(texts)), extra)
    return "succeeded"
