"""The machine's accelerators and the one-job-per-device lock, below both the UI side (`core.jobs`) and the job
process (`core.training.job`). Finds GPUs without importing torch."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
from pathlib import Path

from core.config import TrainConfig
from core.paths import models_dir


def accelerator_count() -> int:
    """Number of visible NVIDIA GPUs, found without importing torch."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"])
    if not shutil.which("nvidia-smi"):
        return 0
    try:
        output = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in output.splitlines() if line.startswith("GPU "))


def device_key() -> str:
    """The lock name of this machine's accelerator: `cuda` when GPUs are visible, else `cpu`."""
    return "cuda" if accelerator_count() else "cpu"


@contextlib.contextmanager
def device_lock(config: TrainConfig, enabled: bool = True, root: Path | None = None):
    """Hold the device's lock while training (blocks, as `queued`, while another job holds it)."""
    if not enabled:
        yield
        return
    folder = (Path(root) if root else models_dir()) / ".locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{device_key()}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
