"""Scoring with a saved run: `Scorer.from_run(path).score(texts)`.

Load once, score many: texts are first normalised as the run was trained (`core.data.normalize`, saved in the
model metadata); then texts are sorted by length and cut into batches by a token budget (rows x padded
width), so short texts share large batches and long ones small batches whose activations stay in the CPU's
cache; each batch is padded to its own longest text and run under `torch.inference_mode`. Classifiers of the
BERT family compute their last layer for the first token only (`core.scoring.first_token`, checked on load).
Loading a run re-scores a few of its saved predictions with the fp32 model and refuses a model that does not
reproduce them. Results are plain Python (probability per label, decisions under the run's thresholds,
truncation).

Ensembles: a run trained with `ensemble: tfidf` carries its TF-IDF partner (`partner/`, `ensemble.json`); every
backend's probabilities are blended with the partner's (`core.models.blend`) before anything else uses them.

Calibration: `score()` reports calibrated probabilities when the run has `calibration.json` (unless the scorer
was loaded with `calibrated=False`), beside `score_thresholds`, the saved thresholds mapped onto that scale.
Decisions (flags, the predicted class) are always made on the raw scores with the raw thresholds, so
calibration never changes one. `predict_proba` returns raw scores unless asked, because evaluation, threshold
tuning and explanations work on the model's own ranking.

How the model runs is the backend (`core.scoring.backends`: exact, onnx, int8, bf16, and `auto`); a run's
chosen backend is saved in `inference.json`, so pages and CLI score it the same way.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core import runs
from core.errors import ConfigError, ModelNotAvailable
from core.data.normalize import normalize_texts
from core.evaluation.calibration import apply_calibration, map_thresholds
from core.evaluation.decision import decide
from core.evaluation.predictions import read_saved_predictions
from core.fileio import read_json, write_json
from core.models.embedding import EmbeddingHead, embedding_classifier, load_sentence_model
from core.models.blend import blend
from core.models.logistic import probabilities
from core.models.tfidf import TfidfModel
from core.scoring import backends

DEFAULT_BACKEND = backends.AUTO
# Tokens (rows x padded width) per batch. On 2 CPU cores 2,048 scored 1,000 Jigsaw comments 1.08-1.11x faster
# than fixed batches of 32 rows (bench/RESULTS.md); a GPU wants far larger batches.
CPU_BATCH_TOKENS = 2048
# ONNX Runtime's kernels prefer smaller batches: 1,024 tokens scored 1.04x faster than 2,048 (bench/RESULTS.md).
ONNX_BATCH_TOKENS = 1024
GPU_BATCH_TOKENS = 32768


@dataclass
class ScoreResult:
    """One text's scores."""

    text: str
    probabilities: dict[str, float]
    flagged: list[str]
    tokens: int = 0
    truncated: bool = False
    predicted: str | None = None  # multiclass: the class the run's decision rule picks (else None)

    def to_dict(self) -> dict:
        result = {"text": self.text, "probabilities": self.probabilities, "flagged": self.flagged,
                  "tokens": self.tokens, "truncated": self.truncated}
        if self.predicted is not None:
            result["predicted"] = self.predicted
        return result


def saved_backend(run_dir: str | Path) -> str:
    """The run's chosen scoring backend (`auto` unless `inference.json` says otherwise)."""
    backend = (read_json(Path(run_dir) / runs.INFERENCE, {}) or {}).get("backend", DEFAULT_BACKEND)
    return backend if backend in backends.names() else DEFAULT_BACKEND


def save_backend(run_dir: str | Path, backend: str) -> None:
    """Make `backend` the run's default for every scorer (pages and CLI)."""
    _check_backend(backend)
    write_json(Path(run_dir) / runs.INFERENCE, {"backend": backend})


def _check_backend(backend: str) -> None:
    if backend != backends.AUTO:
        backends.get(backend)  # raises for an unknown name


def _auto_backend(model, tokenizer, device: str) -> tuple[str, object, str]:
    """`auto`: (backend, model, note). ONNX Runtime on CPU when it exports and matches PyTorch, else exact."""
    if device != "cpu":
        return "exact", model, f"auto: exact on {device} (onnx runs on CPU only)"
    try:
        onnx_model = backends.get("onnx").load(model, tokenizer, device)
        return "onnx", onnx_model, "auto: onnx (same probabilities as exact, faster on CPU)"
    except ConfigError as error:  # no onnxruntime, an unexportable model or a mismatch: exact is always right
        return "exact", model, f"auto: exact, because onnx is unavailable: {error}"



