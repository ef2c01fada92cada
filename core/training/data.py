"""Turn a TrainConfig's data settings into train/val/test datasets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.config import TrainConfig
from core.data import (BalanceOptions, CleanOptions, Dataset, PrepareOptions, SplitOptions, balance, load_dataset,
                       load_version, prepare_dataset)
from core.errors import ConfigError, DataError


@dataclass
class TrainingData:
    """The splits a run trains, validates and tests on."""

    train: Dataset
    val: Dataset
    test: Dataset | None
    task: str
    labels: list[str]
    source: str


def _load_file(config: TrainConfig, path: str) -> Dataset:
    return load_dataset(path, kind=config.task, text_col=config.text_col, label_cols=config.label_cols,
                        label_col=config.label_col)


def load_training_data(config: TrainConfig, any_kind: bool = False) -> TrainingData:
    """Load the data named by `config` (a version folder, one file to split, or explicit split files).

    Args:
        any_kind: also accept pairs/triplets/qa data (SBERT runs); otherwise only labelled text.

    Raises:
        DataError / ConfigError: unusable data, or a task that does not match the data.
    """
    if config.train_file:
        if not config.val_file:
            raise ConfigError("train_file is set but val_file is not. Fix: give a validation file too, "
                              "or use `data` with one file to split.")
        parts = {"train": _load_file(config, config.train_file), "val": _load_file(config, config.val_file)}
        if config.test_file:
            parts["test"] = _load_file(config, config.test_file)
        source = config.train_file
    elif config.data and (Path(config.data) / "dataset.json").exists():
        parts, source = load_version(config.data), config.data
    else:
        dataset = _load_file(config, config.data)
        split = SplitOptions(round(1 - config.val_fraction - config.test_fraction, 6), config.val_fraction,
                             config.test_fraction, config.seed)
        options = PrepareOptions(clean=CleanOptions() if config.clean else None, split=split)
        parts, source = prepare_dataset(dataset, options).splits, config.data
    train = parts["train"]
    if train.kind not in ("multilabel", "multiclass") and not any_kind:
        raise DataError(f"{source}: a {train.kind} dataset cannot train a classifier. "
                        "Fix: use multilabel or multiclass data (pairs/triplets/qa are for SBERT runs).")
    if config.task and config.task != train.kind:
        fix = f"set task to {train.kind!r}" if train.kind in ("multilabel", "multiclass") else "remove `task`"
        raise ConfigError(f"task={config.task!r} but the data is {train.kind}. Fix: {fix}.")
    for name, part in parts.items():
        if part.kind != train.kind or part.labels != train.labels:
            raise DataError(f"the {name} split is {part.kind} with labels {part.labels}; train is {train.kind} "
                            f"with labels {train.labels}. Fix: use splits of one kind with the same label columns.")
    if config.oversample or config.downsample_majority < 1:  # the training split only, whatever the source
        parts["train"], _ = balance(train, BalanceOptions(downsample_majority=config.downsample_majority,
                                                          oversample=config.oversample,
                                                          oversample_ratio=config.oversample_ratio,
                                                          seed=config.seed))
        train = parts["train"]
    test = parts.get("test")
    if test is not None and test.frame.empty:
        test = None
    return TrainingData(train, parts["val"], test, train.kind, train.labels, str(source))
