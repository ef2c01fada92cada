"""The phases every model kind ends with: predict the splits, tune thresholds on validation, audit, write the results.

`predict_splits` saves `predictions/{val,test}.parquet` (the scores evaluation and the check on load read);
`tune_on_validation` picks max-F1 thresholds on validation only; `fit_decision_rule` fits a multiclass run's
per-class offsets for macro-F1 on validation (`decision.json`); `calibrate` fits the score calibration on
validation (`calibration.json`); `audit_templates` scores the identity template suite at the run's thresholds
(`audit/templates.json`); `write_results` writes `metrics.json`, `thresholds.json` and the model card.
`finish` runs them in order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core import runs
from core.config import TrainConfig
from core.data.identity import template_suite
from core.data.normalize import normalize_texts
from core.evaluation.bias import template_audit
from core.evaluation.calibration import apply_calibration, ece_per_label, fit_calibration
from core.evaluation.decision import decision_payload
from core.evaluation.metrics import evaluate_probs
from core.evaluation.predictions import SplitPredictions, save_predictions, truth_matrix
from core.evaluation.thresholds import tune_thresholds
from core.fileio import write_json, write_text_atomic
from core.training.card import model_card
from core.training.data import TrainingData


def predict_splits(run_dir: Path, data: TrainingData, predict) -> dict[str, np.ndarray]:
    """{split: float32 probabilities} of `predict(texts)` on validation (and test), each saved as parquet."""
    probs = {}
    for split, part in (("val", data.val), ("test", data.test)):
        if part is None:
            continue
        texts = part.frame["text"].astype(str).tolist()
        probs[split] = np.asarray(predict(texts), dtype=np.float32)
        save_predictions(run_dir, SplitPredictions(split, data.task, data.labels, texts,
                                                   truth_matrix(part, data.task, data.labels), probs[split]))
    return probs


def tune_on_validation(val_probs: np.ndarray, data: TrainingData) -> dict:
    """Max-F1 thresholds per label, tuned on the validation split only (the payload of thresholds.json)."""
    return tune_thresholds(val_probs, truth_matrix(data.val, data.task, data.labels), data.labels, "max_f1",
                           split="val")


def fit_decision_rule(run_dir: Path, val_probs: np.ndarray, data: TrainingData) -> np.ndarray | None:
    """Multiclass runs: per-class offsets that maximise validation macro-F1, saved as decision.json."""
    if data.task != "multiclass":
        return None
    payload = decision_payload(val_probs, data.val.label_matrix(), data.labels, split="val")
    runs.save_decision(run_dir, payload)
    return np.array([payload["offsets"][label] for label in data.labels])


def _truth(part, task: str, labels: list[str]) -> np.ndarray:
    return part.label_matrix() if task == "multiclass" else truth_matrix(part, task, labels)


def calibrate(run_dir: Path, config: TrainConfig, data: TrainingData, probs: dict[str, np.ndarray]) -> dict | None:
    """Fit `config.calibration` on validation and save calibration.json; returns the ECE summary for
    metrics.json (validation, and test before and after), or None when calibration is off."""
    if config.calibration == "none":
        return None
    payload = fit_calibration(probs["val"], _truth(data.val, data.task, data.labels), data.task, data.labels,
                              config.calibration, split="val")
    summary = {"method": payload["method"], "val_ece_before": payload["ece_before"],
               "val_ece_after": payload["ece_after"]}
    if "test" in probs:
        truth = _truth(data.test, data.task, data.labels)
        payload["test_ece_before"] = summary["test_ece_before"] = ece_per_label(probs["test"], truth, data.task,
                                                                                data.labels)
        payload["test_ece_after"] = summary["test_ece_after"] = ece_per_label(
            apply_calibration(probs["test"], payload), truth, data.task, data.labels)
    runs.save_calibration(run_dir, payload)
    return summary


def template_texts(config: TrainConfig, task: str) -> list[str]:
    """The identity template suite as `audit_templates` has the job's model score it (normalised like the
    training data); DDP ranks other than 0 score the same list so that the collective prediction completes."""
    return normalize_texts(template_suite()["text"].tolist(), config.resolved_normalize(task))


def audit_templates(run_dir: Path, config: TrainConfig, data: TrainingData, predict, thresholds: dict,
                    offsets: np.ndarray | None) -> dict:
    """The identity template audit at the run's thresholds (`audit/templates.json`); returns its summary."""
    report = template_audit(lambda texts: predict(normalize_texts(texts, config.resolved_normalize(data.task))), data.labels,
                            data.task, thresholds, None if offsets is None else list(offsets))
    write_json(run_dir / runs.AUDIT / runs.AUDIT_TEMPLATES, report)
    return template_summary(report)