# Saved predictions are re-scored on load. fp32 scoring reproduces them to about 1e-6; a model whose predictions
# were made in bf16/fp16 on a GPU (the Trainer's mixed precision) differs from fp32 by up to about 1e-2.
VERIFY_ROWS = 8
VERIFY_TOLERANCE = 1e-3
VERIFY_TOLERANCE_MIXED = 0.05


def _load_tfidf(folder: Path):
    return TfidfModel.load(folder)


def _load_transformer(folder: Path, model_kind: str):
    """(tokenizer, fp32 model) of a classifier or SBERT-head run's `model/` folder."""
    if model_kind == "sbert":  # encoder + pooling + fitted head, behind the classifier interface
        head = EmbeddingHead.load(folder)  # raises first for runs without a head (pairs/Q&A data)
        sentence_model = load_sentence_model(folder, device="cpu")
        tokenizer, model = sentence_model.tokenizer, embedding_classifier(sentence_model, head)
        # sentence-transformers sets the tokenizer's limit to max_seq_length; the scorer truncates itself and
        # counts full lengths to report truncation, which would otherwise warn on every long text
        tokenizer.model_max_length = int(getattr(model.config, "max_position_embeddings", 512))
        return tokenizer, model
    from transformers import AutoTokenizer

    from core.models.pooled import load_classifier  # imports torch: not needed for TF-IDF runs

    return AutoTokenizer.from_pretrained(folder), load_classifier(folder)


def _load_model_files(run_dir: Path, loader):
    """`loader(model_folder)`, with unreadable or truncated model files reported as one clear error."""
    folder = run_dir / runs.MODEL
    try:
        return loader(folder)
    except (ModelNotAvailable, ConfigError):
        raise
    except Exception as error:  # safetensors, tokenizers and transformers raise many types for a damaged file
        raise ModelNotAvailable(f"run {run_dir.name!r}: the model files in {folder} cannot be loaded "
                                f"({type(error).__name__}: {str(error)[:300]}). They are incomplete or corrupt. "
                                "Fix: retrain the run (`python -m core train --config RUN/config.json`), or "
                                "restore the folder from a copy.") from None


def _decision(run_dir: Path, meta: dict) -> list[float] | None:
    return runs.read_decision(run_dir, meta["labels"]) if meta["task"] == "multiclass" else None


def _partner(run_dir: Path, meta: dict) -> dict:
    """{"partner": the TF-IDF model, "partner_weight": w} of an `ensemble: tfidf` run; {} for a run alone."""
    ensemble = runs.read_ensemble(run_dir, meta["labels"])
    if ensemble is None:
        return {}
    try:
        partner = _load_tfidf(run_dir / runs.PARTNER)
    except Exception as error:  # a damaged partner must not silently score the run alone
        raise ModelNotAvailable(f"run {run_dir.name!r}: its TF-IDF partner in {run_dir / runs.PARTNER} cannot be "
                                f"loaded ({type(error).__name__}: {str(error)[:200]}). Fix: retrain the run.") from None
    return {"partner": partner, "partner_weight": float(ensemble["weight"])}


def verify_saved_predictions(scorer: "Scorer", meta: dict, rows: int = VERIFY_ROWS) -> float:
    """Re-score a few rows of the run's saved predictions and refuse a model that does not reproduce them.

    This catches weights that load without error but wrongly (a file from another run, a save bug); a run
    without saved predictions (an older run) is accepted. Returns the largest difference found (0.0 if none).

    Raises:
        ModelNotAvailable: a probability differs by more than the tolerance.
    """
    saved = read_saved_predictions(scorer.run_dir, scorer.task, scorer.labels, rows)
    if saved is None:
        return 0.0
    texts, expected = saved
    got = scorer.predict_proba(texts)
    diff = np.abs(got - expected)
    worst = float(diff.max()) if diff.size else 0.0
    mixed = meta.get("prediction_precision", "fp32" if scorer.model_kind != "classifier" else None) != "fp32"
    tolerance = VERIFY_TOLERANCE_MIXED if mixed else VERIFY_TOLERANCE
    if not worst <= tolerance:  # `not <=` also refuses NaN
        row, col = np.unravel_index(int(np.argmax(np.nan_to_num(diff, nan=np.inf))), diff.shape)
        raise ModelNotAvailable(
            f"run {scorer.run_dir.name!r} does not reproduce its own saved predictions: for {texts[row][:60]!r} "
            f"label {scorer.labels[col]!r} was {expected[row, col]:.4f} when trained and is {got[row, col]:.4f} "
            f"now (largest difference {worst:.4f} > {tolerance}). The model files are corrupt, come from another "
            "run, or were saved by a version with a known bug (multiclass TF-IDF and SBERT-head runs saved "
            "scrambled weights before this check). Fix: retrain the run "
            "(`python -m core train --config RUN/config.json`).")
    return worst


