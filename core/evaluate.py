"""Evaluate a saved run on labelled data: `python -m core evaluate --run RUN --data FILE_OR_VERSION`.

- Classifier, TF-IDF and SBERT-head runs: the run's Scorer scores the texts; the metrics are those the job
  wrote into `metrics.json` (multilabel decisions at the run's thresholds, multiclass at the top class).
- SBERT runs without a head (trained on pairs, triplets or Q&A): the embedding metrics of the data's kind
  (retrieval, pair classification or pair-score correlation), optionally beside the base model's.

The data is a file (CSV, TSV, JSONL, Parquet) or a saved dataset version folder, whose test split (else its
validation split) is used. Classes are matched to the run's by name, or by index when the file holds ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from core import runs
from core.config import TrainConfig
from core.data import Dataset, load_dataset, load_version
from core.errors import DataError, MissingColumn, ModelNotAvailable
from core.evaluation.metrics import evaluate_probs
from core.evaluation.predictions import (SPLIT_NAMES, SPLITS, SplitPredictions, predictions_path, save_predictions,
                                         score_dataset)
from core.models.embedding import memoized_encoder
from core.scoring.scorer import Scorer
from core.search import base_model, run_model
from core.training.data import TrainingData, load_training_data


def evaluation_data(path: str | Path, kind: str | None, labels: list[str] | None) -> tuple[Dataset, str]:
    """(dataset, what it is) for a file or a dataset version folder, read with the run's kind and labels.

    Raises:
        DataError: unreadable data, a version without a labelled test/val split, or other labels than the run's.
    """
    folder = Path(path)
    if folder.is_dir():
        if not (folder / "dataset.json").exists():
            raise DataError(f"{path} is a folder but not a dataset version (no dataset.json). "
                            "Fix: give a data file, or a folder written by `python -m core data prepare`.")
        parts = load_version(folder)
        split = "test" if parts.get("test") is not None and len(parts["test"].frame) else "val"
        dataset, where = parts[split], f"{folder.name} ({split} split)"
    else:
        options = {}
        if kind == "multiclass":
            options["class_names"] = labels  # string classes by name, integer ids by index
        elif kind == "multilabel":
            options["label_cols"] = labels
        try:
            dataset, where = load_dataset(path, kind=kind, for_evaluation=True, **options), str(path)
        except MissingColumn as missing:
            if kind != "multilabel" or missing.column not in (labels or []):
                raise
            # the run chose these columns, not the user: no reader flag to fix, the file must carry them
            absent = [label for label in labels if label not in missing.columns]
            raise DataError(f"{path} has no column for the run's label(s) {absent} (columns in the file: "
                            f"{missing.columns}). Fix: give a file with a 0/1 column for each of the run's labels "
                            f"{labels}.") from None
    if kind is not None and dataset.kind != kind:
        raise DataError(f"{where} holds {dataset.kind} data; the run was trained on {kind} data. "
                        "Fix: evaluate on data of the run's kind.")
    if labels is not None and dataset.labels != labels:
        raise DataError(f"{where} has labels {dataset.labels}, the run predicts {labels}. "
                        "Fix: evaluate on data with the run's labels.")
    return dataset, where


def evaluate_run(run_dir: Path, data: str | Path, compare_base: bool = False, backend: str | None = None) -> dict:
    """Metrics of a saved run on labelled data (see the module doc).

    Raises:
        ModelNotAvailable: the run has no usable model; DataError: the data does not fit the run.
    """
    run_dir = Path(run_dir)
    meta = runs.read_model_meta(run_dir)
    if meta.get("head", True) is False:
        return _embedding_metrics(run_dir, data, compare_base)
    scorer = Scorer.from_run(run_dir, backend=backend)
    dataset, where = evaluation_data(data, scorer.task, scorer.labels)
    # float32, as the job saved and measured its predictions: the same numbers give the same metrics
    probs = scorer.predict_proba(dataset.frame["text"].astype(str).tolist()).astype(np.float32)
    thresholds = scorer.thresholds if scorer.task == "multilabel" else None
    offsets = None if scorer.offsets is None else np.array(scorer.offsets)
    result = evaluate_probs(probs, dataset, scorer.task, scorer.labels, thresholds, offsets)
    return {"run": run_dir.name, "data": where, "backend": scorer.backend, "warnings": dataset.warnings, **result}


def _embedding_metrics(run_dir: Path, data: str | Path, compare_base: bool) -> dict:
    """Retrieval / pair metrics of an SBERT run without a head (and of its base model) on `data`."""
    # these load torch and sentence-transformers: only for SBERT runs without a head
    from core.training.sbert import loss_family
    from core.training.sbert_eval import evaluate_embeddings

    dataset, where = evaluation_data(data, None, None)
    if dataset.kind in ("multilabel", "multiclass"):
        raise DataError(f"{where} is labelled text, but run {run_dir.name!r} has no classification head. "
                        "Fix: evaluate it on pairs, triplets or Q&A data like its training data.")
    # the given data is the whole evaluation set: its texts are also the retrieval corpus
    part = TrainingData(dataset, dataset, dataset, dataset.kind, dataset.labels, str(data))
    family = loss_family(part)
    knn_k = TrainConfig.from_json(run_dir / runs.CONFIG).knn_k
    result = {"run": run_dir.name, "data": where, "kind": dataset.kind,
              "fine_tuned": evaluate_embeddings(memoized_encoder(run_model(run_dir)), part, family, "test", knn_k)}
    if compare_base:
        result["base"] = evaluate_embeddings(memoized_encoder(base_model(run_dir)), part, family, "test", knn_k)
    return result


def load_predictions(run_dir: Path, split: str, scorer_factory: Callable[[], object] | None = None,
                     progress: Callable[[int, int], None] | None = None) -> SplitPredictions:
    """The run's saved predictions on `split` (val | test), computing and saving them when missing.

    Raises:
        ModelNotAvailable: the run has no model, or no such split (e.g. trained without a test set).
    """
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}. Fix: use one of {SPLITS}.")
    run_dir = Path(run_dir)
    meta = runs.read_model_meta(run_dir)
    path = predictions_path(run_dir, split)
    if path.exists():
        return SplitPredictions.from_frame(pd.read_parquet(path), split, meta["task"], meta["labels"])
    data = load_training_data(TrainConfig.from_json(run_dir / runs.CONFIG))
    dataset = data.val if split == "val" else data.test
    if dataset is None:
        raise ModelNotAvailable(f"run {run_dir.name!r} has no {SPLIT_NAMES[split]} split. "
                                "Fix: evaluate on validation, or upload a labelled file.")
    if scorer_factory is None:
        scorer_factory = lambda: Scorer.from_run(run_dir)  # noqa: E731
    predictions = score_dataset(scorer_factory(), dataset, split, progress)
    save_predictions(run_dir, predictions)
    return predictions
