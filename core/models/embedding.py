"""Sentence-Transformers models as the rest of the app sees them.

- `load_sentence_model(path)`: a saved SBERT model (or a plain Hugging Face encoder, which gets mean pooling),
  safetensors only, never remote code.
- `embed(model, texts)`: unit-length float32 embeddings.
- `EmbeddingHead`: the linear classification head fitted on embeddings after SBERT training, saved as
  safetensors beside the model; `EmbeddingClassifier` puts encoder + pooling + head into one torch module
  with the `input_ids -> .logits` interface of a Hugging Face classifier, so scoring, SHAP, Integrated
  Gradients and attention treat an SBERT run like a classifier run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import ModelNotAvailable
from core.fileio import save_arrays, write_json
from core.models.logistic import fit_logistic, probabilities

HEAD_FILE = "head.safetensors"
HEAD_META = "head.json"
POOLINGS = ("mean", "cls", "max")


def load_sentence_model(path: str | Path, device: str | None = None, hub: bool = False):
    """Load a SentenceTransformer from a local folder (a plain encoder folder gets mean pooling).

    Args:
        hub: `path` is a Hub id that `core.models.catalog.resolve_model` found reachable (download allowed).

    Raises:
        ModelNotAvailable: the folder is missing or not loadable (the message says why).
    """
    import logging

    from sentence_transformers import SentenceTransformer

    if not hub and not Path(path).is_dir():
        raise ModelNotAvailable(f"no model folder at {str(path)!r}. Fix: train the run first, or check the path.")
    previous = logging.getLogger("sentence_transformers").level
    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)  # "creating mean pooling" is expected
    try:
        return SentenceTransformer(str(path), device=device or _default_device(), trust_remote_code=False,
                                   local_files_only=not hub, model_kwargs={"use_safetensors": True})
    except (OSError, ValueError) as exc:
        raise ModelNotAvailable(f"cannot load a sentence-transformers model from {str(path)!r}: {exc}") from None
    finally:
        logging.getLogger("sentence_transformers").setLevel(previous)


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def embed(model, texts: list[str], batch_size: int = 64) -> np.ndarray:
    """(len(texts), dim) unit-length float32 embeddings, in the order of `texts`."""
    if not len(texts):
        return np.zeros((0, model.get_embedding_dimension()), dtype=np.float32)
    vectors = model.encode([str(t) for t in texts], batch_size=batch_size, convert_to_numpy=True,
                           normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


def memoized_encoder(model, batch_size: int = 64):
    """`encode(texts)` = `embed(model, texts)`, remembering every list it embedded.

    A finished SBERT job embeds the same splits for several purposes (kNN, clustering, the head, saved
    predictions); with this each split is embedded once per model.
    """
    cache: dict[tuple, np.ndarray] = {}

    def encode(texts: list[str]) -> np.ndarray:
        key = tuple(str(t) for t in texts)
        if key not in cache:
            cache[key] = embed(model, list(key), batch_size)
        return cache[key]

    return encode


@dataclass
class EmbeddingHead:
    """logits = embedding @ weight.T + bias, fitted with logistic regression (per label, or multinomial)."""

    weight: np.ndarray
    bias: np.ndarray
    task: str
    labels: list[str]

    @classmethod
    def fit(cls, vectors: np.ndarray, labels: np.ndarray, task: str, names: list[str], seed: int = 42,
            c: float = 10.0) -> "EmbeddingHead":
        """Fit on training embeddings: one balanced logistic regression per label, or one multinomial one."""
        weight, bias = fit_logistic(vectors, labels, task, len(names), seed, c)
        return cls(weight, bias, task, list(names))

    def logits(self, vectors: np.ndarray) -> np.ndarray:
        return np.asarray(vectors, dtype=np.float32) @ self.weight.T + self.bias

    def predict_proba(self, vectors: np.ndarray) -> np.ndarray:
        """Per-label sigmoid (multilabel) or class softmax (multiclass) probabilities."""
        return probabilities(self.logits(vectors), self.task)

    def save(self, folder: Path) -> None:
        save_arrays(Path(folder) / HEAD_FILE, {"weight": self.weight, "bias": self.bias})
        write_json(Path(folder) / HEAD_META, {"task": self.task, "labels": self.labels})

    @classmethod
    def load(cls, folder: Path) -> "EmbeddingHead":
        from safetensors.numpy import load_file

        if not (Path(folder) / HEAD_FILE).exists():
            raise ModelNotAvailable(f"{folder} has no classification head ({HEAD_FILE}): this SBERT run was trained "
                                    "on pairs, triplets or Q&A, so it embeds and searches but does not score. "
                                    "Fix: use it on the Search page, or train an SBERT run on labelled text.")
        meta = json.loads((Path(folder) / HEAD_META).read_text(encoding="utf-8"))
        weights = load_file(str(Path(folder) / HEAD_FILE))
        return cls(weights["weight"], weights["bias"], meta["task"], meta["labels"])


def _pooling_of(model) -> str:
    """The pooling mode of a SentenceTransformer made of Transformer + Pooling [+ Normalize]."""
    names = [type(module).__name__ for module in model]
    if names[:2] != ["Transformer", "Pooling"] or any(n not in ("Normalize",) for n in names[2:]):
        raise ModelNotAvailable(f"unsupported SBERT module stack {names}. Fix: use Transformer + Pooling "
                                "(+ Normalize), the layout of all-MiniLM-L6-v2 and most sentence-transformers.")
    mode = str(model[1].pooling_mode)
    if mode not in POOLINGS:
        raise ModelNotAvailable(f"pooling {mode!r} is not supported for scoring. Fix: use one of {POOLINGS}.")
    return mode


def _torch_module():
    import torch

    class EmbeddingClassifier(torch.nn.Module):
        """Encoder -> pooling -> (normalise) -> linear head, returning an object with `.logits`."""

        def __init__(self, encoder, pooling: str, head: EmbeddingHead):
            super().__init__()
            self.encoder, self.pooling = encoder, pooling
            self.head = torch.nn.Linear(head.weight.shape[1], head.weight.shape[0])
            with torch.no_grad():
                self.head.weight.copy_(torch.from_numpy(head.weight))
                self.head.bias.copy_(torch.from_numpy(head.bias))

        @property
        def config(self):
            return self.encoder.config

        def get_input_embeddings(self):
            return self.encoder.get_input_embeddings()

        def set_attn_implementation(self, implementation: str) -> None:
            self.encoder.set_attn_implementation(implementation)

        def embeddings(self, input_ids, attention_mask=None, output_attentions: bool = False):
            if attention_mask is None:
                attention_mask = torch.ones_like(input_ids)
            out = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                               output_attentions=output_attentions)
            tokens, mask = out.last_hidden_state, attention_mask.unsqueeze(-1).to(out.last_hidden_state.dtype)
            if self.pooling == "cls":
                pooled = tokens[:, 0]
            elif self.pooling == "max":
                pooled = tokens.masked_fill(mask == 0, torch.finfo(tokens.dtype).min).max(dim=1).values
            else:
                pooled = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            # the head was fitted on unit-length embeddings (see `embed`), whatever the model's own stack does
            return torch.nn.functional.normalize(pooled, p=2, dim=-1), out

        def forward(self, input_ids, attention_mask=None, output_attentions: bool = False, **_):
            from types import SimpleNamespace

            pooled, out = self.embeddings(input_ids, attention_mask, output_attentions)
            return SimpleNamespace(logits=self.head(pooled), attentions=getattr(out, "attentions", None))

    return EmbeddingClassifier


def embedding_classifier(model, head: EmbeddingHead):
    """One torch module (encoder + pooling + head) from a SentenceTransformer and its fitted head."""
    return _torch_module()(model[0].auto_model, _pooling_of(model), head).eval()
