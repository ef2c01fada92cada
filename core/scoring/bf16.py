"""The Scorer's `bf16` backend: the run's matrix products in bfloat16, everything else in fp32.

The weights of every `nn.Linear` are cast to bf16 once, at load time; each forward pass runs under
`torch.autocast(bfloat16)`, which feeds those layers (and attention's matmuls) bf16 inputs and accumulates in
fp32, while embeddings, LayerNorm, softmax and the residual stream stay fp32. Casting the weights once
matters: under autocast alone the fp32 weights are cast again on every call, which made scoring slower
than fp32 here (bench/RESULTS.md).

It pays only where the hardware multiplies bf16 natively: CPUs with AVX512-BF16 or AMX (recent Xeon and
EPYC) and GPUs of compute capability 8.0 and newer. There bf16 matrix products run several times faster
than fp32, and probabilities stay within a few thousandths of `exact` (bf16 keeps 8 bits of mantissa per
value, where int8 spends 8 bits on a whole row or tensor). Elsewhere bf16 is emulated and slower than fp32,
so loading refuses with the fix instead of silently slowing down. After loading, the model is checked
against the fp32 one on a probe batch; a large difference is an error.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from core.errors import ConfigError
from core.scoring.onnx import probe  # the onnx backend's probe batch and reference logits (no onnx import)

# Largest |logit| difference accepted between fp32 and bf16 on the probe batch. bf16 rounding moves the
# fine-tuned MiniLM's logits by a few hundredths; a whole unit means a layer that does not survive bf16.
MAX_LOGIT_DIFF = 0.25


def native_bf16(device: str) -> tuple[bool, str]:
    """(True, "") when `device` multiplies bf16 natively, else (False, why not)."""
    import torch

    if str(device).startswith("cuda"):
        if not torch.cuda.is_available():
            return False, f"device {device!r} was asked for, but PyTorch sees no CUDA GPU"
        if torch.cuda.is_bf16_supported(including_emulation=False):
            return True, ""
        return False, f"the GPU ({device}) has no native bf16 (compute capability 8.0 or newer is needed)"
    if str(device) != "cpu":
        return False, f"bf16 is only supported on 'cpu' and 'cuda', not {device!r}"
    get_capabilities = getattr(torch.cpu, "get_capabilities", None)
    capabilities = get_capabilities() if get_capabilities else {}
    if capabilities.get("amx_bf16") or capabilities.get("avx512_bf16"):
        return True, ""
    cpu = capabilities.get("cpu_name", "this CPU")
    return False, f"{cpu} has neither AVX512-BF16 nor AMX-BF16 instructions, so bf16 would be emulated and slower"


class Bf16Classifier:
    """The classifier with bf16 Linear weights, called like the PyTorch model: `(input_ids, attention_mask)`
    tensors in, an object with fp32 `.logits` out. The wrapped model must only be run through this object."""

    def __init__(self, model, device: str):
        import torch

        self.model, self.device_type = model, str(device).split(":")[0]
        self.config = getattr(model, "config", None)
        for module in model.modules():
            if isinstance(module, torch.nn.Linear):
                module.to(torch.bfloat16)

    def __call__(self, input_ids, attention_mask):
        import torch

        with torch.autocast(self.device_type, dtype=torch.bfloat16):
            logits = self.model(input_ids=input_ids, attention_mask=attention_mask).logits
        return SimpleNamespace(logits=logits.float())

    def to(self, device):
        if str(device).split(":")[0] != self.device_type:
            raise ConfigError(f"backend='bf16' was loaded for {self.device_type!r}, not {device!r}. "
                              "Fix: load the scorer again on that device.")
        return self

    def eval(self):
        return self

    def __repr__(self) -> str:
        return f"Bf16Classifier({type(self.model).__name__}, {self.device_type})"


def bf16_classifier(model, tokenizer, device: str) -> Bf16Classifier:
    """Turn `model` (a loaded fp32 classifier on `device`, changed in place) into the bf16 backend.

    Raises:
        ConfigError: the device has no native bf16, or the bf16 logits differ too much from fp32 ones.
    """
    import torch

    native, why = native_bf16(device)
    if not native:
        raise ConfigError(f"backend='bf16' is not worth it here: {why}. "
                          "Fix: use backend 'onnx' (same probabilities as exact, faster on CPU) or 'exact'.")
    ids, mask, expected = probe(tokenizer, model, device)
    wrapped = Bf16Classifier(model, device)
    with torch.inference_mode():
        got = wrapped(ids, mask).logits.cpu().numpy()
    diff = float(np.abs(got - expected).max())
    if not diff <= MAX_LOGIT_DIFF:
        raise ConfigError(f"backend='bf16': this model's logits move by {diff:.3f} in bf16 (limit "
                          f"{MAX_LOGIT_DIFF}). Fix: use backend 'onnx' or 'exact'.")
    return wrapped
