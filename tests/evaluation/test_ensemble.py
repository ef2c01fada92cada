"""The TF-IDF blend (issue 24): its maths against a hand computation, the weight against a brute-force search, the
option refused where it cannot apply, and a job that saves the partner and a scorer that applies it."""

import json
import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from core import runs
from core.config import TrainConfig
from core.errors import ConfigError, ModelNotAvailable
from core.evaluation.decision import decide, fit_offsets, macro_f1
from core.evaluation.ensemble import WEIGHTS, fit_blend_weight
from core.models.blend import blend


def _logit(p):
    return math.log(p / (1 - p))


def test_multilabel_blend_is_the_weighted_mean_of_logits():
    got = blend(np.array([[0.9, 0.2]]), np.array([[0.6, 0.5]]), 0.25, "multilabel")[0]
    for value, (a, b) in zip(got, [(0.9, 0.6), (0.2, 0.5)]):
        z = 0.75 * _logit(a) + 0.25 * _logit(b)
        assert value == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-6)


def test_multiclass_blend_is_the_renormalised_weighted_geometric_mean():
    a, b = np.array([0.7, 0.2, 0.1]), np.array([0.2, 0.5, 0.3])
    got = blend(a[None], b[None], 0.5, "multiclass")[0]
    geometric = np.sqrt(a * b)
    np.testing.assert_allclose(got, geometric / geometric.sum(), atol=1e-6)
    assert got.sum() == pytest.approx(1.0, abs=1e-6)


def test_weight_zero_leaves_the_model_alone_and_weight_one_would_be_the_partner():
    model, partner = np.array([[0.9, 0.01]]), np.array([[0.3, 0.4]])
    np.testing.assert_allclose(blend(model, partner, 0.0, "multilabel"), model, atol=1e-7)
    np.testing.assert_allclose(blend(model, partner, 1.0, "multilabel"), partner, atol=1e-6)


def _brute_force(model, partner, truth, task, labels):
    """Every grid weight scored with sklearn (multilabel) or a refitted rule (multiclass); the smallest best."""
    scores = []
    for weight in WEIGHTS:
        mixed = blend(model, partner, float(weight), task)
        if task == "multilabel":
            scores.append(np.mean([roc_auc_score(truth[:, j], mixed[:, j]) for j in range(len(labels))]))
        else:
            scores.append(macro_f1(truth, decide(mixed, fit_offsets(mixed, truth)), len(labels)))
    best = max(scores)
    return float(WEIGHTS[[i for i, s in enumerate(scores) if s >= best - 1e-12][0]]), best


def test_the_chosen_weight_is_the_brute_force_optimum_multilabel():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, size=(400, 2))
    signal = truth + rng.normal(0, 1.0, size=truth.shape)
    # two models that each see part of the signal: the blend beats both
    model = 1 / (1 + np.exp(-(signal + rng.normal(0, 1.0, size=truth.shape))))
    partner = 1 / (1 + np.exp(-(signal + rng.normal(0, 1.0, size=truth.shape))))
    chosen = fit_blend_weight(model, partner, truth, "multilabel", ["a", "b"])
    weight, best = _brute_force(model, partner, truth, "multilabel", ["a", "b"])
    assert chosen["weight"] == weight and 0 < weight < 1
    assert chosen["val"][f"{weight:g}"] == pytest.approx(best, abs=1e-6)
    assert chosen["gain"] > 0 and chosen["metric"] == "macro_roc_auc"


def test_the_chosen_weight_is_the_brute_force_optimum_multiclass():
    rng = np.random.default_rng(1)
    truth = rng.choice(3, size=300, p=[0.1, 0.6, 0.3])
    onehot = np.eye(3)[truth]

    def noisy():
        logits = 2 * onehot + rng.normal(0, 1.3, size=onehot.shape)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    model, partner = noisy(), noisy()
    chosen = fit_blend_weight(model, partner, truth, "multiclass", ["x", "y", "z"])
    weight, best = _brute_force(model, partner, truth, "multiclass", ["x", "y", "z"])
    assert chosen["weight"] == weight and chosen["val"][f"{weight:g}"] == pytest.approx(best, abs=1e-6)


