"""report_to (issue 27, part 3): TensorBoard event files and MLflow runs, read back; a missing package refused."""

from __future__ import annotations

import json

import pytest

from core import runs
from core.config import TrainConfig
from core.errors import ConfigError
from core.training.job import run_job


def scalars(run_dir) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0, "tensors": 0}).Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}, events


def test_tensorboard_gets_the_training_curve_and_the_final_figures(make_run, tiny_bert):
    run_dir = make_run(base_model=str(tiny_bert), report_to="tensorboard", max_steps=6, eval_steps=3,
                       logging_steps=1, learning_rate=1e-3)
    assert run_job(run_dir) == "succeeded", (run_dir / runs.STATUS).read_text()
    found, events = scalars(run_dir)
    assert [step for step, _ in found["train/loss"]] == [1, 2, 3, 4, 5, 6]  # every logging step, live
    assert [step for step, _ in found["eval/macro_roc_auc"]] == [3, 6]
    metrics = json.loads((run_dir / runs.METRICS).read_text())
    assert found["final/val/macro_roc_auc"][-1][1] == pytest.approx(metrics["val"]["macro_roc_auc"], abs=1e-6)
    assert found["final/test/toxic/roc_auc"][-1][1] == pytest.approx(metrics["test"]["per_label"]["toxic"]["roc_auc"],
                                                                     abs=1e-6)
    assert {"config/text_summary", "model_card/text_summary"} <= set(events.Tags()["tensors"])


def test_mlflow_gets_params_metrics_and_the_card(make_run, tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    uri = (tmp_path / "store").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    run_dir = make_run(model_kind="tfidf", report_to="mlflow")
    assert run_job(run_dir) == "succeeded", (run_dir / runs.STATUS).read_text()
    tracking = json.loads((run_dir / "tracking.json").read_text())
    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(tracking["mlflow_run_id"])
    metrics = json.loads((run_dir / runs.METRICS).read_text())
    assert run.info.run_name == run_dir.name and run.data.params["model_kind"] == "tfidf"
    assert run.data.params["report_to"] == "mlflow"
    assert run.data.metrics["final/test/macro_roc_auc"] == pytest.approx(metrics["test"]["macro_roc_auc"])
    assert {a.path for a in client.list_artifacts(run.info.run_id)} == {"README.md", "metrics.json"}


def test_a_missing_tracking_package_is_refused_before_a_run_exists(monkeypatch, isolated_dirs):
    import importlib.util

    from core.jobs import create_run
    from core.paths import SAMPLE_MULTILABEL

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a))
    with pytest.raises(ConfigError, match=r"report_to='mlflow' needs the mlflow-skinny \(or mlflow\) package"):
        create_run(TrainConfig(model_kind="tfidf", data=str(SAMPLE_MULTILABEL), report_to="mlflow"))
    assert not isolated_dirs[0].exists() or not any(isolated_dirs[0].iterdir())  # no run folder left behind
    with pytest.raises(ConfigError, match=r"report_to='wandb' is invalid: use one of \('none', 'tensorboard', "
                                          r"'mlflow'\)"):
        TrainConfig(data=str(SAMPLE_MULTILABEL), report_to="wandb")
