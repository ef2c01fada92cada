"""The Scorer's `onnx` backend: the run's own fp32 model, exported at load time and run by ONNX Runtime.

Same weights and maths as `exact` (probabilities agree to about 1e-6). On 2 CPU cores with the bundled MiniLM
(bench/RESULTS.md) it halves the latency of one pasted comment (6.5 ms against 12 ms: ONNX Runtime spends far
less time per operator than PyTorch's eager mode). Batch scoring depends on the CPU: on an AVX2-only one it
is a few per cent faster than `exact` (both near the fp32 peak), on an AVX-512 one (AMD EPYC) twice as fast,
where PyTorch's fp32 matrix products fall well short of ONNX Runtime's. Unlike int8 it keeps thresholds tuned
on `exact` scores.

The graph is exported into memory on every load (about 1-2 s for MiniLM), never written next to the run:
there is no second model file to go stale or to be swapped, and the run folder keeps safetensors only.
After export the graph is checked against the PyTorch model on a probe batch; a mismatch is an error.
"""

from __future__ import annotations

import io
import warnings
from types import SimpleNamespace

import numpy as np

from core.errors import ConfigError

# Largest |logit| difference accepted between PyTorch and the exported graph on the probe batch. fp32 kernels
# differ in summation order (about 1e-6 here); anything near this bound means a wrongly exported operator.
MAX_LOGIT_DIFF = 1e-3
PROBE_TEXTS = ["thanks for fixing the article", "you are a complete idiot and everyone knows it, stop it now",
               "ok"]


class OnnxClassifier:
    """An ONNX Runtime session that the Scorer calls like the PyTorch model: `(input_ids, attention_mask)`
    tensors in, an object with `.logits` (a CPU tensor) out."""

    def __init__(self, session, config=None):
        self.session, self.config = session, config

    def __call__(self, input_ids, attention_mask):
        import torch

        feeds = {"input_ids": input_ids.cpu().numpy().astype(np.int64),
                 "attention_mask": attention_mask.cpu().numpy().astype(np.int64)}
        return SimpleNamespace(logits=torch.from_numpy(self.session.run(None, feeds)[0]))

    def to(self, device):
        if str(device) != "cpu":
            raise ConfigError(f"backend='onnx' runs on CPU only, not {device!r}. Fix: use backend 'exact'.")
        return self

    def eval(self):
        return self

    def __repr__(self) -> str:
        return f"OnnxClassifier(providers={self.session.get_providers()})"


def _logits_only(model):
    """`model` wrapped so that tracing sees two positional tensors in and one logits tensor out."""
    import torch

    class LogitsOnly(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).logits

    return LogitsOnly(model).eval()


def _runtime():
    try:
        import onnx  # noqa: F401  (the exporter needs it)
        import onnxruntime
    except ImportError as error:
        raise ConfigError(f"backend='onnx' needs ONNX Runtime ({error.name} is not installed). "
                          "Fix: pip install onnxruntime onnx (both are in requirements.txt), "
                          "or use backend 'exact'.") from error
    return onnxruntime


def probe(tokenizer, model, device: str = "cpu"):
    """(input_ids, attention_mask, fp32 logits as numpy) of the padded probe batch: the reference that a
    converted backend (onnx, bf16) must reproduce before it is used."""
    import torch

    batch = tokenizer(PROBE_TEXTS, padding=True, return_tensors="pt")
    ids, mask = batch["input_ids"].to(device), batch["attention_mask"].to(device)
    with torch.inference_mode():
        logits = model(input_ids=ids, attention_mask=mask).logits.float().cpu().numpy()
    return ids, mask, logits


def export_graph(model, input_ids, attention_mask) -> bytes:
    """The model as an ONNX graph (bytes) with dynamic batch and sequence axes.

    Uses PyTorch's TorchScript exporter (`dynamo=False`): it handles data-dependent Python in HF models
    without the onnxscript package. Attention is switched to the plain `eager` implementation first, which
    exports to MatMul/Softmax that ONNX Runtime fuses; the caller's model is changed in place.
    """
    import torch

    for module in (model, getattr(model, "encoder", None)):
        if module is not None and hasattr(module, "set_attn_implementation"):
            try:
                module.set_attn_implementation("eager")
                break
            except (ValueError, NotImplementedError):  # models without a choice keep their own attention
                pass
    buffer = io.BytesIO()
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about Python conditionals on shapes; checked below
        torch.onnx.export(_logits_only(model), (input_ids, attention_mask), buffer, dynamo=False,
                          input_names=["input_ids", "attention_mask"], output_names=["logits"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes}, opset_version=17)
    return buffer.getvalue()


def onnx_classifier(model, tokenizer, threads: int | None = None) -> OnnxClassifier:
    """Export `model` (a loaded fp32 classifier on CPU) and open it in ONNX Runtime, checked against PyTorch.

    Args:
        model: anything called as `model(input_ids=..., attention_mask=...)` returning `.logits`.
        tokenizer: the run's tokenizer (for the probe batch).
        threads: ONNX Runtime intra-op threads; None = as many as PyTorch uses.

    Raises:
        ConfigError: ONNX Runtime is missing, the model cannot be exported, or the graph disagrees with PyTorch.
    """
    import torch

    runtime = _runtime()
    ids, mask, expected = probe(tokenizer, model)
    try:
        graph = export_graph(model, ids, mask)
    except Exception as error:  # the exporter raises many types; the user needs the cause and a way out
        raise ConfigError(f"backend='onnx' could not export this model ({type(error).__name__}: {error}). "
                          "Fix: use backend 'exact'.") from error
    options = runtime.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.inter_op_num_threads = 1
    # ONNX Runtime's idle threads spin after each run; in a process that also runs PyTorch (the app computes
    # explanations with torch) that spinning halved torch's speed here. Off costs ONNX Runtime nothing measurable.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = runtime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
    onnx_model = OnnxClassifier(session, getattr(model, "config", None))
    diff = float(np.abs(onnx_model(ids, mask).logits.numpy() - expected).max())
    if not diff <= MAX_LOGIT_DIFF:
        raise ConfigError(f"backend='onnx': the exported graph's logits differ from PyTorch's by {diff:.2e} "
                          f"(limit {MAX_LOGIT_DIFF}). Fix: use backend 'exact'.")
    return onnx_model
