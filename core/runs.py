"""The run-directory contract between the UI process and training processes.

A run folder `models/<YYYYmmdd-HHMMSS>-<slug>/` describes itself (see ../shared/DESIGN.md §3);
this module owns the file names and the reading/writing of the small JSON files. It imports no torch.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from core.config import NORMALIZATIONS
from core.errors import ConfigError, JobError, ModelNotAvailable
from core.fileio import read_json, read_jsonl, write_json
from core.paths import models_dir, resolve_inside, slugify

CONFIG = "config.json"
STATUS = "status.json"
PROGRESS = "progress.jsonl"
HEARTBEAT = "heartbeat.json"  # the current step, rewritten about once a second between logging steps
LOG = "train.log"
CHECKPOINTS = "checkpoints"
MODEL = "model"
METRICS = "metrics.json"
THRESHOLDS = "thresholds.json"
DECISION = "decision.json"  # multiclass runs: per-class offsets of the decision rule, fitted on validation
CALIBRATION = "calibration.json"  # score calibration maps fitted on validation (core.evaluation.calibration)
AUDIT = "audit"  # the trust audit: templates.json (the job's template audit) and report.json (`python -m core audit`)
AUDIT_TEMPLATES = "templates.json"
AUDIT_REPORT = "report.json"
CARD = "README.md"
STOP = "STOP"
PREDICTIONS = "predictions"  # val/test predictions of the saved model (parquet), for evaluation
ENSEMBLE = "ensemble.json"  # `ensemble: tfidf` runs: the TF-IDF partner's blend weight (core.models.blend)
PARTNER = "partner"  # ... and the partner model itself (TF-IDF, safetensors + JSON)
INFERENCE = "inference.json"  # the run's chosen scoring backend (auto | exact | onnx | int8 | bf16)
MODEL_META = "cleanspeech.json"  # inside model/: model kind, task, labels, max length

STATES = ("queued", "running", "succeeded", "failed", "stopped")  # and `broken`: damaged files (see read_run)
ACTIVE_STATES = ("queued", "running")


@dataclass
class ModelMeta:
    """`model/cleanspeech.json`: what a saved model is, for every loader (scoring, explanation, evaluation).

    Attributes:
        model_kind: classifier | tfidf | sbert.
        task: multilabel | multiclass (an SBERT run without a head: its data kind).
        labels: label or class names, in the model's output order.
        max_length: the token limit it was trained with (0 for TF-IDF).
        pooling: classifier head (`cls` | `mean`).
        prediction_precision: the arithmetic of the saved predictions (`fp32`, `bf16`, `fp16`), for the check
            on load.
        loss, head: SBERT runs: the loss, and whether a classification head was fitted.
        normalize: the text normalisation the model was trained with, which scoring applies too
            (`core.data.normalize`; absent = `none`).
    """

    model_kind: str
    task: str
    labels: list[str]
    max_length: int
    pooling: str | None = None
    prediction_precision: str | None = None
    loss: str | None = None
    head: bool | None = None
    normalize: str | None = None


def write_model_meta(run_dir: Path, meta: ModelMeta) -> None:
    """Write `model/cleanspeech.json` (atomic), leaving out the fields that do not apply."""
    write_json(Path(run_dir) / MODEL / MODEL_META, {k: v for k, v in asdict(meta).items() if v is not None})


def last_checkpoint(run_dir: Path) -> Path | None:
    """The newest `checkpoints/checkpoint-N` folder, if any."""
    folders = [p for p in (Path(run_dir) / CHECKPOINTS).glob("checkpoint-*") if p.name.split("-")[-1].isdigit()]
    return max(folders, key=lambda p: int(p.name.split("-")[-1])) if folders else None


@dataclass
class RunInfo:
    """A summary of one run folder, as listed by the UI."""

    name: str
    path: Path
    state: str
    config: dict
    status: dict
    metrics: dict

    @property
    def model_kind(self) -> str:
        return self.config.get("model_kind", "?")

    @property
    def base_model(self) -> str:
        return self.config.get("base_model", "")


def new_run_dir(name: str, root: Path | None = None) -> Path:
    """Create and return a fresh run folder `<root>/<YYYYmmdd-HHMMSS>-<slug>`."""
    root = Path(root) if root is not None else models_dir()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}-{slugify(name)}"
    path, counter = root / base, 1
    while path.exists():  # two runs in the same second
        counter += 1
        path = root / f"{base}-{counter}"
    path.mkdir(parents=True)
    return path


def run_path(name: str | os.PathLike, root: Path | None = None) -> Path:
    """Resolve a run name, or a path (absolute or from the working folder), inside the models folder.

    Raises:
        ConfigError: the path escapes the models folder.
        ModelNotAvailable: no such run.
    """
    root = Path(root) if root is not None else models_dir()
    typed = Path(name).expanduser()
    if not typed.is_absolute() and typed.resolve().is_dir() and root.resolve() in typed.resolve().parents:
        name = typed.resolve()  # a path typed from the working folder (`models/NAME`) that lies inside the root
    path = resolve_inside(root, name)
    if not path.is_dir():
        raise ModelNotAvailable(f"No run {str(name)!r} in {root}. Fix: pick a run listed by the Runs page "
                                "or `python -m core runs`.")
    return path


def write_status(run_dir: Path, state: str, **fields) -> dict:
    """Merge `fields` into status.json with the new `state` (atomic write) and return it."""
    status = read_json(Path(run_dir) / STATUS, {}) or {}
    status.update(fields, state=state, updated_at=time.time())
    write_json(Path(run_dir) / STATUS, status)
    return status


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this pid exists (a zombie counts as dead)."""
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    try:  # a finished child that nobody reaped yet is a zombie: dead for our purpose
        with open(f"/proc/{int(pid)}/stat") as handle:
            return handle.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


