"""Fine-tuning Sentence-Transformers (SBERT) models with `SentenceTransformerTrainer`.

The data kind picks the loss family; `config.loss` picks within it (`core.config.SBERT_LOSSES`):

| data                         | losses (first = default)                                             |
|------------------------------|----------------------------------------------------------------------|
| labelled text (multi-label/-class) | softmax head, batch-all triplet, batch-hard soft-margin triplet, SetFit pairs |
| pairs with a 0/1 label       | online contrastive, contrastive                                      |
| pairs with a score           | CoSENT, cosine similarity                                            |
| pairs without either, Q&A    | multiple negatives ranking (MNRL), cached MNRL                       |
| triplets                     | triplet, MNRL, cached MNRL                                           |

`build_sbert_trainer(config, data, callbacks, output_dir)` returns the trainer; the job trains it and then
fits a classification head on the embeddings (`core.models.embedding.EmbeddingHead`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from transformers import TrainerCallback

from core.config import SBERT_LOSSES, TrainConfig
from core.errors import ConfigError, DataError
from core.evaluation.embeddings import class_keys
from core.training.classifier import choose_max_length, loss_weights, training_arguments, weighted_loss
from core.training.data import TrainingData
from core.training.fast_dropout import for_cpu_training
from core.training.sbert_eval import EmbeddingEvaluator

SBERT_LR = 5e-5  # sentence-transformers fine-tuning default here; the Jigsaw SBERT figures were measured with it
HEAD_LR = 1e-3  # the softmax head starts from random on unit-length embeddings: it needs a bigger step than the encoder
LOSS_STATE = "loss_head.safetensors"
_EVAL_ROWS = 1000  # rows of the validation split used for the evaluation loss during training


def loss_family(data: TrainingData) -> str:
    """`labelled`, `pairs_label`, `pairs_score`, `pairs`, `triplets` or `qa` (keys of `SBERT_LOSSES`)."""
    if data.task in ("multilabel", "multiclass"):
        return "labelled"
    if data.task == "pairs":
        columns = data.train.frame.columns
        return "pairs_label" if "label" in columns else "pairs_score" if "score" in columns else "pairs"
    return data.task


def choose_loss(config: TrainConfig, data: TrainingData) -> str:
    """The configured loss, checked against the data; None -> the data kind's default."""
    family = loss_family(data)
    allowed = SBERT_LOSSES[family]
    if config.loss is None:
        return allowed[0]
    if config.loss not in allowed:
        raise ConfigError(f"loss={config.loss!r} does not fit {family.replace('_', ' with ')} data. "
                          f"Fix: use one of {allowed} (or null for {allowed[0]!r}).")
    if config.mine_hard_negatives and (family not in ("qa", "pairs") or config.loss not in ("mnrl", "cached_mnrl")):
        raise ConfigError("mine_hard_negatives needs Q&A or unlabelled pair data trained with 'mnrl' or "
                          f"'cached_mnrl' (got {family} data, loss {config.loss!r}). Fix: turn it off.")
    return config.loss


