"""A run's predictions on a labelled split, kept beside the run so evaluation never re-scores.

The training job saves `predictions/val.parquet` and `predictions/test.parquet` (text, truth, one
probability column per label). Older runs, or a labelled file uploaded on the Evaluate page, are
scored on the fly (`score_dataset`, in the rows' own order; `core.evaluate.load_predictions` saves a run's).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from core import runs
from core.errors import DataError, ModelNotAvailable
from core.fileio import atomic_writer

SPLITS = ("val", "test")
SPLIT_NAMES = {"val": "validation", "test": "test"}
_PROB = "p:"  # column prefix of a label's probability


@dataclass
class SplitPredictions:
    """Texts, 0/1 truth per label (one-hot for multiclass) and probabilities of one labelled set."""

    split: str
    task: str
    labels: list[str]
    texts: list[str]
    truth: np.ndarray  # (rows, labels) int8
    probs: np.ndarray  # (rows, labels) float32

    def __len__(self) -> int:
        return len(self.texts)

    def to_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame({"text": self.texts})
        for i, label in enumerate(self.labels):
            frame[label] = self.truth[:, i]
        for i, label in enumerate(self.labels):
            frame[_PROB + label] = self.probs[:, i]
        return frame

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, split: str, task: str, labels: list[str]) -> "SplitPredictions":
        return cls(split, task, labels, frame["text"].astype(str).tolist(),
                   frame[labels].to_numpy(dtype=np.int8),
                   frame[[_PROB + label for label in labels]].to_numpy(dtype=np.float32))


def truth_matrix(dataset, task: str, labels: list[str]) -> np.ndarray:
    """A dataset's labels as a (rows, labels) 0/1 matrix; multiclass classes become one-hot columns."""
    truth = dataset.label_matrix()
    if task == "multilabel":
        return truth.astype(np.int8)
    return np.eye(len(labels), dtype=np.int8)[truth]


def predictions_path(run_dir: Path, split: str) -> Path:
    return Path(run_dir) / runs.PREDICTIONS / f"{split}.parquet"


def save_predictions(run_dir: Path, predictions: SplitPredictions) -> Path:
    """Write `predictions/<split>.parquet` (temp file + rename, like every run file)."""
    path = predictions_path(run_dir, predictions.split)
    with atomic_writer(path, "wb") as handle:
        predictions.to_frame().to_parquet(handle, index=False)
    return path


def read_saved_predictions(run_dir: Path, task: str, labels: list[str],
                           rows: int) -> tuple[list[str], np.ndarray] | None:
    """(texts, probabilities) of the first `rows` rows the job saved (test, else validation); None if none saved.

    Raises:
        ModelNotAvailable: the file is unreadable or lacks the run's label columns.
    """
    for split in ("test", "val"):
        path = predictions_path(run_dir, split)
        if not path.exists():
            continue
        try:
            frame = pd.read_parquet(path).head(rows)
            saved = SplitPredictions.from_frame(frame, split, task, labels)
        except Exception as error:  # pyarrow raises several types for a damaged file; pandas KeyError for columns
            raise ModelNotAvailable(f"{path} cannot be read ({type(error).__name__}: {str(error)[:200]}). "
                                    "Fix: retrain the run, or delete that file to have it scored again.") from None
        return saved.texts, saved.probs
    return None


def score_dataset(scorer, dataset, split: str, progress: Callable[[int, int], None] | None = None,
                  chunk: int = 512) -> SplitPredictions:
    """Score a labelled dataset with `scorer`, in row order and in chunks (progress(done, total) after each)."""
    if dataset.labels != scorer.labels:
        raise DataError(f"the file's labels {dataset.labels} differ from the run's {scorer.labels}. "
                        "Fix: upload a file labelled with the run's label columns.")
    texts = dataset.frame["text"].astype(str).tolist()
    parts = []
    for start in range(0, len(texts), chunk):
        parts.append(scorer.predict_proba(texts[start:start + chunk]))
        if progress:
            progress(min(start + chunk, len(texts)), len(texts))
    probs = np.concatenate(parts) if parts else np.zeros((0, len(scorer.labels)), dtype=np.float32)
    return SplitPredictions(split, scorer.task, scorer.labels, texts,
                            truth_matrix(dataset, scorer.task, scorer.labels), probs.astype(np.float32))
