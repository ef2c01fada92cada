"""The `int8` scoring backend: dynamic int8 quantisation of every Linear layer, made at load time (CPU only).

It keeps the ranking (Jigsaw test macro ROC-AUC moved by -0.0006 for a fine-tuned MiniLM) but can move single
probabilities a lot, so thresholds tuned on `exact` scores do not carry over (bench/RESULTS.md).
"""

from __future__ import annotations

import warnings


def quantize_int8(model, tokenizer=None, device: str = "cpu"):
    """Dynamic int8 quantisation of every nn.Linear (weights int8, activations quantised per batch)."""
    import torch

    with warnings.catch_warnings():  # torch >= 2.10 points eager quantisation users to torchao; it still works
        warnings.simplefilter("ignore")
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
