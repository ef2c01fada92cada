"""The scoring backends: one registry entry each (name, loader, devices, description, exact or not).

A backend turns the run's loaded fp32 model into something the Scorer calls the same way
(`model(input_ids=..., attention_mask=...).logits`). The Score page's choice, `python -m core score --backend`
and `inference.json` all read their names and descriptions from here; measured speeds live in
bench/RESULTS.md only. Adding a backend is one module with a loader plus one `register(Backend(...))` line.

`auto` is not a backend of its own: it resolves on load to `onnx` on a CPU when that loads and matches
PyTorch, and to `exact` everywhere else (the reason is kept in `Scorer.backend_note`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from core.errors import ConfigError
from core.scoring import bf16, int8, onnx

AUTO = "auto"
AUTO_DESCRIPTION = "onnx on CPU when it loads and matches exact, else exact: the same probabilities either way"


@dataclass(frozen=True)
class Backend:
    """One way to run a run's model.

    Attributes:
        name: what users type and what `inference.json` stores.
        load: (fp32 model, tokenizer, device) -> the model to call; None = the fp32 model as it is.
        devices: device types it runs on (`cpu`, `cuda`).
        exact: whether its probabilities equal the saved fp32 ones (to about 1e-6), so saved thresholds hold.
        description: one line for the page and the CLI help.
    """

    name: str
    load: Callable | None
    devices: tuple[str, ...]
    exact: bool
    description: str


REGISTRY: dict[str, Backend] = {}


def register(backend: Backend) -> Backend:
    """Add (or replace) a backend by name."""
    REGISTRY[backend.name] = backend
    return backend


def names() -> tuple[str, ...]:
    """`auto` followed by every registered backend, in registration order."""
    return (AUTO, *REGISTRY)


def describe() -> dict[str, str]:
    """name -> one-line description, `auto` first."""
    return {AUTO: AUTO_DESCRIPTION, **{name: backend.description for name, backend in REGISTRY.items()}}


def get(name: str) -> Backend:
    """The registered backend `name`.

    Raises:
        ConfigError: no such backend (the message lists the known ones).
    """
    if name not in REGISTRY:
        raise ConfigError(f"backend={name!r} is not known. Fix: use one of {names()}.")
    return REGISTRY[name]


def check_device(backend: Backend, device: str) -> None:
    """Raise `ConfigError` when `backend` does not run on `device`."""
    if str(device).split(":")[0] not in backend.devices:
        where = " and ".join("CPU" if d == "cpu" else "CUDA GPUs" for d in backend.devices)
        raise ConfigError(f"backend={backend.name!r} runs on {where} only, not {device!r}. "
                          "Fix: use backend 'exact'.")


register(Backend("exact", None, ("cpu", "cuda"), True, "the saved fp32 weights run by PyTorch"))
register(Backend("onnx", lambda model, tokenizer, device: onnx.onnx_classifier(model, tokenizer), ("cpu",), True,
                 "the same fp32 weights run by ONNX Runtime (exported and checked on load): same probabilities, "
                 "lower latency on CPU"))
register(Backend("int8", int8.quantize_int8, ("cpu",), False,
                 "dynamic int8 quantisation of the Linear layers: faster on CPU, same ranking, but single "
                 "probabilities can move a lot, so saved thresholds may not fit"))
register(Backend("bf16", lambda model, tokenizer, device: bf16.bf16_classifier(model.to(device), tokenizer, device),
                 ("cpu", "cuda"), False,
                 "matrix products in bfloat16 where the hardware has them (AVX512-BF16/AMX CPUs, recent GPUs); "
                 "refuses elsewhere; probabilities within about 0.01"))
