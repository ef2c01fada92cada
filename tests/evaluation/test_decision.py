"""The multiclass decision rule: per-class log-probability offsets fitted for macro-F1 (issue 24, item 1)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.metrics import f1_score

from core.evaluation.decision import (GRID, class_precision_recall, decide, decision_payload, fit_offsets,
                                     macro_f1, offsets_for_target)


def test_decide_by_hand():
    probs = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.45, 0.1, 0.45]])
    assert decide(probs).tolist() == [0, 1, 0]
    # log 0.3 + 1 = -0.204 > log 0.6 = -0.511: the second class wins the first row
    assert decide(probs, np.array([0.0, 1.0, 0.0])).tolist() == [1, 1, 0]
    assert decide(probs, np.array([0.0, 0.0, 0.01])).tolist() == [0, 1, 2]


def test_macro_f1_matches_sklearn():
    rng = np.random.default_rng(0)
    truth, predicted = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    predicted[predicted == 3] = 2  # a class never predicted
    assert macro_f1(truth, predicted, 4) == pytest.approx(f1_score(truth, predicted, average="macro",
                                                                    labels=[0, 1, 2, 3], zero_division=0))


def rare_class_data(seed: int = 1, rows: int = 300):
    """Three classes, the first rare and under-scored: argmax rarely predicts it."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(3, size=rows, p=[0.08, 0.72, 0.2])
    logits = rng.normal(size=(rows, 3))
    logits[np.arange(rows), truth] += 1.2
    logits[:, 1] += 0.8  # the model leans to the majority class
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return probs, truth


def test_fitted_offsets_reach_the_brute_force_optimum_on_a_small_grid():
    probs, truth = rare_class_data()
    grid = np.linspace(-2, 2, 17)
    best = max(macro_f1(truth, decide(probs, np.array([0.0, b1, b2])), 3) for b1, b2 in itertools.product(grid, grid))
    offsets = fit_offsets(probs, truth, grid=grid)
    assert offsets[0] == 0.0
    assert macro_f1(truth, decide(probs, offsets), 3) == pytest.approx(best)
    assert best > macro_f1(truth, decide(probs), 3)  # the rule helps where argmax under-serves a class


def test_payload_is_never_worse_than_argmax_and_names_the_classes():
    probs, truth = rare_class_data(seed=3)
    payload = decision_payload(probs, truth, ["hate", "offensive", "neither"])
    assert set(payload["offsets"]) == {"hate", "offensive", "neither"} and payload["offsets"]["hate"] == 0.0
    assert payload["macro_f1"] >= payload["macro_f1_argmax"] and payload["split"] == "val"
    separable = np.eye(3)[truth] * 0.9 + 0.05  # argmax is already perfect: offsets stay at 0
    assert decision_payload(separable, truth, ["a", "b", "c"])["offsets"] == {"a": 0.0, "b": 0.0, "c": 0.0}


def test_more_than_three_classes_use_coordinate_ascent_and_never_lose_to_argmax():
    rng = np.random.default_rng(5)
    truth = rng.choice(5, size=400, p=[0.05, 0.5, 0.2, 0.15, 0.1])
    logits = rng.normal(size=(400, 5))
    logits[np.arange(400), truth] += 1.0
    logits[:, 1] += 1.0
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    offsets = fit_offsets(probs, truth)
    assert macro_f1(truth, decide(probs, offsets), 5) > macro_f1(truth, decide(probs), 5)


def test_offsets_for_a_target_by_hand():
    # three rows of the rare class 0 with p0 = 0.4, 0.3, 0.1 against a majority class 1; one row of class 1, p0 0.35
    probs = np.array([[0.4, 0.6], [0.3, 0.7], [0.1, 0.9], [0.35, 0.65]])
    truth = np.array([0, 0, 0, 1])
    grid = np.array([0.0, 0.5, 1.0, 2.5])
    # class 0 wins a row when log p0 + b > log p1: b > log(p1/p0) = 0.405, 0.847, 2.197 (rare rows), 0.619 (other)
    recall = offsets_for_target(probs, truth, np.zeros(2), 0, "recall", 0.6, grid)
    assert recall.tolist() == [1.0, 0.0]  # b = 1.0 catches 2 of 3 (0.5 catches only 1)
    assert class_precision_recall(truth, decide(probs, recall), 0) == (2 / 3, 2 / 3)
    precise = offsets_for_target(probs, truth, np.zeros(2), 0, "precision", 1.0, grid)
    assert precise.tolist() == [0.5, 0.0]  # only b = 0.5 keeps precision 1 (one row, no false positive)
    assert offsets_for_target(probs, truth, np.zeros(2), 0, "recall", 1.0, grid[:3]) is None  # 2.5 not on the grid


