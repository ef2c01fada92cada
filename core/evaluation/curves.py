"""ROC and PR curve points for plotting, the operating point at a threshold, and error analysis.

Pure numpy/sklearn; curves are thinned to a few hundred points so charts stay light for large splits.
"""

from __future__ import annotations

import numpy as np

from core.evaluation.thresholds import ThresholdCurve, metrics_at

MAX_POINTS = 400


def _thin(*arrays: np.ndarray, limit: int = MAX_POINTS) -> list[np.ndarray]:
    n = len(arrays[0])
    if n <= limit:
        return list(arrays)
    keep = np.unique(np.r_[np.linspace(0, n - 1, limit).astype(int), n - 1])
    return [a[keep] for a in arrays]


def roc_points(y_true: np.ndarray, scores: np.ndarray) -> dict:
    """False/true positive rates and their thresholds (empty when only one class is present)."""
    from sklearn.metrics import roc_curve

    y_true = np.asarray(y_true).astype(int)
    if y_true.min(initial=0) == y_true.max(initial=0):
        return {"fpr": [], "tpr": [], "thresholds": []}
    fpr, tpr, thresholds = roc_curve(y_true, scores, drop_intermediate=True)
    fpr, tpr, thresholds = _thin(fpr, tpr, thresholds)
    return {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": np.minimum(thresholds, 1.0).tolist()}


def pr_points(y_true: np.ndarray, scores: np.ndarray) -> dict:
    """Precision/recall pairs and their thresholds (empty when there are no positives)."""
    from sklearn.metrics import precision_recall_curve

    y_true = np.asarray(y_true).astype(int)
    if not y_true.any():
        return {"precision": [], "recall": [], "thresholds": []}
    precision, recall, thresholds = precision_recall_curve(y_true, scores)
    precision, recall, thresholds = _thin(precision[:-1], recall[:-1], thresholds)
    return {"precision": precision.tolist(), "recall": recall.tolist(), "thresholds": thresholds.tolist()}


def operating_point(curve: ThresholdCurve, threshold: float) -> dict:
    """Where `threshold` sits on both curves: ROC (fpr, tpr) and PR (recall, precision), plus the counts."""
    at = metrics_at(curve, threshold)
    negatives = at["fp"] + at["tn"]
    return {**at, "fpr": at["fp"] / negatives if negatives else 0.0, "tpr": at["recall"]}


def top_errors(truth: np.ndarray, scores: np.ndarray, threshold: float, k: int = 10) -> dict[str, np.ndarray]:
    """Row indices of the most confident mistakes at `threshold`.

    Returns:
        {"false_positives": rows predicted positive but negative, highest score first,
         "false_negatives": rows predicted negative but positive, lowest score first}
    """
    truth, scores = np.asarray(truth).astype(bool), np.asarray(scores)
    predicted = scores >= threshold
    fp = np.flatnonzero(predicted & ~truth)
    fn = np.flatnonzero(~predicted & truth)
    return {"false_positives": fp[np.argsort(-scores[fp], kind="stable")][:k],
            "false_negatives": fn[np.argsort(scores[fn], kind="stable")][:k]}
