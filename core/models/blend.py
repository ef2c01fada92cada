"""Blending a fine-tuned model's probabilities with its TF-IDF partner's (the `ensemble: tfidf` option).

The two are averaged in log space, where both models' outputs live before their link function: per label the
weighted mean of the two logits (multilabel, then a sigmoid), or the weighted mean of the two log-probabilities
renormalised by a softmax (multiclass, a weighted geometric mean). A rank average would need the training
distribution at scoring time; a mean of probabilities lets the flatter model drown the sharper one.
"""

from __future__ import annotations

import numpy as np

from core.models.logistic import probabilities

_EPS = 1e-7


def blend(model: np.ndarray, partner: np.ndarray, weight: float, task: str) -> np.ndarray:
    """(rows, labels) probabilities of `(1 - weight) x model + weight x partner` in log space (see the module
    docstring); `weight` 0 returns the model's own probabilities unchanged."""
    model = np.asarray(model, dtype=np.float64)
    if weight == 0:
        return model.astype(np.float32)
    partner = np.clip(np.asarray(partner, dtype=np.float64), _EPS, 1 - _EPS)
    clipped = np.clip(model, _EPS, 1 - _EPS)
    if task == "multilabel":
        logits = (1 - weight) * np.log(clipped / (1 - clipped)) + weight * np.log(partner / (1 - partner))
    else:
        logits = (1 - weight) * np.log(clipped) + weight * np.log(partner)
    return probabilities(logits, task).astype(np.float32)
