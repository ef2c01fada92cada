"""Faster dropout for CPU training: the same Bernoulli masks, drawn about 4x faster.

On CPU, PyTorch's dropout draws its mask with `bernoulli_`, one Mersenne-Twister call per element: 12% of a
MiniLM training step on 2 cores (profiled in bench/RESULTS.md). Here one 64-bit word of numpy's SFC64 generator
gives four 16-bit draws, so an element is kept with probability 1 - round(p * 65536) / 65536 (p=0.1 becomes
0.100006) and scaled by 1 / (1 - p), as `torch.nn.functional.dropout` does.

Each call seeds its SFC64 generator from torch's global generator, so `seed` in the config still fixes every
mask, and a resumed run (the Trainer restores torch's RNG state from the checkpoint) draws the same masks.

`use_fast_dropout(model)` swaps every `nn.Dropout` for `FastDropout` and, for models that take their attention
function from transformers' `AttentionInterface` (BERT, RoBERTa, XLM-R, MiniLM, ...), routes attention through
`attention_with_fast_dropout`: SDPA when there is no dropout (evaluation), an explicit softmax with the fast mask
in training. On CUDA keep PyTorch's own dropout: its GPU kernels are already fast.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

ATTENTION_NAME = "cleanspeech_fast_dropout"
_RESOLUTION = 65536  # 16-bit draws


def fast_dropout(x: torch.Tensor, p: float) -> torch.Tensor:
    """`x` with each element zeroed with probability `p` (16-bit resolution) and the rest scaled by 1/(1-p)."""
    if p <= 0.0:
        return x
    if p >= 1.0:
        return torch.zeros_like(x)
    seed = int(torch.randint(0, 2**62, (1,)))
    n = x.numel()
    words = np.random.SFC64(seed).random_raw((n + 3) // 4)
    draws = torch.from_numpy(words.view(np.int16)[:n]).view(x.shape)  # uniform on [-32768, 32767]
    keep = draws >= round(p * _RESOLUTION) - _RESOLUTION // 2
    # one multiply by a scaled 0/1 mask: its backward is one multiply too (torch.where's costs a zero fill)
    return x * keep.to(device=x.device, dtype=x.dtype).mul_(1.0 / (1.0 - p))


class FastDropout(nn.Module):
    """Drop-in `nn.Dropout` with the fast CPU mask (identity in eval mode)."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fast_dropout(x, self.p) if self.training else x

    def extra_repr(self) -> str:
        return f"p={self.p}"


def attention_with_fast_dropout(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """transformers attention function: SDPA without dropout, else softmax attention with the fast mask.

    Shapes as in transformers: query/key/value (batch, heads, seq, dim); the mask is SDPA's (boolean, True =
    attend, or None); returns (batch, seq, heads, dim) and the attention weights.
    """
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if not dropout or not module.training:
        return sdpa_attention_forward(module, query, key, value, attention_mask, scaling=scaling, dropout=0.0,
                                      **kwargs)
    scaling = query.size(-1) ** -0.5 if scaling is None else scaling
    weights = torch.matmul(query * scaling, key.transpose(2, 3))  # scale the smaller tensor
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            weights = weights.masked_fill(~attention_mask, torch.finfo(weights.dtype).min)
        else:
            weights = weights + attention_mask
    weights = fast_dropout(torch.softmax(weights, dim=-1), dropout)
    return torch.matmul(weights, value).transpose(1, 2).contiguous(), weights


def _register() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(ATTENTION_NAME, attention_with_fast_dropout)
    AttentionMaskInterface.register(ATTENTION_NAME, sdpa_mask)


def use_fast_dropout(model: nn.Module) -> int:
    """Swap `model`'s dropout for the fast CPU one, in place; returns how many modules were swapped.

    `model` may be a transformers model or hold one (a SentenceTransformer). Attention goes through
    `attention_with_fast_dropout` only where a model uses SDPA or eager attention from transformers'
    interface; other attention (e.g. DeBERTa-v2's disentangled attention) keeps its own dropout.
    """
    swapped = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.Dropout:
                setattr(parent, name, FastDropout(child.p).train(child.training))
                swapped += 1
    for module in list(model.modules()):
        config = getattr(module, "config", None)
        if getattr(config, "_attn_implementation", None) in ("sdpa", "eager") \
                and getattr(module, "_supports_attention_backend", False):
            _register()
            try:
                module.set_attn_implementation(ATTENTION_NAME)
            except (ValueError, NotImplementedError):  # the model does not take custom attention: keep its own
                pass
    return swapped


def for_cpu_training(model: nn.Module) -> nn.Module:
    """`model` with fast dropout when training runs on CPU (no CUDA device); unchanged on GPU."""
    if not torch.cuda.is_available():
        use_fast_dropout(model)
    return model