def sample_pairs(keys: np.ndarray, max_pairs: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SetFit-style pairs from class keys: (left rows, right rows, 1.0 same class / 0.0 different).

    Half positive, half negative; two pairs per text, never more than `max_pairs` (SetFit's pair count grows
    with the data; this cap keeps a big dataset's epoch bounded). Classes are drawn in proportion to the
    square root of their size, so rare label combinations are seen without the majority vanishing.

    Raises:
        DataError: fewer than two classes, or no class with two texts (no pair can be formed).
    """
    keys = np.asarray(keys)
    classes, inverse = np.unique(keys, return_inverse=True)
    members = [np.flatnonzero(inverse == c) for c in range(len(classes))]
    sizes = np.array([len(m) for m in members], dtype=np.float64)
    if len(classes) < 2 or sizes.max() < 2:
        raise DataError(f"SetFit pairs need two classes and a class with two texts; got {len(classes)} class(es) "
                        f"with sizes {sizes.astype(int).tolist()[:10]}. Fix: add labelled texts.")
    rng = np.random.default_rng(seed)
    total = int(min(max_pairs, 2 * len(keys)))
    n_pos = total // 2
    n_neg = total - n_pos
    weights = np.sqrt(sizes)
    can_pair = np.where(sizes >= 2, weights, 0.0)
    pos_classes = rng.choice(len(classes), size=n_pos, p=can_pair / can_pair.sum())
    left, right = [], []
    for c in pos_classes:
        a, b = rng.choice(members[c], size=2, replace=False)
        left.append(a)
        right.append(b)
    for _ in range(n_neg):
        first = rng.choice(len(classes), p=weights / weights.sum())
        rest = weights.copy()
        rest[first] = 0.0
        second = rng.choice(len(classes), p=rest / rest.sum())
        left.append(rng.choice(members[first]))
        right.append(rng.choice(members[second]))
    labels = np.concatenate([np.ones(n_pos), np.zeros(n_neg)]).astype(np.float32)
    order = rng.permutation(total)
    return np.asarray(left)[order], np.asarray(right)[order], labels[order]


class ClassificationHeadLoss(torch.nn.Module):
    """A linear head on the sentence embedding trained with (weighted) BCE or cross-entropy.

    The seed tools' "SBERT -> dense -> classes" recipe with SoftmaxLoss semantics for single texts: the
    encoder learns embeddings that separate the labels; the head is only a training aid (the run's scoring
    head is refitted on the final embeddings).
    """

    def __init__(self, model, num_labels: int, task: str, pos_weight=None, class_weight=None):
        super().__init__()
        self.model, self.task = model, task
        self.pos_weight, self.class_weight = pos_weight, class_weight
        self.classifier = torch.nn.Linear(model.get_embedding_dimension(), num_labels, device=model.device)

    def forward(self, sentence_features, labels):
        embedding = self.model(sentence_features[0])["sentence_embedding"]
        return weighted_loss(self.classifier(embedding), labels, self.task, self.pos_weight, self.class_weight)

    def get_config_dict(self) -> dict:
        return {"task": self.task, "num_labels": self.classifier.out_features}

    @property
    def citation(self) -> str:
        return ""


def build_loss(name: str, model, config: TrainConfig, data: TrainingData):
    """The loss module for `name` (see the module table)."""
    from sentence_transformers.sentence_transformer import losses

    if name == "softmax":
        pos_weight, class_weight = loss_weights(config, data)
        return ClassificationHeadLoss(model, len(data.labels), data.task, pos_weight, class_weight)
    cosine = losses.BatchHardTripletLossDistanceFunction.cosine_distance
    factories = {
        # embeddings are unit length: cosine distances lie in [0, 2], so a 0.5 margin (not 5) can be met
        "batch_all_triplet": lambda: losses.BatchAllTripletLoss(model, distance_metric=cosine, margin=0.5),
        "batch_hard_soft_margin_triplet": lambda: losses.BatchHardSoftMarginTripletLoss(model, distance_metric=cosine),
        "setfit": lambda: losses.CosineSimilarityLoss(model),
        "online_contrastive": lambda: losses.OnlineContrastiveLoss(model),
        "contrastive": lambda: losses.ContrastiveLoss(model),
        "cosent": lambda: losses.CoSENTLoss(model),
        "cosine": lambda: losses.CosineSimilarityLoss(model),
        "mnrl": lambda: losses.MultipleNegativesRankingLoss(model),
        "cached_mnrl": lambda: losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=config.mini_batch_size),
        "triplet": lambda: losses.TripletLoss(model, distance_metric=losses.TripletDistanceMetric.COSINE,
                                              triplet_margin=0.5),
    }
    return factories[name]()


def training_columns(loss: str, family: str, part, task: str, config: TrainConfig, seed: int) -> dict:
    """The trainer's columns for one split, in the order the loss reads them (label/score last)."""
    frame = part.frame
    if family == "labelled":
        texts = frame["text"].astype(str).tolist()
        labels = part.label_matrix()
        if loss == "softmax":
            return {"text": texts, "label": labels.astype(np.float32).tolist() if task == "multilabel"
                    else labels.astype(np.int64).tolist()}
        keys = class_keys(labels, task)
        if loss == "setfit":
            left, right, same = sample_pairs(keys, config.max_pairs, seed)
            return {"sentence1": [texts[i] for i in left], "sentence2": [texts[i] for i in right],
                    "label": same.tolist()}
        return {"text": texts, "label": keys.tolist()}
    if family.startswith("pairs"):
        columns = {"sentence1": frame["sentence1"].astype(str).tolist(),
                   "sentence2": frame["sentence2"].astype(str).tolist()}
        if family == "pairs_label":
            columns["label"] = frame["label"].astype(np.float32).tolist()
        elif family == "pairs_score":
            scores = frame["score"].astype(np.float32).to_numpy()
            if loss == "cosine" and scores.max() > 1:  # cosine similarity lives in [-1, 1]: rescale 0..5 style scores
                scores = scores / scores.max()
            columns["score"] = scores.tolist()
        return columns
    if family == "triplets":
        return {name: frame[name].astype(str).tolist() for name in ("anchor", "positive", "negative")}
    return {"question": frame["question"].astype(str).tolist(), "answer": frame["answer"].astype(str).tolist()}


def _dataset(columns: dict, rows: int | None = None):
    from datasets import Dataset

    if rows is not None:
        columns = {name: values[:rows] for name, values in columns.items()}
    return Dataset.from_dict(columns)


def _mine(dataset, model, family: str):
    from sentence_transformers.util import mine_hard_negatives

    anchor, positive = ("question", "answer") if family == "qa" else ("sentence1", "sentence2")
    return mine_hard_negatives(dataset, model, anchor_column_name=anchor, positive_column_name=positive,
                               num_negatives=1, relative_margin=0.05, sampling_strategy="top",
                               output_format="triplet", batch_size=64, use_faiss=False, verbose=False)


class LossStateCallback(TrainerCallback):
    """Keep a loss's own weights (the softmax head) in each checkpoint, so resume restores them too."""

    def __init__(self, loss):
        self.loss = loss

    def on_save(self, args, state, control, **kwargs):
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if state.is_world_process_zero and hasattr(self.loss, "classifier") and folder.is_dir():
            from safetensors.torch import save_file

            weights = {k: v.detach().cpu().contiguous() for k, v in self.loss.classifier.state_dict().items()}
            save_file(weights, str(folder / LOSS_STATE))


def restore_loss_state(loss, checkpoint: Path | None) -> None:
    """Load the softmax head saved by `LossStateCallback` (no-op for losses without weights)."""
    if checkpoint is None or not hasattr(loss, "classifier") or not (Path(checkpoint) / LOSS_STATE).exists():
        return
    from safetensors.torch import load_file

    loss.classifier.load_state_dict(load_file(str(Path(checkpoint) / LOSS_STATE)))


def build_sbert_trainer(config: TrainConfig, data: TrainingData, callbacks: list, output_dir: str, model):
    """Build the `SentenceTransformerTrainer` for an SBERT run (nothing is trained yet).

    Args:
        model: the base SentenceTransformer (`core.models.embedding.load_sentence_model`); trained in place.

    Returns:
        The trainer, with `.loss_name`, `.family` and `.main_metric` (the evaluator's primary metric) set.
    """
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.base.sampler import BatchSamplers
    from transformers import EarlyStoppingCallback

    name, family = choose_loss(config, data), loss_family(data)
    first_text = data.train.frame[data.train.text_columns()[0]].astype(str).tolist()
    model.max_seq_length = choose_max_length(config, model.tokenizer, first_text)
    train_set = _dataset(training_columns(name, family, data.train, data.task, config, config.seed))
    val_set = _dataset(training_columns(name, family, data.val, data.task, config, config.seed + 1), _EVAL_ROWS)
    if config.mine_hard_negatives:
        train_set = _mine(train_set, model, family)
    loss = build_loss(name, model, config, data)
    evaluator = EmbeddingEvaluator(data, family, config.knn_k, config.seed)
    sampler = {"batch_all_triplet": BatchSamplers.GROUP_BY_LABEL,
               "batch_hard_soft_margin_triplet": BatchSamplers.GROUP_BY_LABEL,
               "mnrl": BatchSamplers.NO_DUPLICATES, "cached_mnrl": BatchSamplers.NO_DUPLICATES}
    args = SentenceTransformerTrainingArguments(
        **training_arguments(config, output_dir, f"eval_{evaluator.primary_metric}", model, default_lr=SBERT_LR),
        batch_sampler=sampler.get(name, BatchSamplers.BATCH_SAMPLER),
        learning_rate_mapping={r"^classifier\.": HEAD_LR} if name == "softmax" else {})
    if config.gradient_checkpointing:
        model[0].auto_model.gradient_checkpointing_enable()
    for_cpu_training(loss)  # the loss holds the model (and a head's dropout, if any)
    callbacks = list(callbacks) + [LossStateCallback(loss)]
    if config.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=train_set, eval_dataset=val_set,
                                         loss=loss, evaluator=evaluator, callbacks=callbacks)
    trainer.loss_name, trainer.family, trainer.main_metric = name, family, evaluator.primary_metric
    trainer.pairs = len(train_set)
    return trainer
