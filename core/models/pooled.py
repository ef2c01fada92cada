"""Classifier models of a run: the encoder's own first-token head, or a mean-pooling head.

Hugging Face's `AutoModelForSequenceClassification` heads read the first token ([CLS], through BERT's pooler).
Sentence-transformers models such as the bundled all-MiniLM-L6-v2 were trained with *mean* pooling, so their
[CLS] output was never trained to summarise a text. On Jigsaw, the same training loop reached test macro
ROC-AUC 0.9759 with a mean-pooling head against 0.9718 with the [CLS] head (bench/pooling_quality.py).

- `resolve_pooling(requested, model_path)`: `auto` is `mean` for sentence-transformers models whose Pooling
  module (found through `modules.json`) says mean pooling, and `cls` for everything else.
- `MeanPoolingClassifier`: encoder -> mean over real tokens -> dropout -> linear, with the
  `input_ids -> .logits` interface of a Hugging Face classifier (so the Trainer, scorer and explainers treat
  both heads alike). Saved as `config.json` (the encoder's, marked with `POOLING_KEY`) + `model.safetensors`.
- `load_classifier(folder)`: loads either kind from a run's `model/` folder; safetensors only, no remote code.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from core.config import POOLINGS
from core.errors import ConfigError, ModelNotAvailable

POOLING_KEY = "cleanspeech_pooling"
WEIGHTS = "model.safetensors"


def sentence_transformers_pooling(model_path: str | Path) -> str | None:
    """The pooling a sentence-transformers model folder was trained with (`mean`, `cls`, ...), else None.

    Reads `modules.json` and its Pooling module's `config.json` (both the sentence-transformers 6 layout,
    `"pooling_mode": "mean"`, and the older `"pooling_mode_mean_tokens": true`). Only local folders are read:
    a Hub id that is not downloaded yet answers None, so `auto` keeps the first-token head.
    """
    folder = Path(str(model_path))
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        pooling = next(m for m in modules if str(m.get("type", "")).endswith("Pooling"))
        config = json.loads((folder / pooling.get("path", "") / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, StopIteration, AttributeError, TypeError):
        return None
    mode = config.get("pooling_mode")
    if isinstance(mode, list) and len(mode) == 1:
        mode = mode[0]
    if isinstance(mode, str):
        return mode
    legacy = {"mean": "pooling_mode_mean_tokens", "cls": "pooling_mode_cls_token", "max": "pooling_mode_max_tokens"}
    modes = [name for name, key in legacy.items() if config.get(key)]
    return modes[0] if len(modes) == 1 else None


def resolve_pooling(requested: str, model_path: str | Path) -> str:
    """`cls` or `mean` for a base model: `auto` = `mean` for mean-pooled sentence-transformers models.

    Raises:
        ConfigError: `requested` is not one of `POOLINGS`.
    """
    if requested not in POOLINGS:
        raise ConfigError(f"pooling={requested!r} is invalid: use one of {POOLINGS}.")
    if requested != "auto":
        return requested
    return "mean" if sentence_transformers_pooling(model_path) == "mean" else "cls"


class MeanPoolingClassifier(nn.Module):
    """encoder -> mean of the last layer over real tokens -> dropout -> linear.

    `forward` returns a `SequenceClassifierOutput` (logits, and the encoder's hidden states and attentions
    when asked). The loss is the Trainer's business (`ClassifierTrainer.compute_loss`): `labels` are ignored.
    """

    def __init__(self, encoder: nn.Module, num_labels: int):
        super().__init__()
        if getattr(encoder, "pooler", None) is not None:
            encoder.pooler = None  # unused here; DDP fails on parameters that get no gradient
        self.encoder = encoder
        self.config = encoder.config
        self.config.num_labels = num_labels
        setattr(self.config, POOLING_KEY, "mean")
        p = getattr(self.config, "classifier_dropout", None)
        p = getattr(self.config, "hidden_dropout_prob", 0.1) if p is None else p
        self.dropout = nn.Dropout(float(p))
        # PyTorch's default initialisation (uniform +-1/sqrt(hidden)), not BERT's normal(0.02) with a zero bias:
        # the larger head sends the encoder a stronger signal from the first step; part of the recipe that
        # reached 0.975 with the bundled MiniLM on Jigsaw (bench/RESULTS.md, session 8).
        self.classifier = nn.Linear(self.config.hidden_size, num_labels)

    @property
    def device(self) -> torch.device:
        return self.classifier.weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.classifier.weight.dtype

    def get_input_embeddings(self) -> nn.Module:
        return self.encoder.get_input_embeddings()

    def set_attn_implementation(self, implementation: str) -> None:
        self.encoder.set_attn_implementation(implementation)

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs: dict | None = None) -> None:
        self.encoder.gradient_checkpointing_enable(gradient_checkpointing_kwargs=gradient_checkpointing_kwargs)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
                inputs_embeds=None, output_attentions=None, output_hidden_states=None, return_dict=None, labels=None):
        # `labels` is accepted and ignored: the Trainer finds the label column by this name in the signature,
        # and the (weighted) loss is computed in ClassifierTrainer.compute_loss.
        from transformers.modeling_outputs import SequenceClassifierOutput

        shape_source = input_ids if input_ids is not None else inputs_embeds[..., 0]
        if attention_mask is None:
            attention_mask = torch.ones(shape_source.shape[:2], dtype=torch.long, device=shape_source.device)
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask, "inputs_embeds": inputs_embeds,
                  "output_attentions": output_attentions, "output_hidden_states": output_hidden_states}
        if token_type_ids is not None:
            inputs["token_type_ids"] = token_type_ids
        if position_ids is not None:
            inputs["position_ids"] = position_ids
        out = self.encoder(**inputs)
        tokens = out.last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
        pooled = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        logits = self.classifier(self.dropout(pooled))
        return SequenceClassifierOutput(logits=logits, hidden_states=getattr(out, "hidden_states", None),
                                        attentions=getattr(out, "attentions", None))

    def save_pretrained(self, folder: str | Path) -> None:
        """Write `config.json` and `model.safetensors` into `folder` (the tokenizer is saved by the caller)."""
        from safetensors.torch import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.config.save_pretrained(folder)
        save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(folder / WEIGHTS),
                  metadata={"format": "pt"})


def mean_pooling_classifier(model_path: str, num_labels: int, id2label: dict[int, str], problem_type: str,
                            **load_kwargs) -> MeanPoolingClassifier:
    """A fresh mean-pooling head on the pretrained encoder at `model_path` (local folder or Hub id)."""
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(model_path, use_safetensors=True, **load_kwargs)
    model = MeanPoolingClassifier(encoder, num_labels)
    model.config.id2label = dict(id2label)
    model.config.label2id = {v: k for k, v in id2label.items()}
    model.config.problem_type = problem_type
    return model


def pooling_of(model_dir: str | Path) -> str:
    """`mean` or `cls`: the head of the classifier saved in `model_dir`."""
    try:
        config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return "cls"
    return "mean" if config.get(POOLING_KEY) == "mean" else "cls"


def load_classifier(model_dir: str | Path) -> nn.Module:
    """The classifier saved in a run's `model/` folder (first-token or mean-pooling head), in eval mode.

    Raises:
        ModelNotAvailable: the folder has no loadable model (the message says why).
    """
    from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification

    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise ModelNotAvailable(f"no model in {str(model_dir)!r} (config.json is missing). "
                                "Fix: train the run to the end, or pick a finished run.")
    if pooling_of(model_dir) != "mean":
        return AutoModelForSequenceClassification.from_pretrained(model_dir, use_safetensors=True).eval()
    from safetensors.torch import load_file

    if not (model_dir / WEIGHTS).is_file():
        raise ModelNotAvailable(f"{str(model_dir)!r} has no {WEIGHTS}. Fix: train the run again.")
    config = AutoConfig.from_pretrained(model_dir)
    model = MeanPoolingClassifier(AutoModel.from_config(config), config.num_labels)
    model.load_state_dict(load_file(str(model_dir / WEIGHTS)), strict=True)
    return model.eval()
