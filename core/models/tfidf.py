"""The TF-IDF + logistic regression baseline: trains in seconds, saved without pickle.

The fitted vocabulary goes to JSON and the idf/coefficients to safetensors, so loading a run never
unpickles anything (safe to open runs from elsewhere).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core.fileio import save_arrays, write_text_atomic
from core.models.logistic import fit_logistic, probabilities

VOCAB_FILE = "tfidf_vocabulary.json"
WEIGHTS_FILE = "tfidf.safetensors"
TOKEN_PATTERN = r"(?u)\b\w+\b"


def _vectorizer(**kwargs):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, max_features=200_000,
                           token_pattern=TOKEN_PATTERN, dtype=np.float32, **kwargs)


class TfidfModel:
    """Word 1-2-gram TF-IDF + logistic regression (one-vs-rest for multilabel, multinomial for multiclass)."""

    def __init__(self, vectorizer, coef: np.ndarray, intercept: np.ndarray, task: str, labels: list[str]):
        self.vectorizer, self.coef, self.intercept = vectorizer, coef, intercept
        self.task, self.labels = task, labels

    @classmethod
    def fit(cls, texts: list[str], labels: np.ndarray, task: str, names: list[str], seed: int = 42,
            c: float = 4.0) -> "TfidfModel":
        """Fit on training texts and their labels ((rows, labels) 0/1, or (rows,) class ids)."""
        vectorizer = _vectorizer()
        features = vectorizer.fit_transform(list(texts))
        coef, intercept = fit_logistic(features, labels, task, len(names), seed, c, max_iter=2000)
        return cls(vectorizer, coef, intercept, task, list(names))

    def logits(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.vectorizer.transform(list(texts)) @ self.coef.T) + self.intercept

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Per-label sigmoid (multilabel) or class softmax (multiclass) probabilities."""
        return probabilities(self.logits(texts), self.task)

    def contributions(self, text: str, target: int) -> tuple[list[str], np.ndarray]:
        """Exact linear contribution (tf-idf value x coefficient) of each n-gram of `text` to a logit."""
        row = self.vectorizer.transform([text]).tocoo()
        names = self.vectorizer.get_feature_names_out()
        return [str(names[i]) for i in row.col], row.data * self.coef[target, row.col]

    def save(self, folder: Path) -> None:
        vocabulary = {term: int(index) for term, index in self.vectorizer.vocabulary_.items()}
        write_text_atomic(folder / VOCAB_FILE, json.dumps({"task": self.task, "labels": self.labels,
                                                           "vocabulary": vocabulary}, ensure_ascii=False))
        save_arrays(folder / WEIGHTS_FILE, {"idf": self.vectorizer.idf_.astype(np.float32), "coef": self.coef,
                                            "intercept": self.intercept})

    @classmethod
    def load(cls, folder: Path) -> "TfidfModel":
        from safetensors.numpy import load_file

        meta = json.loads((folder / VOCAB_FILE).read_text(encoding="utf-8"))
        weights = load_file(str(folder / WEIGHTS_FILE))
        vectorizer = _vectorizer(vocabulary=meta["vocabulary"])
        vectorizer.idf_ = weights["idf"]
        return cls(vectorizer, weights["coef"], weights["intercept"], meta["task"], meta["labels"])
