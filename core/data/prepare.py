"""The preparation pipeline (clean -> de-duplicate -> split -> balance train) and saved dataset versions.

A dataset version is a folder `<datasets dir>/<name>/` with `train.csv`, `val.csv`, `test.csv`,
`dataset.json` (the spec: kind, labels, class names) and `report.json`. The Train page lists them.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from core.data.balance import BalanceOptions, balance, drop_labels
from core.data.clean import CleanOptions, clean_dataset
from core.data.dedup import drop_duplicates, find_duplicates
from core.data.report import data_report
from core.data.schema import Dataset, DatasetSpec, text_columns
from core.data.split import SPLITS, SplitOptions, split_dataset
from core.errors import ConfigError, DataError
from core.fileio import read_json, write_json
from core.paths import datasets_dir, resolve_inside, slugify

DEDUP_MODES = ("none", "exact", "near")
CHANGELOG = "changelog.json"  # in a version made by applying label-review decisions (core.review.decisions)
_ALL_TEXT = ("text", "sentence1", "sentence2", "anchor", "positive", "negative", "question", "answer", "context")
Progress = Callable[[float, str], None]


@dataclass
class PrepareOptions:
    """Options of `prepare_dataset`; `clean=None` and `balance=None` skip those steps."""

    clean: CleanOptions | None = field(default_factory=CleanOptions)
    dedup: str = "near"
    near_threshold: float = 0.9
    split: SplitOptions = field(default_factory=SplitOptions)
    balance: BalanceOptions | None = None
    drop_labels: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.dedup not in DEDUP_MODES:
            raise ConfigError(f"dedup={self.dedup!r} is not one of {DEDUP_MODES}. Fix: use near, exact or none.")


@dataclass
class PreparedDataset:
    """Train/val/test datasets plus the report of how they were made."""

    splits: dict[str, Dataset]
    report: dict

    @property
    def spec(self) -> DatasetSpec:
        return self.splits["train"].spec


def prepare_dataset(dataset: Dataset, options: PrepareOptions | None = None, tokenizer=None,
                    progress: Progress | None = None) -> PreparedDataset:
    """Clean, de-duplicate, split (leak-free) and balance the training split.

    Near-duplicate groups are always computed, even with `dedup="none"`, so that they can be kept
    inside one split. Balancing touches only the training split.

    Args:
        dataset: a loaded dataset.
        options: the steps to run.
        tokenizer: optional tokenizer for token-length statistics in the report.
        progress: optional callback `progress(fraction, message)`.
    """
    options = options or PrepareOptions()
    progress = progress or (lambda fraction, message: None)
    steps: dict = {}
    started = time.perf_counter()
    dataset = drop_labels(dataset, options.drop_labels)
    if options.clean is not None:
        progress(0.05, "Cleaning text")
        dataset, steps["clean"] = clean_dataset(dataset, options.clean)
    progress(0.2, "Finding duplicates")
    groups = find_duplicates(dataset, None if options.dedup == "exact" else options.near_threshold)
    if options.dedup != "none":
        if options.dedup == "exact":
            groups.near_pairs = 0
        dataset, steps["dedup"] = drop_duplicates(dataset, groups)
        group = None
    else:
        steps["dedup"] = {"rows_removed": 0, "near_pairs": groups.near_pairs, "exact_pairs": groups.exact_pairs,
                          "conflicting_groups": len(groups.conflicts), "note": "kept; groups held within one split"}
        group = groups.group
    if steps["dedup"].get("rows_removed"):
        dataset.dropped["duplicate"] = steps["dedup"]["rows_removed"]
    progress(0.6, "Splitting")
    splits = split_dataset(dataset, options.split, group=group)
    if options.balance is not None:
        progress(0.8, "Balancing the training split")
        splits["train"], steps["balance"] = balance(splits["train"], options.balance)
    progress(0.9, "Writing the report")
    steps["split"] = asdict(options.split)
    report = data_report(dataset, splits, tokenizer=tokenizer, steps=steps)
    report["seconds"] = round(time.perf_counter() - started, 2)
    progress(1.0, "Done")
    return PreparedDataset(splits, report)


def save_version(prepared: PreparedDataset, name: str, root: Path | None = None, overwrite: bool = False) -> Path:
    """Save a prepared dataset as a named version in the datasets folder and return its path.

    Raises:
        ConfigError: the version exists and `overwrite` is False.
    """
    root = Path(root) if root is not None else datasets_dir()
    folder = resolve_inside(root, slugify(name))
    if folder.exists() and not overwrite:
        raise ConfigError(f"dataset version {folder.name!r} already exists in {root}. Fix: choose another name.")
    return write_version(prepared, folder)


def write_version(prepared: PreparedDataset, folder: str | Path) -> Path:
    """Write train/val/test CSVs, dataset.json and report.json into `folder` (created if needed).

    Raises:
        ConfigError: `folder` is an existing file, not a folder.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{str(folder)!r} is an existing file, not a folder. "
                          "Fix: give a new or existing folder for the version (--out DIR).")
    folder.mkdir(parents=True, exist_ok=True)
    for split, part in prepared.splits.items():
        part.frame.to_csv(folder / f"{split}.csv", index=False)
    write_json(folder / "dataset.json", {"name": folder.name, "spec": prepared.spec.to_dict(), "created": time.time()})
    write_json(folder / "report.json", prepared.report)
    return folder


def load_version(path: str | Path) -> dict[str, Dataset]:
    """Load a saved dataset version's splits (canonical layout, spec from `dataset.json`).

    Raises:
        DataError: the folder is not a dataset version.
    """
    folder = Path(path)
    meta = read_json(folder / "dataset.json")
    if meta is None:
        raise DataError(f"{folder} is not a dataset version (no dataset.json). "
                        "Fix: save one from the Data page or `python -m core data prepare`.")
    spec = DatasetSpec.from_dict(meta["spec"])
    parts = {}
    for split in SPLITS:
        file = folder / f"{split}.csv"
        if file.exists():
            text_cols = {c: str for c in ("id", *text_columns(spec.kind, _ALL_TEXT))}
            frame = pd.read_csv(file, keep_default_na=False, na_values=[""], dtype=text_cols)
            parts[split] = Dataset(frame, spec, f"{meta['name']}/{split}")
    return parts


def list_versions(root: Path | None = None) -> list[dict]:
    """Saved dataset versions, newest first: name, path, kind, labels, rows per split."""
    root = Path(root) if root is not None else datasets_dir()
    versions = []
    for folder in root.iterdir() if root.exists() else []:
        if folder.name.startswith("."):  # a version being written (see core.review.decisions)
            continue
        meta = read_json(folder / "dataset.json")
        if meta is None:
            continue
        report = read_json(folder / "report.json", {})
        versions.append({"name": meta["name"], "path": str(folder), "kind": meta["spec"]["kind"],
                         "labels": report.get("labels", []), "rows": report.get("split_rows", {}),
                         "created": meta.get("created", 0)})
    return sorted(versions, key=lambda v: v["created"], reverse=True)


def review_changelog(data_path: str | Path | None) -> dict | None:
    """The changelog of a dataset version made from a label review (for the model card); None for anything else."""
    if not data_path or not Path(data_path).is_dir():
        return None
    changelog = read_json(Path(data_path) / CHANGELOG)
    return changelog if isinstance(changelog, dict) else None
