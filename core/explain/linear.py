"""Exact contributions for the tfidf baseline: tf-idf value x coefficient of every n-gram in the text.

Explains the label's logit: intercept + sum of contributions = logit, exactly. An n-gram's contribution
is shared equally by its words (a bigram gives half to each).
"""

from __future__ import annotations

import re
import time

import numpy as np

from core.errors import ConfigError
from core.explain.base import Attribution, Option, label_index, word_spans
from core.models.tfidf import TOKEN_PATTERN

NAME = "linear"
TITLE = "Linear contributions (exact)"
OPTIONS: list[Option] = []
HOW_TO_READ = ("Each word's share of the label's logit in the TF-IDF + logistic regression model (exact): "
               "intercept plus all contributions is the logit.")


def explain(scorer, text: str, label: str | None = None, seed: int = 0) -> Attribution:
    """Exact per-word contributions to the logit of `label` (default: the top label)."""
    if scorer.model_kind != "tfidf":
        raise ConfigError("method 'linear' is for tfidf runs. Fix: use 'shap', 'ig' or 'attention'.")

    started = time.perf_counter()
    probs = scorer.predict_proba([text])[0]
    target = label_index(scorer.labels, label, probs)
    ngrams, contributions = scorer.model.contributions(text, target)
    spans = word_spans(text)
    words = [text[s:e] for s, e in spans]
    where: dict[str, list[int]] = {}
    for index, word in enumerate(words):
        for token in re.findall(TOKEN_PATTERN, word.lower()):
            where.setdefault(token, []).append(index)
    word_scores = np.zeros(len(words))
    for ngram, value in zip(ngrams, contributions):
        parts = ngram.split(" ")
        for token in parts:
            owners = where.get(token, [])
            for owner in owners:
                word_scores[owner] += value / len(parts) / len(owners)
    logit = float(scorer.model.logits([text])[0, target])
    intercept = float(scorer.model.intercept[target])
    return Attribution(NAME, scorer.labels[target], text, logit, list(ngrams), [float(v) for v in contributions],
                       words, word_scores.tolist(), intercept, time.perf_counter() - started,
                       {"explains": "logit", "probability": float(probs[target])})
