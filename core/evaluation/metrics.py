"""Classification metrics in numpy: ROC-AUC, average precision, F1, top-k; multilabel and multiclass."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from core.evaluation.decision import decide


def roc_auc(y_true: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney U with tie correction); None when only one class is present."""
    y_true = np.asarray(y_true).astype(bool)
    positives, negatives = int(y_true.sum()), int((~y_true).sum())
    if positives == 0 or negatives == 0:
        return None
    ranks = rankdata(scores)
    return float((ranks[y_true].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def average_precision(y_true: np.ndarray, scores: np.ndarray) -> float | None:
    """Average precision (PR-AUC as sklearn defines it: sum of precision x recall increments)."""
    y_true = np.asarray(y_true).astype(bool)
    if not y_true.any():
        return None
    order = np.argsort(-np.asarray(scores), kind="mergesort")
    sorted_scores, sorted_true = np.asarray(scores)[order], y_true[order]
    # one point per distinct threshold: the last index of each run of equal scores
    last = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(sorted_scores) - 1]
    tp = np.cumsum(sorted_true)[last]
    precision = tp / (last + 1)
    recall = tp / y_true.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def f1_at(y_true: np.ndarray, predicted: np.ndarray) -> float:
    """F1 of boolean predictions (0 when there are no positives predicted nor true)."""
    y_true, predicted = np.asarray(y_true).astype(bool), np.asarray(predicted).astype(bool)
    tp = int((y_true & predicted).sum())
    denominator = int(y_true.sum() + predicted.sum())
    return 2 * tp / denominator if denominator else 0.0


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def multilabel_metrics(probs: np.ndarray, labels: np.ndarray, names: list[str],
                       thresholds: np.ndarray | float = 0.5) -> dict:
    """Per-label and averaged metrics for multilabel probabilities.

    Returns:
        {"macro_roc_auc", "macro_pr_auc", "micro_f1", "macro_f1", "per_label": {name: {roc_auc, pr_auc, f1,
        support}}}; ROC-AUC of a label with one class present is None and left out of the macro mean.
    """
    probs, labels = np.asarray(probs, dtype=np.float64), np.asarray(labels).astype(bool)
    predicted = probs >= np.broadcast_to(np.asarray(thresholds, dtype=np.float64), (probs.shape[1],))
    per_label = {}
    for i, name in enumerate(names):
        per_label[name] = {"roc_auc": roc_auc(labels[:, i], probs[:, i]),
                           "pr_auc": average_precision(labels[:, i], probs[:, i]),
                           "f1": f1_at(labels[:, i], predicted[:, i]), "support": int(labels[:, i].sum())}
    return {"macro_roc_auc": _mean(m["roc_auc"] for m in per_label.values()),
            "macro_pr_auc": _mean(m["pr_auc"] for m in per_label.values()),
            "micro_f1": f1_at(labels.ravel(), predicted.ravel()),
            "macro_f1": _mean(m["f1"] for m in per_label.values()), "per_label": per_label}


def multiclass_metrics(probs: np.ndarray, labels: np.ndarray, names: list[str]) -> dict:
    """Accuracy, macro-F1, top-2/top-3 accuracy and per-class one-vs-rest ROC-AUC for class probabilities."""
    probs, labels = np.asarray(probs, dtype=np.float64), np.asarray(labels, dtype=np.int64)
    predicted = probs.argmax(axis=1)
    ranked = np.argsort(-probs, axis=1)
    per_class = {}
    for i, name in enumerate(names):
        per_class[name] = {"roc_auc": roc_auc(labels == i, probs[:, i]),
                           "pr_auc": average_precision(labels == i, probs[:, i]),
                           "f1": f1_at(labels == i, predicted == i), "support": int((labels == i).sum())}
    result = {"accuracy": float((predicted == labels).mean()),
              "macro_f1": _mean(m["f1"] for m in per_class.values()),
              "macro_roc_auc": _mean(m["roc_auc"] for m in per_class.values()), "per_label": per_class}
    for k in (2, 3):
        if probs.shape[1] > k:
            result[f"top{k}_accuracy"] = float((ranked[:, :k] == labels[:, None]).any(axis=1).mean())
    return result


def flatten_for_trainer(metrics: dict) -> dict[str, float]:
    """Flat {name: float} view (per-label values as `roc_auc/<label>`), as the HF Trainer logs metrics."""
    flat = {k: v for k, v in metrics.items() if k != "per_label" and v is not None}
    for label, values in metrics.get("per_label", {}).items():
        for key in ("roc_auc", "pr_auc", "f1"):
            if values.get(key) is not None:
                flat[f"{key}/{label}"] = values[key]
    return flat


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """(classes, classes) counts: rows = true class, columns = predicted class."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(truth, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return matrix


def evaluate_probs(probs: np.ndarray, dataset, task: str, labels: list[str], thresholds: dict | None,
                   offsets: np.ndarray | None = None) -> dict:
    """Metrics of `probs` against a labelled dataset, with the row count.

    Multilabel decisions are at `thresholds` (else 0.5). Multiclass decisions are the top class; with `offsets`
    (the run's fitted decision rule, `core.evaluation.decision`) the figures at that rule are added under
    `decision_rule`.
    """
    truth = dataset.label_matrix()
    if task == "multilabel":
        cut = np.array([thresholds[label] for label in labels]) if thresholds else 0.5
        result = multilabel_metrics(probs, truth, labels, cut)
    else:
        result = multiclass_metrics(probs, truth, labels)
        if offsets is not None:
            result["decision_rule"] = decision_rule_metrics(probs, truth, labels, offsets)
    result["rows"] = len(truth)
    return result


def decision_rule_metrics(probs: np.ndarray, truth: np.ndarray, labels: list[str], offsets: np.ndarray) -> dict:
    """Accuracy, macro-F1 and per-class F1 of the decisions `argmax(log p + offsets)`."""
    predicted, truth = decide(probs, offsets), np.asarray(truth)
    f1 = {name: f1_at(truth == i, predicted == i) for i, name in enumerate(labels)}
    return {"accuracy": float((predicted == truth).mean()), "macro_f1": _mean(f1.values()), "f1": f1}


def numeric_leaves(tree, prefix: str = "") -> dict[str, float]:
    """The numbers of a nested metrics dict by dotted path (`per_label.toxic.roc_auc` -> 0.97), to compare two."""
    out = {}
    if isinstance(tree, dict):
        for key, value in tree.items():
            out.update(numeric_leaves(value, f"{prefix}{key}."))
    elif isinstance(tree, (int, float)) and not isinstance(tree, bool):
        out[prefix[:-1]] = float(tree)
    return out
