"""Train/validation/test splits that are stratified and leak-free.

Rows are first collapsed into duplicate groups (exact and near duplicates), so a group never
straddles two splits. Groups are then split with iterative stratification (multilabel, Sechidis et al.
2011 via `iterative-stratification`), stratified shuffling (multiclass) or plain shuffling (other kinds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.data.schema import Dataset
from core.errors import ConfigError

SPLITS = ("train", "val", "test")


@dataclass
class SplitOptions:
    """Split fractions (must sum to 1) and the random seed."""

    train: float = 0.7
    val: float = 0.15
    test: float = 0.15
    seed: int = 42

    def __post_init__(self) -> None:
        for name in SPLITS:
            value = getattr(self, name)
            if not 0 <= value < 1 or (name != "test" and value == 0):
                raise ConfigError(f"split fraction {name}={value!r} must be in [0, 1) (train and val > 0). "
                                  "Fix: use e.g. 0.7/0.15/0.15.")
        if abs(self.train + self.val + self.test - 1) > 1e-6:
            raise ConfigError(f"split fractions train={self.train}, val={self.val}, test={self.test} sum to "
                              f"{self.train + self.val + self.test:.3f}, not 1. Fix: make them add up to 1.")


def _group_targets(dataset: Dataset, group: np.ndarray, uniq: np.ndarray) -> np.ndarray | None:
    """One stratification target per group: union of labels (multilabel) or the first row's class."""
    if dataset.kind == "multilabel":
        labels = dataset.label_matrix()
        targets = np.zeros((len(uniq), labels.shape[1]), dtype=np.int8)
        np.maximum.at(targets, np.searchsorted(uniq, group), labels)
        return targets
    if dataset.kind == "multiclass":
        return dataset.label_matrix()[uniq]  # group ids are the first row of each group
    return None


def _split_once(targets, n: int, test_size: float, seed: int, kind: str):
    """Indices (keep, take) of `n` units with `take` about `test_size` of them, stratified on `targets`."""
    rng = np.random.RandomState(seed)
    if test_size <= 0:
        return np.arange(n), np.zeros(0, dtype=np.int64)
    splitter = None
    if targets is not None and kind == "multilabel":
        from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

        splitter = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    elif targets is not None and kind == "multiclass" and np.bincount(targets).min() >= 2:
        from sklearn.model_selection import StratifiedShuffleSplit

        splitter = StratifiedShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    if splitter is not None:
        try:
            return next(splitter.split(np.zeros((n, 1)), targets))
        except ValueError:  # too few rows per class to stratify (a tiny file): a plain shuffled split instead
            pass
    order = rng.permutation(n)
    cut = int(round(n * (1 - test_size)))
    return np.sort(order[:cut]), np.sort(order[cut:])


def split_dataset(dataset: Dataset, options: SplitOptions | None = None,
                  group: np.ndarray | None = None) -> dict[str, Dataset]:
    """Split `dataset` into train/val/test.

    Args:
        dataset: the dataset to split.
        options: fractions and seed.
        group: per-row duplicate group ids (see `core.data.dedup.find_duplicates`); rows of one group
            always land in the same split. Defaults to every row its own group.

    Returns:
        {"train": ..., "val": ..., "test": ...} (test is empty when its fraction is 0).

    Raises:
        ConfigError: bad fractions, or too few rows to fill every split.
    """
    options = options or SplitOptions()
    n = len(dataset.frame)
    group = np.arange(n) if group is None else np.asarray(group)
    uniq = np.unique(group)
    needed = 2 if options.test == 0 else 3
    if len(uniq) < needed * 2:
        raise ConfigError(f"{len(uniq)} distinct rows are too few to split into {needed} parts. "
                          "Fix: add data (at least a few dozen rows).")
    targets = _group_targets(dataset, group, uniq)
    rest_size = options.val + options.test
    train_idx, rest_idx = _split_once(targets, len(uniq), rest_size, options.seed, dataset.kind)
    rest_targets = None if targets is None else targets[rest_idx]
    val_idx, test_idx = _split_once(rest_targets, len(rest_idx), options.test / rest_size, options.seed + 1,
                                    dataset.kind)
    val_idx, test_idx = rest_idx[val_idx], rest_idx[test_idx]
    parts = {}
    for name, unit_idx in zip(SPLITS, (train_idx, val_idx, test_idx)):
        rows = np.flatnonzero(np.isin(group, uniq[unit_idx]))
        parts[name] = dataset.with_frame(dataset.frame.iloc[rows])
    return parts
