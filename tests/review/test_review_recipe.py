"""The label review's slow ranker (issue 25): cross-fitting a run's own recipe, in the foreground (CLI) and in the
background (the Data page's process, its status file, stop)."""

from __future__ import annotations

import json
import tempfile
import time

import numpy as np
import pytest

from core import review_recipe, runs
from core.cli import main
from core.data import load_dataset
from core.data.prepare import PrepareOptions, SplitOptions, prepare_dataset, save_version
from core.errors import ConfigError, JobError
from core.paths import SAMPLE_MULTILABEL
from core.review.decisions import version_rows
from core.review.label_issues import QUEUE_FILE, find_label_issues, ranked_cells


def noisy_version(name: str = "noisy-v1"):
    """The sample as a version with 12 toxic positives set to 0; returns (folder, flipped row ids)."""
    dataset = load_dataset(str(SAMPLE_MULTILABEL))
    frame = dataset.frame.copy()
    rng = np.random.default_rng(0)
    flipped = rng.choice(np.flatnonzero(frame["toxic"] == 1), 12, replace=False)
    frame["flip"] = False
    frame.loc[flipped, ["toxic", "flip"]] = [0, True]
    prepared = prepare_dataset(dataset.with_frame(frame), PrepareOptions(split=SplitOptions(0.7, 0.15, 0.15, 42)))
    folder = save_version(prepared, name)
    return folder


