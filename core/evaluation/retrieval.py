"""Retrieval metrics over embeddings (pure numpy): nDCG@10, MRR@10, MAP@100, Recall@k (to 100), Precision@k,
Accuracy@k.

Definitions follow sentence-transformers' `InformationRetrievalEvaluator` with binary relevance:
accuracy@k = 1 if any relevant document is in the top k; recall@k = relevant found in the top k / relevant;
MRR@10 = 1 / rank of the first relevant document within the top 10 (0 if none); nDCG@10 with the ideal
ranking putting all relevant documents first; MAP@100 = mean over relevant hits in the top 100 of
precision at that rank, divided by min(relevant, 100); precision@k = relevant in the top k / k (as
sentence-transformers counts it, also when fewer than k are relevant). Every metric is averaged over queries.
"""

from __future__ import annotations

import numpy as np

ACCURACY_AT = (1, 5, 10)
RECALL_AT = (1, 5, 10, 100)
PRECISION_AT = (1, 5, 10)


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def top_k(queries: np.ndarray, corpus: np.ndarray, k: int, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Exact cosine top-k: (indices, scores), each (queries, min(k, corpus)), best first.

    Queries are processed in chunks so a large corpus needs chunk x corpus floats, not queries x corpus.
    """
    queries, corpus = normalise(queries), normalise(corpus)
    k = min(int(k), len(corpus))
    indices = np.zeros((len(queries), k), dtype=np.int64)
    scores = np.zeros((len(queries), k), dtype=np.float32)
    for start in range(0, len(queries), chunk):
        sims = queries[start:start + chunk] @ corpus.T
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < sims.shape[1] else np.tile(
            np.arange(sims.shape[1]), (len(sims), 1))
        part_scores = np.take_along_axis(sims, part, axis=1)
        order = np.argsort(-part_scores, axis=1, kind="stable")
        indices[start:start + chunk] = np.take_along_axis(part, order, axis=1)
        scores[start:start + chunk] = np.take_along_axis(part_scores, order, axis=1)
    return indices, scores


def ranking_metrics(ranked: np.ndarray, relevant: list[set[int]]) -> dict[str, float]:
    """Metrics from ranked corpus indices per query (best first) and each query's relevant set."""
    if len(ranked) != len(relevant):
        raise ValueError(f"{len(ranked)} rankings but {len(relevant)} relevance sets")
    sums: dict[str, float] = {}
    counted = 0
    for row, rel in zip(ranked, relevant):
        if not rel:
            continue  # a query with nothing relevant cannot be scored
        counted += 1
        hits = np.array([int(doc) in rel for doc in row], dtype=bool)
        values = {f"accuracy@{k}": float(hits[:k].any()) for k in ACCURACY_AT}
        values.update({f"recall@{k}": hits[:k].sum() / len(rel) for k in RECALL_AT})
        values.update({f"precision@{k}": hits[:k].sum() / k for k in PRECISION_AT})
        first = np.flatnonzero(hits[:10])
        values["mrr@10"] = 1.0 / (first[0] + 1) if len(first) else 0.0
        gains = hits[:10] / np.log2(np.arange(2, min(10, len(hits)) + 2))
        ideal = (1.0 / np.log2(np.arange(2, min(len(rel), 10) + 2))).sum()
        values["ndcg@10"] = float(gains.sum() / ideal)
        top = hits[:100]
        precision_at_hits = np.cumsum(top)[top] / (np.flatnonzero(top) + 1)
        values["map@100"] = float(precision_at_hits.sum() / min(len(rel), 100))
        for key, value in values.items():
            sums[key] = sums.get(key, 0.0) + float(value)
    return {key: round(value / max(counted, 1), 6) for key, value in sums.items()} | {"queries": counted}


def retrieval_metrics(query_vectors: np.ndarray, corpus_vectors: np.ndarray, relevant: list[set[int]]) -> dict:
    """Rank the corpus for each query by cosine similarity and score the ranking (see module doc)."""
    ranked, _ = top_k(query_vectors, corpus_vectors, min(100, len(corpus_vectors)))
    return ranking_metrics(ranked, relevant) | {"corpus": len(corpus_vectors)}
