"""Quality of embeddings without a trained head (pure numpy/sklearn).

kNN classification (cosine, majority vote), k-means clustering purity and silhouette, Spearman of
cosine similarity against scored pairs, and best-threshold F1 / average precision for labelled pairs.
"""

from __future__ import annotations

import numpy as np

from core.evaluation.retrieval import normalise, top_k


def class_keys(labels: np.ndarray, task: str) -> np.ndarray:
    """One integer class per row: the class (multiclass) or the id of the label combination (multilabel)."""
    labels = np.asarray(labels)
    if task == "multiclass":
        return labels.astype(np.int64)
    _, keys = np.unique(labels.astype(np.int8), axis=0, return_inverse=True)
    return keys.reshape(-1).astype(np.int64)


def knn_predict(train_vectors: np.ndarray, train_labels: np.ndarray, query_vectors: np.ndarray, k: int,
                task: str) -> np.ndarray:
    """Majority vote of the k most cosine-similar training rows (ties go to the lower class / to 0).

    Multilabel: each label is voted on separately (a label is on when more than half the neighbours have it),
    as sklearn's KNeighborsClassifier does for a 0/1 label matrix.
    """
    neighbours, _ = top_k(query_vectors, train_vectors, k)
    votes = np.asarray(train_labels)[neighbours]
    if task == "multilabel":
        return (votes.sum(axis=1) * 2 > neighbours.shape[1]).astype(np.int64)
    classes = int(np.max(train_labels)) + 1
    counts = np.zeros((len(votes), classes), dtype=np.int64)
    np.add.at(counts, (np.repeat(np.arange(len(votes)), votes.shape[1]), votes.reshape(-1)), 1)
    return counts.argmax(axis=1)


def knn_metrics(train_vectors: np.ndarray, train_labels: np.ndarray, test_vectors: np.ndarray,
                test_labels: np.ndarray, k: int, task: str) -> dict:
    """kNN accuracy (exact match for multilabel) and macro-F1 (over labels or classes)."""
    from sklearn.metrics import accuracy_score, f1_score

    predicted = knn_predict(train_vectors, train_labels, test_vectors, k, task)
    truth = np.asarray(test_labels)
    if task == "multilabel":
        macro_f1 = f1_score(truth, predicted, average="macro", zero_division=0)
    else:
        labels = np.arange(int(max(truth.max(), np.max(train_labels))) + 1)
        macro_f1 = f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)
    return {"k": int(k), "accuracy": round(float(accuracy_score(truth, predicted)), 6),
            "macro_f1": round(float(macro_f1), 6)}


def clustering_metrics(vectors: np.ndarray, classes: np.ndarray, seed: int = 42, sample: int = 3000,
                       n_clusters: int | None = None) -> dict:
    """k-means purity against `classes`, and the silhouette of the k-means clusters.

    Args:
        n_clusters: k; None = the number of classes.

    Silhouette uses cosine distance on at most `sample` rows (it is quadratic in rows).
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    vectors, classes = normalise(vectors), np.asarray(classes)
    k = int(n_clusters) if n_clusters else len(np.unique(classes))
    if k < 2 or len(vectors) <= k:
        return {"k": k, "purity": None, "silhouette": None, "note": "needs at least 2 classes and more rows"}
    clusters = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(vectors)
    purity = sum(np.bincount(classes[clusters == c]).max() for c in np.unique(clusters)) / len(classes)
    silhouette = None
    if len(np.unique(clusters)) > 1:
        silhouette = float(silhouette_score(vectors, clusters, metric="cosine",
                                            sample_size=min(sample, len(vectors)), random_state=seed))
    return {"k": k, "purity": round(float(purity), 6),
            "silhouette": None if silhouette is None else round(silhouette, 6)}


def pair_similarities(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Cosine similarity of each row of `left` with the same row of `right`."""
    return (normalise(left) * normalise(right)).sum(axis=1)


def best_f1_threshold(similarities: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(best F1, threshold) over all cut points `similarity >= threshold` for 0/1 pair labels."""
    order = np.argsort(-similarities, kind="stable")
    sims, truth = similarities[order], np.asarray(labels)[order].astype(bool)
    positives = truth.sum()
    if positives == 0:
        return 0.0, float("nan")
    true_pos = np.cumsum(truth)
    predicted = np.arange(1, len(truth) + 1)
    f1 = 2 * true_pos / (predicted + positives)
    # only cut between different similarity values: ties must fall on the same side
    valid = np.append(sims[1:] != sims[:-1], True)
    best = int(np.argmax(np.where(valid, f1, -1)))
    threshold = (sims[best] + sims[best + 1]) / 2 if best + 1 < len(sims) else sims[best]
    return float(f1[best]), float(threshold)


def pair_classification_metrics(similarities: np.ndarray, labels: np.ndarray) -> dict:
    """Best-threshold F1 (with its threshold) and average precision of cosine similarity for 0/1 pairs."""
    from sklearn.metrics import average_precision_score

    similarities, truth = np.asarray(similarities, dtype=np.float64), np.asarray(labels).astype(bool)
    f1, threshold = best_f1_threshold(similarities, truth)
    predicted = similarities >= threshold if np.isfinite(threshold) else np.zeros(len(truth), dtype=bool)
    true_pos = int((predicted & truth).sum())
    return {"best_f1": round(f1, 6), "best_threshold": round(threshold, 6),
            # accuracy, precision and recall at the best-F1 threshold, the operating point a user would pick
            "accuracy": round(float((predicted == truth).mean()), 6) if len(truth) else 0.0,
            "precision": round(true_pos / max(int(predicted.sum()), 1), 6),
            "recall": round(true_pos / max(int(truth.sum()), 1), 6),
            "average_precision": round(float(average_precision_score(truth, similarities)), 6),
            "pairs": int(len(truth))}


def pair_score_metrics(similarities: np.ndarray, scores: np.ndarray) -> dict:
    """Spearman (and Pearson) correlation of cosine similarity with gold pair scores."""
    from scipy.stats import pearsonr, spearmanr

    return {"spearman": round(float(spearmanr(similarities, scores).statistic), 6),
            "pearson": round(float(pearsonr(similarities, scores).statistic), 6), "pairs": int(len(scores))}
