"""The classifier run: fine-tune a Hugging Face encoder with a classification head (`model_kind: classifier`)."""

from __future__ import annotations

import time
from pathlib import Path

from core import runs
from core.config import TrainConfig
from core.models.pooled import MeanPoolingClassifier
from core.evaluation.ensemble import fit_blend_weight
from core.models.blend import blend
from core.models.tfidf import TfidfModel
from core.training.baseline import fit_tfidf, tfidf_baseline_metrics
from core.training.callbacks import ProgressCallback, StopFileCallback
from core.training.classifier import build_classifier_trainer, predict_probs
from core.training.data import TrainingData
from core.training.finish import finish, template_texts


def _precision_name(args) -> str:
    return "bf16" if args.bf16 else "fp16" if args.fp16 else "fp32"


def train_classifier(run_dir: Path, config: TrainConfig, data: TrainingData, resume: bool,
                     tokenizer=None, model=None) -> str:
    """Build the Trainer -> train (from the last checkpoint when resuming) -> save the model -> TF-IDF baseline
    -> finish (predict splits, thresholds, metrics, card). Returns the final state."""
    stop = StopFileCallback(run_dir)
    trainer = build_classifier_trainer(config, data, [ProgressCallback(run_dir), stop],
                                       str(run_dir / runs.CHECKPOINTS), tokenizer=tokenizer, model=model)
    checkpoint = runs.last_checkpoint(run_dir) if resume else None
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    train_seconds = round(time.perf_counter() - started, 2)
    if stop.stopped:
        return "stopped"
    pooling = "mean" if isinstance(trainer.model, MeanPoolingClassifier) else "cls"
    extra = {"train_seconds": train_seconds, "max_length": trainer.max_length, "pooling": pooling,
             "best_checkpoint": trainer.state.best_model_checkpoint, "global_step": trainer.state.global_step,
             "best_val_macro_roc_auc": trainer.state.best_metric}
    if trainer.attention["attention"] != "hf":
        extra["attention"] = trainer.attention  # the kernels in use and how close they came to the model's own
    if config.compile:  # asked for: whether it was used, why, and what it cost
        extra["compile"] = {**trainer.compiling, **(trainer.step_timer.summary() if trainer.step_timer else {})}
    if trainer.batching:
        extra["batching"] = trainer.batching  # token-budget batches: the mean rows and the learning rate they got
    if config.soft_labels:
        shares = data.train.vote_shares()
        extra["soft_labels"] = {"weight": config.soft_labels,
                                "disputed_rows": int((shares.max(axis=1) < 1).sum()), "rows": len(shares)}
    main_process = trainer.is_world_process_zero()
    predict = lambda texts: predict_probs(trainer, texts, data.task)  # noqa: E731
    if not main_process:  # other DDP ranks take part in finish's predictions, then leave the writing to rank 0
        predict(data.val.frame["text"].tolist())
        if data.test is not None:
            predict(data.test.frame["text"].tolist())
        predict(template_texts(config, data.task))
        return "succeeded"
    trainer.save_model(str(run_dir / runs.MODEL))
    if isinstance(trainer.model, MeanPoolingClassifier):  # the Trainer saves only weights for non-HF modules
        trainer.model.save_pretrained(run_dir / runs.MODEL)
    # save_model also pickles TrainingArguments; runs load only safetensors/JSON, so drop the pickle.
    (run_dir / runs.MODEL / "training_args.bin").unlink(missing_ok=True)
    # prediction_precision: the saved predictions' arithmetic, for the check on load
    runs.write_model_meta(run_dir, runs.ModelMeta("classifier", data.task, data.labels, trainer.max_length, pooling,
                                                  _precision_name(trainer.args), normalize=config.resolved_normalize(data.task)))
    baseline = fit_tfidf(data, config.seed)
    extra["baseline_tfidf"] = tfidf_baseline_metrics(data, config.seed, baseline)
    if config.resolved_ensemble(data.task) == "tfidf":
        predict, extra["ensemble"] = attach_partner(run_dir, data, predict, baseline)
    finish(run_dir, config, data, predict, extra)
    return "succeeded"


def attach_partner(run_dir: Path, data: TrainingData, predict, partner: TfidfModel) -> tuple[object, dict]:
    """`ensemble: tfidf`: choose the partner's blend weight on validation; when it is above 0, save the partner
    (`partner/`) and `ensemble.json`. Returns (the predict function finish uses: the blend, or the model alone;
    the summary for metrics.json)."""
    val_texts = data.val.frame["text"].tolist()
    model_val = predict(val_texts)
    chosen = fit_blend_weight(model_val, partner.predict_proba(val_texts), data.val.label_matrix(), data.task,
                              data.labels)
    weight = chosen["weight"]
    if weight == 0:
        chosen["note"] = "the TF-IDF partner did not improve validation, so the run scores alone"
    else:
        partner.save(run_dir / runs.PARTNER)
        runs.save_ensemble(run_dir, {"partner": "tfidf", "weight": weight, "labels": data.labels, "task": data.task,
                                     "chosen_on": "val", "val": chosen["val"]})

    def blended(texts: list[str]):
        # finish predicts validation first: reuse the forward pass made to choose the weight (under DDP this also
        # keeps rank 0's collective predictions in step with the other ranks': validation, test, templates)
        own = model_val if texts == val_texts else predict(texts)
        return own if weight == 0 else blend(own, partner.predict_proba(texts), weight, data.task)

    return blended, chosen
