"""Out-of-fold probabilities from a run's own recipe: the slow, stronger ranker of the label review (issue 25).

The fast ranker (`core.review.label_issues`) cross-fits TF-IDF in seconds. This one cross-fits the recipe of a
trained run: for each of k folds it trains the run's config (its base model, epochs, options) on the other folds in
a throw-away run folder, scores the held-out fold with that model, then deletes the folder. It costs about k
times the run's own training time, so it runs as a background process (`launch_ranking`, the Data page) or in the
foreground (`python -m core data issues VERSION --recipe RUN`); the status file next to the queue tells the page
how far it got.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from core import runs
from core.config import TrainConfig
from core.data.schema import Dataset
from core.errors import ConfigError, DataError, JobError
from core.fileio import read_json, write_json
from core.paths import PROJECT_ROOT
from core.review.label_issues import QUEUE_FILE, check_reviewable, fold_splits

STATUS_FILE = ".ranking.json"  # next to the queue in the version folder: state, fraction, message, pid
Progress = Callable[[float, str], None]


def check_recipe_run(run_dir: str | Path, dataset: Dataset) -> dict:
    """The run's model meta, after checking that its recipe can rank `dataset`.

    Raises:
        ConfigError: the run has no model, or a task or labels other than the data's.
    """
    run_dir = Path(run_dir)
    if not runs.can_score(run_dir):
        raise ConfigError(f"run {run_dir.name!r} has no finished model, so it has no recipe to cross-fit. "
                          "Fix: pick a succeeded run, or rank with TF-IDF.")
    meta = runs.read_model_meta(run_dir)
    if meta["task"] != dataset.kind or list(meta["labels"]) != list(dataset.labels):
        raise ConfigError(f"run {run_dir.name!r} is {meta['task']} with labels {meta['labels']}; the data is "
                          f"{dataset.kind} with labels {dataset.labels}. Fix: pick a run trained on data like "
                          "this, or rank with TF-IDF.")
    return meta


def estimate_seconds(run_dir: str | Path, rows: int, folds: int) -> float | None:
    """About how long cross-fitting the run's recipe on `rows` rows takes: k trainings on (k-1)/k of the rows,
    each timed from the run's own training speed; None when the run recorded no training time."""
    metrics = read_json(Path(run_dir) / runs.METRICS, default={}) or {}
    seconds, trained = metrics.get("train_seconds"), (metrics.get("rows") or {}).get("train")
    if not seconds or not trained:
        return None
    return float(seconds) * folds * (rows * (folds - 1) / folds) / float(trained)


def _fold_frame(dataset: Dataset, rows: np.ndarray):
    """The rows as a file the loader reads back the same: text plus 0/1 label columns, or the class name."""
    frame = dataset.frame.iloc[rows]
    if dataset.kind == "multiclass":
        return frame[["text"]].assign(label=[dataset.labels[int(i)] for i in frame["label"]])
    return frame[["text", *dataset.labels]]


