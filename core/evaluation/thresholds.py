"""Per-label threshold search and metrics at a threshold, vectorised for interactive sliders.

A sample is predicted positive when its score is >= the threshold.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

METHODS = ("max_f1", "target_precision", "target_recall", "manual")


@dataclass
class ThresholdCurve:
    """Counts at every distinct score used as a threshold, highest threshold first."""

    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    positives: int
    total: int

    @property
    def precision(self) -> np.ndarray:
        return self.tp / np.maximum(self.tp + self.fp, 1)

    @property
    def recall(self) -> np.ndarray:
        return self.tp / max(self.positives, 1)

    @property
    def f1(self) -> np.ndarray:
        return 2 * self.tp / np.maximum(self.tp + self.fp + self.positives, 1)


def threshold_curve(y_true: np.ndarray, scores: np.ndarray) -> ThresholdCurve:
    """Build the curve once (O(n log n)); each slider move is then a binary search."""
    y_true, scores = np.asarray(y_true).astype(bool), np.asarray(scores, dtype=np.float64)
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores, sorted_true = scores[order], y_true[order]
    last = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(scores) - 1]
    tp = np.cumsum(sorted_true)[last]
    return ThresholdCurve(sorted_scores[last], tp, last + 1 - tp, int(y_true.sum()), len(scores))


def metrics_at(curve: ThresholdCurve, threshold: float) -> dict:
    """Precision, recall, F1, predicted-positive rate and confusion counts at `threshold`."""
    # thresholds are descending: count of distinct thresholds >= t
    index = int(np.searchsorted(-curve.thresholds, -threshold, side="right")) - 1
    tp, fp = (int(curve.tp[index]), int(curve.fp[index])) if index >= 0 else (0, 0)
    fn, tn = curve.positives - tp, curve.total - curve.positives - fp
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / curve.positives if curve.positives else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return {"threshold": float(threshold), "precision": precision, "recall": recall, "f1": f1,
            "positive_rate": (tp + fp) / max(curve.total, 1), "tp": tp, "fp": fp, "fn": fn, "tn": tn}


def best_f1_threshold(curve: ThresholdCurve) -> float:
    """The threshold with maximal F1 (ties: the higher threshold)."""
    if not curve.positives:
        return 0.5
    return float(curve.thresholds[int(np.argmax(curve.f1))])


def threshold_for_precision(curve: ThresholdCurve, target: float) -> float:
    """The lowest threshold whose precision reaches `target` (most recall at that precision); else the top score."""
    ok = np.flatnonzero(curve.precision >= target)
    return float(curve.thresholds[ok[-1]]) if len(ok) else float(curve.thresholds[0])


def threshold_for_recall(curve: ThresholdCurve, target: float) -> float:
    """The highest threshold whose recall reaches `target` (most precision at that recall)."""
    ok = np.flatnonzero(curve.recall >= target)
    return float(curve.thresholds[ok[0]]) if len(ok) else float(curve.thresholds[-1])


def choose_threshold(curve: ThresholdCurve, method: str, target: float | None = None) -> float:
    """One label's threshold by `method`: max_f1 | target_precision | target_recall."""
    if method == "max_f1":
        return best_f1_threshold(curve)
    if method in ("target_precision", "target_recall"):
        if target is None or not 0 < float(target) <= 1:
            raise ValueError(f"method {method!r} needs a target in (0, 1], got {target!r}")
        finder = threshold_for_precision if method == "target_precision" else threshold_for_recall
        return finder(curve, float(target))
    raise ValueError(f"unknown threshold method {method!r}; use one of {METHODS[:3]}")


def describe_thresholds(curves: dict[str, ThresholdCurve], thresholds: dict[str, float], method: str,
                        split: str, target: float | None = None) -> dict:
    """The `thresholds.json` payload: values, how and on which split they were chosen, metrics there."""
    return {"thresholds": {name: float(value) for name, value in thresholds.items()}, "method": method,
            "target": target, "split": split, "tuned_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "metrics": {name: metrics_at(curves[name], value) for name, value in thresholds.items()}}


def tune_thresholds(probs: np.ndarray, labels: np.ndarray, names: list[str], method: str = "max_f1",
                    target: float | None = None, split: str = "val") -> dict:
    """Choose one threshold per label on `split` and describe how (the `thresholds.json` payload).

    Args:
        probs: (rows, labels) scores; labels: (rows, labels) 0/1 truth.
        method: max_f1 | target_precision | target_recall.
        target: the precision/recall target for the target_* methods.
    """
    curves = {name: threshold_curve(labels[:, i], probs[:, i]) for i, name in enumerate(names)}
    chosen = {name: choose_threshold(curve, method, target) for name, curve in curves.items()}
    return describe_thresholds(curves, chosen, method, split, target)
