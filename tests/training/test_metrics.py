"""Metrics and thresholds against sklearn as the oracle; the weighted loss against a hand computation."""

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from core.evaluation.metrics import average_precision, multiclass_metrics, multilabel_metrics, roc_auc
from core.evaluation.thresholds import (best_f1_threshold, metrics_at, threshold_curve, threshold_for_precision,
                                        threshold_for_recall, tune_thresholds)
from core.training.classifier import weighted_loss

rng = np.random.default_rng(0)


@pytest.mark.parametrize("seed", range(5))
def test_roc_auc_and_average_precision_match_sklearn(seed):
    local = np.random.default_rng(seed)
    y = local.random(200) < 0.2
    scores = np.round(local.random(200) + y * 0.3, 2)  # rounding creates ties
    assert roc_auc(y, scores) == pytest.approx(skm.roc_auc_score(y, scores))
    assert average_precision(y, scores) == pytest.approx(skm.average_precision_score(y, scores))
    assert roc_auc(np.zeros(5), np.arange(5)) is None


def test_metrics_at_threshold_match_sklearn():
    y = rng.random(300) < 0.3
    scores = rng.random(300) * 0.7 + y * 0.3
    curve = threshold_curve(y, scores)
    for t in (0.1, 0.35, 0.5, 0.77, 0.99, 1.5):
        predicted = scores >= t
        got = metrics_at(curve, t)
        assert got["precision"] == pytest.approx(skm.precision_score(y, predicted, zero_division=0))
        assert got["recall"] == pytest.approx(skm.recall_score(y, predicted))
        assert got["f1"] == pytest.approx(skm.f1_score(y, predicted))
        assert got["positive_rate"] == pytest.approx(predicted.mean())


def test_threshold_search_is_optimal():
    y = rng.random(400) < 0.25
    scores = rng.random(400) * 0.6 + y * 0.4
    curve = threshold_curve(y, scores)
    best = best_f1_threshold(curve)
    brute = max(skm.f1_score(y, scores >= t) for t in np.unique(scores))
    assert skm.f1_score(y, scores >= best) == pytest.approx(brute)
    t_precision = threshold_for_precision(curve, 0.9)
    assert skm.precision_score(y, scores >= t_precision) >= 0.9
    assert all(skm.precision_score(y, scores >= t, zero_division=0) < 0.9 or
               skm.recall_score(y, scores >= t) <= skm.recall_score(y, scores >= t_precision)
               for t in np.unique(scores))
    t_recall = threshold_for_recall(curve, 0.8)
    assert skm.recall_score(y, scores >= t_recall) >= 0.8


def test_tune_thresholds_records_method_and_split():
    y = (rng.random((100, 2)) < 0.3).astype(int)
    probs = rng.random((100, 2)) * 0.5 + y * 0.5
    tuned = tune_thresholds(probs, y, ["a", "b"], "target_recall", 0.9, split="val")
    assert tuned["split"] == "val" and tuned["method"] == "target_recall" and set(tuned["thresholds"]) == {"a", "b"}
    assert all(tuned["metrics"][k]["recall"] >= 0.9 for k in "ab")


def test_multilabel_and_multiclass_metrics_match_sklearn():
    y = (rng.random((120, 3)) < 0.3).astype(int)
    probs = np.clip(rng.random((120, 3)) * 0.6 + y * 0.4, 0, 1)
    got = multilabel_metrics(probs, y, ["a", "b", "c"])
    assert got["macro_roc_auc"] == pytest.approx(skm.roc_auc_score(y, probs, average="macro"))
    assert got["micro_f1"] == pytest.approx(skm.f1_score(y, probs >= 0.5, average="micro"))
    assert got["macro_f1"] == pytest.approx(skm.f1_score(y, probs >= 0.5, average="macro"))
    classes = rng.integers(0, 4, 200)
    class_probs = rng.dirichlet(np.ones(4), 200) + np.eye(4)[classes] * 0.3
    class_probs /= class_probs.sum(1, keepdims=True)
    got = multiclass_metrics(class_probs, classes, list("abcd"))
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(classes, class_probs.argmax(1)))
    assert got["top2_accuracy"] == pytest.approx(skm.top_k_accuracy_score(classes, class_probs, k=2))
    assert got["macro_roc_auc"] == pytest.approx(skm.roc_auc_score(classes, class_probs, multi_class="ovr"))


def test_weighted_bce_equals_hand_computation():
    logits = torch.tensor([[2.0, -1.0], [0.5, 0.0]])
    labels = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    pos_weight = torch.tensor([3.0, 5.0])
    sigmoid = torch.sigmoid(logits)
    hand = -(pos_weight * labels * torch.log(sigmoid) + (1 - labels) * torch.log(1 - sigmoid)).mean()
    got = weighted_loss(logits, labels, "multilabel", pos_weight, None)
    assert got.item() == pytest.approx(hand.item(), rel=1e-6)
    class_logits = torch.tensor([[1.0, 2.0, 0.1], [0.3, 0.2, 3.0]])
    targets = torch.tensor([0, 2])
    weights = torch.tensor([2.0, 1.0, 0.5])
    log_probs = torch.log_softmax(class_logits, dim=1)
    hand = -(weights[targets] * log_probs[[0, 1], targets]).sum() / weights[targets].sum()
    assert weighted_loss(class_logits, targets, "multiclass", None, weights).item() == pytest.approx(hand.item())


def test_length_bucket_sampler_is_a_permutation_with_aligned_low_padding_batches():
    from core.training.classifier import LengthBucketSampler

    lengths = np.random.default_rng(0).integers(5, 129, 3000)
    order = list(LengthBucketSampler(lengths, 32, seed=1))
    assert sorted(order) == list(range(3000))
    batches = [lengths[order[i:i + 32]] for i in range(0, len(order), 32)]
    padding = 1 - sum(b.sum() for b in batches) / sum(b.max() * len(b) for b in batches)
    assert padding < 0.05  # random order pads about 25% here
    assert order != list(LengthBucketSampler(lengths, 32, seed=2))