def test_offsets_for_a_target_match_a_brute_force_search():
    probs, truth = rare_class_data(seed=4)
    start = np.array([0.0, -0.5, 0.3])
    for cls, metric, target in [(0, "recall", 0.6), (0, "precision", 0.5), (2, "recall", 0.9), (2, "precision", 0.7)]:
        found = offsets_for_target(probs, truth, start, cls, metric, target)
        points = []
        for value in GRID:
            trial = start.copy()
            trial[cls] = value
            points.append((value, *class_precision_recall(truth, decide(probs, trial), cls)))
        if metric == "recall":
            expected = min(v for v, _, r in points if r >= target)
        else:
            best = max(r for _, p, r in points if p >= target)
            expected = min(v for v, p, r in points if p >= target and r == best)
        assert np.delete(found, cls).tolist() == np.delete(start, cls).tolist()  # the other offsets stay
        assert found[cls] == pytest.approx(expected), (cls, metric, target)
    with pytest.raises(ValueError, match="metric must be 'precision' or 'recall', not 'f1'"):
        offsets_for_target(probs, truth, start, 0, "f1", 0.5)


@pytest.fixture
def multiclass_run(make_run, write):
    from core.training.job import run_job

    rows = ["text,label"]
    for i in range(150):
        label = ["hate", "offensive", "offensive", "offensive", "neither"][i % 5]
        word = {"hate": "hateful vermin", "offensive": "stupid", "neither": "lovely"}[label]
        rows.append(f"comment {i} about a {word} remark,{label}")
    run_dir = make_run(model_kind="tfidf", data=str(write("mc.csv", "\n".join(rows) + "\n")))
    assert run_job(run_dir) == "succeeded"
    return run_dir


def test_a_multiclass_run_saves_its_rule_and_a_reload_applies_it(multiclass_run, capsys):
    import json

    from core import runs
    from core.cli import main
    from core.scoring.scorer import Scorer

    payload = json.loads((multiclass_run / runs.DECISION).read_text())
    assert payload["split"] == "val" and set(payload["offsets"]) == {"hate", "neither", "offensive"}
    metrics = json.loads((multiclass_run / runs.METRICS).read_text())
    assert metrics["val"]["decision_rule"]["macro_f1"] == pytest.approx(payload["macro_f1"])
    scorer = Scorer.from_run(multiclass_run)
    texts = ["a lovely remark", "a stupid remark", "hateful vermin"]
    expected = [scorer.labels[i] for i in decide(scorer.predict_proba(texts), np.array(scorer.offsets))]
    assert [r.predicted for r in scorer.score(texts)] == expected
    # a reload reads the saved rule: pushing `neither` up by 20 makes it every decision
    payload["offsets"]["neither"] = 20.0
    (multiclass_run / runs.DECISION).write_text(json.dumps(payload))
    assert main(["score", "--run", multiclass_run.name, *texts]) == 0
    assert [r["predicted"] for r in json.loads(capsys.readouterr().out)] == ["neither"] * 3


def test_a_damaged_decision_file_is_refused(multiclass_run):
    from core import runs
    from core.errors import ModelNotAvailable
    from core.scoring.scorer import Scorer

    (multiclass_run / runs.DECISION).write_text('{"offsets": {"hate": 0, "neither": "x", "offensive": 0}}')
    with pytest.raises(ModelNotAvailable, match=r"the offset of 'neither' is 'x', not a finite number"):
        Scorer.from_run(multiclass_run)