@pytest.fixture
def no_stray_temp(tmp_path, monkeypatch):
    """Fold runs go to a private temp folder, which must be empty again afterwards."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    yield temp
    assert not any(p.name.startswith("cleanspeech-oof-") for p in temp.iterdir())


def test_a_tfidf_recipe_cross_fits_and_finds_the_flips(make_run, write, no_stray_temp):
    from core.training.job import run_job
    from tests.review.test_label_issues import noisy_sample, separable_frame

    clean = write("separable.csv", separable_frame().to_csv(index=False))
    recipe = make_run(model_kind="tfidf", data=str(clean), run_name="separable")
    assert run_job(recipe) == "succeeded"
    noisy, flipped = noisy_sample(flips=12)
    steps = []
    probs = review_recipe.recipe_out_of_fold_probs(noisy, recipe, folds=3, seed=0,
                                                   progress=lambda f, m: steps.append((f, m)))
    assert probs.shape == (len(noisy.frame), len(noisy.labels)) and np.isfinite(probs).all()
    assert [m for _, m in steps][0].startswith("Fold 1 of 3: training the recipe of ") and steps[-1][0] == 1.0
    # out of fold: a flipped row is scored by a model that never saw its wrong label, so it disagrees with it
    given = noisy.label_matrix()[:, 0]
    rows = np.array(sorted(flipped))
    assert np.median(np.abs(probs[rows, 0] - given[rows])) > 0.5
    issues = find_label_issues(noisy, folds=3, seed=0, probs=probs, ranker="recipe")
    assert issues.ranker == "recipe"
    assert len(set(ranked_cells(issues, "toxic")[:24].tolist()) & flipped) >= 20


def test_the_cli_ranks_a_version_with_a_tiny_bert_recipe_and_writes_its_status(bert_run, capsys, no_stray_temp):
    folder = noisy_version()
    out = folder / QUEUE_FILE
    assert main(["data", "issues", str(folder), "--recipe", bert_run.name, "--folds", "2", "--out", str(out),
                 "--status", "--top", "1"]) == 0
    summary = json.loads(capsys.readouterr().out)
    rows = len(version_rows(folder)[0].frame)
    assert summary["rows"] == rows and summary["ranker"] == f"the recipe of {bert_run.name}"
    queue = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(queue) == summary["rows_with_issues"] and queue[0]["id"].split(":")[0] in ("train", "val", "test")
    status = review_recipe.read_status(folder)
    assert status["state"] == "succeeded" and status["fraction"] == 1.0 and status["message"].startswith("Ranked ")


def test_a_recipe_that_cannot_rank_the_data_is_refused_before_any_training(make_run, tfidf_run, capsys, write):
    folder = noisy_version()
    dataset = version_rows(folder)[0]
    other = write("mc.csv", "text,label\n" + "".join(f"row number {i},{'ab'[i % 2]}\n" for i in range(40)))
    from core.training.job import run_job

    multiclass = make_run(model_kind="tfidf", data=str(other), run_name="mc")
    assert run_job(multiclass) == "succeeded"
    with pytest.raises(ConfigError, match=r"is multiclass with labels \['a', 'b'\]; the data is multilabel"):
        review_recipe.recipe_out_of_fold_probs(dataset, multiclass, folds=2)
    unfinished = make_run(model_kind="tfidf", run_name="unfinished")
    with pytest.raises(ConfigError, match="has no finished model"):
        review_recipe.check_recipe_run(unfinished, dataset)
    # the CLI: one error line; --status needs a version folder
    assert main(["data", "issues", str(folder), "--recipe", multiclass.name, "--folds", "2"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(f"error: run {multiclass.name!r} is multiclass")
    assert main(["data", "issues", str(SAMPLE_MULTILABEL), "--status"]) == 2
    assert "--status writes the ranking's progress into a dataset version folder" in capsys.readouterr().err


def test_a_failing_fold_names_the_fold_and_the_error(tfidf_run, monkeypatch, no_stray_temp):
    import core.training.job as job

    def broken(run_dir, *args, **kwargs):
        runs.write_status(run_dir, "failed", error="out of memory")
        return "failed"

    monkeypatch.setattr(job, "run_job", broken)
    dataset = load_dataset(str(SAMPLE_MULTILABEL))
    with pytest.raises(JobError, match=r"training fold 1 of 2 with the recipe of '.*-tfidf' failed: out of memory"):
        review_recipe.recipe_out_of_fold_probs(dataset, tfidf_run, folds=2)


def test_the_estimate_scales_the_runs_own_training_time(tfidf_run):
    metrics = json.loads((tfidf_run / runs.METRICS).read_text())
    expected = metrics["train_seconds"] * 5 * (1000 * 4 / 5) / metrics["rows"]["train"]
    assert review_recipe.estimate_seconds(tfidf_run, 1000, 5) == pytest.approx(expected)
    (tfidf_run / runs.METRICS).unlink()
    assert review_recipe.estimate_seconds(tfidf_run, 1000, 5) is None


def wait_for(folder, states, seconds=180):
    deadline = time.time() + seconds
    while time.time() < deadline:
        status = review_recipe.read_status(folder)
        if status and status["state"] in states:
            return status
        time.sleep(0.5)
    raise AssertionError(f"status still {review_recipe.read_status(folder)}; log: "
                         f"{(folder / 'ranking.log').read_text()[-2000:]}")


def test_a_background_ranking_finishes_and_a_second_one_is_refused_while_it_runs(tfidf_run):
    folder = noisy_version()
    process = review_recipe.launch_ranking(folder, tfidf_run, folds=2)
    with pytest.raises(JobError, match="is already running"):
        review_recipe.launch_ranking(folder, tfidf_run, folds=2)
    process.wait(timeout=180)
    status = wait_for(folder, ("succeeded", "failed"))
    assert status["state"] == "succeeded", (folder / "ranking.log").read_text()[-2000:]
    assert (folder / QUEUE_FILE).exists() and status["run"] == tfidf_run.name


def test_stopping_a_background_ranking_marks_it_stopped_and_keeps_the_old_queue(tfidf_run):
    folder = noisy_version()
    (folder / QUEUE_FILE).write_text("{}\n")
    process = review_recipe.launch_ranking(folder, tfidf_run, folds=2)
    review_recipe.stop_ranking(folder)
    process.wait(timeout=60)
    assert review_recipe.read_status(folder)["state"] == "stopped"
    assert (folder / QUEUE_FILE).read_text() == "{}\n"
    # a `running` status whose process is gone reads as failed (a killed machine, not a stop)
    review_recipe.write_status(folder, state="running", pid=process.pid)
    assert review_recipe.read_status(folder)["state"] == "failed"


def test_the_cli_restores_the_callers_sigterm_handler(tfidf_run, capsys):
    import signal

    folder = noisy_version()
    before = signal.getsignal(signal.SIGTERM)
    assert main(["data", "issues", str(folder), "--folds", "2", "--status", "--top", "0"]) == 0
    assert signal.getsignal(signal.SIGTERM) is before
    assert review_recipe.read_status(folder)["state"] == "succeeded"
