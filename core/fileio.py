"""Atomic JSON writes and tolerant reads, shared by run folders and dataset versions.

Another process (the UI) may read a file while it is being written; writing to a temporary file in
the same folder and renaming it means readers see either the old or the new file, never half of one.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any


def _clean(value: Any) -> Any:
    """Make numpy scalars, NaN and infinities JSON-safe (NaN/inf become null)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (TypeError, ValueError):
            value = value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(data: Any, indent: int | None = 2) -> str:
    """Serialise `data` to JSON, turning numpy values into plain Python and NaN into null."""
    return json.dumps(_clean(data), indent=indent, ensure_ascii=False)


def umask_mode() -> int:
    """The mode a plain `open(path, "w")` would give a new file (0o666 less the umask; 0o644 usually).

    mkstemp creates its file 0o600, which would leave run files unreadable to the rest of a team. Linux shows
    the umask in /proc without changing it; elsewhere it is read by setting and restoring it.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            mask = next(int(line.split()[1], 8) for line in handle if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError, IndexError):
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write `text` to `path` through a temporary file and a rename (the umask's mode)."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json(path: str | Path, data: Any) -> Path:
    """Atomically write `data` as pretty JSON."""
    return write_text_atomic(path, to_json(data) + "\n")


def read_json(path: str | Path, default: Any = None) -> Any:
    """Read a JSON file; `default` when it is missing or unreadable (a crashed writer, say)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return default


def append_jsonl(path: str | Path, record: dict) -> None:
    """Append one JSON object as a line (one write call, so lines never interleave)."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(to_json(record, indent=None) + "\n")


def read_jsonl(path: str | Path) -> list[dict]:
    """Read every complete JSON line; a half-written last line is skipped."""
    records = []
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
    except FileNotFoundError:
        pass
    return records


def save_arrays(path: str | Path, arrays: dict) -> Path:
    """Write numpy arrays as safetensors, atomically, each made C-contiguous first.

    safetensors writes an array's buffer as it lies in memory and records only its shape, so a column-major
    array (sklearn's multinomial `coef_`, a transpose) would come back scrambled on load.
    """
    import numpy as np
    from safetensors.numpy import save

    blob = save({name: np.ascontiguousarray(value) for name, value in arrays.items()})
    return write_bytes_atomic(path, blob)


@contextlib.contextmanager
def atomic_writer(path: str | Path, mode: str = "wb", **open_kwargs):
    """A handle on a temporary file beside `path`; on a clean exit it gets the umask's mode and replaces `path`,
    on any error it is removed and `path` is left as it was (no partial or empty file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **open_kwargs) as handle:
            yield handle
        os.chmod(tmp, umask_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` through a temporary file and a rename (the umask's mode)."""
    with atomic_writer(path, "wb") as handle:
        handle.write(data)
    return Path(path)
