"""Class balancing for the training split: oversample minorities, downsample the majority, drop labels.

Balance only the training split: duplicating rows before splitting would put copies in two splits.
For multilabel data the "majority" is the rows with no positive label (clean comments), so
downsampling never removes a rare label's examples, and oversampling repeats rows that carry the
rarest labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.data.schema import Dataset
from core.errors import ConfigError, DataError


@dataclass
class BalanceOptions:
    """How to rebalance.

    Attributes:
        downsample_majority: keep this fraction of the majority rows (the seed tool's
            `--reduce-majority-to 0.5`); 1.0 keeps all.
        oversample: repeat minority rows until each label/class reaches `oversample_ratio` of the
            majority's count (multiclass) or of the most frequent label (multilabel).
        drop_labels: labels to remove (multilabel only).
    """

    downsample_majority: float = 1.0
    oversample: bool = False
    oversample_ratio: float = 0.5
    drop_labels: list[str] = field(default_factory=list)
    seed: int = 42

    def __post_init__(self) -> None:
        if not 0 < self.downsample_majority <= 1:
            raise ConfigError(f"downsample_majority={self.downsample_majority!r} must be in (0, 1]. "
                              "Fix: e.g. 0.5 keeps half of the majority rows.")
        if not 0 < self.oversample_ratio <= 1:
            raise ConfigError(f"oversample_ratio={self.oversample_ratio!r} must be in (0, 1]. Fix: e.g. 0.5.")


def drop_labels(dataset: Dataset, labels: list[str]) -> Dataset:
    """Remove labels: multilabel label columns (rows stay), or multiclass classes together with their rows.

    Multiclass: the remaining classes are renumbered 0..K-1 in their order, and each dropped class's row count
    is recorded in `dataset.dropped` (and so in the report).

    Raises:
        ConfigError: an unknown label, or data of another kind.
        DataError: nothing (multilabel) or fewer than two classes (multiclass) would be left.
    """
    if not labels:
        return dataset
    if dataset.kind not in ("multilabel", "multiclass"):
        raise ConfigError(f"dropping labels {labels} needs multilabel or multiclass data, not {dataset.kind}.")
    unknown = [label for label in labels if label not in dataset.labels]
    if unknown:
        raise ConfigError(f"cannot drop unknown labels {unknown}; the labels are {dataset.labels}. "
                          "Fix: name labels exactly as listed.")
    kept = [label for label in dataset.labels if label not in labels]
    if dataset.kind == "multiclass":
        return _drop_classes(dataset, kept)
    if not kept:
        raise DataError("dropping every label leaves nothing to learn. Fix: keep at least one label.")
    spec = type(dataset.spec).from_dict({**dataset.spec.to_dict(), "label_cols": kept})
    out = dataset.with_frame(dataset.frame.drop(columns=labels))
    out.spec = spec
    return out


def _drop_classes(dataset: Dataset, kept: list[str]) -> Dataset:
    if len(kept) < 2:
        raise DataError(f"dropping those classes leaves {kept}; a classifier needs at least two classes. "
                        "Fix: keep at least two.")
    names = dataset.labels
    codes = dataset.label_matrix()
    keep_codes = [names.index(name) for name in kept]
    mask = np.isin(codes, keep_codes)
    frame = dataset.frame.loc[mask].copy()
    frame["label"] = np.searchsorted(np.array(keep_codes), codes[mask])  # keep_codes is sorted: old order kept
    out = dataset.with_frame(frame)
    out.spec = type(dataset.spec).from_dict({**dataset.spec.to_dict(), "class_names": kept})
    for code, name in enumerate(names):
        if name not in kept:
            out.dropped[f"class {name!r} (dropped)"] = int((codes == code).sum())
    return out


def balance(dataset: Dataset, options: BalanceOptions) -> tuple[Dataset, dict]:
    """Rebalance a multilabel or multiclass dataset (normally the training split).

    Returns:
        The balanced dataset and a report with row counts before and after.
    """
    dataset = drop_labels(dataset, options.drop_labels)
    if dataset.kind not in ("multilabel", "multiclass"):
        return dataset, {"skipped": f"balancing does not apply to {dataset.kind} data"}
    rng = np.random.default_rng(options.seed)
    labels = dataset.label_matrix()
    rows = np.arange(len(labels))
    if dataset.kind == "multilabel":
        majority = labels.sum(axis=1) == 0
    else:
        majority = labels == np.bincount(labels).argmax()
    keep = rows[~majority]
    kept_majority = rng.permutation(rows[majority])[: int(round(majority.sum() * options.downsample_majority))]
    chosen = np.sort(np.concatenate([keep, kept_majority]))
    if options.oversample:
        chosen = np.concatenate([chosen, _oversample(labels, chosen, dataset.kind, options.oversample_ratio, rng)])
    out = dataset.with_frame(dataset.frame.iloc[chosen])
    report = {"rows_before": len(rows), "rows_after": len(chosen), "majority_rows_removed":
              int(majority.sum() - len(kept_majority)), "rows_added": int(len(chosen) - len(keep) - len(kept_majority)),
              "dropped_labels": list(options.drop_labels)}
    return out, report


def _oversample(labels: np.ndarray, chosen: np.ndarray, kind: str, ratio: float, rng) -> np.ndarray:
    if kind == "multiclass":
        counts = np.bincount(labels[chosen])
        target = int(counts.max() * ratio)
        extra = [rng.choice(chosen[labels[chosen] == c], target - counts[c])
                 for c in range(len(counts)) if 0 < counts[c] < target]
        return np.concatenate(extra) if extra else np.zeros(0, dtype=np.int64)
    sub = labels[chosen]
    counts = sub.sum(axis=0).astype(np.int64)
    target = int(counts.max() * ratio)
    extra = []
    # Rarest first: rows added for a rare label also count for the other labels they carry.
    for label in np.argsort(counts):
        missing = target - counts[label]
        candidates = chosen[sub[:, label] == 1]
        if missing <= 0 or not len(candidates):
            continue
        added = rng.choice(candidates, missing)
        counts += labels[added].sum(axis=0)
        extra.append(added)
    return np.concatenate(extra) if extra else np.zeros(0, dtype=np.int64)
