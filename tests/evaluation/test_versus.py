"""A run against its own TF-IDF baseline (issue 24, item 3): the comparison, and the baseline's tuned decisions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.config import TrainConfig
from core.evaluation.thresholds import best_f1_threshold, metrics_at, threshold_curve
from core.evaluation.versus import baseline_comparison, worse_summary
from core.models.tfidf import TfidfModel
from core.paths import SAMPLE_MULTILABEL
from core.training.baseline import tfidf_baseline_metrics
from core.training.data import load_training_data


def split(per_label: dict, rule: dict | None = None) -> dict:
    result = {"per_label": {k: {"roc_auc": a, "f1": f} for k, (a, f) in per_label.items()}}
    if rule:
        result["decision_rule"] = {"f1": rule}
    return result


def test_comparison_by_hand_uses_test_and_orders_the_losses_worst_first():
    metrics = {"val": split({"toxic": (0.99, 0.9), "threat": (0.99, 0.9)}),
               "test": split({"toxic": (0.97, 0.80), "threat": (0.90, 0.50)}),
               "baseline_tfidf": {"decisions": "tuned on val",
                                  "val": split({"toxic": (0.5, 0.1), "threat": (0.5, 0.1)}),
                                  "test": split({"toxic": (0.95, 0.85), "threat": (0.93, 0.40)})}}
    found = baseline_comparison(metrics)
    assert found["split"] == "test" and found["metrics"] == ["roc_auc", "f1"] and len(found["rows"]) == 4
    assert [(r["label"], r["metric"]) for r in found["worse"]] == [("toxic", "f1"), ("threat", "roc_auc")]
    assert found["worse"][0]["gap"] == pytest.approx(-0.05) and found["worse"][1]["gap"] == pytest.approx(-0.03)
    assert worse_summary(found) == "toxic F1 (-0.050), threat ROC-AUC (-0.030)"


def test_comparison_falls_back_to_validation_and_reads_the_multiclass_decision_rule():
    metrics = {"val": split({"hate": (0.9, 0.2), "neither": (0.95, 0.9)}, rule={"hate": 0.45, "neither": 0.9}),
               "baseline_tfidf": {"decisions": "tuned on val",
                                  "val": split({"hate": (0.92, 0.3), "neither": (0.9, 0.8)},
                                               rule={"hate": 0.5, "neither": 0.85})}}
    found = baseline_comparison(metrics)
    assert found["split"] == "val"
    # the rule's F1 (0.45 vs 0.5), not the argmax F1 (0.2 vs 0.3), is what a user gets
    assert {(r["label"], r["metric"]): round(r["gap"], 6) for r in found["worse"]} == {
        ("hate", "f1"): -0.05, ("hate", "roc_auc"): -0.02}


def test_old_baselines_compare_roc_auc_only_and_undefined_aucs_are_skipped():
    metrics = {"val": split({"toxic": (0.9, 0.9), "threat": (None, 0.0)}),
               "baseline_tfidf": {"val": split({"toxic": (0.8, 0.95), "threat": (None, 0.5)})}}
    found = baseline_comparison(metrics)
    assert found["metrics"] == ["roc_auc"] and [r["label"] for r in found["rows"]] == ["toxic"]
    assert found["worse"] == [] and worse_summary(found) is None
    assert baseline_comparison({"val": split({"toxic": (0.9, 0.9)})}) is None  # a run without a baseline


def test_the_baseline_decisions_are_tuned_on_validation_like_the_runs():
    config = TrainConfig(data=str(SAMPLE_MULTILABEL), model_kind="tfidf", normalize="none",
                         identity_augmentation=False)
    data = load_training_data(config)
    found = tfidf_baseline_metrics(data, seed=42)
    assert found["decisions"] == "tuned on val"
    model = TfidfModel.fit(data.train.frame["text"].astype(str).tolist(), data.train.label_matrix(), data.task,
                           data.labels, 42)
    probs, truth = model.predict_proba(data.val.frame["text"].tolist()), data.val.label_matrix()
    for i, label in enumerate(data.labels):  # each label's validation F1 is the best any threshold gives
        curve = threshold_curve(truth[:, i], probs[:, i])
        assert found["val"]["per_label"][label]["f1"] == pytest.approx(
            metrics_at(curve, best_f1_threshold(curve))["f1"])


def test_a_multiclass_baseline_records_its_decision_rule(write):
    rng = np.random.default_rng(3)
    words = {"hate": ["vermin", "stupid"], "offensive": ["stupid", "dumb"], "neither": ["lovely", "dumb"]}
    labels = rng.choice(["hate", "offensive", "offensive", "offensive", "neither"], 300)
    texts = [f"comment {i} about a {rng.choice(words[label])} remark" for i, label in enumerate(labels)]
    path = write("mc.csv", pd.DataFrame({"text": texts, "label": labels}).to_csv(index=False))
    data = load_training_data(TrainConfig(data=str(path), model_kind="tfidf", task="multiclass", normalize="none",
                                          identity_augmentation=False))
    val = tfidf_baseline_metrics(data, seed=42)["val"]
    assert val["decision_rule"]["macro_f1"] >= val["macro_f1"]  # fitted there: never below argmax