def recipe_out_of_fold_probs(dataset: Dataset, run_dir: str | Path, folds: int = 5, seed: int = 42,
                             progress: Progress | None = None, work_root: Path | None = None) -> np.ndarray:
    """(rows, labels) probabilities of every row from the run's recipe trained on the other folds.

    Raises:
        ConfigError: the run cannot rank this data (see `check_recipe_run`).
        JobError: a fold's training failed (its error is quoted).
    """
    from core import jobs
    from core.scoring.scorer import Scorer
    from core.training.job import run_job

    progress = progress or (lambda fraction, message: None)
    check_reviewable(dataset, folds)
    check_recipe_run(run_dir, dataset)
    base = TrainConfig.from_json(Path(run_dir) / runs.CONFIG)
    given = dataset.label_matrix()
    texts = dataset.frame["text"].astype(str).tolist()
    probs = np.zeros((len(texts), len(dataset.labels)))
    with tempfile.TemporaryDirectory(prefix="cleanspeech-oof-", dir=work_root) as tmp:
        for number, (fit_rows, held_rows) in enumerate(fold_splits(given, dataset.kind, folds, seed)):
            progress(number / folds, f"Fold {number + 1} of {folds}: training the recipe of {Path(run_dir).name} "
                                     f"on {len(fit_rows):,} rows")
            path = Path(tmp) / f"fold{number + 1}.csv"
            _fold_frame(dataset, fit_rows).to_csv(path, index=False)
            config = dataclasses.replace(
                base, data=str(path), train_file=None, val_file=None, test_file=None, val_fraction=0.1,
                test_fraction=0.0, clean=False, text_col="text",
                label_cols=list(dataset.labels) if dataset.kind == "multilabel" else None,
                label_col="label" if dataset.kind == "multiclass" else None, run_name=f"fold{number + 1}",
                report_to="none", num_processes=1, oversample=base.oversample)
            fold_run = jobs.create_run(config, detach=False, root=Path(tmp) / "runs")
            if run_job(fold_run) != "succeeded":
                error = runs.read_status(fold_run).get("error") or "see its train.log"
                raise JobError(f"training fold {number + 1} of {folds} with the recipe of {Path(run_dir).name!r} "
                               f"failed: {error}. Fix: check that the run still trains (Train page), or rank "
                               "with TF-IDF.")
            scorer = Scorer.from_run(fold_run, backend="exact")
            probs[held_rows] = scorer.predict_proba([texts[i] for i in held_rows])
    progress(1.0, "Cross-fitting done")
    return probs


def read_status(folder: str | Path) -> dict | None:
    """The background ranking's status in a version folder (state running | succeeded | failed | stopped,
    fraction, message, error), or None when none ever ran. A `running` status whose process is gone reads as
    failed."""
    status = read_json(Path(folder) / STATUS_FILE, default=None)
    if not status:
        return None
    if status.get("state") == "running" and not runs.pid_alive(status.get("pid")):
        status = {**status, "state": "failed", "error": status.get("error") or "the ranking process ended early"}
    return status


def write_status(folder: str | Path, **fields) -> None:
    """Merge `fields` into the version's ranking status (atomic)."""
    path = Path(folder) / STATUS_FILE
    write_json(path, {**(read_json(path, default={}) or {}), **fields, "time": time.time()})


def launch_ranking(folder: str | Path, run_dir: str | Path, folds: int, seed: int = 42) -> subprocess.Popen:
    """Rank a version with a run's recipe in a background process (`python -m core data issues FOLDER --recipe
    RUN --out FOLDER/label_issues.jsonl --status`); its output goes to FOLDER/ranking.log.

    Raises:
        JobError: a ranking of this version is already running.
    """
    folder = Path(folder).resolve()
    status = read_status(folder)
    if status and status.get("state") == "running":
        raise JobError(f"a ranking of {folder.name!r} is already running (pid {status.get('pid')}). "
                       "Fix: wait for it, or stop it.")
    command = [sys.executable, "-m", "core", "data", "issues", str(folder), "--recipe", str(Path(run_dir).resolve()),
               "--folds", str(folds), "--seed", str(seed), "--out", str(folder / QUEUE_FILE), "--status"]
    write_status(folder, state="running", fraction=0.0, message="Starting", error=None, pid=None,
                 run=Path(run_dir).name, folds=folds, started_at=time.time())
    with open(folder / "ranking.log", "ab") as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"})
    write_status(folder, pid=process.pid)
    return process


def stop_ranking(folder: str | Path) -> None:
    """Stop a background ranking (its whole process group) and mark it stopped; the old queue stays."""
    status = read_status(folder)
    if status and status.get("state") == "running" and status.get("pid"):
        try:
            os.killpg(int(status["pid"]), signal.SIGTERM)
        except ProcessLookupError:
            pass
    write_status(folder, state="stopped", message="Stopped")
