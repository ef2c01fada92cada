"""Fine-tuning a Hugging Face encoder as a multilabel or multiclass classifier with the HF Trainer.

`build_classifier_trainer(config, data, callbacks)` returns a plain `transformers.Trainer` subclass;
customisation is a `compute_loss` override (weighted BCE / CE), a length-bucketed training sampler
with dynamic padding, and a sequential evaluation sampler (so predictions follow the rows' order).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset as TorchDataset
from torch.utils.data import SequentialSampler
from transformers import (AutoModelForSequenceClassification, AutoTokenizer, EarlyStoppingCallback, Trainer,
                          TrainingArguments, set_seed)

from core.config import TrainConfig
from core.evaluation.metrics import flatten_for_trainer, multiclass_metrics, multilabel_metrics
from core.models.logistic import probabilities
from core.models.catalog import ResolvedModel, resolve_model
from core.models.pooled import mean_pooling_classifier, resolve_pooling
from core.training.attention import apply_attention
from core.training.batching import TokenBudgetBatchSampler, round_width, scaled_learning_rate
from core.training.compiled import StepTimer, compile_plan, use_compile_cache
from core.training.data import TrainingData
from core.training.fast_dropout import for_cpu_training

BEST_METRIC = "macro_roc_auc"
MIN_AUTO_LENGTH = 128  # the automatic max_length never cuts below this (see choose_max_length)
# Batches sorted together: bigger = less padding, less randomness. 50 with one random stream over the run is
# the order under which the bundled MiniLM reached 0.975 on Jigsaw test (bench/RESULTS.md, sessions 8-9).
_MEGABATCH = 50


class EncodedDataset(TorchDataset):
    """Token ids (unpadded) and labels of one split; padding happens per batch in `PaddingCollator`."""

    def __init__(self, input_ids: list[list[int]], labels: np.ndarray | None, task: str):
        self.input_ids = input_ids
        self.labels = labels
        self.task = task
        self.lengths = np.fromiter((len(ids) for ids in input_ids), dtype=np.int64, count=len(input_ids))

    def __len__(self) -> int:
        return len(self.input_ids)

    def __getitem__(self, index: int) -> dict:
        item = {"input_ids": self.input_ids[index]}
        if self.labels is not None:
            item["labels"] = self.labels[index]
        return item


class PaddingCollator:
    """Pad a batch to its longest sequence with numpy (cheaper than tokenizer.pad per batch); with `pad_multiple`,
    to that width rounded up to a multiple (never above `max_length`): a few static shapes."""

    def __init__(self, pad_token_id: int, task: str, pad_multiple: int | None = None, max_length: int | None = None):
        self.pad_token_id = pad_token_id
        self.task = task
        self.pad_multiple, self.max_length = pad_multiple, max_length

    def __call__(self, items: list[dict]) -> dict:
        width = round_width(max(len(item["input_ids"]) for item in items), self.pad_multiple, self.max_length)
        ids = np.full((len(items), width), self.pad_token_id, dtype=np.int64)
        mask = np.zeros((len(items), width), dtype=np.int64)
        for row, item in enumerate(items):
            ids[row, :len(item["input_ids"])] = item["input_ids"]
            mask[row, :len(item["input_ids"])] = 1
        batch = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
        if "labels" in items[0]:
            labels = np.stack([item["labels"] for item in items])
            # multilabel 0/1 rows and multiclass soft targets (class shares) are float; class indices are int
            soft = self.task == "multilabel" or labels.ndim == 2
            batch["labels"] = torch.from_numpy(labels.astype(np.float32 if soft else np.int64))
        return batch


class LengthBucketSampler(torch.utils.data.Sampler):
    """Shuffled indices arranged so that each run of `batch_size` has similar lengths.

    Indices are shuffled, cut into mega-batches of `_MEGABATCH` batches, sorted by length inside
    each mega-batch, cut into batches, and the batches shuffled: little padding, still random.
    Epoch e continues one random stream seeded by `seed` (epoch 0's draws, then epoch 1's, ...), replayed
    from the start, so a resumed run gets the same order as an uninterrupted one.
    """

    def __init__(self, lengths: np.ndarray, batch_size: int, seed: int):
        self.lengths, self.batch_size, self.seed, self.epoch = lengths, batch_size, seed, 0

    def __len__(self) -> int:
        return len(self.lengths)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _epoch_batches(self, rng: np.random.Generator) -> list[np.ndarray]:
        order = rng.permutation(len(self.lengths))
        size = self.batch_size * _MEGABATCH
        batches = []
        for start in range(0, len(order), size):
            chunk = order[start:start + size]
            chunk = chunk[np.argsort(-self.lengths[chunk], kind="stable")]
            batches += [chunk[i:i + self.batch_size] for i in range(0, len(chunk), self.batch_size)]
        rng.shuffle(batches)
        return batches

    def __iter__(self):
        rng = np.random.default_rng(self.seed)
        for _ in range(self.epoch):  # replay the earlier epochs' draws (milliseconds)
            self._epoch_batches(rng)
        batches = self._epoch_batches(rng)
        self.epoch += 1
        # Keep a short final batch last (a stable sort): the DataLoader cuts the flat index stream every
        # `batch_size`, so a short batch in the middle would misalign every batch after it.
        for batch in sorted(batches, key=lambda b: len(b) != self.batch_size):
            yield from batch.tolist()


def weighted_loss(logits: torch.Tensor, labels: torch.Tensor, task: str, pos_weight: torch.Tensor | None,
                  class_weight: torch.Tensor | None) -> torch.Tensor:
    """Mean BCE-with-logits (multilabel, optional per-label pos_weight) or cross-entropy (multiclass: class
    indices, or (batch, classes) target distributions for soft labels)."""
    if task == "multilabel":
        weight = None if pos_weight is None else pos_weight.to(logits.device, logits.dtype)
        return torch.nn.functional.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype),
                                                                     pos_weight=weight)
    weight = None if class_weight is None else class_weight.to(logits.device, logits.dtype)
    target = labels.to(logits.dtype) if labels.ndim == 2 else labels.long()
    return torch.nn.functional.cross_entropy(logits, target, weight=weight)


def training_targets(config: TrainConfig, data: TrainingData) -> np.ndarray:
    """The training split's targets: its labels, or with `config.soft_labels` > 0 (multiclass data with annotator
    counts) (1 - w) x the one-hot majority class + w x the annotators' shares, as float32 rows."""
    labels = data.train.label_matrix()
    if not config.soft_labels:
        return labels
    shares = data.train.vote_shares()
    if shares is None:  # load_training_data refuses this; a direct caller gets the same answer
        raise ValueError(f"soft_labels={config.soft_labels} needs annotator counts per class in the training data")
    hard = np.eye(len(data.labels), dtype=np.float32)[labels]
    return ((1 - config.soft_labels) * hard + config.soft_labels * shares).astype(np.float32)


