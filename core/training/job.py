"""The training job process: `python -m core.training.job RUN_DIR [--resume]`.

Steps: 1 read config -> 2 wait for the device -> 3 load data -> 4 build trainer -> 5 train ->
6 evaluate on validation and test -> 7 tune thresholds on validation -> 8 save model, metrics,
thresholds and model card. status.json follows queued -> running -> succeeded | failed | stopped.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from core import runs
from core.config import TrainConfig
from core.errors import CoreError
from core.evaluation.metrics import evaluate_probs
from core.fileio import write_json, write_text_atomic
from core.jobs import device_lock
from core.training.data import TrainingData, load_training_data


def _rank() -> int:
    return int(os.environ.get("RANK", "0"))


def finish(run_dir: Path, config: TrainConfig, data: TrainingData, predict, extra_metrics: dict) -> dict:
    """Steps 6-8 shared by every model kind: evaluate, tune thresholds on validation, write the files."""
    from core.evaluation.predictions import SplitPredictions, save_predictions, truth_matrix
    from core.evaluation.thresholds import tune_thresholds
    from core.training.card import model_card

    def predict_and_save(split: str, part) -> np.ndarray:
        texts = part.frame["text"].astype(str).tolist()
        probs = np.asarray(predict(texts), dtype=np.float32)
        save_predictions(run_dir, SplitPredictions(split, data.task, data.labels, texts,
                                                   truth_matrix(part, data.task, data.labels), probs))
        return probs

    val_probs = predict_and_save("val", data.val)
    tuned = tune_thresholds(val_probs, truth_matrix(data.val, data.task, data.labels), data.labels, "max_f1",
                            split="val")
    metrics = {"task": data.task, "labels": data.labels, "model_kind": config.model_kind,
               "rows": {"train": len(data.train.frame), "val": len(data.val.frame),
                        "test": 0 if data.test is None else len(data.test.frame)},
               "val": evaluate_probs(val_probs, data.val, data.task, data.labels, tuned["thresholds"]),
               "val_at_0.5": evaluate_probs(val_probs, data.val, data.task, data.labels, None), **extra_metrics}
    if data.test is not None:
        test_probs = predict_and_save("test", data.test)
        metrics["test"] = evaluate_probs(test_probs, data.test, data.task, data.labels, tuned["thresholds"])
    write_json(run_dir / runs.METRICS, metrics)
    runs.save_thresholds(run_dir, tuned)
    write_text_atomic(run_dir / runs.CARD, model_card(config, metrics, tuned, data.source, data.labels))
    return metrics


def tfidf_baseline_metrics(data: TrainingData, seed: int) -> dict:
    """Test (and validation) metrics of the TF-IDF baseline on the run's own splits."""
    from core.training.tfidf import TfidfModel

    started = time.perf_counter()
    model = TfidfModel.fit(data, seed)
    result = {"seconds": round(time.perf_counter() - started, 2),
              "val": evaluate_probs(model.predict_proba(data.val.frame["text"].tolist()), data.val, data.task,
                               data.labels, None)}
    if data.test is not None:
        result["test"] = evaluate_probs(model.predict_proba(data.test.frame["text"].tolist()), data.test, data.task,
                                   data.labels, None)
    return result


def train_tfidf(run_dir: Path, config: TrainConfig, data: TrainingData) -> str:
    from core.fileio import append_jsonl
    from core.training.tfidf import TfidfModel

    append_jsonl(run_dir / runs.PROGRESS, {"event": "start", "step": 0, "max_steps": 1, "time": 0})
    started = time.perf_counter()
    model = TfidfModel.fit(data, config.seed)
    model.save(run_dir / runs.MODEL)
    write_json(run_dir / runs.MODEL / runs.MODEL_META, {"model_kind": "tfidf", "task": data.task, "labels": data.labels,
                                                   "max_length": 0})
    finish(run_dir, config, data, model.predict_proba, {"train_seconds": round(time.perf_counter() - started, 2)})
    append_jsonl(run_dir / runs.PROGRESS, {"event": "end", "step": 1, "max_steps": 1,
                                           "time": round(time.perf_counter() - started, 2)})
    return "succeeded"


