"""The TF-IDF model as a run of its own (`model_kind: tfidf`) and as the baseline every other run records."""

from __future__ import annotations

import time
from pathlib import Path

from core import runs
from core.config import TrainConfig
from core.evaluation.decision import fit_offsets
from core.evaluation.metrics import evaluate_probs
from core.evaluation.thresholds import tune_thresholds
from core.fileio import append_jsonl
from core.models.tfidf import TfidfModel
from core.training.data import TrainingData
from core.training.finish import finish


def fit_tfidf(data: TrainingData, seed: int) -> TfidfModel:
    """A TF-IDF + logistic regression model fitted on the training split."""
    return TfidfModel.fit(data.train.frame["text"].astype(str).tolist(), data.train.label_matrix(), data.task,
                          data.labels, seed)


def tfidf_baseline_metrics(data: TrainingData, seed: int, model: TfidfModel | None = None) -> dict:
    """Test (and validation) metrics of the TF-IDF baseline on the run's own splits (`model`: the baseline
    already fitted by `fit_tfidf`, else fitted here).

    Its decisions are tuned on validation the way the run's are (max-F1 thresholds; a multiclass decision rule),
    so the F1 figures compare like with like (`core.evaluation.versus`).
    """
    started = time.perf_counter()
    model = model or fit_tfidf(data, seed)
    probs = {split: model.predict_proba(part.frame["text"].tolist())
             for split, part in (("val", data.val), ("test", data.test)) if part is not None}
    truth = data.val.label_matrix()
    thresholds = offsets = None
    if data.task == "multilabel":
        thresholds = tune_thresholds(probs["val"], truth, data.labels, "max_f1")["thresholds"]
    else:
        offsets = fit_offsets(probs["val"], truth)
    result = {"seconds": round(time.perf_counter() - started, 2), "decisions": "tuned on val"}
    for split, part in (("val", data.val), ("test", data.test)):
        if part is not None:
            result[split] = evaluate_probs(probs[split], part, data.task, data.labels, thresholds, offsets)
    return result


def train_tfidf(run_dir: Path, config: TrainConfig, data: TrainingData) -> str:
    """Fit -> save the model -> finish (predict splits, thresholds, metrics, card)."""
    append_jsonl(run_dir / runs.PROGRESS, {"event": "start", "step": 0, "max_steps": 1, "time": 0})
    started = time.perf_counter()
    model = fit_tfidf(data, config.seed)
    model.save(run_dir / runs.MODEL)
    runs.write_model_meta(run_dir, runs.ModelMeta("tfidf", data.task, data.labels, 0, prediction_precision="fp32",
                                                  normalize=config.resolved_normalize(data.task)))
    finish(run_dir, config, data, model.predict_proba, {"train_seconds": round(time.perf_counter() - started, 2)})
    append_jsonl(run_dir / runs.PROGRESS, {"event": "end", "step": 1, "max_steps": 1,
                                           "time": round(time.perf_counter() - started, 2)})
    return "succeeded"
