"""Turn a TrainConfig's data settings into train/val/test datasets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.config import TrainConfig
from core.data import (BalanceOptions, CleanOptions, Dataset, PrepareOptions, SplitOptions, balance, load_dataset,
                       load_version, prepare_dataset)
from core.errors import ConfigError, DataError
from core.training.augment import identity_augmentation, normalize_dataset


@dataclass
class TrainingData:
    """The splits a run trains, validates and tests on."""

    train: Dataset
    val: Dataset
    test: Dataset | None
    task: str
    labels: list[str]
    source: str
    augmentation: dict | None = None  # what identity augmentation added to the training split, if it ran


def _load_file(config: TrainConfig, path: str) -> Dataset:
    return load_dataset(path, kind=config.task, text_col=config.text_col, label_cols=config.label_cols,
                        label_col=config.label_col)


def _load_parts(config: TrainConfig) -> tuple[dict[str, Dataset], str, bool]:
    """(parts, source, prepared): the explicit split files, a version's splits, or {"all": the one file}."""
    if config.train_file:
        if not config.val_file:
            raise ConfigError("train_file is set but val_file is not. Fix: give a validation file too, "
                              "or use `data` with one file to split.")
        parts = {"train": _load_file(config, config.train_file), "val": _load_file(config, config.val_file)}
        if config.test_file:
            parts["test"] = _load_file(config, config.test_file)
        return parts, config.train_file, True
    if config.data and Path(config.data).is_dir():
        return load_version(config.data), config.data, True
    return {"all": _load_file(config, config.data)}, config.data, False


def _check_parts(config: TrainConfig, parts: dict[str, Dataset], source: str, any_kind: bool) -> None:
    first = next(iter(parts.values()))
    if first.kind not in ("multilabel", "multiclass") and not any_kind:
        raise DataError(f"{source}: a {first.kind} dataset cannot train a classifier. "
                        "Fix: use multilabel or multiclass data (pairs/triplets/qa are for SBERT runs).")
    if config.task and config.task != first.kind:
        fix = f"set task to {first.kind!r}" if first.kind in ("multilabel", "multiclass") else "remove `task`"
        raise ConfigError(f"task={config.task!r} but the data is {first.kind}. Fix: {fix}.")
    for name, part in parts.items():
        if part.kind != first.kind or part.labels != first.labels:
            raise DataError(f"the {name} split is {part.kind} with labels {part.labels}; train is {first.kind} "
                            f"with labels {first.labels}. Fix: use splits of one kind with the same label columns.")
    train = parts.get("train", parts.get("all"))
    if config.soft_labels and (train.kind != "multiclass" or not train.spec.vote_cols):
        raise ConfigError(f"soft_labels={config.soft_labels} needs multiclass data with one annotator-count column "
                          f"per class, named like the class ({train.labels}); {source} is {train.kind} data "
                          f"without them (columns used: {_source_columns(train)}). Fix: add those count columns, "
                          "or set soft_labels to 0.")


def _source_columns(dataset: Dataset) -> list[str]:
    spec = dataset.spec
    return [c for c in (spec.text_col, spec.label_col, *spec.label_cols, *spec.vote_cols) if c]


def check_training_data(config: TrainConfig) -> None:
    """Read and validate the data a config names, before any run folder exists (the job prepares it later).

    Raises:
        DataError / ConfigError: unreadable data, a task that does not match it, or too few rows to split.
    """
    parts, source, prepared = _load_parts(config)
    _check_parts(config, parts, str(source), any_kind=config.model_kind == "sbert")
    if not prepared:
        frame = parts["all"].frame
        distinct = len(frame.drop_duplicates(subset=parts["all"].text_columns()))
        needed = 4 if config.test_fraction == 0 else 6
        if distinct < needed:
            raise DataError(f"{source}: {distinct} distinct row(s) are too few to split into train, validation"
                            f"{'' if config.test_fraction == 0 else ' and test'} parts (at least {needed}; a useful "
                            "model needs hundreds). Fix: add data.")


def load_training_data(config: TrainConfig, any_kind: bool = False) -> TrainingData:
    """Load the data named by `config` (a version folder, one file to split, or explicit split files).

    Args:
        any_kind: also accept pairs/triplets/qa data (SBERT runs); otherwise only labelled text.

    Raises:
        DataError / ConfigError: unusable data, or a task that does not match the data.
    """
    parts, source, prepared = _load_parts(config)
    _check_parts(config, parts, str(source), any_kind)
    if not prepared:
        split = SplitOptions(round(1 - config.val_fraction - config.test_fraction, 6), config.val_fraction,
                             config.test_fraction, config.seed)
        options = PrepareOptions(clean=CleanOptions() if config.clean else None, split=split)
        parts = prepare_dataset(parts["all"], options).splits
    train = parts["train"]
    if config.oversample or config.downsample_majority < 1:  # the training split only, whatever the source
        parts["train"], _ = balance(train, BalanceOptions(downsample_majority=config.downsample_majority,
                                                          oversample=config.oversample,
                                                          oversample_ratio=config.oversample_ratio,
                                                          seed=config.seed))
        train = parts["train"]
    augmentation = None
    sentences = train.kind in ("multilabel", "multiclass") and config.resolved_identity_augmentation(train.kind)
    if (sentences or config.identity_swaps) and train.kind in ("multilabel", "multiclass"):
        parts["train"], augmentation = identity_augmentation(train, config.seed, sentences, config.identity_swaps)
    # after augmentation, so that the added sentences are normalised like the rest
    parts = {name: normalize_dataset(part, config.resolved_normalize(train.kind)) for name, part in parts.items()}
    train = parts["train"]
    test = parts.get("test")
    if test is not None and test.frame.empty:
        test = None
    return TrainingData(train, parts["val"], test, train.kind, train.labels, str(source), augmentation)
