"""Compiled training steps (`"compile": true`; issue 28): when to compile, where the compiled kernels are kept,
and what the compile cost.

`torch.compile` fuses a step's ~2,000 small kernels into few, which is what a host-bound GPU step needs (session 11
halved an H100 step), but it costs minutes a shape, so it pays only over a long run: the option turns itself off
for runs under `COMPILE_MIN_STEPS` and on CPU, and says why in `metrics.json`. Compiled kernels go to a cache
beside the runs (`.cache/torchinductor` in the models folder) that later runs reuse, so the cost is paid once per
shape and machine; `pad_multiple` keeps the shapes few. `StepTimer` records the first steps' time against the
steady step, which is the compile's cost as the run saw it.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from transformers import TrainerCallback

# Session 11 (bench/RESULTS.md): 161-171 s of compiling against ~20-50 ms saved a step with dynamic shapes; a run
# shorter than this spends more on compiling than it gains, a cache hit aside.
COMPILE_MIN_STEPS = 2000
CACHE_ENV = "TORCHINDUCTOR_CACHE_DIR"
TIMED_FIRST = 3  # the first steps pay the compile; the median of the rest is the steady step


def compile_plan(wanted: bool, planned_steps: int, device: str) -> dict:
    """{"used": bool, "why": str} for a run of `planned_steps` optimizer steps on `device` (`cuda` | `cpu`)."""
    if not wanted:
        return {"used": False, "why": "not asked for (compile: false)"}
    if device != "cuda":
        return {"used": False, "why": "compiled steps are for GPUs: on a CPU the compile takes longer than it saves "
                                      "on a run of this size"}
    if planned_steps < COMPILE_MIN_STEPS:
        return {"used": False, "why": f"{planned_steps} steps: under {COMPILE_MIN_STEPS}, compiling costs more than "
                                      "it saves"}
    return {"used": True, "why": f"{planned_steps} steps on a GPU"}


def use_compile_cache(models_dir: Path) -> Path:
    """Point the compiler's cache at `.cache/torchinductor` in the models folder (unless the user set one), so
    that later runs reuse the compiled kernels; returns the folder in use."""
    folder = Path(os.environ.get(CACHE_ENV) or Path(models_dir) / ".cache" / "torchinductor")
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[CACHE_ENV] = str(folder)
    return folder


class StepTimer(TrainerCallback):
    """Wall time of each training step (host clock: no device sync is added), summarised by `summary()`."""

    def __init__(self):
        self.seconds: list[float] = []
        self._start = 0.0

    def on_step_begin(self, args, state, control, **kwargs):
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.seconds.append(time.perf_counter() - self._start)

    def summary(self) -> dict:
        """{"first_steps_seconds", "median_step_seconds", "compile_seconds"}: the first `TIMED_FIRST` steps, the
        median of the others, and what the first steps took beyond that many steady ones (None when too short)."""
        if len(self.seconds) <= TIMED_FIRST:
            return {"first_steps_seconds": round(sum(self.seconds), 3), "median_step_seconds": None,
                    "compile_seconds": None}
        first, steady = sum(self.seconds[:TIMED_FIRST]), statistics.median(self.seconds[TIMED_FIRST:])
        return {"first_steps_seconds": round(first, 3), "median_step_seconds": round(steady, 4),
                "compile_seconds": round(max(first - TIMED_FIRST * steady, 0.0), 3)}
