"""Choosing the blend weight of a run and its TF-IDF partner on the validation split (`ensemble: tfidf`).

Each weight of a grid is scored on validation by the figure the run is judged by: macro ROC-AUC for multilabel
runs (their thresholds are tuned afterwards on the blend), macro-F1 after refitting the decision rule for
multiclass runs (the rule is what the product applies). The smallest weight with the best figure wins, so a
partner that adds nothing gets weight 0 and is not used.
"""

from __future__ import annotations

import numpy as np

from core.evaluation.decision import decide, fit_offsets, macro_f1
from core.evaluation.metrics import multilabel_metrics
from core.models.blend import blend

WEIGHTS = tuple(np.round(np.linspace(0.0, 0.8, 9), 2))


def blend_score(probs: np.ndarray, truth: np.ndarray, task: str, labels: list[str]) -> float:
    """The validation figure of one blend: macro ROC-AUC (multilabel) or macro-F1 at a refitted rule."""
    if task == "multilabel":
        return float(multilabel_metrics(probs, truth, labels)["macro_roc_auc"])
    return macro_f1(truth, decide(probs, fit_offsets(probs, truth)), len(labels))


def fit_blend_weight(model_val: np.ndarray, partner_val: np.ndarray, truth: np.ndarray, task: str,
                     labels: list[str], weights: tuple[float, ...] = WEIGHTS) -> dict:
    """The partner's weight that scores best on validation (ties: the smaller weight).

    Args:
        model_val, partner_val: (rows, labels) validation probabilities of the two models.
        truth: (rows, labels) 0/1 (multilabel) or (rows,) class indices (multiclass).

    Returns:
        {"weight", "metric": the figure's name, "val": {weight: figure}, "gain": best - the model alone}.
    """
    scores = {float(w): blend_score(blend(model_val, partner_val, float(w), task), truth, task, labels)
              for w in weights}
    best = max(scores.values())
    weight = min(w for w, s in scores.items() if s >= best - 1e-12)
    alone = scores.get(0.0, blend_score(np.asarray(model_val), truth, task, labels))
    return {"weight": weight, "metric": "macro_roc_auc" if task == "multilabel" else "macro_f1 (decision rule)",
            "val": {f"{w:g}": round(s, 6) for w, s in scores.items()}, "gain": round(best - alone, 6)}
