"""Trainer callbacks: progress events to progress.jsonl, and the STOP file."""

from __future__ import annotations

import time
from pathlib import Path

from transformers import TrainerCallback

from core import runs
from core.config import TrainConfig
from core.fileio import append_jsonl, write_json
from core.training.tracking import event_values, open_tracker


class ProgressCallback(TrainerCallback):
    """Append log and evaluation events to `progress.jsonl`, and to the run's tracker (`report_to`) (rank 0 only);
    between them, rewrite `heartbeat.json` with the current step at most once per `HEARTBEAT_SECONDS`, so that the
    Train page's progress bar moves at every step rather than only at logging steps. Reading `global_step` needs
    no device sync, so the heartbeat costs one small file write a second."""

    HEARTBEAT_SECONDS = 1.0

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / runs.PROGRESS
        self.started = time.time()
        self.tracker = None
        self.last_beat = 0.0

    def on_step_end(self, args, state, control, **kwargs):
        now = time.time()
        if state.is_world_process_zero and now - self.last_beat >= self.HEARTBEAT_SECONDS:
            self.last_beat = now
            write_json(self.run_dir / runs.HEARTBEAT, {"step": state.global_step, "max_steps": state.max_steps,
                                                       "time": round(now - self.started, 2)})

    def _write(self, state, record: dict) -> None:
        if state.is_world_process_zero:
            append_jsonl(self.path, {"time": round(time.time() - self.started, 2), "step": state.global_step,
                                     "epoch": round(state.epoch or 0.0, 4), **record})
            if self.tracker is not None:
                self.tracker.log(state.global_step, event_values(record))

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero and (self.run_dir / runs.CONFIG).exists():
            self.tracker = open_tracker(self.run_dir, TrainConfig.from_json(self.run_dir / runs.CONFIG))
        main = (args.metric_for_best_model or "").removeprefix("eval_") or None
        self._write(state, {"event": "start", "max_steps": state.max_steps,
                            "num_train_epochs": args.num_train_epochs, "main_metric": main})

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = dict(logs or {})
        if any(key.startswith("eval_") for key in logs):
            metrics = {key[5:]: value for key, value in logs.items() if key.startswith("eval_")}
            self._write(state, {"event": "eval", **metrics})
        elif "loss" in logs:
            self._write(state, {"event": "log", "max_steps": state.max_steps, **logs})

    def on_train_end(self, args, state, control, **kwargs):
        self._write(state, {"event": "end", "max_steps": state.max_steps})
        if self.tracker is not None:  # the job reopens it for the final figures (tracking.log_final)
            self.tracker.close()
            self.tracker = None


class StopFileCallback(TrainerCallback):
    """Stop cleanly (with a checkpoint) when the UI writes the run's STOP file.

    Under DDP every rank must stop at the same step, so rank decisions are combined with an
    all-reduce (MAX): if any rank sees the file, all stop together.
    """

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / runs.STOP
        self.stopped = False

    def on_step_end(self, args, state, control, **kwargs):
        requested = self.path.exists()
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            import torch

            flag = torch.tensor([int(requested)], dtype=torch.int32,
                                device="cuda" if dist.get_backend() == "nccl" else "cpu")
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            requested = bool(flag.item())
        if requested:
            self.stopped = True
            control.should_training_stop = True
            control.should_save = True
        return control
