"""Curves, error analysis, saved predictions and threshold saving, against sklearn where it applies."""

import json

import numpy as np
import pytest
from sklearn.metrics import precision_recall_curve, roc_curve

from core import runs
from core.evaluation.curves import operating_point, pr_points, roc_points, top_errors
from core.evaluation.metrics import confusion_matrix
from core.evaluate import load_predictions
from core.evaluation.predictions import predictions_path
from core.evaluation.thresholds import (choose_threshold, describe_thresholds, metrics_at,
                                        threshold_curve)

rng = np.random.default_rng(0)
Y = rng.random(500) < 0.3
S = np.clip(Y * 0.3 + rng.random(500) * 0.7, 0, 1).round(2)  # ties on purpose


def test_roc_and_pr_points_match_sklearn():
    fpr, tpr, _ = roc_curve(Y, S)
    ours = roc_points(Y, S)
    np.testing.assert_allclose(ours["fpr"], fpr)
    np.testing.assert_allclose(ours["tpr"], tpr)
    precision, recall, thresholds = precision_recall_curve(Y, S)
    ours = pr_points(Y, S)
    np.testing.assert_allclose(ours["precision"], precision[:-1])
    np.testing.assert_allclose(ours["recall"], recall[:-1])
    assert roc_points(np.zeros(5), np.arange(5))["fpr"] == [] and pr_points(np.zeros(5), np.arange(5))["recall"] == []


def test_curves_are_thinned_for_big_sets():
    y, s = rng.random(50_000) < 0.2, rng.random(50_000)
    assert len(roc_points(y, s)["fpr"]) <= 401 and len(pr_points(y, s)["precision"]) <= 401


def test_operating_point_agrees_with_sklearn_counts():
    point = operating_point(threshold_curve(Y, S), 0.5)
    predicted = S >= 0.5
    assert point["tp"] == int((predicted & Y).sum()) and point["fp"] == int((predicted & ~Y).sum())
    assert point["fpr"] == pytest.approx((predicted & ~Y).sum() / (~Y).sum())
    assert point["tpr"] == pytest.approx((predicted & Y).sum() / Y.sum())


def test_top_errors_are_the_most_confident_mistakes():
    truth = np.array([0, 0, 1, 1, 0, 1])
    scores = np.array([0.9, 0.6, 0.1, 0.4, 0.2, 0.8])
    errors = top_errors(truth, scores, 0.5, k=5)
    assert errors["false_positives"].tolist() == [0, 1]
    assert errors["false_negatives"].tolist() == [2, 3]


def test_choose_threshold_methods_and_errors():
    curve = threshold_curve(Y, S)
    assert metrics_at(curve, choose_threshold(curve, "target_precision", 0.8))["precision"] >= 0.8
    assert metrics_at(curve, choose_threshold(curve, "target_recall", 0.9))["recall"] >= 0.9
    with pytest.raises(ValueError, match="needs a target in"):
        choose_threshold(curve, "target_recall", None)
    with pytest.raises(ValueError, match="unknown threshold method 'median'"):
        choose_threshold(curve, "median")


def test_confusion_matrix_matches_sklearn():
    from sklearn.metrics import confusion_matrix as sk

    truth, predicted = rng.integers(0, 3, 100), rng.integers(0, 3, 100)
    np.testing.assert_array_equal(confusion_matrix(truth, predicted, 3), sk(truth, predicted, labels=[0, 1, 2]))


def test_job_saves_predictions_and_missing_ones_are_rebuilt_identically(tfidf_run):
    saved = load_predictions(tfidf_run, "val")
    assert predictions_path(tfidf_run, "val").exists() and len(saved) > 50
    assert saved.truth.shape == saved.probs.shape == (len(saved), len(saved.labels))
    predictions_path(tfidf_run, "val").unlink()
    rebuilt = load_predictions(tfidf_run, "val")
    assert rebuilt.texts == saved.texts
    np.testing.assert_allclose(rebuilt.probs, saved.probs, atol=1e-6)
    assert predictions_path(tfidf_run, "val").exists()


def test_saved_thresholds_record_method_split_and_metrics(tfidf_run):
    saved = load_predictions(tfidf_run, "val")
    curves = {label: threshold_curve(saved.truth[:, i], saved.probs[:, i]) for i, label in enumerate(saved.labels)}
    values = {label: 0.3 for label in saved.labels}
    runs.save_thresholds(tfidf_run, describe_thresholds(curves, values, "manual", "val"))
    payload = json.loads((tfidf_run / runs.THRESHOLDS).read_text())
    assert payload["method"] == "manual" and payload["split"] == "val" and payload["thresholds"] == values
    first = saved.labels[0]
    assert payload["metrics"][first]["tp"] == int(((saved.probs[:, 0] >= 0.3) & (saved.truth[:, 0] == 1)).sum())
    assert runs.read_thresholds(tfidf_run, saved.labels) == values
