"""Exact and near-duplicate detection.

Exact duplicates are equal after normalisation (case-folded, whitespace collapsed). Near duplicates
have TF-IDF cosine similarity >= a threshold, found by a chunked radius search over the sparse TF-IDF
rows (sparse nearest neighbours), so memory grows with the chunk size and the number of similar pairs,
never with an n x n matrix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from core.data.schema import Dataset
from core.errors import ConfigError

_SPACE_RE = re.compile(r"\s+")
_WORKING_MEMORY_MB = 128


@dataclass
class DuplicateGroups:
    """Duplicate groups over the rows of a dataset: `group[i]` is the group id of row i."""

    group: np.ndarray
    exact_pairs: int = 0
    near_pairs: int = 0
    conflicts: list[dict] = field(default_factory=list)

    def groups(self) -> list[np.ndarray]:
        """Row indices of each group with more than one member."""
        order = np.argsort(self.group, kind="stable")
        ids, starts, counts = np.unique(self.group[order], return_index=True, return_counts=True)
        return [order[s:s + c] for s, c in zip(starts, counts) if c > 1]


def normalise(text: str) -> str:
    """The key under which texts count as exact duplicates."""
    return _SPACE_RE.sub(" ", str(text)).strip().casefold()


def _row_keys(dataset: Dataset) -> pd.Series:
    columns = dataset.text_columns()
    keys = dataset.frame[columns[0]].map(normalise)
    for column in columns[1:]:
        keys = keys + "\x1f" + dataset.frame[column].map(normalise)
    return keys


def _union_find(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected components of the pair graph; returns the smallest row index of each row's component."""
    graph = sp.coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, labels = sp.csgraph.connected_components(graph, directed=False)
    # Name each component by its first row so group ids are stable and readable.
    first = np.full(labels.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, labels, np.arange(n))
    return first[labels]


def near_duplicate_pairs(texts: list[str], threshold: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i < j) of texts whose word 1-2-gram TF-IDF cosine similarity is >= `threshold`.

    Raises:
        ConfigError: when the threshold is outside (0, 1].
    """
    import sklearn
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import NearestNeighbors

    if not 0 < threshold <= 1:
        raise ConfigError(f"near-duplicate threshold {threshold!r} must be in (0, 1]. Fix: use e.g. 0.9.")
    if len(texts) < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32,
                                 token_pattern=r"(?u)\b\w+\b")
    try:
        matrix = vectorizer.fit_transform(texts).tocsr()
    except ValueError:  # every text empty or punctuation only: no vocabulary
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # Brute-force radius search over sparse rows, computed in small chunks (working_memory, MB) so
    # peak memory stays far below an n x n matrix: ~0.5 GB for 18.7k Jigsaw comments.
    with sklearn.config_context(working_memory=_WORKING_MEMORY_MB):
        index = NearestNeighbors(metric="cosine", algorithm="brute", radius=1 - threshold + 1e-6).fit(matrix)
        _, neighbours = index.radius_neighbors(matrix, return_distance=True, sort_results=False)
    lefts = np.repeat(np.arange(len(neighbours)), [len(n) for n in neighbours])
    rights = np.concatenate(neighbours).astype(np.int64) if len(neighbours) else np.zeros(0, dtype=np.int64)
    keep = lefts < rights
    return lefts[keep], rights[keep]


def find_duplicates(dataset: Dataset, near_threshold: float | None = 0.9) -> DuplicateGroups:
    """Group rows that are exact duplicates (after `normalise`) or near duplicates.

    Args:
        dataset: any dataset kind; all its text columns are compared together.
        near_threshold: TF-IDF cosine threshold, or None for exact duplicates only.

    Returns:
        `DuplicateGroups`, including groups whose rows carry conflicting labels.
    """
    n = len(dataset.frame)
    keys = _row_keys(dataset)
    codes = pd.factorize(keys)[0]
    exact_first = pd.Series(np.arange(n)).groupby(codes).transform("min").to_numpy()
    left = np.flatnonzero(exact_first != np.arange(n))
    right = exact_first[left]
    exact_pairs = len(left)
    near_pairs = 0
    if near_threshold is not None:
        near_left, near_right = near_duplicate_pairs(keys.tolist(), near_threshold)
        near_pairs = len(near_left)
        left, right = np.concatenate([left, near_left]), np.concatenate([right, near_right])
    group = _union_find(n, left, right)
    result = DuplicateGroups(group, exact_pairs, near_pairs)
    result.conflicts = _conflicts(dataset, result)
    return result


def _conflicts(dataset: Dataset, groups: DuplicateGroups, limit: int = 50) -> list[dict]:
    if dataset.kind not in ("multilabel", "multiclass"):
        return []
    labels = dataset.label_matrix().reshape(len(dataset.frame), -1)
    found = []
    for rows in groups.groups():
        if len(np.unique(labels[rows], axis=0)) > 1:
            found.append({"rows": rows.tolist()[:10], "texts": dataset.frame["text"].iloc[rows[:3]].str[:120].tolist(),
                          "labels": labels[rows[:10]].tolist()})
            if len(found) >= limit:
                break
    return found


def drop_duplicates(dataset: Dataset, groups: DuplicateGroups) -> tuple[Dataset, dict]:
    """Keep the first row of each duplicate group.

    Returns:
        The de-duplicated dataset and a report (rows removed, pairs found, conflicting groups).
    """
    keep = groups.group == np.arange(len(groups.group))
    report = {"rows_before": len(keep), "rows_removed": int((~keep).sum()), "exact_pairs": groups.exact_pairs,
              "near_pairs": groups.near_pairs, "groups": len(groups.groups()),
              "conflicting_groups": len(groups.conflicts), "conflict_examples": groups.conflicts[:5]}
    return dataset.with_frame(dataset.frame.loc[keep]), report
