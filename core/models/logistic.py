"""Class-balanced logistic regression as plain weight arrays, shared by the TF-IDF baseline and the SBERT head,
and the link from logits to probabilities that every model kind uses."""

from __future__ import annotations

import numpy as np


def fit_logistic(features, labels: np.ndarray, task: str, outputs: int, seed: int = 42, c: float = 1.0,
                 max_iter: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """(weight (outputs, dims), bias (outputs,)) so that logits = features @ weight.T + bias.

    Multilabel: one balanced binary regression per label column (a label that is constant in training gets a
    zero weight and a bias of -/+10). Multiclass: one multinomial regression; classes absent from training get
    a bias of -10, and sklearn's single-row binary case is expanded to two rows.
    """
    from sklearn.linear_model import LogisticRegression

    labels = np.asarray(labels)
    dims = features.shape[1]
    if task == "multilabel":
        weights, biases = [], []
        for column in range(labels.shape[1]):
            if labels[:, column].min() == labels[:, column].max():  # a label never (or always) on in training
                weights.append(np.zeros(dims))
                biases.append(-10.0 if labels[0, column] == 0 else 10.0)
                continue
            model = LogisticRegression(C=c, class_weight="balanced", max_iter=max_iter, random_state=seed)
            model.fit(features, labels[:, column])
            weights.append(model.coef_[0])
            biases.append(model.intercept_[0])
        return np.stack(weights).astype(np.float32), np.array(biases, dtype=np.float32)
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=max_iter, random_state=seed)
    model.fit(features, labels)
    weight, bias = model.coef_, model.intercept_
    if weight.shape[0] == 1:  # sklearn's binary case has one row: expand to two classes
        weight, bias = np.vstack([-weight, weight]) / 2, np.array([-bias[0], bias[0]]) / 2
    if len(model.classes_) != outputs:  # a class missing from training
        full_w, full_b = np.zeros((outputs, dims)), np.full(outputs, -10.0)
        rows = model.classes_.astype(int)
        full_w[rows], full_b[rows] = weight, bias
        weight, bias = full_w, full_b
    return np.asarray(weight, dtype=np.float32), np.asarray(bias, dtype=np.float32)


def probabilities(logits: np.ndarray, task: str) -> np.ndarray:
    """Sigmoid per label (multilabel) or softmax over classes (multiclass)."""
    logits = np.asarray(logits, dtype=np.float64)
    if task == "multilabel":
        return 1.0 / (1.0 + np.exp(-logits))
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
