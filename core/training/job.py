"""The training job process: `python -m core.training.job RUN_DIR [--resume]`.

A job is a list of named phases; status.json follows queued -> running -> succeeded | failed | stopped.

1. read the config (`config.json`)          2. wait for the device (`core.devices.device_lock`, as `queued`)
3. prepare the data (`training.data`)       4. train and save the model, per kind: `training.baseline`
   (tfidf), `training.classifier_job`, `training.sbert_job`; every non-TF-IDF run also records the TF-IDF
   baseline on its splits
5. predict the splits, tune thresholds on validation, write metrics and model card (`training.finish`)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

from core import runs
from core.config import TrainConfig
from core.devices import device_lock
from core.errors import CoreError
from core.training.baseline import train_tfidf
from core.training.classifier_job import train_classifier
from core.training.data import load_training_data
from core.training.sbert_job import train_sbert
from core.training.tracking import check_reporter, log_final


def _rank() -> int:
    return int(os.environ.get("RANK", "0"))


def _track(run_dir: Path, config: TrainConfig, state: str) -> None:
    """The final figures to the tracker; a tracking failure is reported in status.json, never fails the run."""
    if config.report_to == "none":
        return
    try:
        log_final(run_dir, config, state)
    except Exception as exc:  # the tracker's store is not ours: whatever it raises, the model is already saved
        traceback.print_exc()
        runs.write_status(run_dir, state, tracking_error=f"{type(exc).__name__}: {exc}")


def run_job(run_dir: str | Path, resume: bool = False, tokenizer=None, model=None) -> str:
    """Run (or resume) the training described by RUN_DIR/config.json; returns the final state.

    `tokenizer`/`model`: preloaded base models (tests pass tiny ones); for SBERT runs `model` is a
    SentenceTransformer and `tokenizer` is unused.

    Never raises for a training failure: the error is written to status.json as `failed`.
    """
    run_dir = Path(run_dir).resolve()
    main_process = _rank() == 0
    try:
        config = TrainConfig.from_json(run_dir / runs.CONFIG)
        check_reporter(config.report_to)  # a missing tracking package fails the run before any training
        if main_process:
            (run_dir / runs.STOP).unlink(missing_ok=True)
            runs.write_status(run_dir, "queued", pid=os.getpid(), error=None, input_error=False)
        # the lock lives in the run's own models folder: runs there queue for the device; a test's or a
        # benchmark's folder elsewhere does not wait behind the user's training
        with device_lock(config, enabled=main_process and "LOCAL_RANK" not in os.environ, root=run_dir.parent):
            if main_process:
                runs.write_status(run_dir, "running", pid=os.getpid(), started_at=time.time(), finished_at=None,
                                  resumed=resume)
            data = load_training_data(config, any_kind=config.model_kind == "sbert")
            if (run_dir / runs.STOP).exists():  # stopped while it was queued
                state = "stopped"
            elif config.model_kind == "tfidf":
                state = train_tfidf(run_dir, config, data) if main_process else "succeeded"
            elif config.model_kind == "sbert":
                state = train_sbert(run_dir, config, data, resume, model)
            else:
                state = train_classifier(run_dir, config, data, resume, tokenizer, model)
        if main_process:
            _track(run_dir, config, state)
            runs.write_status(run_dir, state, finished_at=time.time())
            (run_dir / runs.STOP).unlink(missing_ok=True)
        return state
    except KeyboardInterrupt:  # Ctrl-C in a foreground run: the user stopped it, nothing failed
        if main_process:
            runs.write_status(run_dir, "stopped", error=None, finished_at=time.time())
            print(f"stopped; resume with `python -m core train --resume {run_dir}`", file=sys.stderr)
        raise
    except BaseException as exc:  # the job's top-level handler: any failure ends the run as `failed`
        message = str(exc) if isinstance(exc, CoreError) else f"{type(exc).__name__}: {exc}"
        if isinstance(exc, CoreError):  # a user-caused error: its message is the whole story
            print(f"error: {message}", file=sys.stderr)
        else:
            traceback.print_exc()
        if main_process:
            runs.write_status(run_dir, "failed", error=message, finished_at=time.time(),
                              input_error=isinstance(exc, CoreError))
        return "failed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.training.job")
    parser.add_argument("run_dir")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    state = run_job(args.run_dir, resume=args.resume)
    return 0 if state in ("succeeded", "stopped") else 1


if __name__ == "__main__":
    sys.exit(main())
