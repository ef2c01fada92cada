"""Model plumbing shared by the transformer explainers: encode one text, and the explained output function."""

from __future__ import annotations

import numpy as np

from core.errors import ConfigError


def require_transformer(scorer, method: str) -> None:
    if scorer.model_kind == "tfidf":
        raise ConfigError(f"method {method!r} needs a transformer run; this run is the tfidf baseline. "
                          "Fix: use 'linear' or 'shap'.")
    if scorer.backend != "exact":
        raise ConfigError(f"method {method!r} needs the exact (fp32) model, not backend {scorer.backend!r}. "
                          "Fix: load the run with backend='exact'.")


def encode(scorer, text: str) -> tuple[list[int], list[tuple[int, int]]]:
    """Token ids and character offsets of `text`, truncated to the run's max length (as the Scorer does)."""
    encoded = scorer.tokenizer(text, truncation=True, max_length=scorer.max_length, return_offsets_mapping=True)
    return list(encoded["input_ids"]), [tuple(o) for o in encoded["offset_mapping"]]


def special_mask(scorer, ids: list[int]) -> np.ndarray:
    """True where a token is special ([CLS], [SEP], <s>, ...): kept in baselines and masks."""
    return np.array(scorer.tokenizer.get_special_tokens_mask(ids, already_has_special_tokens=True), dtype=bool)


def output_of(logits, task: str, target: int):
    """The explained number: sigmoid of the label's logit (multilabel) or the class softmax (multiclass)."""
    import torch

    if task == "multilabel":
        return torch.sigmoid(logits[:, target])
    return torch.softmax(logits, dim=-1)[:, target]


def probability_fn(scorer, target: int):
    """f(input_ids LongTensor[batch, len]) -> probability of `target` per row (no padding inside a batch)."""
    import torch

    def forward(input_ids, attention_mask=None):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        logits = scorer.model(input_ids=input_ids.to(scorer.device),
                              attention_mask=attention_mask.to(scorer.device)).logits
        return output_of(logits, scorer.task, target)

    return forward


def tokens_of(scorer, ids: list[int]) -> list[str]:
    return [str(t) for t in scorer.tokenizer.convert_ids_to_tokens(ids)]
