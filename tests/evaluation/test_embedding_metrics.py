"""Embedding metrics against hand-computed values and sklearn."""

import math

import numpy as np
import pytest

from core.models.embedding import EmbeddingHead
from core.evaluation import embeddings as emb
from core.evaluation.retrieval import ranking_metrics, retrieval_metrics, top_k


def test_ranking_metrics_by_hand():
    # query 0: the only relevant doc (0) is ranked 2nd; query 1: relevant {0, 1} at ranks 1 and 3
    ranked = np.array([[2, 0, 1, 3], [0, 3, 1, 2]])
    result = ranking_metrics(ranked, [{0}, {0, 1}])
    q0 = {"accuracy@1": 0, "accuracy@5": 1, "recall@1": 0, "recall@5": 1, "mrr@10": 0.5,
          "ndcg@10": 1 / math.log2(3), "map@100": 0.5}
    q1 = {"accuracy@1": 1, "accuracy@5": 1, "recall@1": 0.5, "recall@5": 1, "mrr@10": 1.0,
          "ndcg@10": (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3)), "map@100": (1 / 1 + 2 / 3) / 2}
    for key in q0:
        assert result[key] == pytest.approx((q0[key] + q1[key]) / 2, abs=1e-6), key
    assert result["queries"] == 2
    assert ranking_metrics(ranked, [set(), {3}])["queries"] == 1  # queries without relevant docs are skipped


def test_top_k_matches_a_full_sort_and_retrieval_finds_identical_vectors():
    rng = np.random.default_rng(0)
    queries, corpus = rng.normal(size=(7, 16)), rng.normal(size=(50, 16))
    indices, scores = top_k(queries, corpus, 5, chunk=3)
    sims = emb.normalise(queries) @ emb.normalise(corpus).T
    np.testing.assert_array_equal(indices, np.argsort(-sims, axis=1)[:, :5])
    np.testing.assert_allclose(scores, np.sort(sims, axis=1)[:, ::-1][:, :5], rtol=1e-5)
    result = retrieval_metrics(corpus[[4, 9]] * 3.0, corpus, [{4}, {9}])  # scale does not matter for cosine
    assert result["accuracy@1"] == 1.0 and result["ndcg@10"] == pytest.approx(1.0) and result["corpus"] == 50


@pytest.mark.parametrize("task", ["multiclass", "multilabel"])
def test_knn_matches_sklearn(task):
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(1)
    train, test = rng.normal(size=(120, 8)), rng.normal(size=(40, 8))
    if task == "multiclass":
        train_y, test_y = rng.integers(0, 3, 120), rng.integers(0, 3, 40)
    else:
        train_y, test_y = rng.integers(0, 2, (120, 4)), rng.integers(0, 2, (40, 4))
    reference = KNeighborsClassifier(n_neighbors=5, metric="cosine", algorithm="brute").fit(train, train_y)
    expected = reference.predict(test)
    np.testing.assert_array_equal(emb.knn_predict(train, train_y, test, 5, task), expected)
    result = emb.knn_metrics(train, train_y, test, test_y, 5, task)
    assert result["accuracy"] == pytest.approx(accuracy_score(test_y, expected), abs=1e-6)
    assert result["macro_f1"] == pytest.approx(f1_score(test_y, expected, average="macro", zero_division=0), abs=1e-6)


def test_class_keys_give_one_id_per_label_combination():
    labels = np.array([[0, 1], [1, 1], [0, 1], [0, 0]])
    keys = emb.class_keys(labels, "multilabel")
    assert keys[0] == keys[2] and len(set(keys.tolist())) == 3
    np.testing.assert_array_equal(emb.class_keys(np.array([2, 0, 2]), "multiclass"), [2, 0, 2])


def test_clustering_purity_and_silhouette():
    rng = np.random.default_rng(2)
    centres = np.eye(3) * 10
    vectors = np.concatenate([c + rng.normal(scale=0.1, size=(30, 3)) for c in centres])
    classes = np.repeat([0, 1, 2], 30)
    result = emb.clustering_metrics(vectors, classes)
    assert result["k"] == 3 and result["purity"] == 1.0 and result["silhouette"] > 0.9
    mixed = emb.clustering_metrics(rng.normal(size=(90, 3)), classes)
    assert mixed["purity"] < 0.7  # random classes: k-means clusters cannot be pure
    assert emb.clustering_metrics(vectors, np.zeros(90, dtype=int))["purity"] is None


def test_best_f1_threshold_matches_brute_force_and_ap_matches_sklearn():
    from sklearn.metrics import average_precision_score, f1_score

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 60)
    sims = np.round(labels * 0.3 + rng.uniform(-0.5, 0.5, 60), 2)  # rounding makes ties
    best = max(f1_score(labels, sims >= t) for t in np.unique(sims))
    result = emb.pair_classification_metrics(sims, labels)
    assert result["best_f1"] == pytest.approx(best, abs=1e-6)
    assert f1_score(labels, sims >= result["best_threshold"]) == pytest.approx(best, abs=1e-6)
    assert result["average_precision"] == pytest.approx(average_precision_score(labels, sims), abs=1e-6)


def test_pair_scores_use_rank_correlation():
    sims = np.array([0.1, 0.5, 0.2, 0.9])
    assert emb.pair_score_metrics(sims, np.exp(sims * 5))["spearman"] == pytest.approx(1.0)
    assert emb.pair_score_metrics(sims, -sims)["spearman"] == pytest.approx(-1.0)


def test_embedding_head_keeps_every_class_and_label():
    rng = np.random.default_rng(4)
    vectors = emb.normalise(rng.normal(size=(60, 8)))
    classes = np.where(vectors[:, 0] > 0, 2, 0)  # class 1 never appears in training
    head = EmbeddingHead.fit(vectors, classes, "multiclass", ["a", "b", "c"])
    probs = head.predict_proba(vectors)
    assert probs.shape == (60, 3) and np.allclose(probs.sum(axis=1), 1) and probs[:, 1].max() < 0.01
    assert (probs.argmax(axis=1) == classes).mean() > 0.9
    labels = np.stack([vectors[:, 0] > 0, np.zeros(60, dtype=bool)], axis=1).astype(int)  # 2nd label never on
    head = EmbeddingHead.fit(vectors, labels, "multilabel", ["x", "y"])
    probs = head.predict_proba(vectors)
    assert probs[:, 1].max() < 0.01 and ((probs[:, 0] > 0.5) == labels[:, 0]).mean() > 0.9