def read_status(run_dir: Path) -> dict:
    """status.json, with a run whose process died without saying so reported as failed.

    A status file that is not a JSON object (a list, null) reads as `broken`, with the reason in `error`.
    """
    status = read_json(Path(run_dir) / STATUS, {})
    if status is None:
        status = {}
    if not isinstance(status, dict):
        return {"state": "broken", "error": f"{STATUS} holds {type(status).__name__}, not a JSON object"}
    if status.get("state") in ACTIVE_STATES and status.get("pid") and not pid_alive(status.get("pid")):
        status = {**status, "state": "failed",
                  "error": status.get("error") or f"the training process (pid {status.get('pid')}) died without "
                                                  "finishing (killed, or out of memory); see train.log"}
    return status


def read_progress(run_dir: Path) -> list[dict]:
    """Every event of progress.jsonl so far."""
    return read_jsonl(Path(run_dir) / PROGRESS)


def read_heartbeat(run_dir: Path) -> dict | None:
    """The training's latest step ({step, max_steps, time}), written between the logged steps; None if absent or
    unreadable (a heartbeat is a hint, never an error)."""
    found = read_json(Path(run_dir) / HEARTBEAT, default=None)
    if not isinstance(found, dict) or not isinstance(found.get("step"), int) or not found.get("max_steps"):
        return None
    return found


def read_run(run_dir: Path, root: Path | None = None) -> RunInfo:
    """Summarise one run folder; a damaged one is `broken`, with the reason in `status["error"]`.

    Broken: a link that leads outside the models folder (`root`, default: the folder the run sits in), or a
    config/status/metrics file that is not a JSON object. Such a run is listed (so the user sees it and can
    delete it) but never loaded.
    """
    run_dir = Path(run_dir)
    root = Path(root) if root is not None else run_dir.parent
    status = read_status(run_dir)
    config = read_json(run_dir / CONFIG, {})
    metrics = read_json(run_dir / METRICS, {}) or {}
    problems = [f"{name} holds {type(value).__name__}, not a JSON object"
                for name, value in ((CONFIG, config), (METRICS, metrics)) if not isinstance(value, dict)]
    if root.resolve() not in run_dir.resolve().parents:
        problems.append(f"the folder links to {run_dir.resolve()}, outside the models folder {root.resolve()}")
    if problems or status.get("state") == "broken":
        reasons = problems + ([status["error"]] if status.get("state") == "broken" else [])
        status = {"state": "broken", "error": "; ".join(reasons) + ". Fix: delete the run, or repair its files."}
    return RunInfo(run_dir.name, run_dir, status.get("state", "unknown"),
                   config if isinstance(config, dict) else {}, status, metrics if isinstance(metrics, dict) else {})


def read_model_meta(run_dir: Path) -> dict:
    """model/cleanspeech.json: what the saved model is (kind, task, labels, max_length).

    Raises:
        ModelNotAvailable: the run has no saved model yet (still training, failed or stopped).
    """
    run_dir = Path(run_dir)
    path = run_dir / MODEL / MODEL_META
    if not path.exists():
        raise ModelNotAvailable(f"Run {run_dir.name!r} has no saved model (state: "
                                f"{read_status(run_dir).get('state', 'unknown')}). "
                                "Fix: pick a succeeded run, or wait for this one to finish.")
    meta = read_json(path)
    problem = _meta_problem(meta)
    if problem:
        raise ModelNotAvailable(f"Run {run_dir.name!r}: {path} is damaged ({problem}). "
                                "Fix: retrain the run (`python -m core train --config RUN/config.json`).")
    return meta