def template_summary(report: dict) -> dict:
    """The figures of a template audit that go into metrics.json and the model card."""
    bias = report["bias"]
    worst = min((row for row in bias["subgroups"] if row["bpsn_auc"] is not None), key=lambda r: r["bpsn_auc"],
                default=None)
    return {"label": report["label"], "sentences": report["sentences"], "seconds": report["seconds"],
            "max_flagged_share": report["max_flagged_share"], "terms_over_goal": report["terms_over_goal"],
            "flag_goal": report["flag_goal"], "final_metric": bias["final_metric"],
            "subgroup_auc_power_mean": bias["subgroup_auc_power_mean"],
            "bpsn_auc_power_mean": bias["bpsn_auc_power_mean"], "bnsp_auc_power_mean": bias["bnsp_auc_power_mean"],
            "worst_bpsn": None if worst is None else {"term": worst["subgroup"], "bpsn_auc": worst["bpsn_auc"]}}


def write_results(run_dir: Path, config: TrainConfig, data: TrainingData, probs: dict[str, np.ndarray],
                  tuned: dict, extra_metrics: dict, offsets: np.ndarray | None = None) -> dict:
    """metrics.json (validation at the tuned thresholds and at 0.5, test at the tuned ones; multiclass also at
    the decision rule), thresholds.json and the model card; returns the metrics."""
    metrics = {"task": data.task, "labels": data.labels, "model_kind": config.model_kind,
               "rows": {"train": len(data.train.frame), "val": len(data.val.frame),
                        "test": 0 if data.test is None else len(data.test.frame)},
               "val": evaluate_probs(probs["val"], data.val, data.task, data.labels, tuned["thresholds"], offsets),
               "val_at_0.5": evaluate_probs(probs["val"], data.val, data.task, data.labels, None), **extra_metrics}
    if "test" in probs:
        metrics["test"] = evaluate_probs(probs["test"], data.test, data.task, data.labels, tuned["thresholds"],
                                         offsets)
    if data.augmentation is not None:
        metrics["identity_augmentation"] = data.augmentation
    write_json(run_dir / runs.METRICS, metrics)
    runs.save_thresholds(run_dir, tuned)
    write_text_atomic(run_dir / runs.CARD, model_card(config, metrics, tuned, data.source, data.labels))
    return metrics


def finish(run_dir: Path, config: TrainConfig, data: TrainingData, predict, extra_metrics: dict) -> dict:
    """Predict the splits -> tune thresholds (and, multiclass, the decision rule) on validation -> calibrate ->
    template audit -> write metrics, thresholds and model card."""
    probs = predict_splits(run_dir, data, predict)
    offsets = fit_decision_rule(run_dir, probs["val"], data)
    tuned = tune_on_validation(probs["val"], data)
    extra = dict(extra_metrics)
    calibration = calibrate(run_dir, config, data, probs)
    if calibration is not None:
        extra["calibration"] = calibration
    extra["bias_templates"] = audit_templates(run_dir, config, data, predict, tuned["thresholds"], offsets)
    return write_results(run_dir, config, data, probs, tuned, extra, offsets)