@dataclass
class Scorer:
    """A loaded run that scores texts. Build it with `Scorer.from_run`."""

    run_dir: Path
    model_kind: str
    task: str
    labels: list[str]
    thresholds: dict[str, float]
    max_length: int
    model: object
    tokenizer: object = None
    device: str = "cpu"
    backend: str = "exact"  # the backend in use: never `auto`, which resolves on load
    backend_note: str = ""  # why `auto` chose what it chose, for pages and logs
    offsets: list[float] | None = None  # multiclass: the decision rule's per-class offsets (None = top class)
    normalize: str = "none"  # the text normalisation the run was trained with
    calibration: dict | None = None  # calibration.json, when the run has one and the scorer uses it
    partner: object = None  # `ensemble: tfidf` runs: the TF-IDF partner blended in with `partner_weight`
    partner_weight: float = 0.0
    last_seconds: float = field(default=0.0)

    @classmethod
    def from_run(cls, run_dir: str | Path, device: str | None = None, backend: str | None = None,
                 calibrated: bool = True) -> "Scorer":
        """Load the run's model, labels, max length and saved thresholds.

        Args:
            device: `cpu` | `cuda[:N]`; None = cuda when a GPU is visible, except for the CPU-only backends.
            backend: a name from `core.scoring.backends.names()`; None = the run's saved choice. `auto` is
                `onnx` on CPU when it loads and passes its check, else `exact`.
            calibrated: report calibrated probabilities from `score()` when the run has `calibration.json`.

        Raises:
            ModelNotAvailable: the run has no saved model yet (still training, failed or stopped).
            ConfigError: an unknown backend, a CPU-only backend on a GPU, an ONNX export that fails, or bf16
                on hardware without native bf16.
        """
        run_dir = Path(run_dir)
        runs.check_loadable(run_dir)
        meta = runs.read_model_meta(run_dir)
        thresholds = runs.read_thresholds(run_dir, meta["labels"])
        backend = backend or saved_backend(run_dir)
        _check_backend(backend)
        trust = {"offsets": _decision(run_dir, meta), "normalize": meta.get("normalize", "none"),
                 "calibration": runs.read_calibration(run_dir, meta["labels"]) if calibrated else None,
                 **_partner(run_dir, meta)}
        if meta["model_kind"] == "tfidf":
            model = _load_model_files(run_dir, lambda folder: _load_tfidf(folder))
            scorer = cls(run_dir, "tfidf", meta["task"], meta["labels"], thresholds, 0, model, backend="exact",
                         **trust)
            verify_saved_predictions(scorer, meta)
            return scorer
        import torch

        chosen = None if backend == backends.AUTO else backends.get(backend)
        if device is None:  # a CPU-only backend asked for by name runs on the CPU even where a GPU is free
            gpu_ok = chosen is None or "cuda" in chosen.devices
            device = "cuda" if torch.cuda.is_available() and gpu_ok else "cpu"
        if chosen is not None:
            backends.check_device(chosen, device)
        tokenizer, model = _load_model_files(run_dir, lambda folder: _load_transformer(folder, meta["model_kind"]))
        if meta["model_kind"] != "sbert":
            from core.scoring.first_token import first_token_only  # imports torch and transformers

            first_token_only(model.to(device), tokenizer)  # before int8: the check compares fp32 logits
        scorer = cls(run_dir, meta["model_kind"], meta["task"], meta["labels"], thresholds, int(meta["max_length"]),
                     model.to(device), tokenizer, device, "exact", **trust)
        # the fp32 model must reproduce what the job saved before any backend changes its arithmetic
        verify_saved_predictions(scorer, meta)
        note = ""
        if chosen is None:
            backend, model, note = _auto_backend(model, tokenizer, device)
        elif chosen.load is not None:
            model = chosen.load(model, tokenizer, device)
        scorer.model, scorer.backend, scorer.backend_note = model.to(device), backend, note
        scorer.predict_proba(["warm-up"])  # the first forward pays one-off kernel set-up; not the user's first text
        return scorer

    def alone(self) -> "Scorer":
        """This scorer without its TF-IDF partner (the fine-tuned model's own scores); itself when it has none."""
        return self if self.partner is None else dataclasses.replace(self, partner=None, partner_weight=0.0)

    def default_batch_tokens(self) -> int:
        """Tokens (rows x padded width) per batch when the caller names none: per device and backend."""
        if str(self.device).startswith("cuda"):
            return GPU_BATCH_TOKENS
        return ONNX_BATCH_TOKENS if self.backend == "onnx" else CPU_BATCH_TOKENS

    def reload_thresholds(self) -> None:
        """Re-read `thresholds.json` (after the Evaluate page saved new ones)."""
        self.thresholds = runs.read_thresholds(self.run_dir, self.labels)

    @property
    def score_thresholds(self) -> dict[str, float]:
        """The thresholds on the scale of `score()`'s probabilities: mapped through the calibration when it is
        in use (multilabel; multiclass thresholds have no single image and stay raw), else the raw ones."""
        return map_thresholds(self.thresholds, self.calibration) if self.calibration else dict(self.thresholds)

    def predict_proba(self, texts: list[str], batch_size: int = 64, batch_tokens: int | None = None,
                      calibrated: bool = False) -> np.ndarray:
        """(len(texts), labels) probabilities, in the order of `texts`: raw scores, or calibrated ones when
        `calibrated` and the scorer has a calibration.

        Args:
            batch_size: at most this many texts per forward pass.
            batch_tokens: at most this many tokens (rows x padded width) per pass; None = the device's default.
        """
        probs = self._probs([str(t) for t in texts], batch_size, batch_tokens)[0]
        return self._calibrate(probs) if calibrated else probs

    def _calibrate(self, probs: np.ndarray) -> np.ndarray:
        return apply_calibration(probs, self.calibration) if self.calibration and len(probs) else probs

    def _probs(self, texts: list[str], batch_size: int,
               batch_tokens: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        started = time.perf_counter()
        texts = normalize_texts(texts, self.normalize)
        if self.model_kind == "tfidf":
            probs, lengths = self.model.predict_proba(texts), np.array([len(t.split()) for t in texts], dtype=int)
        else:
            probs, lengths = self._transformer_probs(texts, batch_size, batch_tokens)
        if self.partner is not None and len(texts):
            probs = blend(probs, self.partner.predict_proba(texts), self.partner_weight, self.task)
        self.last_seconds = time.perf_counter() - started
        return probs, lengths

    def _transformer_probs(self, texts: list[str], batch_size: int,
                           batch_tokens: int | None) -> tuple[np.ndarray, np.ndarray]:
        import torch

        # full lengths (verbose=False: texts over the model's limit are truncated below, and reported)
        encoded = self.tokenizer(texts, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
        lengths = np.array([len(ids) for ids in encoded], dtype=int)
        order = np.argsort(-lengths, kind="stable")  # longest first: similar lengths share a batch
        pad = self.tokenizer.pad_token_id or 0
        logits = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        budget = batch_tokens or self.default_batch_tokens()
        start = 0
        with torch.inference_mode():
            while start < len(texts):
                width = min(int(lengths[order[start]]), self.max_length)  # the longest text left comes first
                rows = order[start:start + max(1, min(batch_size, budget // width))]
                start += len(rows)
                ids = np.full((len(rows), width), pad, dtype=np.int64)
                mask = np.zeros_like(ids)
                for i, row in enumerate(rows):
                    seq = encoded[row]
                    if len(seq) > width:  # keep the final special token ([SEP]/</s>) when truncating
                        seq = seq[:width - 1] + seq[-1:]
                    ids[i, :len(seq)], mask[i, :len(seq)] = seq, 1
                out = self.model(input_ids=torch.from_numpy(ids).to(self.device),
                                 attention_mask=torch.from_numpy(mask).to(self.device))
                logits[rows] = out.logits.float().cpu().numpy()
        return probabilities(logits, self.task), lengths

    def score(self, texts: list[str], batch_size: int = 64) -> list[ScoreResult]:
        """Score texts: probabilities (calibrated when the scorer uses a calibration), flagged labels (raw score
        >= raw threshold), token counts and truncation; for a multiclass run also the predicted class (its
        decision rule on the raw scores, else the top class)."""
        texts = [str(t) for t in texts]
        raw, lengths = self._probs(texts, batch_size)
        predicted = decide(raw, self.offsets) if self.task == "multiclass" and len(texts) else None
        probs = self._calibrate(raw)
        results = []
        for i, (text, row, raw_row, length) in enumerate(zip(texts, probs, raw, lengths)):
            values = {label: float(p) for label, p in zip(self.labels, row)}
            flagged = [label for j, label in enumerate(self.labels) if raw_row[j] >= self.thresholds[label]]
            results.append(ScoreResult(text, values, flagged, int(length),
                                       bool(self.max_length and length > self.max_length),
                                       None if predicted is None else self.labels[int(predicted[i])]))
        return results
