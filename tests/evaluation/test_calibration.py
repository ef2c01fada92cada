"""Calibration: ECE, reliability bins, fitted maps, threshold mapping and the saved file
(core.evaluation.calibration)."""

import json

import numpy as np
import pytest

from core import runs
from core.errors import ConfigError, ModelNotAvailable
from core.evaluation.calibration import (apply_calibration, ece, ece_per_label, fit_calibration, map_thresholds,
                                         reliability, with_prevalence)


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


def _label_shift(seed: int, share: float, n: int = 20000):
    """Scores of one label whose texts look alike in every sample (the same P(score | label)) while the share of
    positives differs: the rows of a larger pool kept by label, as an enriched training set or real traffic is."""
    rng = np.random.default_rng(seed)
    truth = (rng.random(4 * n) < 0.5).astype(int)
    z = rng.normal(0, 1.2, 4 * n) + 2.5 * truth - 1.25
    positives, negatives = np.flatnonzero(truth == 1), np.flatnonzero(truth == 0)
    keep = np.concatenate([positives[:int(share * n)], negatives[:n - int(share * n)]])
    return (1 / (1 + np.exp(-z[keep])))[:, None], truth[keep][:, None]


@pytest.mark.parametrize("method", ["platt", "temperature", "isotonic"])
def test_a_map_moved_to_the_traffic_prevalence_is_calibrated_there(method):
    val, val_truth = _label_shift(0, 0.4)  # an enriched validation split: 40% positive
    traffic, traffic_truth = _label_shift(1, 0.05)  # what the run will score: 5%
    payload = fit_calibration(val, val_truth, "multilabel", ["toxic"], method)
    assert payload["prevalence_fitted"] == {"toxic": pytest.approx(0.4)}
    before = ece(apply_calibration(traffic, payload)[:, 0], traffic_truth[:, 0])
    moved = with_prevalence(payload, {"toxic": 0.05})
    after = ece(apply_calibration(traffic, moved)[:, 0], traffic_truth[:, 0])
    assert before > 0.05 and after < 0.015, (before, after)
    if method != "isotonic":  # (isotonic steps tie, which is why flags come from raw scores)
        # the moved map is still increasing and the thresholds move with it: the same flags on either scale
        mapped = map_thresholds({"toxic": 0.6}, moved)["toxic"]
        assert np.array_equal(apply_calibration(traffic, moved)[:, 0] >= mapped, traffic[:, 0] >= 0.6)


def test_the_prior_shift_by_hand_and_undone():
    val, val_truth = _label_shift(0, 0.4, n=2000)
    payload = fit_calibration(np.hstack([val, val]), np.hstack([val_truth, val_truth]), "multilabel", ["a", "b"])
    share = payload["prevalence_fitted"]["a"]
    moved = with_prevalence(payload, {"a": 0.1})
    # platt's offset moves by logit(0.1) - logit(validation share); the unnamed label keeps its map
    expected = payload["per_label"]["a"]["b"] + np.log(0.1 / 0.9) - np.log(share / (1 - share))
    assert moved["per_label"]["a"]["b"] == pytest.approx(expected)
    assert moved["per_label"]["b"] == payload["per_label"]["b"] and moved["prevalence"] == {"a": 0.1}
    # set twice, it does not add up; None goes back to the fitted map
    assert with_prevalence(moved, {"a": 0.1})["per_label"] == moved["per_label"]
    back = with_prevalence(moved, None)
    assert back["per_label"] == payload["per_label"] and "prevalence" not in back and "fitted" not in back


def test_a_multiclass_map_moves_to_class_shares_and_stays_a_distribution():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 60000)
    logits = rng.normal(0, 1, (60000, 3))
    logits[np.arange(60000), truth] += 2
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)

    def sample(shares, n):  # rows kept by class: the same texts per class, other class shares
        rows = np.concatenate([np.flatnonzero(truth == k)[:int(share * n)] for k, share in enumerate(shares)])
        return probs[rows], truth[rows]

    val, val_truth = sample([0.5, 0.3, 0.2], 6000)
    traffic, traffic_truth = sample([0.1, 0.1, 0.8], 6000)
    payload = fit_calibration(val, val_truth, "multiclass", ["x", "y", "z"])
    moved = with_prevalence(payload, {"x": 0.1, "y": 0.1, "z": 0.8})
    out = apply_calibration(traffic, moved)
    assert np.allclose(out.sum(axis=1), 1, atol=1e-5)
    before = ece_per_label(apply_calibration(traffic, payload), traffic_truth, "multiclass", ["x", "y", "z"])
    after = ece_per_label(out, traffic_truth, "multiclass", ["x", "y", "z"])
    assert before["macro"] > 0.05 and after["macro"] < 0.02, (before, after)
    with pytest.raises(ConfigError, match=r"must give every class of \['x', 'y', 'z'\], summing to 1"):
        with_prevalence(payload, {"x": 0.5, "y": 0.2})


@pytest.mark.parametrize("shares,match", [
    ({"other": 0.1}, r"prevalence for \['other'\]: the run's labels are \['a', 'b'\]"),
    ({"a": 1.0}, r"prevalence \{'a': 1.0\}: each share must be a number between 0 and 1"),
    ({"a": "0.1"}, r"each share must be a number between 0 and 1"),
])
def test_bad_prevalence_is_refused(shares, match):
    probs, truth = _shifted(3, n=500)
    payload = fit_calibration(probs, truth, "multilabel", ["a", "b"], "platt")
    with pytest.raises(ConfigError, match=match):
        with_prevalence(payload, shares)
    old = {k: v for k, v in payload.items() if k != "prevalence_fitted"}
    with pytest.raises(ConfigError, match="does not record the label shares it was fitted at"):
        with_prevalence(old, {"a": 0.1})


def test_a_damaged_prevalence_is_refused(tmp_path):
    probs, truth = _shifted(3, n=500)
    payload = with_prevalence(fit_calibration(probs, truth, "multilabel", ["a", "b"], "platt"), {"a": 0.2})
    _write(tmp_path, payload)
    assert runs.read_calibration(tmp_path, ["a", "b"])["prevalence"] == {"a": 0.2}
    payload["prevalence"] = {"a": 2}
    _write(tmp_path, payload)
    with pytest.raises(ModelNotAvailable, match=r"its prevalence \{'a': 2\} is not label shares in \(0, 1\)"):
        runs.read_calibration(tmp_path, ["a", "b"])


def test_describe_says_what_calibrated_scores_mean():
    from core.evaluation.calibration import describe

    payload = {"method": "platt", "per_label": {}}
    assert describe(None) == "raw scores: the run has no calibration"
    assert describe(payload) == "platt fitted on validation"
    refit = {**payload, "source": {"data": "ours.csv", "rows": 1216}, "prevalence": {"toxic": 0.1}}
    assert describe(refit) == "platt refitted on ours.csv (1,216 labelled rows), at label shares toxic 0.1"