def _meta_problem(meta) -> str | None:
    """What is wrong with a model metadata object, or None."""
    if not isinstance(meta, dict):
        return f"expected a JSON object, found {type(meta).__name__ if meta is not None else 'unreadable JSON'}"
    if meta.get("model_kind") not in ("classifier", "tfidf", "sbert"):
        return f"model_kind {meta.get('model_kind')!r} is not classifier, tfidf or sbert"
    scores = meta.get("head", True) is not False  # an SBERT run without a head has no task or labels to check
    if scores and meta.get("task") not in ("multilabel", "multiclass"):
        return f"task {meta.get('task')!r} is not multilabel or multiclass"
    labels = meta.get("labels")
    if scores and (not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x for x in labels)):
        return f"labels {labels!r} are not a non-empty list of names"
    if not isinstance(meta.get("max_length"), int) or isinstance(meta.get("max_length"), bool):
        return f"max_length {meta.get('max_length')!r} is not a whole number"
    if meta.get("normalize", "none") not in NORMALIZATIONS:
        return f"normalize {meta.get('normalize')!r} is not one of {NORMALIZATIONS}"
    return None


def read_thresholds(run_dir: Path, labels: list[str]) -> dict[str, float]:
    """The saved per-label thresholds; 0.5 for every label when the run has no `thresholds.json`.

    Raises:
        ModelNotAvailable: the file exists but is not JSON, lacks a label, or holds a value that is not a
            number in [0, 1] (NaN, -3, "0.4", null): a silent fallback would flag everything or nothing.
    """
    path = Path(run_dir) / THRESHOLDS
    if not path.exists():
        return {label: 0.5 for label in labels}
    fix = f"Fix: save thresholds again on the Evaluate page, or delete {path.name} to use 0.5 for every label."
    saved = _per_label_object(path, "thresholds", fix)
    for label in labels:
        value = saved.get(label)
        if not _is_number(value) or not 0.0 <= value <= 1.0:
            raise ModelNotAvailable(f"{path}: the threshold of {label!r} is {value!r}, not a number in [0, 1]. {fix}")
    return {label: float(saved[label]) for label in labels}


