"""Validated configuration dataclasses that round-trip to JSON.

`TrainConfig` is the whole recipe of a run: `config.json` in a run folder is enough to reproduce it.
A minimal JSON file works (defaults fill the rest); unknown keys are an error that names them.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.fileio import write_json

MODEL_KINDS = ("classifier", "tfidf", "sbert")
TASKS = ("multilabel", "multiclass")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
CLASS_WEIGHTINGS = ("auto", "none", "balanced")
POOLINGS = ("auto", "cls", "mean")  # classifier heads (core.models.pooled)
NORMALIZATIONS = ("none", "unicode", "unicode+leet")  # text normalisation (core.data.normalize)
NORMALIZE_CHOICES = ("auto", *NORMALIZATIONS)  # `auto`: unicode+leet for multilabel data, else none
ATTENTIONS = ("auto", "hf", "disentangled-flash")  # classifier attention (core.training.attention)
CALIBRATIONS = ("platt", "temperature", "isotonic", "none")  # score calibration (core.evaluation.calibration)
REPORTERS = ("none", "tensorboard", "mlflow")  # experiment tracking (core.training.tracking)
ENSEMBLES = ("auto", "none", "tfidf")  # a partner model blended with a classifier run (core.models.blend)
# SBERT losses by the data they train on (None in the config = the first one listed for the data kind).
SBERT_LOSSES = {
    "labelled": ("softmax", "batch_all_triplet", "batch_hard_soft_margin_triplet", "setfit"),
    "pairs_label": ("online_contrastive", "contrastive"),
    "pairs_score": ("cosent", "cosine"),
    "pairs": ("mnrl", "cached_mnrl"),
    "triplets": ("triplet", "mnrl", "cached_mnrl"),
    "qa": ("mnrl", "cached_mnrl"),
}
ALL_SBERT_LOSSES = tuple(dict.fromkeys(name for names in SBERT_LOSSES.values() for name in names))


def _check(condition: bool, name: str, value: Any, rule: str) -> None:
    if not condition:
        raise ConfigError(f"{name}={value!r} is invalid: {rule}.")


_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "dict": (dict,),
          "list[str]": (list,)}


def _check_types(config) -> None:
    """Each field holds its declared type: `"batch_size": "16"` or `true` is an error, not a silent 1."""
    for spec in fields(config):
        value = getattr(config, spec.name)
        names = [part.strip() for part in str(spec.type).split("|")]
        if value is None and "None" in names:
            continue
        wanted = [name for name in names if name != "None"]
        allowed = tuple(kind for name in wanted for kind in _TYPES[name])
        # bool is an int in Python: accept it only where a bool is declared
        ok = isinstance(value, allowed) and (not isinstance(value, bool) or "bool" in wanted)
        if ok and "list[str]" in wanted:
            ok = all(isinstance(item, str) for item in value)
        if ok and isinstance(value, float) and not math.isfinite(value):
            ok = False
        if not ok:
            kind = " or ".join({"list[str]": "a list of strings", "float": "a number", "int": "a whole number",
                                "str": "a string", "bool": "true or false", "dict": "an object"}[n] for n in wanted)
            raise ConfigError(f"{spec.name}={value!r} is invalid: must be {kind}"
                              f"{' (or null)' if 'None' in names else ''}, not {type(value).__name__}. "
                              f"Fix: write it without quotes, e.g. {_example(spec.name, wanted[0])}.")


def _example(name: str, kind: str) -> str:
    return {"int": f'"{name}": 16', "float": f'"{name}": 0.1', "str": f'"{name}": "text"',
            "bool": f'"{name}": true', "dict": f'"{name}": {{}}', "list[str]": f'"{name}": ["toxic"]'}[kind]


@dataclass
class TrainConfig:
    """Everything a training run needs.

    Attributes (selection):
        model_kind: `classifier` (Hugging Face encoder + classification head), `tfidf` (baseline), `sbert`.
        task: `multilabel` or `multiclass`; None = from the data.
        base_model: catalog name (`minilm`, `mdeberta-v3-base`, ...), local folder or Hub id.
        data: a data file (split here with `val_fraction`/`test_fraction`) or a saved dataset version folder.
        train_file/val_file/test_file: explicit split files instead of `data`.
        pooling: classifier head: `cls` = the encoder's own first-token head (AutoModelForSequenceClassification),
            `mean` = mean of the last layer over real tokens -> linear; `auto` = `mean` for sentence-transformers
            models trained with mean pooling (the bundled MiniLM), else `cls`.
        max_length: token limit; None = 95th percentile of training token lengths but at least 128, capped by the
            model (`core.training.classifier.choose_max_length`).
        learning_rate: None = classifier: 2e-5 for base-size models (>= 100M parameters), 1e-4 for small ones;
            SBERT: 5e-5.
        warmup: fraction of training steps (or an int number of steps) for linear warm-up.
        early_stopping_patience: evaluations without a better validation macro ROC-AUC before stopping (0 = off).
        eval_steps: evaluate (and checkpoint) every N steps; None = once per epoch.
        precision: `auto` = bf16 on GPUs that support it, else fp16 on CUDA, fp32 on CPU.
        class_weighting: `auto` = inverse-frequency pos_weight (multilabel) / balanced class weights (multiclass:
            with the TF-IDF blend, the best candidate on Davidson, bench/RESULTS.md); `balanced` = the same;
            `none` = unweighted.
        num_processes: processes for data-parallel training; None = one per GPU (1 on CPU).
        soft_labels: multiclass classifier runs on data with annotator counts per class (`votes:<class>`, e.g.
            Davidson's): the weight of the annotators' shares in the training target, the rest the majority
            class one-hot (0 = hard labels; 1 = the shares alone). Validation and test stay hard.
        ensemble: `tfidf` = blend the fine-tuned classifier with the run's TF-IDF baseline (fitted on the same
            training split), the weight chosen on validation (0 when the partner adds nothing there); the
            partner is saved in the run (`partner/`, `ensemble.json`) and every scorer blends with it.
            `none` = the classifier alone. `auto` = `tfidf` for multiclass classifier runs (on Davidson it lifted
            macro-F1 by 0.02 over the balanced model alone), else `none` (on Jigsaw it adds under 0.001 ROC-AUC).

    SBERT runs (`model_kind="sbert"`) also use:
        loss: one of `ALL_SBERT_LOSSES` that fits the data (see `SBERT_LOSSES`); None = the data kind's default
            (labelled text: `softmax`; pairs with 0/1 labels: `online_contrastive`; scored pairs: `cosent`;
            triplets: `triplet`; Q&A and unlabelled pairs: `mnrl`).
        max_pairs: hard cap on the pairs sampled from labelled text for the `setfit` loss.
        knn_k: neighbours for kNN classification on embeddings (evaluation).
        mine_hard_negatives: Q&A/pairs with MNRL: add one hard negative per row, mined with the base model.
        mini_batch_size: `cached_mnrl` forward chunk (memory), independent of the effective batch size.
        n_clusters: k of the k-means clustering evaluation on labelled text; None = the number of classes.

    Data preparation of a single `data` file (a dataset version folder is already prepared):
        clean: clean texts (URLs, mentions, entities, whitespace) before de-duplicating and splitting.
        oversample / oversample_ratio / downsample_majority: rebalance the training split (`core.data.balance`).

    Trust (issue 23):
        normalize: text normalisation against obfuscation, applied in training and (saved with the model) in
            scoring: `none` | `unicode` | `unicode+leet` | `auto` (the default since session 18: unicode+leet
            for multilabel data, none for multiclass, where it cost Davidson's hate-speech class F1;
            `core.data.normalize`).
        identity_augmentation: add non-toxic sentences naming identities to the training split: true, false or
            `auto` (the default since session 18) = on for multilabel data (with `unicode+leet` it met every
            figure of issue 23 on Jigsaw), off for multiclass (on Davidson it cost the rare hate-speech class
            0.03 F1; bench/RESULTS.md);
        identity_swaps: add copies of training texts with their identity terms swapped (`core.training.augment`).
        calibration: how the job calibrates scores on validation (`calibration.json`, applied by the Scorer):
            `platt` (a scale and a shift of each label's logit), `temperature` (a scale only), `isotonic`,
            `none`.

    GPU batching (issue 28; off by default: on CPU the row batches are the measured recipe):
        batch_tokens: classifier runs: cut training batches by padded tokens (rows x width) instead of
            `batch_size` rows, so each step carries about this many tokens (`core.training.batching`); the default
            learning rate then follows the mean rows per step by the square-root rule. None = `batch_size` rows.
        pad_multiple: round each training batch's padded width up to a multiple of this (capped at the max
            length): a few static shapes for compiled steps. None = the longest row's width.
        compile: classifier runs: compile the training step (`torch.compile`; `core.training.compiled`) on a GPU
            for runs of at least 2,000 steps (it turns itself off below that and on CPU, and says why in
            metrics.json); compiled kernels are cached in the models folder for later runs.
        attention: classifier runs: `hf` (the model's own attention), `disentangled-flash` (DeBERTa-v2/v3: the
            disentangled-flash package's kernels, checked against `hf` on a probe batch before training;
            `core.training.attention`), `auto` = `hf` until the kernels are measured on a GPU.

    Tracking: report_to: `none` | `tensorboard` (event files in the run's `tensorboard/`) | `mlflow` (a run in
        MLFLOW_TRACKING_URI, else `mlruns/` beside the models folder) (`core.training.tracking`).
    """

    model_kind: str = "classifier"
    task: str | None = None
    base_model: str = "minilm"
    data: str | None = None
    train_file: str | None = None
    val_file: str | None = None
    test_file: str | None = None
    text_col: str | None = None
    label_cols: list[str] | None = None
    label_col: str | None = None
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    pooling: str = "auto"
    max_length: int | None = None
    # 2 epochs: the linear schedule anneals fully in the time that reached Jigsaw test macro ROC-AUC 0.9759
    # with the bundled MiniLM (bench/pooling_quality.py); the earlier 3-epoch default chose its epoch-2 checkpoint.
    epochs: float = 2.0
    max_steps: int = -1
    batch_size: int = 16
    eval_batch_size: int = 64
    gradient_accumulation: int = 1
    learning_rate: float | None = None
    weight_decay: float = 0.01
    warmup: float = 0.1
    max_grad_norm: float = 1.0
    early_stopping_patience: int = 2
    eval_steps: int | None = None
    logging_steps: int = 10
    precision: str = "auto"
    seed: int = 42
    class_weighting: str = "auto"
    max_pos_weight: float = 30.0
    length_grouping: bool = True
    gradient_checkpointing: bool = False
    save_total_limit: int = 2
    num_processes: int | None = None
    run_name: str | None = None
    loss: str | None = None
    max_pairs: int = 20_000
    knn_k: int = 5
    mine_hard_negatives: bool = False
    mini_batch_size: int = 32
    n_clusters: int | None = None
    clean: bool = True
    oversample: bool = False
    oversample_ratio: float = 0.5
    downsample_majority: float = 1.0
    normalize: str = "auto"
    identity_augmentation: bool | str = "auto"
    identity_swaps: bool = False
    calibration: str = "platt"
    report_to: str = "none"
    soft_labels: float = 0.0
    ensemble: str = "auto"
    batch_tokens: int | None = None
    pad_multiple: int | None = None
    attention: str = "auto"
    compile: bool = False
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_types(self)
        _check(self.model_kind in MODEL_KINDS, "model_kind", self.model_kind, f"use one of {MODEL_KINDS}")
        _check(self.task is None or self.task in TASKS, "task", self.task, f"use one of {TASKS}")
        _check(bool(self.data) or bool(self.train_file), "data", self.data,
               "give a data file or dataset version folder (or train_file)")
        _check(0 < self.val_fraction < 0.5, "val_fraction", self.val_fraction, "must be in (0, 0.5)")
        _check(0 <= self.test_fraction < 0.5, "test_fraction", self.test_fraction, "must be in [0, 0.5)")
        _check(self.pooling in POOLINGS, "pooling", self.pooling, f"use one of {POOLINGS}")
        _check(self.max_length is None or 8 <= self.max_length <= 8192, "max_length", self.max_length,
               "must be between 8 and 8192 tokens (or null for automatic)")
        _check(self.epochs > 0, "epochs", self.epochs, "must be > 0")
        _check(self.max_steps == -1 or self.max_steps > 0, "max_steps", self.max_steps, "must be > 0 or -1")
        for name in ("batch_size", "eval_batch_size", "gradient_accumulation", "logging_steps", "save_total_limit"):
            _check(int(getattr(self, name)) >= 1, name, getattr(self, name), "must be >= 1")
        _check(self.learning_rate is None or 0 < self.learning_rate < 1, "learning_rate", self.learning_rate,
               "must be in (0, 1), e.g. 2e-5")
        _check(0 <= self.weight_decay < 1, "weight_decay", self.weight_decay, "must be in [0, 1)")
        _check(self.warmup >= 0, "warmup", self.warmup, "a fraction in [0, 1) or a number of steps >= 1")
        _check(self.max_grad_norm >= 0, "max_grad_norm", self.max_grad_norm, "must be >= 0 (0 = no clipping)")
        _check(self.early_stopping_patience >= 0, "early_stopping_patience", self.early_stopping_patience,
               "must be >= 0 (0 = off)")
        _check(self.eval_steps is None or self.eval_steps >= 1, "eval_steps", self.eval_steps, "must be >= 1")
        _check(self.precision in PRECISIONS, "precision", self.precision, f"use one of {PRECISIONS}")
        _check(self.class_weighting in CLASS_WEIGHTINGS, "class_weighting", self.class_weighting,
               f"use one of {CLASS_WEIGHTINGS}")
        _check(self.max_pos_weight >= 1, "max_pos_weight", self.max_pos_weight, "must be >= 1")
        _check(self.num_processes is None or self.num_processes >= 1, "num_processes", self.num_processes,
               "must be >= 1")
        _check(self.loss is None or self.loss in ALL_SBERT_LOSSES, "loss", self.loss,
               f"use one of {ALL_SBERT_LOSSES} (or null for the data's default)")
        _check(self.loss is None or self.model_kind == "sbert", "loss", self.loss,
               "only SBERT runs take a loss name; set model_kind='sbert' or remove it")
        _check(self.pooling == "auto" or self.model_kind == "classifier", "pooling", self.pooling,
               "only classifier runs take a pooling (SBERT models keep their own); remove it or use 'auto'")
        _check(self.max_pairs >= 2, "max_pairs", self.max_pairs, "must be >= 2")
        _check(self.knn_k >= 1, "knn_k", self.knn_k, "must be >= 1")
        _check(self.mini_batch_size >= 1, "mini_batch_size", self.mini_batch_size, "must be >= 1")
        _check(self.n_clusters is None or self.n_clusters >= 2, "n_clusters", self.n_clusters,
               "must be >= 2 (or null for the number of classes)")
        _check(0 < self.oversample_ratio <= 1, "oversample_ratio", self.oversample_ratio, "must be in (0, 1]")
        _check(self.normalize in NORMALIZE_CHOICES, "normalize", self.normalize, f"use one of {NORMALIZE_CHOICES}")
        _check(self.calibration in CALIBRATIONS, "calibration", self.calibration, f"use one of {CALIBRATIONS}")
        _check(self.report_to in REPORTERS, "report_to", self.report_to, f"use one of {REPORTERS}")
        _check(0 <= self.soft_labels <= 1, "soft_labels", self.soft_labels,
               "the weight of the annotators' shares in the target must be in [0, 1] (0 = hard labels)")
        _check(self.soft_labels == 0 or self.model_kind == "classifier", "soft_labels", self.soft_labels,
               f"only transformer classifier runs train on soft labels, not model_kind={self.model_kind!r}; "
               "set it to 0 or use model_kind='classifier'")
        _check(self.soft_labels == 0 or self.task != "multilabel", "soft_labels", self.soft_labels,
               "soft labels are annotator shares over the classes of multiclass data; set it to 0 for multilabel")
        _check(self.ensemble in ENSEMBLES, "ensemble", self.ensemble, f"use one of {ENSEMBLES}")
        _check(isinstance(self.identity_augmentation, bool) or self.identity_augmentation == "auto",
               "identity_augmentation", self.identity_augmentation, "use true, false or 'auto'")
        _check(self.ensemble != "tfidf" or self.model_kind == "classifier", "ensemble", self.ensemble,
               f"only transformer classifier runs blend with a TF-IDF partner, not model_kind={self.model_kind!r}; "
               "set it to 'none'")
        _check(self.batch_tokens is None or self.batch_tokens >= 64, "batch_tokens", self.batch_tokens,
               "must be >= 64 (tokens per training step, e.g. 8192), or null for batches of batch_size rows")
        _check(self.batch_tokens is None or self.model_kind == "classifier", "batch_tokens", self.batch_tokens,
               "applies to classifier runs only; remove it for tfidf and sbert runs")
        _check(self.pad_multiple is None or 1 <= self.pad_multiple <= 512, "pad_multiple", self.pad_multiple,
               "must be in [1, 512] (e.g. 64), or null")
        _check(self.pad_multiple is None or self.model_kind == "classifier", "pad_multiple", self.pad_multiple,
               "applies to classifier runs only; remove it for tfidf and sbert runs")
        _check(self.attention in ATTENTIONS, "attention", self.attention, f"use one of {ATTENTIONS}")
        _check(self.attention != "disentangled-flash" or self.model_kind == "classifier", "attention",
               self.attention, "applies to classifier runs only; use 'auto' for tfidf and sbert runs")
        _check(self.attention != "disentangled-flash" or not self.gradient_checkpointing, "attention",
               self.attention, "does not go with gradient_checkpointing (its kernels keep no score tensors to "
               "save); turn one of them off")
        _check(not self.compile or self.model_kind == "classifier", "compile", self.compile,
               "applies to classifier runs only; remove it for tfidf and sbert runs")
        _check(0 < self.downsample_majority <= 1, "downsample_majority", self.downsample_majority,
               "must be in (0, 1], e.g. 0.5 keeps half of the majority rows")

    def resolved_normalize(self, task: str) -> str:
        """The normalisation mode of this run's data (`auto` resolved: unicode+leet for multilabel, else none)."""
        if self.normalize == "auto":
            return "unicode+leet" if task == "multilabel" else "none"
        return self.normalize

    def resolved_identity_augmentation(self, task: str) -> bool:
        """Whether this run's training split gets the non-toxic identity sentences (`auto` resolved: multilabel)."""
        if self.identity_augmentation == "auto":
            return task == "multilabel"
        return bool(self.identity_augmentation)

    def resolved_ensemble(self, task: str) -> str:
        """`none` or `tfidf`: what `ensemble` means for this run's task (`auto` resolved, see the attributes)."""
        if self.ensemble != "auto":
            return self.ensemble
        return "tfidf" if self.model_kind == "classifier" and task == "multiclass" else "none"

    # ---------------------------------------------------------------------------------------- JSON round-trip
    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        """Build from a dict; unknown keys raise `ConfigError` naming them."""
        if not isinstance(data, dict):
            raise ConfigError(f"a training config must be a JSON object, got {type(data).__name__}.")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown config key(s) {unknown}. Fix: remove them; known keys: {sorted(known)}.")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ConfigError(f"bad training config: {exc}.") from None

    def to_json(self, path: str | Path) -> Path:
        return write_json(path, self.to_dict())

    @classmethod
    def from_json(cls, path: str | Path) -> "TrainConfig":
        """Read a config file; a missing or malformed file raises `ConfigError`."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file {str(path)!r} not found. Fix: check the path.") from None
        except IsADirectoryError:
            raise ConfigError(f"config file {str(path)!r} is a folder. Fix: give the JSON file's path "
                              "(a run's config is RUN/config.json).") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"config file {str(path)!r} is not UTF-8 text (bad byte at offset {exc.start}). "
                              "Fix: save it as UTF-8 JSON.") from None
        except OSError as exc:
            raise ConfigError(f"config file {str(path)!r} cannot be read ({exc.strerror}). "
                              "Fix: check the path and its permissions.") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"config file {str(path)!r} is not valid JSON (line {exc.lineno}: {exc.msg}).") from None
        return cls.from_dict(data)
