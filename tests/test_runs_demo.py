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


def test_the_demo_model_on_the_bundled_sample_shows_a_trade_off_and_explains_with_the_abusive_words(isolated_dirs):
    """Issue 26, item 3: the sample behaves like moderation data, so its demo model is good but not perfect (the
    threshold sliders show a trade-off) and its explanations point at the insults, not at "You are"."""
    from core.explain import explain
    from core.scoring.scorer import Scorer

    info = runs.read_run(demo.ensure_demo_model(timeout=90))
    for split in ("val", "test"):
        assert 0.85 <= info.metrics[split]["macro_roc_auc"] <= 0.97, (split, info.metrics[split]["macro_roc_auc"])
    assert info.metrics["test"]["macro_f1"] < 0.95
    scorer = Scorer.from_run(info.path)
    attribution = explain(scorer, "You are a stupid idiot.", "linear", label="insult")
    top = sorted(zip(attribution.words, attribution.word_scores), key=lambda pair: -pair[1])[:2]
    assert {word.strip(".").lower() for word, _ in top} == {"stupid", "idiot"}, top
    # a friendly sentence in the same frame, and a non-toxic identity mention, are not flagged as insults
    friendly, identity = scorer.score(["You are a careful editor, thanks for the fix.", "I am a gay man"])
    assert "insult" not in friendly.flagged and "insult" not in identity.flagged