def _per_label_object(path: Path, key: str, fix: str) -> dict:
    """The `key` object of a run's JSON file (thresholds.json, decision.json); a damaged file is refused."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ModelNotAvailable(f"{path} cannot be read ({str(error)[:120]}). {fix}") from None
    found = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(found, dict):
        raise ModelNotAvailable(f"{path} has no \"{key}\" object (found {str(payload)[:80]!r}). {fix}")
    return found


def _is_number(value) -> bool:
    """A finite int or float (JSON's NaN, a bool, a string or null are not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_decision(run_dir: Path, labels: list[str]) -> list[float] | None:
    """A multiclass run's decision-rule offsets in label order; None when the run has no `decision.json`
    (then decisions are the top class).

    Raises:
        ModelNotAvailable: the file exists but is not JSON, or lacks a finite offset for a class.
    """
    path = Path(run_dir) / DECISION
    if not path.exists():
        return None
    fix = f"Fix: delete {path.name} to decide by the top class, or retrain the run."
    offsets = _per_label_object(path, "offsets", fix)
    for label in labels:
        if not _is_number(offsets.get(label)):
            raise ModelNotAvailable(f"{path}: the offset of {label!r} is {offsets.get(label)!r}, not a finite "
                                    f"number. {fix}")
    return [float(offsets[label]) for label in labels]


def _labelled_payload(path: Path, labels: list[str], fix: str) -> dict:
    """A run file's JSON object, refused (ModelNotAvailable, with `fix`) when unreadable or for other labels."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ModelNotAvailable(f"{path} cannot be read ({str(error)[:120]}). {fix}") from None
    if not isinstance(payload, dict) or payload.get("labels") != list(labels):
        found = payload.get("labels") if isinstance(payload, dict) else payload
        raise ModelNotAvailable(f"{path} is for labels {str(found)[:80]}, the model has {labels}. {fix}")
    return payload


def read_calibration(run_dir: Path, labels: list[str]) -> dict | None:
    """The run's `calibration.json` (None when it has none: scores are reported raw).

    Raises:
        ModelNotAvailable: the file exists but is unreadable, is for other labels, or holds a parameter that is
            not a finite number (a silent fallback would change every reported score).
    """
    path = Path(run_dir) / CALIBRATION
    if not path.exists():
        return None
    fix = f"Fix: delete {path.name} to report raw scores, or recalibrate with `python -m core audit --run RUN`."
    payload = _labelled_payload(path, labels, fix)
    _check_calibration(payload, labels, path, fix)
    validation = payload.get("validation")  # the validation maps a `calibrate --data` refit replaced
    if validation is not None:
        if not isinstance(validation, dict) or validation.get("labels") != list(labels):
            raise ModelNotAvailable(f"{path} is damaged: its saved validation calibration is not for {labels}. {fix}")
        _check_calibration(validation, labels, path, fix)
    return payload


def _check_calibration(payload: dict, labels: list[str], path: Path, fix: str) -> None:
    if payload.get("task") == "multiclass":
        params = payload.get("classes")
        values = [params.get("a")] + list(params.get("b") or []) if isinstance(params, dict) else [None]
        ok = isinstance(params, dict) and len(params.get("b") or []) == len(labels)
    else:
        per_label = payload.get("per_label")
        ok = isinstance(per_label, dict) and all(isinstance(per_label.get(label), dict) for label in labels)
        values = [v for label in labels for key in ("a", "b", "x", "y") if ok
                  for v in (per_label[label].get(key, []) if key in ("x", "y") else [per_label[label].get(key, 0)])]
        ok = ok and all(("a" in per_label[lb]) != ("x" in per_label[lb]) for lb in labels)
    if not ok or not all(_is_number(v) for v in values):
        raise ModelNotAvailable(f"{path} is damaged: its parameters are missing or not finite numbers. {fix}")
    shares = payload.get("prevalence")  # set by `python -m core calibrate --prevalence`
    if shares is not None and not (isinstance(shares, dict) and set(shares) <= set(labels)
                                   and all(_is_number(v) and 0 < v < 1 for v in shares.values())):
        raise ModelNotAvailable(f"{path} is damaged: its prevalence {str(shares)[:80]} is not label shares in (0, 1). "
                                f"{fix}")


def read_ensemble(run_dir: Path, labels: list[str]) -> dict | None:
    """The run's `ensemble.json` ({"partner": "tfidf", "weight": w, ...}); None when the run scores alone.

    Raises:
        ModelNotAvailable: the file exists but is unreadable, is for other labels, has a weight outside (0, 1), or
            its partner model folder is missing (scores without the partner would silently differ).
    """
    path = Path(run_dir) / ENSEMBLE
    if not path.exists():
        return None
    fix = "Fix: retrain the run (`python -m core train --config RUN/config.json`)."
    payload = _labelled_payload(path, labels, fix)
    weight = payload.get("weight")
    if payload.get("partner") != "tfidf" or not _is_number(weight) or not 0 < weight < 1:
        raise ModelNotAvailable(f"{path} is damaged: partner {payload.get('partner')!r}, weight {weight!r} (a TF-IDF "
                                f"partner with a weight in (0, 1) expected). {fix}")
    if not (Path(run_dir) / PARTNER).is_dir():
        raise ModelNotAvailable(f"{path} names a TF-IDF partner but {Path(run_dir) / PARTNER} is missing. {fix}")
    return payload


def save_ensemble(run_dir: Path, payload: dict) -> None:
    """Write a run's `ensemble.json` (atomic), after its partner model is saved; the Scorer blends with it."""
    write_json(Path(run_dir) / ENSEMBLE, payload)


def save_calibration(run_dir: Path, payload: dict) -> None:
    """Write a run's `calibration.json` (atomic); the Scorer applies it by default."""
    write_json(Path(run_dir) / CALIBRATION, payload)


def save_decision(run_dir: Path, payload: dict) -> None:
    """Write a multiclass run's `decision.json` (atomic); the Scorer and `evaluate` read it."""
    write_json(Path(run_dir) / DECISION, payload)


def save_thresholds(run_dir: Path, payload: dict) -> None:
    """Write a run's `thresholds.json` (atomic); Score, Explain and Rewrite read it."""
    write_json(Path(run_dir) / THRESHOLDS, payload)


def has_model(run_dir: Path) -> bool:
    return (Path(run_dir) / MODEL / MODEL_META).exists()


def check_loadable(run_dir: Path) -> None:
    """Refuse a broken run (see `read_run`) before anything of it is loaded.

    Raises:
        ModelNotAvailable: the run is broken; the message gives the reason.
    """
    info = read_run(Path(run_dir))
    if info.state == "broken":
        raise ModelNotAvailable(f"Run {info.name!r} is broken: {info.status.get('error')}")


def _usable_meta(run_dir: Path) -> dict | None:
    """The model metadata of a run that may be loaded: not broken, metadata well-formed; else None."""
    if read_run(run_dir).state == "broken":
        return None
    meta = read_json(Path(run_dir) / MODEL / MODEL_META)
    return None if _meta_problem(meta) else meta


def can_score(run_dir: Path) -> bool:
    """A saved model that gives label probabilities (every run except SBERT runs trained on pairs/triplets/Q&A)."""
    meta = _usable_meta(run_dir)
    return bool(meta) and meta.get("head", True) is not False


def is_sentence_model(run_dir: Path) -> bool:
    """A saved SBERT model (with or without a head): it embeds texts, so it can search."""
    meta = _usable_meta(run_dir)
    return bool(meta) and meta.get("model_kind") == "sbert"


def delete_run(run_dir: Path, root: Path | None = None) -> None:
    """Delete a run folder that is not queued or running.

    Raises:
        ConfigError: the path is outside the models folder.
        JobError: the run is still active (stop it first).
    """
    root = Path(root).resolve() if root is not None else models_dir().resolve()
    path = run_path(run_dir, root)
    if path.parent != root or not (path / CONFIG).exists():
        raise ConfigError(f"{str(run_dir)!r} is not a run folder of {root}. Fix: pick a run from the Runs page.")
    state = read_status(path).get("state")
    if state in ACTIVE_STATES:
        raise JobError(f"run {path.name!r} is still {state}. Fix: stop it first.")
    shutil.rmtree(path)


UNDERTRAINED_STEPS = 50  # fewer optimisation steps than this: the head has barely moved from its random start


def undertrained_note(info: RunInfo) -> str | None:
    """A warning for a fine-tuned run that trained for very few steps (a smoke test, a `max_steps` left small),
    whose scores say little; None for TF-IDF runs and runs that trained long enough."""
    steps = info.metrics.get("global_step")
    if info.model_kind == "tfidf" or not isinstance(steps, int) or steps >= UNDERTRAINED_STEPS:
        return None
    auc = (info.metrics.get("val") or {}).get("macro_roc_auc")
    return (f"This run trained for only {steps} step(s) (fewer than {UNDERTRAINED_STEPS})"
            + (f"; validation macro ROC-AUC {auc:.3f}" if isinstance(auc, float) else "")
            + ": its scores are close to an untrained model's. Fix: train longer (more epochs, or a larger "
              "`max_steps`) on the Train page.")


def summary(info: RunInfo) -> dict:
    """One row of the runs table: state, kind, base model, data, duration and headline metrics."""
    status, metrics, config = info.status, info.metrics, info.config
    started, finished = status.get("started_at"), status.get("finished_at")
    if started and (finished or info.state in ACTIVE_STATES):
        duration = (finished or time.time()) - started
    else:
        duration = None
    val, test = metrics.get("val") or {}, metrics.get("test") or {}
    return {"run": info.name, "state": info.state, "kind": info.model_kind,
            "base model": "" if info.model_kind == "tfidf" else info.base_model,
            "data": config.get("data") or config.get("train_file") or "",
            "duration s": None if duration is None else round(duration, 1),
            "best val macro ROC-AUC": metrics.get("best_val_macro_roc_auc") or val.get("macro_roc_auc"),
            "test macro ROC-AUC": test.get("macro_roc_auc"), "test macro F1": test.get("macro_f1"),
            "test macro PR-AUC": test.get("macro_pr_auc"),
            "identity terms over-flagged": len((metrics.get("bias_templates") or {}).get("terms_over_goal", []))
            if metrics.get("bias_templates") else None,
            "embedding metric (base -> fine-tuned)": _embedding_line(metrics)}


def _embedding_line(metrics: dict) -> str | None:
    """SBERT runs: their main embedding metric, base -> fine-tuned, e.g. `knn macro_f1 0.612 -> 0.701`."""
    path, embedding = metrics.get("main_metric_path"), metrics.get("embedding") or {}
    if not path or not embedding:
        return None
    group, name = path
    values = [(embedding.get(which) or {}).get(group, {}).get(name) for which in ("base", "fine_tuned")]
    if None in values:
        return None
    return f"{group} {name} {values[0]:.3f} -> {values[1]:.3f}"


def list_runs(root: Path | None = None) -> list[RunInfo]:
    """All run folders (those with a config.json), newest first."""
    root = Path(root) if root is not None else models_dir()
    runs = ([read_run(p, root) for p in root.iterdir() if p.is_dir() and (p / CONFIG).exists()]
            if root.exists() else [])
    return sorted(runs, key=lambda r: r.name, reverse=True)
