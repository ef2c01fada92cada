"""Calibration: ECE, reliability bins, fitted maps, threshold mapping and the saved file
(core.evaluation.calibration)."""

import json

import numpy as np
import pytest

from core import runs
from core.errors import ModelNotAvailable
from core.evaluation.calibration import (apply_calibration, ece, ece_per_label, fit_calibration, map_thresholds,
                                         reliability)


def test_ece_by_hand_with_equal_mass_bins():
    probs = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.9])
    truth = np.array([0, 0, 1, 0, 1, 1])
    bins = reliability(probs, truth, bins=3)  # two scores a bin, lowest first
    assert [b["count"] for b in bins] == [2, 2, 2]
    assert [b["mean_score"] for b in bins] == pytest.approx([0.15, 0.35, 0.75])
    assert [b["positive_rate"] for b in bins] == pytest.approx([0.0, 0.5, 1.0])
    # (2/6)|0.15 - 0| + (2/6)|0.35 - 0.5| + (2/6)|0.75 - 1|
    assert ece(probs, truth, bins=3) == pytest.approx((0.15 + 0.15 + 0.25) / 3)
    assert ece(np.array([0.0, 1.0]), np.array([0, 1]), bins=2) == 0.0


def _shifted(seed=0, n=6000):
    """Scores of a model trained with pos_weight: separating, but far too high for rare labels."""
    rng = np.random.default_rng(seed)
    truth = (rng.random((n, 2)) < [0.1, 0.02]).astype(int)
    z = rng.normal(0, 1, (n, 2)) + 3 * truth + 1.5
    return 1 / (1 + np.exp(-z)), truth


@pytest.mark.parametrize("method,goal", [("platt", 0.01), ("isotonic", 0.01), ("temperature", None)])
def test_fitted_maps_reduce_ece_on_held_out_scores(method, goal):
    probs, truth = _shifted(0)
    payload = fit_calibration(probs, truth, "multilabel", ["a", "b"], method)
    held_out, held_truth = _shifted(1)
    before = ece_per_label(held_out, held_truth, "multilabel", ["a", "b"])["macro"]
    after = ece_per_label(apply_calibration(held_out, payload), held_truth, "multilabel", ["a", "b"])["macro"]
    assert before > 0.5 and after < before
    if goal is not None:  # a scale alone cannot undo a shift: temperature helps less
        assert after < goal
    assert payload["ece_after"]["macro"] < payload["ece_before"]["macro"]


@pytest.mark.parametrize("method", ["platt", "temperature"])
def test_mapped_thresholds_keep_every_flag(method):
    probs, truth = _shifted(2)
    payload = fit_calibration(probs, truth, "multilabel", ["a", "b"], method)
    thresholds = {"a": 0.83, "b": 0.97}
    mapped = map_thresholds(thresholds, payload)
    calibrated = apply_calibration(probs, payload)
    for j, label in enumerate(["a", "b"]):
        assert mapped[label] < thresholds[label]  # the scores came down, and so did the threshold
        raw_flags = probs[:, j] >= thresholds[label]
        assert 0 < raw_flags.sum() < len(probs)
        assert np.array_equal(calibrated[:, j] >= mapped[label], raw_flags)


def test_a_perfectly_separated_split_gets_a_finite_map():
    probs = np.array([[0.1], [0.2], [0.8], [0.9]])
    truth = np.array([[0], [0], [1], [1]])
    out = apply_calibration(probs, fit_calibration(probs, truth, "multilabel", ["x"], "platt"))
    assert np.all((out > 0.05) & (out < 0.95))  # Platt's smoothed targets: no step to 0 and 1


def test_multiclass_scores_stay_a_distribution_and_get_sharper_or_softer():
    rng = np.random.default_rng(0)
    n = 3000
    truth = rng.integers(0, 3, n)
    logits = rng.normal(0, 1, (n, 3))
    logits[np.arange(n), truth] += 1.5
    probs = np.exp(3 * logits) / np.exp(3 * logits).sum(axis=1, keepdims=True)  # over-confident
    payload = fit_calibration(probs, truth, "multiclass", ["x", "y", "z"], "temperature")
    out = apply_calibration(probs, payload)
    assert np.allclose(out.sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(out.argmax(axis=1), probs.argmax(axis=1))  # one scale keeps the order in a row
    assert payload["classes"]["a"] < 1 and payload["ece_after"]["macro"] < payload["ece_before"]["macro"]
    isotonic = fit_calibration(probs, truth, "multiclass", ["x", "y", "z"], "isotonic")
    assert isotonic["method"] == "platt" and "sum to 1" in isotonic["note"]
    assert map_thresholds({"x": 0.4, "y": 0.5, "z": 0.6}, payload) == {"x": 0.4, "y": 0.5, "z": 0.6}


def _write(run_dir, payload):
    (run_dir / runs.CALIBRATION).write_text(json.dumps(payload))


@pytest.mark.parametrize("change,match", [
    (lambda p: p.update(labels=["other"]), r"is for labels \['other'\], the model has \['a', 'b'\]"),
    (lambda p: p["per_label"]["a"].update(a=float("nan")), "parameters are missing or not finite"),
    (lambda p: p["per_label"].pop("b"), "parameters are missing or not finite"),
    (lambda p: p["per_label"]["a"].update(x=[0.1]), "parameters are missing or not finite"),
])
def test_a_damaged_calibration_file_is_refused(tmp_path, change, match):
    probs, truth = _shifted(3, n=500)
    payload = fit_calibration(probs, truth, "multilabel", ["a", "b"], "platt")
    assert runs.read_calibration(tmp_path, ["a", "b"]) is None
    _write(tmp_path, payload)
    assert runs.read_calibration(tmp_path, ["a", "b"])["method"] == "platt"
    change(payload)
    _write(tmp_path, payload)
    with pytest.raises(ModelNotAvailable, match=match):
        runs.read_calibration(tmp_path, ["a", "b"])
    (tmp_path / runs.CALIBRATION).write_text("{not json")
    with pytest.raises(ModelNotAvailable, match="cannot be read.*delete calibration.json to report raw scores"):
        runs.read_calibration(tmp_path, ["a", "b"])