def test_a_partner_that_adds_nothing_gets_weight_zero():
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 2, size=(300, 1))
    model = np.clip(truth * 0.8 + 0.1, 0, 1).astype(float)  # perfect ranking already
    partner = rng.random((300, 1))
    chosen = fit_blend_weight(model, partner, truth, "multilabel", ["a"])
    assert chosen["weight"] == 0.0 and chosen["gain"] == 0.0


@pytest.mark.parametrize("options, message", [
    ({"ensemble": "forest"}, r"ensemble='forest' is invalid: use one of \('auto', 'none', 'tfidf'\)"),
    ({"ensemble": "tfidf", "model_kind": "tfidf"}, r"only transformer classifier runs blend with a TF-IDF partner"),
    ({"ensemble": "tfidf", "model_kind": "sbert"}, r"not model_kind='sbert'; set it to 'none'"),
])
def test_the_option_is_refused_where_it_cannot_apply(options, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(data="x.csv", **options)


def test_auto_blends_multiclass_classifier_runs_only():
    resolved = {(kind, task): TrainConfig(data="x.csv", model_kind=kind).resolved_ensemble(task)
                for kind in ("classifier", "tfidf", "sbert") for task in ("multilabel", "multiclass")}
    assert {key for key, value in resolved.items() if value == "tfidf"} == {("classifier", "multiclass")}
    assert TrainConfig(data="x.csv", ensemble="none").resolved_ensemble("multiclass") == "none"
    assert TrainConfig(data="x.csv", ensemble="tfidf").resolved_ensemble("multilabel") == "tfidf"


def test_a_damaged_ensemble_file_is_refused_not_ignored(tmp_path):
    (tmp_path / runs.ENSEMBLE).write_text(json.dumps({"partner": "tfidf", "weight": 1.5, "labels": ["a"]}))
    with pytest.raises(ModelNotAvailable, match=r"is damaged: partner 'tfidf', weight 1.5"):
        runs.read_ensemble(tmp_path, ["a"])
    (tmp_path / runs.ENSEMBLE).write_text(json.dumps({"partner": "tfidf", "weight": 0.3, "labels": ["a"]}))
    with pytest.raises(ModelNotAvailable, match=r"names a TF-IDF partner but .*partner is missing"):
        runs.read_ensemble(tmp_path, ["a"])
    with pytest.raises(ModelNotAvailable, match=r"is for labels \['a'\], the model has \['b'\]"):
        runs.read_ensemble(tmp_path, ["b"])


def test_a_blended_run_records_the_choice_in_metrics_and_card(make_run, tiny_bert):
    from core.scoring.scorer import Scorer
    from core.training.job import run_job

    run_dir = make_run(base_model=str(tiny_bert), ensemble="tfidf", max_steps=4, learning_rate=1e-2)
    assert run_job(run_dir) == "succeeded", runs.read_status(run_dir)
    metrics = json.loads((run_dir / runs.METRICS).read_text())
    chosen = metrics["ensemble"]
    assert set(chosen["val"]) == {f"{w:g}" for w in WEIGHTS}
    assert chosen["weight"] > 0, chosen  # a 4-step tiny model: the TF-IDF partner clearly helps on validation
    saved = json.loads((run_dir / runs.ENSEMBLE).read_text())
    assert saved["weight"] == chosen["weight"] and (run_dir / runs.PARTNER).is_dir()
    assert "blended with a TF-IDF model" in (run_dir / runs.CARD).read_text()
    scorer = Scorer.from_run(run_dir, backend="exact")  # verifies the saved (blended) predictions on load
    assert scorer.partner_weight == chosen["weight"]
    # the run's metrics are the blend's: evaluating the blend on validation reproduces them
    assert metrics["val"]["macro_roc_auc"] == pytest.approx(chosen["val"][f"{chosen['weight']:g}"], abs=1e-5)