def last_checkpoint(run_dir: Path) -> Path | None:
    """The newest `checkpoints/checkpoint-N` folder, if any."""
    folders = [p for p in (run_dir / runs.CHECKPOINTS).glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    return max(folders, key=lambda p: int(p.name.split("-")[-1])) if folders else None


def _precision_name(args) -> str:
    return "bf16" if args.bf16 else "fp16" if args.fp16 else "fp32"


def train_classifier(run_dir: Path, config: TrainConfig, data: TrainingData, resume: bool,
                     tokenizer=None, model=None) -> str:
    from core.training.callbacks import ProgressCallback, StopFileCallback
    from core.pooled_classifier import MeanPoolingClassifier
    from core.training.classifier import build_classifier_trainer, predict_probs

    stop = StopFileCallback(run_dir)
    trainer = build_classifier_trainer(config, data, [ProgressCallback(run_dir), stop],
                                       str(run_dir / runs.CHECKPOINTS), tokenizer=tokenizer, model=model)
    checkpoint = last_checkpoint(run_dir) if resume else None
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    train_seconds = round(time.perf_counter() - started, 2)
    if stop.stopped:
        return "stopped"
    pooling = "mean" if isinstance(trainer.model, MeanPoolingClassifier) else "cls"
    extra = {"train_seconds": train_seconds, "max_length": trainer.max_length, "pooling": pooling,
             "best_checkpoint": trainer.state.best_model_checkpoint, "global_step": trainer.state.global_step,
             "best_val_macro_roc_auc": trainer.state.best_metric}
    main_process = trainer.is_world_process_zero()
    predict = lambda texts: predict_probs(trainer, texts, data.task)  # noqa: E731
    if not main_process:  # other DDP ranks take part in the predictions, then leave the writing to rank 0
        predict(data.val.frame["text"].tolist())
        if data.test is not None:
            predict(data.test.frame["text"].tolist())
        return "succeeded"
    trainer.save_model(str(run_dir / runs.MODEL))
    if isinstance(trainer.model, MeanPoolingClassifier):  # the Trainer saves only weights for non-HF modules
        trainer.model.save_pretrained(run_dir / runs.MODEL)
    # save_model also pickles TrainingArguments; runs load only safetensors/JSON, so drop the pickle.
    (run_dir / runs.MODEL / "training_args.bin").unlink(missing_ok=True)
    write_json(run_dir / runs.MODEL / runs.MODEL_META, {"model_kind": "classifier", "task": data.task,
                                                   "labels": data.labels, "max_length": trainer.max_length,
                                                   "pooling": pooling,
                                                   # the saved predictions' arithmetic, for the check on load
                                                   "prediction_precision": _precision_name(trainer.args)})
    extra["baseline_tfidf"] = tfidf_baseline_metrics(data, config.seed)
    finish(run_dir, config, data, predict, extra)
    return "succeeded"


def _base_embedding_metrics(run_dir: Path, encode, data: TrainingData, family: str, config: TrainConfig,
                            split: str) -> dict:
    """The base model's embedding metrics (and its head's, for labelled data), computed once per run.

    Saved beside the checkpoints so a resumed run compares against the same base figures without
    re-embedding everything.
    """
    from core.fileio import read_json
    from core.training.sbert_eval import evaluate_embeddings

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
    from core.embedding_model import EmbeddingHead

    head = EmbeddingHead.fit(encode(data.train.frame["text"].astype(str).tolist()), data.train.label_matrix(),
                             data.task, data.labels, seed)
    part = data.test if split == "test" else data.val
    probs = head.predict_proba(encode(part.frame["text"].astype(str).tolist()))
    return head, evaluate_probs(probs, part, data.task, data.labels, None)


def train_sbert(run_dir: Path, config: TrainConfig, data: TrainingData, resume: bool, model=None) -> str:
    """SBERT steps: base metrics -> train -> save -> fine-tuned metrics -> head + thresholds (labelled data)."""
    from core.embedding_model import load_sentence_model, memoized_encoder
    from core.models import resolve_model
    from core.training.callbacks import ProgressCallback, StopFileCallback
    from core.training.card import embedding_card
    from core.training.sbert import build_sbert_trainer, loss_family, restore_loss_state
    from core.training.sbert_eval import MAIN_METRIC, evaluate_embeddings

    if model is None:
        resolved = resolve_model(config.base_model)
        model = load_sentence_model(resolved.path, hub=resolved.source == "hub")
    family = loss_family(data)
    split = "test" if data.test is not None else "val"
    main_process = _rank() == 0
    stop = StopFileCallback(run_dir)
    trainer = build_sbert_trainer(config, data, [ProgressCallback(run_dir), stop], str(run_dir / runs.CHECKPOINTS),
                                  model)
    if main_process:  # before training changes the weights (the base encoder is dropped afterwards)
        base = _base_embedding_metrics(run_dir, memoized_encoder(model), data, family, config, split)
    checkpoint = last_checkpoint(run_dir) if resume else None
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
    meta = {"model_kind": "sbert", "task": data.task, "labels": data.labels, "max_length": model.max_seq_length,
            "loss": trainer.loss_name, "head": family == "labelled"}
    if family != "labelled":  # pairs / triplets / Q&A: an embedding model, no scoring head
        metrics = {"task": data.task, "labels": [], "model_kind": "sbert",
                   "rows": {name: 0 if part is None else len(part.frame)
                            for name, part in (("train", data.train), ("val", data.val), ("test", data.test))},
                   **extra}
        write_json(run_dir / runs.MODEL / runs.MODEL_META, meta)
        write_json(run_dir / runs.METRICS, metrics)
        write_text_atomic(run_dir / runs.CARD, embedding_card(config, metrics, data.source))
        return "succeeded"
    head, head_metrics = _head_metrics(encode, data, split, config.seed)
    head.save(run_dir / runs.MODEL)
    write_json(run_dir / runs.MODEL / runs.MODEL_META, meta)
    extra["head"] = {"base": base.get("head"), "fine_tuned": head_metrics}
    extra["baseline_tfidf"] = tfidf_baseline_metrics(data, config.seed)
    finish(run_dir, config, data, lambda texts: head.predict_proba(encode(texts)), extra)
    return "succeeded"


def run_job(run_dir: str | Path, resume: bool = False, tokenizer=None, model=None) -> str:
    """Run (or resume) the training described by RUN_DIR/config.json; returns the final state.

    `tokenizer`/`model`: preloaded base models (tests pass tiny ones); for SBERT runs `model` is a
    SentenceTransformer and `tokenizer` is unused.

    Never raises for a training failure: the error is written to status.json as `failed`.
    """
    run_dir = Path(run_dir).resolve()
    main_process = _rank() == 0
    try:
        config = TrainConfig.from_json(run_dir / runs.CONFIG)
        if main_process:
            (run_dir / runs.STOP).unlink(missing_ok=True)
            runs.write_status(run_dir, "queued", pid=os.getpid(), error=None, input_error=False)
        with device_lock(config, enabled=main_process and "LOCAL_RANK" not in os.environ):
            if main_process:
                runs.write_status(run_dir, "running", pid=os.getpid(), started_at=time.time(), finished_at=None,
                                  resumed=resume)
            data = load_training_data(config, any_kind=config.model_kind == "sbert")
            if (run_dir / runs.STOP).exists():  # stopped while it was queued
                state = "stopped"
            elif config.model_kind == "tfidf":
                state = train_tfidf(run_dir, config, data) if main_process else "succeeded"
            elif config.model_kind == "sbert":
                state = train_sbert(run_dir, config, data, resume, model)
            else:
                state = train_classifier(run_dir, config, data, resume, tokenizer, model)
        if main_process:
            runs.write_status(run_dir, state, finished_at=time.time())
            (run_dir / runs.STOP).unlink(missing_ok=True)
        return state
    except KeyboardInterrupt:  # Ctrl-C in a foreground run: the user stopped it, nothing failed
        if main_process:
            runs.write_status(run_dir, "stopped", error=None, finished_at=time.time())
            print(f"stopped; resume with `python -m core train --resume {run_dir}`", file=sys.stderr)
        raise
    except BaseException as exc:  # the job's top-level handler: any failure ends the run as `failed`
        message = str(exc) if isinstance(exc, CoreError) else f"{type(exc).__name__}: {exc}"
        if isinstance(exc, CoreError):  # a user-caused error: its message is the whole story
            print(f"error: {message}", file=sys.stderr)
        else:
            traceback.print_exc()
        if main_process:
            runs.write_status(run_dir, "failed", error=message, finished_at=time.time(),
                              input_error=isinstance(exc, CoreError))
        return "failed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.training.job")
    parser.add_argument("run_dir")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    state = run_job(args.run_dir, resume=args.resume)
    return 0 if state in ("succeeded", "stopped") else 1


if __name__ == "__main__":
    sys.exit(main())
