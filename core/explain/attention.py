"""Attention views: last-layer [CLS] attention averaged over heads, and attention rollout over layers.

Attention weights show where the model looked, not why it decided: read them next to SHAP and IG.
Fast attention kernels (SDPA) do not return weights, so the model switches to the eager implementation.
"""

from __future__ import annotations

import time

import numpy as np

from core.explain.base import Attribution, Option, label_index, words_from_offsets
from core.explain.forward import encode, require_transformer, tokens_of

OPTIONS: list[Option] = []


def _attentions(scorer, ids: list[int]) -> list[np.ndarray]:
    import torch

    model = scorer.model
    previous = getattr(model.config, "_attn_implementation", None) or "eager"
    if previous != "eager":
        model.set_attn_implementation("eager")  # kernels like SDPA return no attention weights
    try:
        with torch.inference_mode():
            out = model(input_ids=torch.tensor([ids], device=scorer.device), output_attentions=True)
    finally:
        if previous != "eager":  # scoring keeps its fast kernel
            model.set_attn_implementation(previous)
    if not out.attentions or out.attentions[0] is None:
        raise RuntimeError("the model returned no attention weights")
    return [a[0].float().cpu().numpy() for a in out.attentions]  # per layer: (heads, len, len)


def last_layer_cls(attentions: list[np.ndarray], mean_pooled: bool = False) -> np.ndarray:
    """Attention from the first token ([CLS]/<s>) to every token in the last layer, mean over heads.

    `mean_pooled`: the head reads the mean of all tokens, so average the attention of every token instead.
    """
    layer = attentions[-1].mean(axis=0)
    return layer.mean(axis=0) if mean_pooled else layer[0]


def rollout(attentions: list[np.ndarray], mean_pooled: bool = False) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020): (0.5 A + 0.5 I), row-normalised, multiplied over layers; row 0
    (the mean of all rows for a mean-pooling head)."""
    size = attentions[0].shape[-1]
    result = np.eye(size)
    for layer in attentions:
        mixed = 0.5 * layer.mean(axis=0) + 0.5 * np.eye(size)
        mixed /= mixed.sum(axis=-1, keepdims=True)
        result = mixed @ result
    return result.mean(axis=0) if mean_pooled else result[0]


def _explain(kind: str, scorer, text: str, label: str | None) -> Attribution:
    require_transformer(scorer, kind)
    started = time.perf_counter()
    ids, offsets = encode(scorer, text)
    probs = scorer.predict_proba([text])[0]
    target = label_index(scorer.labels, label, probs)
    attentions = _attentions(scorer, ids)
    from core.models.pooled import POOLING_KEY  # imports torch: only here, where the model runs

    mean_pooled = getattr(scorer.model.config, POOLING_KEY, None) == "mean"
    scores = (last_layer_cls if kind == "attention" else rollout)(attentions, mean_pooled)
    words, word_scores = words_from_offsets(text, offsets, scores)
    return Attribution(kind, scorer.labels[target], text, float(probs[target]), tokens_of(scorer, ids),
                       scores.tolist(), words, word_scores, None, time.perf_counter() - started,
                       {"layers": len(attentions), "heads": int(attentions[0].shape[0]),
                        "reads": "every token (mean-pooling head)" if mean_pooled else "the first token",
                        "note": "label-independent: attention is the same whichever label is shown"})


class _Method:
    def __init__(self, name: str, title: str, how: str):
        self.NAME, self.TITLE, self.HOW_TO_READ, self.OPTIONS = name, title, how, OPTIONS

    def explain(self, scorer, text: str, label: str | None = None, seed: int = 0) -> Attribution:
        return _explain(self.NAME, scorer, text, label)


LAST_LAYER = _Method("attention", "Attention (last layer)",
                     "How much the token(s) feeding the classifier head attend to each token in the last layer, "
                     "mean over heads: [CLS] for a first-token head, every token for a mean-pooling head. "
                     "Where the model looked, not which way it pushed.")
ROLLOUT = _Method("rollout", "Attention rollout",
                  "Attention propagated through all layers (with the residual path): a smoother view of which "
                  "tokens reach the head. Always positive.")