def loss_weights(config: TrainConfig, data: TrainingData) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """(pos_weight, class_weight) from the training split, per `config.class_weighting`.

    Multilabel: inverse frequency `pos_weight = negatives / positives` per label (the CleanSpeech recipe),
    capped at `max_pos_weight` so a label with a handful of positives does not dominate. Multiclass (`auto` or
    `balanced`): class weights `rows / (classes x class count)`.
    """
    if config.class_weighting == "none":
        return None, None
    labels = data.train.label_matrix()
    if data.task == "multilabel":
        positives = labels.sum(axis=0).astype(np.float64)
        weight = (len(labels) - positives) / np.maximum(positives, 1)
        return torch.tensor(np.clip(weight, 1.0, config.max_pos_weight), dtype=torch.float32), None
    if config.class_weighting in ("auto", "balanced"):  # multiclass `auto`: balanced (measured, bench/RESULTS.md)
        counts = np.bincount(labels, minlength=len(data.labels)).astype(np.float64)
        return None, torch.tensor(len(labels) / (len(counts) * np.maximum(counts, 1)), dtype=torch.float32)
    return None, None


class ClassifierTrainer(Trainer):
    """The HF Trainer with a weighted loss, length-bucketed training batches and ordered evaluation."""

    def __init__(self, *args, task: str, pos_weight=None, class_weight=None, length_grouping: bool = True,
                 token_batches: TokenBudgetBatchSampler | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.task, self.pos_weight, self.class_weight = task, pos_weight, class_weight
        self.length_grouping = length_grouping
        self.token_batches = token_batches  # `batch_tokens` runs: batches cut by a token budget
        # compute_loss returns a per-batch mean, so let the Trainer divide by the accumulation steps.
        self.model_accepts_loss_kwargs = False

    def get_decay_parameter_names(self, model) -> list[str]:
        # Weight decay on every parameter, biases and LayerNorm included (the Trainer leaves those out): part of
        # the recipe that reached 0.975 with the bundled MiniLM on Jigsaw (bench/RESULTS.md, sessions 8-9).
        return [name for name, _ in model.named_parameters()]

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = weighted_loss(outputs.logits, labels, self.task, self.pos_weight, self.class_weight)
        return (loss, outputs) if return_outputs else loss

    def get_train_dataloader(self):
        if self.token_batches is None:
            return super().get_train_dataloader()
        # batches of varying rows: a batch sampler, which the Trainer's row-count loader cannot take
        loader = torch.utils.data.DataLoader(self.train_dataset, batch_sampler=self.token_batches,
                                             collate_fn=self.data_collator,
                                             num_workers=self.args.dataloader_num_workers,
                                             pin_memory=self.args.dataloader_pin_memory)
        return self.accelerator.prepare(loader)

    def _get_train_sampler(self, train_dataset=None):
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if self.length_grouping and isinstance(dataset, EncodedDataset):
            return LengthBucketSampler(dataset.lengths, self.args.per_device_train_batch_size, self.args.seed)
        return super()._get_train_sampler(train_dataset)

    def _get_eval_sampler(self, eval_dataset):
        # transformers 5.23 length-groups and shuffles evaluation too when group_by_length is on; keep row order.
        if self.args.world_size <= 1:
            return SequentialSampler(eval_dataset)
        return super()._get_eval_sampler(eval_dataset)


def make_compute_metrics(task: str, names: list[str]):
    """The Trainer's compute_metrics: flat metrics from logits and label ids (order-independent)."""

    def compute(prediction) -> dict:
        probs = probabilities(prediction.predictions, task)
        if task == "multilabel":
            metrics = multilabel_metrics(probs, prediction.label_ids, names)
        else:
            metrics = multiclass_metrics(probs, prediction.label_ids, names)
        return flatten_for_trainer(metrics)

    return compute


def encode(tokenizer, texts: list[str], max_length: int) -> list[list[int]]:
    """Tokenize without padding (padding is per batch), truncating to `max_length`."""
    return tokenizer(list(texts), truncation=True, max_length=max_length, add_special_tokens=True)["input_ids"]


def choose_max_length(config: TrainConfig, tokenizer, texts: list[str]) -> int:
    """`config.max_length`, or the 95th percentile of token lengths (rounded up to 8) but at least
    `MIN_AUTO_LENGTH`, capped by the model.

    The floor matters for short texts: batches are padded to their own longest text, so a limit above what most
    texts need costs only the few long ones, while cutting them lost information that mattered. On Davidson's
    tweets the 95th percentile is 40 tokens; 128 lifted held-out macro-F1 from 0.770 to 0.781 at the same training
    time (bench/RESULTS.md). Longer data (Jigsaw: 288) is unaffected."""
    model_limit = min(int(getattr(tokenizer, "model_max_length", 512) or 512), 512)
    if config.max_length:
        return min(config.max_length, model_limit)
    sample = texts[:5000]
    # verbose=False: measuring lengths past the model's limit is the point here, not a mistake to warn about
    lengths = [len(ids) for ids in tokenizer(sample, add_special_tokens=True, truncation=False,
                                             verbose=False)["input_ids"]]
    p95 = int(math.ceil(np.percentile(lengths, 95) / 8) * 8) if lengths else MIN_AUTO_LENGTH
    return int(min(max(p95, MIN_AUTO_LENGTH), model_limit))


def precision_flags(config: TrainConfig) -> dict:
    """bf16/fp16 flags for TrainingArguments from `config.precision` and the hardware."""
    if config.precision == "fp32" or not torch.cuda.is_available():
        return {"bf16": False, "fp16": False}
    if config.precision == "bf16" or (config.precision == "auto" and torch.cuda.is_bf16_supported()):
        return {"bf16": True, "fp16": False}
    return {"bf16": False, "fp16": True}


def default_learning_rate(model: torch.nn.Module) -> float:
    """2e-5 for base-size encoders (>= 100M parameters), 1e-4 for small ones like MiniLM.

    Measured on Jigsaw with the bundled MiniLM (bench/RESULTS.md): validation macro ROC-AUC 0.9702 after one
    epoch with 1e-4 vs 0.9608 with 5e-5 (best 0.9739 vs 0.9713); test 0.9697 vs 0.9688.
    """
    parameters = sum(p.numel() for p in model.parameters())
    return 2e-5 if parameters >= 100_000_000 else 1e-4


def load_base(config: TrainConfig, data: TrainingData, resolved: ResolvedModel | None = None):
    """Tokenizer and a classification model with a fresh head (`config.pooling`), labels named in its config."""
    resolved = resolved or resolve_model(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(resolved.path)
    set_seed(config.seed)  # the new head's initial weights follow the config's seed (the Trainer seeds only later)
    id2label = dict(enumerate(data.labels))
    problem_type = "multi_label_classification" if data.task == "multilabel" else "single_label_classification"
    if resolve_pooling(config.pooling, resolved.path) == "mean":
        return tokenizer, mean_pooling_classifier(resolved.path, len(data.labels), id2label, problem_type)
    # ignore_mismatched_sizes: a base model that already has a head for another label count (an NLI model with
    # 3 labels, a binary toxicity model) gets a fresh head of the run's size instead of a size-mismatch error
    model, info = AutoModelForSequenceClassification.from_pretrained(
        resolved.path, num_labels=len(data.labels), id2label=id2label, label2id={v: k for k, v in id2label.items()},
        problem_type=problem_type, use_safetensors=True, ignore_mismatched_sizes=True, output_loading_info=True)
    mismatched = [str(item[0] if isinstance(item, (tuple, list)) else item)
                  for item in info.get("mismatched_keys") or []]
    if mismatched:
        print(f"note: the base model's classification head ({', '.join(sorted(mismatched))}) has another shape "
              f"than the {len(data.labels)} labels of this run; it was re-initialised and is trained from scratch.",
              file=sys.stderr, flush=True)
    return tokenizer, model


def training_arguments(config: TrainConfig, output_dir: str, best_metric: str, model,
                       default_lr: float | None = None) -> dict:
    """TrainingArguments keywords shared by classifier and SBERT runs (the same recipe fields, the same meaning).

    `default_lr`: the learning rate when the config has none (default: `default_learning_rate(model)`).
    """
    strategy = "steps" if config.eval_steps else "epoch"
    return dict(
        output_dir=output_dir, num_train_epochs=config.epochs, max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size, per_device_eval_batch_size=config.eval_batch_size,
        gradient_accumulation_steps=config.gradient_accumulation,
        learning_rate=config.learning_rate or default_lr or default_learning_rate(model),
        weight_decay=config.weight_decay, warmup_steps=config.warmup, max_grad_norm=config.max_grad_norm,
        lr_scheduler_type="linear", eval_strategy=strategy, save_strategy=strategy, eval_steps=config.eval_steps,
        save_steps=config.eval_steps,
        logging_steps=config.logging_steps, logging_first_step=True, save_total_limit=config.save_total_limit,
        load_best_model_at_end=True, metric_for_best_model=best_metric, greater_is_better=True,
        seed=config.seed, data_seed=config.seed, report_to="none", use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0, disable_tqdm=False,
        # same AdamW maths; one fused kernel: 13 ms vs 62 ms a step for MiniLM on 2 CPU cores
        optim="adamw_torch_fused",
        **precision_flags(config))


def build_classifier_trainer(config: TrainConfig, data: TrainingData, callbacks: list, output_dir: str,
                             tokenizer=None, model=None) -> ClassifierTrainer:
    """Build the Trainer for a classifier run (nothing is trained yet).

    Args:
        config: the run's recipe.
        data: train/val/test splits.
        callbacks: extra TrainerCallbacks (progress, STOP); early stopping is added from the config.
        output_dir: where checkpoints go (the run's `checkpoints/`).
        tokenizer, model: preloaded ones (tests pass tiny models); default from `config.base_model`.
    """
    if tokenizer is None or model is None:
        tokenizer, model = load_base(config, data)
    max_length = choose_max_length(config, tokenizer, data.train.frame["text"].tolist())
    train_set = EncodedDataset(encode(tokenizer, data.train.frame["text"].tolist(), max_length),
                               training_targets(config, data), data.task)
    val_set = EncodedDataset(encode(tokenizer, data.val.frame["text"].tolist(), max_length),
                             data.val.label_matrix(), data.task)
    attention = apply_attention(config.attention, model)  # before the CPU dropout swap: it changes modules
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    for_cpu_training(model)
    token_batches, default_lr = None, None
    if config.batch_tokens:
        token_batches = TokenBudgetBatchSampler(train_set.lengths, config.batch_tokens, config.seed,
                                                config.pad_multiple, max_length)
        # the default rates were measured at batch_size rows a step; a bigger step takes a bigger one
        default_lr = scaled_learning_rate(default_learning_rate(model),
                                          token_batches.mean_rows() * config.gradient_accumulation)
    batches = len(token_batches) if token_batches is not None else math.ceil(len(train_set) / config.batch_size)
    planned = config.max_steps if config.max_steps > 0 else math.ceil(
        config.epochs * batches / config.gradient_accumulation)
    compiling = compile_plan(config.compile, planned, "cuda" if torch.cuda.is_available() else "cpu")
    arguments = training_arguments(config, output_dir, BEST_METRIC, model, default_lr)
    callbacks = list(callbacks)
    timer = None
    if compiling["used"]:
        # the models folder (above the run's checkpoints/) keeps the compiled kernels for later runs
        compiling["cache"] = str(use_compile_cache(Path(output_dir).resolve().parent.parent))
        arguments["torch_compile"] = True
        timer = StepTimer()
        callbacks.append(timer)
    args = TrainingArguments(**arguments)
    if config.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    pos_weight, class_weight = loss_weights(config, data)
    trainer = ClassifierTrainer(
        model=model, args=args, train_dataset=train_set, eval_dataset=val_set, processing_class=tokenizer,
        data_collator=PaddingCollator(tokenizer.pad_token_id or 0, data.task, config.pad_multiple, max_length),
        compute_metrics=make_compute_metrics(data.task, data.labels), callbacks=callbacks, task=data.task,
        pos_weight=pos_weight, class_weight=class_weight, length_grouping=config.length_grouping,
        token_batches=token_batches)
    trainer.max_length = max_length
    trainer.attention = attention
    trainer.compiling, trainer.step_timer = compiling, timer
    trainer.batching = None if token_batches is None else {
        "batch_tokens": config.batch_tokens, "pad_multiple": config.pad_multiple,
        "mean_rows": round(token_batches.mean_rows(), 2), "learning_rate": args.learning_rate}
    return trainer


def predict_probs(trainer: Trainer, texts: list[str], task: str) -> np.ndarray:
    """Probabilities for `texts` in their order (sequential evaluation sampler)."""
    dataset = EncodedDataset(encode(trainer.processing_class, texts, trainer.max_length), None, task)
    output = trainer.predict(dataset)
    return probabilities(output.predictions, task)
