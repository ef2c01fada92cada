"""UI-side control of training jobs: launch, stop, queue, liveness. Imports no torch.

A job is `python -m core.training.job RUN_DIR` (under `torchrun` for several processes) started in its
own session, so it survives browser refreshes and app restarts. One accelerator runs one job: a job
waits (`queued`) on a file lock for its device before it trains.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from core import runs
from core.config import TrainConfig
from core.devices import accelerator_count
from core.errors import JobError
from core.models.catalog import resolve_model
from core.paths import PROJECT_ROOT
from core.training.data import check_training_data
from core.training.tracking import check_reporter


def check_processes(requested: int | None) -> int:
    """How many training processes to start: `requested`, or one per visible GPU (1 on CPU).

    Raises:
        JobError: more processes than visible GPUs on a GPU machine (DDP gives each process its own GPU; two on
            one GPU fail inside NCCL with "invalid usage").
    """
    gpus = accelerator_count()
    if requested is None:
        return max(1, gpus)
    if gpus and requested > gpus:
        raise JobError(f"num_processes={requested}, but this machine shows {gpus} GPU(s), and data-parallel "
                       "training runs one process per GPU. Fix: set num_processes to at most "
                       f"{gpus} (or leave it empty for one per GPU), or hide the GPUs (CUDA_VISIBLE_DEVICES=) "
                       "to train with CPU processes.")
    return requested


def job_command(run_dir: Path, resume: bool, processes: int) -> list[str]:
    """The command line that runs a job (torchrun for more than one process)."""
    tail = ["-m", "core.training.job", str(run_dir)] + (["--resume"] if resume else [])
    if processes > 1:
        return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}", *tail]
    return [sys.executable, *tail]


_PATH_KEYS = ("data", "train_file", "val_file", "test_file")


def resolve_paths(config: TrainConfig, base: Path | None = None) -> TrainConfig:
    """A copy of `config` whose data paths (and a local base-model folder) are absolute, resolved against `base`
    (default: the working folder), so a job started elsewhere (the project folder) reads the same files."""
    base = Path(base) if base is not None else Path.cwd()
    values = config.to_dict()
    for key in _PATH_KEYS:
        if values.get(key):
            values[key] = str((base / Path(values[key]).expanduser()).resolve())
    local = base / Path(values["base_model"]).expanduser()
    if values.get("model_kind") != "tfidf" and local.is_dir():
        values["base_model"] = str(local.resolve())
    return TrainConfig.from_dict(values)


def create_run(config: TrainConfig, detach: bool = True, root: Path | None = None) -> Path:
    """Check a config completely, then create its run folder with `config.json` (the Train page and CLI).

    Everything that can fail before training is checked first, so a bad input never leaves a run folder
    behind: the base model can be loaded, the data reads and fits the task, and (for a background job) the
    processes fit the GPUs. Paths are made absolute.

    Raises:
        ModelNotAvailable / DataError / ConfigError / JobError: what is wrong, and how to fix it.
    """
    config = resolve_paths(config)
    check_reporter(config.report_to)
    if config.model_kind != "tfidf":
        resolve_model(config.base_model)
    check_training_data(config)
    if detach:
        check_processes(config.num_processes)
    name = config.run_name or f"{config.model_kind}-{Path(config.data or config.train_file or 'data').stem}"
    run_dir = runs.new_run_dir(name, root)
    config.to_json(run_dir / runs.CONFIG)
    return run_dir


def launch(run_dir: str | Path, resume: bool = False) -> subprocess.Popen:
    """Start the job for RUN_DIR in the background (new session, output to train.log).

    Raises:
        JobError: the run is already active, or has no config.json.
    """
    run_dir = Path(run_dir).resolve()
    config = TrainConfig.from_json(run_dir / runs.CONFIG)
    status = runs.read_status(run_dir)
    if status.get("state") in runs.ACTIVE_STATES:
        raise JobError(f"run {run_dir.name!r} is already {status['state']}. Fix: stop it first, or wait.")
    processes = check_processes(config.num_processes)
    runs.write_status(run_dir, "queued", pid=None, queued_at=time.time(), error=None, processes=processes)
    log = open(run_dir / runs.LOG, "ab")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"}
    try:
        process = subprocess.Popen(job_command(run_dir, resume, processes), cwd=PROJECT_ROOT, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                   env=env)
    finally:
        log.close()
    return process


def stop(run_dir: str | Path) -> None:
    """Ask a job to stop: it saves a checkpoint and ends as `stopped`."""
    run_dir = Path(run_dir)
    (run_dir / runs.STOP).write_text(time.strftime("%Y-%m-%dT%H:%M:%S"))


def queue_position(run_dir: str | Path) -> int:
    """0 when running; k when k active runs were queued before this one."""
    run_dir = Path(run_dir)
    status = runs.read_status(run_dir)
    if status.get("state") != "queued":
        return 0
    mine = status.get("queued_at", 0)
    ahead = [r for r in runs.list_runs(run_dir.parent) if r.path != run_dir and r.state in runs.ACTIVE_STATES
             and (r.state == "running" or r.status.get("queued_at", 0) < mine)]
    return len(ahead)
