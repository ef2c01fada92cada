"""Where the project keeps things, and safe path resolution.

The folders can be moved with environment variables (tests point them at temporary folders):
`CLEANSPEECH_MODELS_DIR` (runs) and `CLEANSPEECH_DATASETS_DIR` (saved dataset versions).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from core.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = PROJECT_ROOT / "data"
SAMPLE_MULTILABEL = SAMPLE_DIR / "sample.csv"
SAMPLE_PAIRS = SAMPLE_DIR / "pairs_sample.jsonl"
SAMPLE_QA = SAMPLE_DIR / "qa_sample.jsonl"

_SLUG_RE = re.compile(r"[^a-z0-9]+")


def models_dir() -> Path:
    """The folder that holds training runs (created on first use)."""
    path = Path(os.environ.get("CLEANSPEECH_MODELS_DIR", PROJECT_ROOT / "models")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def datasets_dir() -> Path:
    """The folder that holds saved dataset versions (created on first use)."""
    default = PROJECT_ROOT / "data" / "versions"
    path = Path(os.environ.get("CLEANSPEECH_DATASETS_DIR", default)).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def slugify(text: str, max_len: int = 48) -> str:
    """Lower-case ASCII slug of `text` for folder names ("My run #2" -> "my-run-2")."""
    slug = _SLUG_RE.sub("-", text.lower()).strip("-")[:max_len].strip("-")
    return slug or "unnamed"


def resolve_inside(root: Path, name: str | os.PathLike) -> Path:
    """Resolve `name` (relative to `root`, or absolute) and require the result to lie inside `root`.

    Raises:
        ConfigError: when the path escapes `root` (for example `../../etc/passwd`).
    """
    root = Path(root).resolve()
    candidate = Path(name)
    path = (candidate if candidate.is_absolute() else root / candidate).resolve()
    if path != root and root not in path.parents:
        raise ConfigError(
            f"Path {str(name)!r} resolves to {path}, outside {root}. "
            f"Fix: pick a folder inside {root}."
        )
    return path
