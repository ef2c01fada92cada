"""SHAP (partition explainer) over the scorer's probability for one label.

For transformer runs the masker works on token ids: a masked token becomes the tokenizer's mask token
id in place, so the text is never re-assembled from substrings and re-tokenized (that round trip
duplicates substrings with SentencePiece/BPE tokenizers, shap issue #2849) and every masked variant has
the same length (no padding inside a batch). Additivity holds: base value + sum of values = output.
"""

from __future__ import annotations

import time

import numpy as np

from core.explain.base import Attribution, Option, label_index, words_from_offsets
from core.explain.forward import encode, probability_fn, tokens_of

NAME = "shap"
TITLE = "SHAP (partition)"
OPTIONS = [Option("max_evals", "int", 200, 20, 5000, "model evaluations: more = closer to exact Owen values, slower"),
           Option("batch_size", "int", 64, 1, 1024, "masked variants per forward pass")]
HOW_TO_READ = ("Owen values from masking groups of tokens: red words raise the label's probability, blue ones "
               "lower it; the base value (all words masked) plus all scores equals the probability.")


class _TruncatingTokenizer:
    """The run's tokenizer with its max length applied, so SHAP sees exactly what the model sees."""

    def __init__(self, tokenizer, max_length: int):
        self._tokenizer, self._max_length = tokenizer, max_length

    def __call__(self, text, **kwargs):
        return self._tokenizer(text, truncation=True, max_length=self._max_length, **kwargs)

    def __getattr__(self, name):
        return getattr(self._tokenizer, name)


def _transformer_model(scorer, target: int, batch_size: int):
    import torch

    forward = probability_fn(scorer, target)

    def model(ids: np.ndarray) -> np.ndarray:
        ids = torch.as_tensor(np.asarray(ids, dtype=np.int64))
        with torch.inference_mode():
            return np.concatenate([forward(ids[i:i + batch_size]).float().cpu().numpy()
                                   for i in range(0, len(ids), batch_size)])

    return model


def explain(scorer, text: str, label: str | None = None, max_evals: int = 200, batch_size: int = 64,
            seed: int = 0) -> Attribution:
    """SHAP values of the probability of `label` (default: the top label) for `text`."""
    import shap

    started = time.perf_counter()
    np.random.seed(seed)  # the partition explainer is deterministic; this pins any sampling fallbacks
    probs = scorer.predict_proba([text])[0]
    target = label_index(scorer.labels, label, probs)
    if scorer.model_kind == "tfidf":
        masker = shap.maskers.Text(r"\W+")
        model = lambda texts: scorer.predict_proba([str(t) for t in texts])[:, target]  # noqa: E731
        explained = shap.Explainer(model, masker, algorithm="partition")(
            [text], max_evals=int(max_evals), batch_size=int(batch_size), silent=True)[0]
        tokens = [str(t) for t in explained.data]
        offsets, position = [], 0
        for token in tokens:  # the regex masker's segments are consecutive substrings of the text
            offsets.append((position, position + len(token)))
            position += len(token)
    else:
        ids, offsets = encode(scorer, text)
        masker = shap.maskers.Text(_TruncatingTokenizer(scorer.tokenizer, scorer.max_length), output_type="token_ids")
        explained = shap.Explainer(_transformer_model(scorer, target, int(batch_size)), masker, algorithm="partition")(
            [text], max_evals=int(max_evals), batch_size=int(batch_size), silent=True)[0]
        tokens = tokens_of(scorer, ids)
    values = np.asarray(explained.values, dtype=np.float64)
    base = float(np.asarray(explained.base_values).reshape(-1)[0])
    words, word_scores = words_from_offsets(text, offsets, values)
    output = float(probs[target])
    return Attribution(NAME, scorer.labels[target], text, output, tokens, values.tolist(), words, word_scores, base,
                       time.perf_counter() - started,
                       {"max_evals": int(max_evals), "additivity_error": float(abs(base + values.sum() - output))})
