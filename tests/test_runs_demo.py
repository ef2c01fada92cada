"""Run listing, summaries, deletion (only inside the models folder, never an active run) and the demo model."""

import pytest

from core import demo, runs
from core.errors import ConfigError, JobError


def test_summary_has_headline_metrics(tfidf_run):
    row = runs.summary(runs.read_run(tfidf_run))
    assert row["state"] == "succeeded" and row["kind"] == "tfidf" and row["base model"] == ""
    assert 0.5 < row["test macro ROC-AUC"] <= 1 and row["duration s"] >= 0


def test_delete_run_refuses_active_runs_and_paths_outside(tfidf_run, make_run, tmp_path):
    active = make_run()
    runs.write_status(active, "running", pid=__import__("os").getpid())
    with pytest.raises(JobError, match="is still running. Fix: stop it first"):
        runs.delete_run(active)
    outside = tmp_path / "elsewhere"
    (outside).mkdir()
    (outside / runs.CONFIG).write_text("{}")
    with pytest.raises(ConfigError, match="outside"):
        runs.delete_run(outside)
    with pytest.raises(ConfigError, match="outside"):
        runs.delete_run("../elsewhere")
    with pytest.raises(ConfigError, match="is not a run folder"):
        runs.delete_run(".")
    runs.delete_run(tfidf_run.name)
    assert not tfidf_run.exists() and active.exists()


def test_first_launch_trains_a_tfidf_demo_model(isolated_dirs):
    assert demo.usable_runs() == []
    run_dir = demo.ensure_demo_model(timeout=90)
    info = runs.read_run(run_dir)
    assert info.state == "succeeded" and demo.is_demo(info) and runs.has_model(run_dir)
    assert demo.ensure_demo_model() == run_dir  # a second call reuses it
    assert len(runs.list_runs()) == 1


def test_users_own_runs_come_before_demo_runs(tfidf_run, isolated_dirs):
    from core.training.job import run_job

    demo_dir = runs.new_run_dir("demo-tfidf")
    demo.demo_config("tfidf").to_json(demo_dir / runs.CONFIG)
    assert run_job(demo_dir) == "succeeded"
    assert [r.path for r in demo.usable_runs()] == [tfidf_run, demo_dir]
