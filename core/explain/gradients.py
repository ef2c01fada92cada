"""Integrated Gradients (Captum `LayerIntegratedGradients`) on the word-embedding layer.

Baseline: every token replaced by the pad token except the special tokens, which stay, so the path
only changes the words. Completeness: sum of attributions = f(x) - f(baseline) up to the reported
convergence delta (smaller with more `n_steps`).
"""

from __future__ import annotations

import time

import numpy as np

from core.explain.base import Attribution, Option, label_index, words_from_offsets
from core.explain.forward import encode, probability_fn, require_transformer, special_mask, tokens_of

NAME = "ig"
TITLE = "Integrated Gradients"
OPTIONS = [Option("n_steps", "int", 50, 4, 500, "integration steps: more = smaller convergence delta, slower"),
           Option("internal_batch_size", "int", 50, 1, 500, "interpolation points per forward/backward pass")]
HOW_TO_READ = ("Gradient of the label's probability, integrated from a baseline of pad tokens to the text: "
               "red words raise the probability, blue ones lower it; the scores add up to the probability "
               "minus the baseline's.")


def explain(scorer, text: str, label: str | None = None, n_steps: int = 50, internal_batch_size: int = 50,
            seed: int = 0) -> Attribution:
    """IG attributions of the probability of `label` (default: the top label) for `text`."""
    import torch
    from captum.attr import LayerIntegratedGradients

    require_transformer(scorer, NAME)
    started = time.perf_counter()
    torch.manual_seed(seed)
    ids, offsets = encode(scorer, text)
    target = label_index(scorer.labels, label, scorer.predict_proba([text])[0])
    inputs = torch.tensor([ids])
    special = torch.from_numpy(special_mask(scorer, ids))
    pad = scorer.tokenizer.pad_token_id or 0
    baseline = torch.where(special, inputs[0], torch.full_like(inputs[0], pad)).unsqueeze(0)
    forward = probability_fn(scorer, target)
    explainer = LayerIntegratedGradients(forward, scorer.model.get_input_embeddings())
    attributions, delta = explainer.attribute(inputs, baselines=baseline, n_steps=int(n_steps),
                                              internal_batch_size=int(internal_batch_size),
                                              return_convergence_delta=True)
    scores = attributions.sum(dim=-1)[0].detach().cpu().numpy().astype(np.float64)
    with torch.inference_mode():
        output, base = float(forward(inputs)[0]), float(forward(baseline)[0])
    words, word_scores = words_from_offsets(text, offsets, scores)
    return Attribution(NAME, scorer.labels[target], text, output, tokens_of(scorer, ids), scores.tolist(), words,
                       word_scores, base, time.perf_counter() - started,
                       {"convergence_delta": float(delta.abs().max()), "n_steps": int(n_steps),
                        "baseline": "pad tokens (special tokens kept)"})
