"""The attention a classifier run trains with (`attention` in the config; issue 28).

`hf`: the model's own attention, as transformers loads it. `disentangled-flash`: for DeBERTa-v2/v3 models, the
encoder's attention swapped for the `disentangled-flash` package's (its Triton kernels on an NVIDIA GPU, its
PyTorch implementation elsewhere), which never builds the [batch, heads, length, length] score tensors. The swap
keeps every parameter name, so checkpoints and the saved model load into the plain Hugging Face class and score
the same; before training, the swapped encoder must give the same hidden states as the original on a probe batch
(`TOLERANCE`), or the run is refused. `auto` is `hf` until the kernels' speed-up is measured on a GPU
(`bench/gpu_train.py`).
"""

from __future__ import annotations

import torch

from core.config import ATTENTIONS
from core.errors import ConfigError

TOLERANCE = {"cpu": 1e-4, "cuda": 2e-3}  # max |hidden state difference| on the probe (fp32; TF32 on a GPU)
PACKAGE = "disentangled-flash==1.1.1"


def _backbone(model: torch.nn.Module):
    backbone = getattr(model, "deberta", None)
    if backbone is None or type(backbone).__name__ != "DebertaV2Model":
        kind = getattr(getattr(model, "config", None), "model_type", type(model).__name__)
        raise ConfigError(f"attention='disentangled-flash' is DeBERTa-v2/v3's disentangled attention; this base model "
                          f"is {kind!r}. Fix: use attention 'auto' (the model's own attention) for it.")
    return backbone


def _probe_states(model: torch.nn.Module, backbone, device: str) -> torch.Tensor:
    """The encoder's last hidden states of the real tokens of a fixed probe batch (the logits of a freshly
    initialised head hardly depend on the encoder, so they would hide a wrong attention)."""
    generator = torch.Generator().manual_seed(0)
    vocab = int(model.config.vocab_size)
    ids = torch.randint(min(5, vocab - 1), vocab, (3, 24), generator=generator)
    mask = torch.ones_like(ids)
    mask[1, 15:] = 0  # a padded row: the kernels take the padding mask their own way
    was_training = model.training
    model.eval()
    with torch.no_grad():
        states = backbone(input_ids=ids.to(device), attention_mask=mask.to(device)).last_hidden_state.float().cpu()
    model.train(was_training)
    return states[mask.bool()]


def apply_attention(choice: str, model: torch.nn.Module) -> dict:
    """Set up the attention `choice` names on `model` (in place) and return what is in use:
    {"attention": "hf"} or {"attention": "disentangled-flash", "backend": "triton" | "torch", "probe_max_diff": d}.

    Raises:
        ConfigError: an unknown choice, `disentangled-flash` for a model that is not DeBERTa-v2/v3, the package
            missing, or the swapped attention differing from the model's own by more than `TOLERANCE`.
    """
    if choice not in ATTENTIONS:
        raise ConfigError(f"attention={choice!r} is invalid: use one of {ATTENTIONS}.")
    if choice in ("auto", "hf"):
        return {"attention": "hf"}
    backbone = _backbone(model)
    try:
        from disentangled_flash import enable_deberta_training
    except ImportError:
        raise ConfigError(f"attention='disentangled-flash' needs the disentangled-flash package, which is not "
                          f"installed. Fix: `pip install {PACKAGE}`, or use attention 'auto'.") from None
    on_gpu = torch.cuda.is_available()
    device = "cuda" if on_gpu else "cpu"
    head_dim = model.config.hidden_size // model.config.num_attention_heads
    # its Triton kernels take head sizes 32, 64 and 128 on NVIDIA GPUs; its PyTorch path runs anywhere
    backend = "triton" if on_gpu and head_dim in (32, 64, 128) else "torch"
    model.to(device)
    before = _probe_states(model, backbone, device)
    enable_deberta_training(backbone, backend=backend)
    after = _probe_states(model, backbone, device)
    model.to("cpu")  # the Trainer places the model itself
    diff = float((after - before).abs().max())
    if not diff <= TOLERANCE[device]:
        raise ConfigError(f"disentangled-flash ({backend}) gives hidden states {diff:.2e} away from the model's own "
                          f"attention on a probe batch (tolerance {TOLERANCE[device]:g}). Fix: use attention 'auto'.")
    return {"attention": "disentangled-flash", "backend": backend, "probe_max_diff": diff}
