"""Review decisions on a dataset version, and a new version with them applied (issue 25).

Each decision is appended to the version's `review.jsonl` the moment it is made (one line: row id, old and new
labels, action, reviewer, time), so a refresh, a restart or a second tab loses nothing; the latest line for a row
wins, so a decision can be changed. `apply_decisions` writes a new version (the same splits, relabelled rows changed,
dropped rows gone) with `changelog.json`, and the source version is never modified.

Row ids are `<split>:<position>` in the version's split files, which never change once written.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from core.data.prepare import CHANGELOG, PreparedDataset, load_version, write_version
from core.data.report import data_report
from core.data.schema import VOTE_PREFIX, Dataset
from core.errors import ConfigError, DataError
from core.fileio import append_jsonl, read_json, read_jsonl, write_json
from core.paths import datasets_dir, resolve_inside, slugify

REVIEW_FILE = "review.jsonl"
ACTIONS = ("keep", "relabel", "drop")


def version_rows(folder: str | Path) -> tuple[Dataset, list[str], dict[str, Dataset]]:
    """All splits of a version as one dataset (for ranking), the row ids, and the splits themselves."""
    parts = load_version(folder)
    frames, ids = [], []
    for split, part in parts.items():
        frames.append(part.frame)
        ids.extend(f"{split}:{i}" for i in range(len(part.frame)))
    first = next(iter(parts.values()))
    return first.with_frame(pd.concat(frames, ignore_index=True)), ids, parts


def _labels_of(part: Dataset, position: int) -> list[str]:
    row = part.frame.iloc[position]
    if part.kind == "multiclass":
        return [part.labels[int(row["label"])]]
    return [label for label in part.labels if int(row[label])]


def record_decision(folder: str | Path, row_id: str, action: str, new_labels: list[str] | None = None,
                    reviewer: str = "") -> dict:
    """Append one decision to the version's review.jsonl and return it.

    Raises:
        ConfigError: an unknown action or row id, a relabel without labels, or labels the data does not have.
    """
    folder = Path(folder)
    if action not in ACTIONS:
        raise ConfigError(f"action {action!r} is not one of {ACTIONS}.")
    parts = load_version(folder)
    split, _, position = str(row_id).partition(":")
    if split not in parts or not position.isdigit() or int(position) >= len(parts[split].frame):
        raise ConfigError(f"row id {row_id!r} is not a row of version {folder.name!r} (ids look like 'train:12').")
    part = parts[split]
    old = _labels_of(part, int(position))
    new = old if action != "relabel" else list(new_labels or [])
    unknown = sorted(set(new) - set(part.labels))
    if unknown:
        raise ConfigError(f"label(s) {unknown} are not labels of this data {part.labels}.")
    if action == "relabel" and part.kind == "multiclass" and len(new) != 1:
        raise ConfigError(f"a multiclass row takes exactly one class, not {new}. Fix: pick one of {part.labels}.")
    record = {"id": row_id, "action": action, "old": old, "new": [] if action == "drop" else new,
              "reviewer": str(reviewer or "").strip()[:80], "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
    append_jsonl(folder / REVIEW_FILE, record)
    return record


def read_decisions(folder: str | Path) -> dict[str, dict]:
    """The latest decision per row id (a torn last line, from a crash mid-write, is skipped)."""
    latest = {}
    for record in read_jsonl(Path(folder) / REVIEW_FILE):
        if isinstance(record, dict) and record.get("action") in ACTIONS and "id" in record:
            latest[str(record["id"])] = record
    return latest


def _apply(part: Dataset, split: str, decisions: dict[str, dict]) -> Dataset:
    frame = part.frame.copy()
    dropped = []
    for row_id, record in decisions.items():
        where, _, position = row_id.partition(":")
        if where != split:
            continue
        position = int(position)
        if record["action"] == "drop":
            dropped.append(position)
        elif record["action"] == "relabel":
            if part.kind == "multiclass":
                frame.loc[position, "label"] = part.labels.index(record["new"][0])
                # the annotators' counts disagree with the reviewer now: the row's soft target is its new label
                for column in [c for c in frame.columns if c.startswith(VOTE_PREFIX)]:
                    frame.loc[position, column] = 0
            else:
                for label in part.labels:
                    frame.loc[position, label] = int(label in record["new"])
    return part.with_frame(frame.drop(index=dropped))


def apply_decisions(folder: str | Path, name: str, root: Path | None = None) -> Path:
    """Write a new dataset version: the source's splits with the review decisions applied, and its changelog.

    Raises:
        DataError: there are no decisions to apply.
        ConfigError: a version with that name exists.
    """
    folder = Path(folder)
    decisions = read_decisions(folder)
    if not decisions:
        raise DataError(f"version {folder.name!r} has no review decisions yet. Fix: keep, relabel or drop rows in "
                        "the review queue first.")
    root = Path(root) if root is not None else datasets_dir()
    target = resolve_inside(root, slugify(name))
    if target.exists():
        raise ConfigError(f"dataset version {target.name!r} already exists in {root}. Fix: choose another name.")
    parts = load_version(folder)
    splits = {split: _apply(part, split, decisions) for split, part in parts.items()}
    source_report = read_json(folder / "report.json", {}) or {}
    report = data_report(next(iter(splits.values())).with_frame(pd.concat([p.frame for p in splits.values()])),
                         splits, steps={**(source_report.get("steps") or {}), "review": {"source": folder.name}})
    per_label: Counter = Counter()
    for record in decisions.values():
        if record["action"] == "relabel":
            for label in set(record["old"]) ^ set(record["new"]):
                per_label[f"{label} {'added' if label in record['new'] else 'removed'}"] += 1
    changelog = {"source_version": folder.name, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                 "decisions": len(decisions), "actions": dict(Counter(r["action"] for r in decisions.values())),
                 "label_changes": dict(per_label),
                 "reviewers": sorted({r.get("reviewer") or "(unnamed)" for r in decisions.values()})}
    staging = resolve_inside(root, f".{target.name}.partial")  # hidden: never listed as a version
    if staging.exists():  # left by a crash mid-write
        shutil.rmtree(staging)
    write_version(PreparedDataset(splits, report), staging)
    write_json(staging / CHANGELOG, changelog)
    meta = read_json(staging / "dataset.json")
    write_json(staging / "dataset.json", {**meta, "name": target.name, "reviewed_from": folder.name})
    staging.rename(target)  # the version appears whole or not at all
    return target
