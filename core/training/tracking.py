"""Experiment tracking (`report_to`): a run's training curves and final figures in TensorBoard or MLflow.

- `tensorboard`: event files in the run's `tensorboard/` folder (`tensorboard --logdir models/`); scalars
  `train/<name>` and `eval/<name>` per step, `final/<split>/<metric>` at the end, the config and the model card as
  text.
- `mlflow`: one MLflow run per training run, in `MLFLOW_TRACKING_URI` when set, else a file store `mlruns/` beside
  the models folder; the config as params, the same metrics, the model card and metrics.json as artifacts. The MLflow
  run id is kept in the run folder (`tracking.json`), so a resumed run continues the same MLflow run.

Neither package is needed unless chosen: `check_reporter` names the missing one before a run starts. Every event
that `progress.jsonl` gets also goes to the tracker (`core.training.callbacks.ProgressCallback`), and the job
calls `log_final` once the run has its metrics.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from core import runs
from core.config import TrainConfig
from core.errors import ConfigError
from core.fileio import read_json, write_json
from core.paths import models_dir

TRACKING_FILE = "tracking.json"
TENSORBOARD_DIR = "tensorboard"
_PACKAGES = {"tensorboard": "tensorboard", "mlflow": "mlflow"}  # report_to -> the module it needs


def check_reporter(report_to: str) -> None:
    """Raise ConfigError naming the package when `report_to` needs one that is not installed."""
    module = _PACKAGES.get(report_to)
    if module is None:
        return
    import importlib.util

    if importlib.util.find_spec(module) is None:
        package = "mlflow-skinny (or mlflow)" if module == "mlflow" else module
        raise ConfigError(f"report_to={report_to!r} needs the {package} package, which is not installed. "
                          f"Fix: pip install {package.split()[0]} (it is in requirements-dev.txt), or use "
                          "report_to 'none'.")


def _numbers(values: dict, prefix: str) -> dict[str, float]:
    return {f"{prefix}{key}": float(value) for key, value in values.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value}


class TensorBoardTracker:
    """Scalars and texts into the run's tensorboard/ folder."""

    def __init__(self, run_dir: Path, config: TrainConfig):
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(Path(run_dir) / TENSORBOARD_DIR))
        self.config = config

    def start(self) -> None:
        self.writer.add_text("config", "```\n" + json.dumps(self.config.to_dict(), indent=1) + "\n```")

    def log(self, step: int, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.writer.add_scalar(name, value, step)
        self.writer.flush()

    def finish(self, step: int, values: dict[str, float], run_dir: Path) -> None:
        self.log(step, values)
        card = Path(run_dir) / runs.CARD
        if card.exists():
            self.writer.add_text("model_card", card.read_text(encoding="utf-8"))
        self.close()

    def close(self) -> None:
        self.writer.close()


def mlflow_uri() -> str:
    """Where MLflow runs go: MLFLOW_TRACKING_URI, else a file store `mlruns/` beside the models folder."""
    return os.environ.get("MLFLOW_TRACKING_URI") or (models_dir().resolve().parent / "mlruns").as_uri()


class MlflowTracker:
    """One MLflow run per training run (resumed by the id kept in tracking.json)."""

    def __init__(self, run_dir: Path, config: TrainConfig):
        import mlflow

        self.mlflow, self.run_dir, self.config = mlflow, Path(run_dir), config
        uri = mlflow_uri()
        if uri.startswith("file:"):
            # MLflow 3 keeps its file store ("maintenance mode") behind this switch; a database store needs
            # SQLAlchemy and Alembic, which mlflow-skinny leaves out. Users who want one set MLFLOW_TRACKING_URI.
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        mlflow.set_tracking_uri(uri)
        mlflow.set_experiment("cleanspeech")
        saved = read_json(self.run_dir / TRACKING_FILE, {}) or {}
        if saved.get("mlflow_run_id"):
            self.run = mlflow.start_run(run_id=saved["mlflow_run_id"])
        else:
            self.run = mlflow.start_run(run_name=self.run_dir.name)
            write_json(self.run_dir / TRACKING_FILE, {"mlflow_run_id": self.run.info.run_id,
                                                      "tracking_uri": mlflow_uri()})

    def start(self) -> None:
        params = {key: str(value)[:500] for key, value in self.config.to_dict().items() if value not in (None, {}, [])}
        existing = self.mlflow.get_run(self.run.info.run_id).data.params
        self.mlflow.log_params({k: v for k, v in params.items() if k not in existing})  # params are write-once

    def log(self, step: int, values: dict[str, float]) -> None:
        if values:
            self.mlflow.log_metrics({name.replace("@", "_at_"): value for name, value in values.items()}, step=step)

    def finish(self, step: int, values: dict[str, float], run_dir: Path) -> None:
        self.log(step, values)
        for name in (runs.CARD, runs.METRICS):
            if (Path(run_dir) / name).exists():
                self.mlflow.log_artifact(str(Path(run_dir) / name))
        self.close()

    def close(self) -> None:
        self.mlflow.end_run()


def open_tracker(run_dir: str | Path, config: TrainConfig, start: bool = True):
    """The tracker `config.report_to` names (`start`: record the config first); None for `none`.

    Raises:
        ConfigError: the package it needs is missing.
    """
    if config.report_to == "none":
        return None
    check_reporter(config.report_to)
    tracker = (TensorBoardTracker if config.report_to == "tensorboard" else MlflowTracker)(Path(run_dir), config)
    if start:
        tracker.start()
    return tracker


def event_values(record: dict) -> dict[str, float]:
    """The numbers of a progress.jsonl event, named `train/...` (log events) or `eval/...` (evaluations)."""
    kind = record.get("event")
    if kind not in ("log", "eval"):
        return {}
    skip = {"time", "step", "epoch", "max_steps", "event"}
    return _numbers({k: v for k, v in record.items() if k not in skip}, "train/" if kind == "log" else "eval/")


def final_values(metrics: dict) -> dict[str, float]:
    """`final/<split>/<metric>` and `final/<split>/<label>/<metric>` from metrics.json (val, test)."""
    found = {}
    for split in ("val", "test"):
        part = metrics.get(split) or {}
        found.update(_numbers(part, f"final/{split}/"))
        for label, values in (part.get("per_label") or {}).items():
            found.update(_numbers(values, f"final/{split}/{label}/"))
    return found


def log_final(run_dir: str | Path, config: TrainConfig, state: str) -> None:
    """At the end of a job: the final metrics (succeeded runs), the model card and metrics.json, then close."""
    # a tfidf run has no Trainer, so no ProgressCallback opened the tracker (and recorded the config) before
    tracker = open_tracker(run_dir, config, start=config.model_kind == "tfidf")
    if tracker is None:
        return
    metrics = read_json(Path(run_dir) / runs.METRICS, {}) or {}
    step = int(metrics.get("global_step") or 0)
    tracker.finish(step, final_values(metrics) if state == "succeeded" else {}, Path(run_dir))
