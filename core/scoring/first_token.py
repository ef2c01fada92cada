"""Exact scoring shortcut: compute the last encoder layer for the first token only.

A sequence-classification head of the BERT family (BERT, RoBERTa, XLM-R, ELECTRA, MiniLM) reads only the
first token ([CLS]/<s>) of the last layer. That layer's keys and values still need every token, but its
query, attention output, feed-forward block and LayerNorms are per-token, so for a classifier they are wasted
on all other positions: about 80% of the last layer, 14% of a 6-layer model's Linear work. The logits are the
same up to float rounding (about 1e-6). `first_token_only` installs the shortcut only after checking on a
padded probe batch that the model's logits do not change; otherwise (DeBERTa's disentangled attention, a head
that pools every token, anything unexpected) the model stays as it was.

Calls that record per-layer outputs (`output_attentions`, `output_hidden_states`: the attention views) and
training run the full layer, so explanations see every layer exactly as before.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
from transformers.models.bert.modeling_bert import eager_attention_forward

try:
    from transformers.utils.output_capturing import _active_collector
except ImportError:  # another transformers layout: always run the full layer rather than guess
    _active_collector = None

_PROBE = ["a short probe", "a longer probe text, so that the batch holds padding and the mask is exercised"]


def _capturing_outputs() -> bool:
    """True while transformers records per-layer outputs (attentions, hidden states) of this forward."""
    return _active_collector is None or bool(_active_collector.get())


class FirstTokenLayer(nn.Module):
    """Wraps a BERT-style encoder layer; returns (batch, 1, hidden): the first token's output only."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer
        self.train(layer.training)

    def forward(self, hidden_states, attention_mask=None, *args, **kwargs):
        if self.training or hidden_states.shape[1] == 1 or _capturing_outputs():
            return self.layer(hidden_states, attention_mask, *args, **kwargs)
        attention = self.layer.attention
        heads = attention.self
        batch, length, _ = hidden_states.shape
        first = hidden_states[:, :1]
        query = heads.query(first).view(batch, 1, -1, heads.attention_head_size).transpose(1, 2)
        key = heads.key(hidden_states).view(batch, length, -1, heads.attention_head_size).transpose(1, 2)
        value = heads.value(hidden_states).view(batch, length, -1, heads.attention_head_size).transpose(1, 2)
        if attention_mask is not None and attention_mask.dim() == 4 and attention_mask.shape[-2] > 1:
            attention_mask = attention_mask[:, :, :1]  # the first query row of the (batch, 1, q, k) mask
        attend = ALL_ATTENTION_FUNCTIONS.get_interface(heads.config._attn_implementation, eager_attention_forward)
        context, _ = attend(heads, query, key, value, attention_mask, dropout=0.0, scaling=heads.scaling)
        context = context.reshape(batch, 1, -1).contiguous()
        return self.layer.feed_forward_chunk(attention.output(context, first))


def _encoder_layers(model: nn.Module):
    encoder = getattr(getattr(model, "base_model", None), "encoder", None)
    layers = getattr(encoder, "layer", None)
    return layers if isinstance(layers, nn.ModuleList) and len(layers) else None


def _bert_shaped(layer: nn.Module) -> bool:
    heads = getattr(getattr(layer, "attention", None), "self", None)
    return (all(hasattr(heads, name) for name in ("query", "key", "value", "attention_head_size", "scaling", "config"))
            and hasattr(layer.attention, "output") and hasattr(layer, "feed_forward_chunk")
            and not getattr(layer, "is_decoder", False) and not getattr(layer, "chunk_size_feed_forward", 0))


def first_token_only(model: nn.Module, tokenizer, tolerance: float = 1e-4) -> bool:
    """Install the first-token last layer on an eval-mode classifier if it leaves the logits unchanged.

    Returns True when installed. The check runs a padded two-text probe through both forms and compares
    the logits (max absolute difference <= `tolerance`); any mismatch or error keeps the full model.
    """
    layers = _encoder_layers(model)
    if layers is None or isinstance(layers[-1], FirstTokenLayer) or not _bert_shaped(layers[-1]):
        return False
    full = layers[-1]
    try:
        batch = tokenizer(_PROBE, padding=True, return_tensors="pt")
        device = next(model.parameters()).device
        batch = {name: batch[name].to(device) for name in ("input_ids", "attention_mask")}
        with torch.inference_mode():
            reference = model(**batch).logits
            layers[-1] = FirstTokenLayer(full)
            shortcut = model(**batch).logits
        same = reference.shape == shortcut.shape and float((reference - shortcut).abs().max()) <= tolerance
    except Exception:  # noqa: BLE001 - an unexpected architecture keeps the full model, it never breaks scoring
        same = False
    if not same:
        layers[-1] = full
    return same
