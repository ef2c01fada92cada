"""Embedding evaluation of an SBERT model on a run's splits (used for base vs fine-tuned, and live during training).

What is measured depends on the data (metrics from `core.evaluation.embeddings` / `retrieval`):

- labelled text: kNN classification (training split as the index) and k-means clustering of the held-out split;
- Q&A: retrieval of each held-out question's answer among the answers of every split;
- triplets: retrieval of the positive among all positives and negatives, and triplet accuracy;
- pairs with 0/1 labels: best-threshold F1 and average precision of cosine similarity;
- scored pairs: Spearman of cosine similarity with the scores;
- pairs without either: retrieval of sentence2 from sentence1.
"""

from __future__ import annotations

import numpy as np

from core.models.embedding import memoized_encoder
from core.evaluation import embeddings as emb
from core.evaluation.retrieval import retrieval_metrics
from core.training.data import TrainingData

MAIN_METRIC = {"labelled": ("knn", "macro_f1"), "qa": ("retrieval", "ndcg@10"),
               "triplets": ("retrieval", "ndcg@10"), "pairs": ("retrieval", "ndcg@10"),
               "pairs_label": ("pair_classification", "average_precision"), "pairs_score": ("pair_scores", "spearman")}
_LIVE_INDEX_ROWS = 2000  # training rows used as the kNN index during training (the final evaluation uses all)
_LIVE_QUERY_ROWS = 1000


def metric_key(family: str) -> str:
    """Flat name of a family's main metric, as logged during training (e.g. `knn_macro_f1`)."""
    group, name = MAIN_METRIC[family]
    return f"{group}_{name}".replace("@", "_at_")


def _retrieval(encode, queries: list[str], relevant_texts: list[str], corpus_texts: list[str]) -> dict:
    corpus = list(dict.fromkeys(corpus_texts))  # unique documents, first-seen order
    position = {text: i for i, text in enumerate(corpus)}
    relevant = [{position[text]} for text in relevant_texts]
    return retrieval_metrics(encode(queries), encode(corpus), relevant)


def evaluate_embeddings(encode, data: TrainingData, family: str, split: str, k: int = 5, seed: int = 42,
                        max_index: int | None = None, max_queries: int | None = None,
                        n_clusters: int | None = None) -> dict:
    """Embedding metrics on `split` (`val` or `test`) of `data`; see the module doc.

    Args:
        encode: texts -> unit-length embeddings (`core.models.embedding.memoized_encoder(model)`).
        max_index / max_queries: cap the kNN index / evaluated rows (the live evaluator uses small caps).
        n_clusters: k of the k-means clustering evaluation; None = the number of classes.
    """
    part = data.test if split == "test" else data.val
    frame = part.frame.iloc[:max_queries] if max_queries else part.frame
    everything = [p.frame for p in (data.train, data.val, data.test) if p is not None]
    result: dict = {"split": split, "rows": len(frame)}
    if family == "labelled":
        labels = part.label_matrix()[:len(frame)]
        train_labels = data.train.label_matrix()[:max_index] if max_index else data.train.label_matrix()
        texts = data.train.frame["text"].astype(str).tolist()
        train_vectors = encode(texts[:max_index] if max_index else texts)
        vectors = encode(frame["text"].astype(str).tolist())
        result["knn"] = emb.knn_metrics(train_vectors, train_labels, vectors, labels, k, data.task)
        result["clustering"] = emb.clustering_metrics(vectors, emb.class_keys(labels, data.task), seed,
                                                      n_clusters=n_clusters)
    elif family == "qa":
        corpus = [a for f in everything for a in f["answer"].astype(str)]
        result["retrieval"] = _retrieval(encode, frame["question"].astype(str).tolist(),
                                         frame["answer"].astype(str).tolist(), corpus)
    elif family == "triplets":
        corpus = [t for f in everything for col in ("positive", "negative") for t in f[col].astype(str)]
        result["retrieval"] = _retrieval(encode, frame["anchor"].astype(str).tolist(),
                                         frame["positive"].astype(str).tolist(), corpus)
        anchor, positive, negative = (encode(frame[c].astype(str).tolist())
                                      for c in ("anchor", "positive", "negative"))
        result["triplet_accuracy"] = round(float(np.mean(emb.pair_similarities(anchor, positive)
                                                         > emb.pair_similarities(anchor, negative))), 6)
    else:
        sims = emb.pair_similarities(encode(frame["sentence1"].astype(str).tolist()),
                                     encode(frame["sentence2"].astype(str).tolist()))
        if family == "pairs_label":
            result["pair_classification"] = emb.pair_classification_metrics(sims, frame["label"].to_numpy())
        elif family == "pairs_score":
            result["pair_scores"] = emb.pair_score_metrics(sims, frame["score"].to_numpy())
        else:
            corpus = [t for f in everything for t in f["sentence2"].astype(str)]
            result["retrieval"] = _retrieval(encode, frame["sentence1"].astype(str).tolist(),
                                             frame["sentence2"].astype(str).tolist(), corpus)
    return result


def _evaluator_base():
    from sentence_transformers.base.evaluation.evaluator import BaseEvaluator

    return BaseEvaluator


class EmbeddingEvaluator(_evaluator_base()):
    """Live validation metric for `SentenceTransformerTrainer` (its value drives best checkpoint and early stop)."""

    def __init__(self, data: TrainingData, family: str, k: int, seed: int):
        super().__init__()
        self.data, self.family, self.k, self.seed = data, family, k, seed
        self.primary_metric = metric_key(family)
        self.greater_is_better = True

    def __call__(self, model, output_path=None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        result = evaluate_embeddings(memoized_encoder(model), self.data, self.family, "val", self.k, self.seed,
                                     max_index=_LIVE_INDEX_ROWS, max_queries=_LIVE_QUERY_ROWS)
        group = MAIN_METRIC[self.family][0]
        metrics = {f"{group}_{name}".replace("@", "_at_"): float(value)
                   for name, value in (result.get(group) or {}).items()
                   if isinstance(value, (int, float)) and name not in ("k", "rows", "queries", "corpus", "pairs")}
        metrics.setdefault(self.primary_metric, 0.0)
        return metrics
