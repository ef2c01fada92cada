"""The data report: a JSON-able dict describing a dataset and its splits."""

from __future__ import annotations

import numpy as np

from core.data.schema import Dataset

_TOKEN_SAMPLE = 5000


def _length_stats(lengths: np.ndarray, bins: int = 20) -> dict:
    if not len(lengths):
        return {}
    counts, edges = np.histogram(lengths, bins=bins)
    return {"min": int(lengths.min()), "mean": round(float(lengths.mean()), 1),
            "p50": float(np.percentile(lengths, 50)), "p95": float(np.percentile(lengths, 95)),
            "max": int(lengths.max()), "hist": {"edges": edges.round(1).tolist(), "counts": counts.tolist()}}


def label_counts(dataset: Dataset) -> dict[str, int]:
    """Positives per label (multilabel) or rows per class (multiclass)."""
    labels = dataset.label_matrix()
    if dataset.kind == "multilabel":
        return {name: int(labels[:, i].sum()) for i, name in enumerate(dataset.labels)}
    if dataset.kind == "multiclass":
        counts = np.bincount(labels, minlength=len(dataset.labels))
        return {name: int(counts[i]) for i, name in enumerate(dataset.labels)}
    return {}


def cooccurrence(dataset: Dataset) -> dict:
    """Label co-occurrence counts (multilabel): matrix[i][j] = rows positive for both i and j."""
    labels = dataset.label_matrix().astype(np.int64)
    return {"labels": dataset.labels, "matrix": (labels.T @ labels).tolist()}


def token_lengths(texts: list[str], tokenizer) -> np.ndarray:
    """Token counts (special tokens included) of up to 5,000 texts, for a chosen tokenizer."""
    if len(texts) > _TOKEN_SAMPLE:
        texts = list(np.random.default_rng(0).choice(np.asarray(texts, dtype=object), _TOKEN_SAMPLE, replace=False))
    encoded = tokenizer(list(texts), add_special_tokens=True, truncation=False)["input_ids"]
    return np.array([len(ids) for ids in encoded])


def data_report(dataset: Dataset, splits: dict[str, Dataset] | None = None, tokenizer=None,
                steps: dict | None = None) -> dict:
    """Describe a dataset (and its splits) as a JSON-able dict.

    Args:
        dataset: the whole dataset (after cleaning/de-duplication when `splits` are given).
        splits: optional {"train": ..., "val": ..., "test": ...}.
        tokenizer: optional Hugging Face tokenizer for token-length statistics.
        steps: reports of the preparation steps (cleaning, dedup, balancing) to include.

    Returns:
        rows, kind, columns, how they were inferred, warnings, per-split label counts and prevalence,
        label co-occurrence, text length statistics, rows dropped and why, and the step reports.
    """
    parts = {"all": dataset, **(splits or {})}
    text_col = dataset.text_columns()[0]
    chars = dataset.frame[text_col].astype(str).str.len().to_numpy()
    report = {
        "name": dataset.name, "kind": dataset.kind, "rows": len(dataset.frame),
        "columns": dataset.spec.to_dict(), "inference": dataset.inference, "warnings": dataset.warnings,
        "labels": dataset.labels,
        "split_rows": {name: len(part.frame) for name, part in parts.items()},
        "label_counts": {name: label_counts(part) for name, part in parts.items()},
        "prevalence": {name: {label: round(count / max(len(part.frame), 1), 4)
                              for label, count in label_counts(part).items()} for name, part in parts.items()},
        "lengths": {"column": text_col, "chars": _length_stats(chars)},
        "dropped": dict(dataset.dropped),
        "steps": steps or {},
    }
    if dataset.kind == "multilabel":
        report["cooccurrence"] = cooccurrence(dataset)
        report["clean_rows"] = int((dataset.label_matrix().sum(axis=1) == 0).sum())
    if tokenizer is not None:
        report["lengths"]["tokens"] = _length_stats(token_lengths(dataset.frame[text_col].astype(str).tolist(),
                                                                  tokenizer))
    return report
