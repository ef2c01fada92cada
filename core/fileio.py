"""Atomic JSON writes and tolerant reads, shared by run folders and dataset versions.

Another process (the UI) may read a file while it is being written; writing to a temporary file in
the same folder and renaming it means readers see either the old or the new file, never half of one.
"""

from __future__ import annotations

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


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write `text` to `path` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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
