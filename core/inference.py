"""Scoring with a saved run: `Scorer.from_run(path).score(texts)`.

Load once, score many: texts are sorted by length and padded per batch, under `torch.inference_mode`;
results are plain Python (probability per label, decisions under the run's thresholds, truncation).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core import runs
from core.errors import ModelNotAvailable
from core.fileio import read_json

META_FILE = "cleanspeech.json"


@dataclass
class ScoreResult:
    """One text's scores."""

    text: str
    probabilities: dict[str, float]
    flagged: list[str]
    tokens: int = 0
    truncated: bool = False

    def to_dict(self) -> dict:
        return {"text": self.text, "probabilities": self.probabilities, "flagged": self.flagged,
                "tokens": self.tokens, "truncated": self.truncated}


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
    last_seconds: float = field(default=0.0)

    @classmethod
    def from_run(cls, run_dir: str | Path, device: str | None = None) -> "Scorer":
        """Load the run's model, labels, max length and saved thresholds.

        Raises:
            ModelNotAvailable: the run has no saved model yet (still training, failed or stopped).
        """
        run_dir = Path(run_dir)
        model_dir = run_dir / runs.MODEL
        meta = read_json(model_dir / META_FILE)
        if meta is None:
            raise ModelNotAvailable(f"Run {run_dir.name!r} has no saved model (state: "
                                    f"{runs.read_status(run_dir).get('state', 'unknown')}). "
                                    "Fix: pick a succeeded run, or wait for this one to finish.")
        thresholds = (read_json(run_dir / runs.THRESHOLDS, {}) or {}).get("thresholds", {})
        thresholds = {label: float(thresholds.get(label, 0.5)) for label in meta["labels"]}
        if meta["model_kind"] == "tfidf":
            from core.training.tfidf import TfidfModel

            return cls(run_dir, "tfidf", meta["task"], meta["labels"], thresholds, 0, TfidfModel.load(model_dir))
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForSequenceClassification.from_pretrained(model_dir, use_safetensors=True).to(device).eval()
        return cls(run_dir, meta["model_kind"], meta["task"], meta["labels"], thresholds, int(meta["max_length"]),
                   model, tokenizer, device)

    def predict_proba(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """(len(texts), labels) probabilities, in the order of `texts`."""
        texts = [str(t) for t in texts]
        started = time.perf_counter()
        if self.model_kind == "tfidf":
            probs = self.model.predict_proba(texts)
        else:
            probs = self._transformer_probs(texts, batch_size)[0]
        self.last_seconds = time.perf_counter() - started
        return probs

    def _transformer_probs(self, texts: list[str], batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        import torch

        from core.training.classifier import probabilities

        encoded = self.tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
        lengths = np.array([len(ids) for ids in encoded])
        order = np.argsort(-lengths, kind="stable")  # longest first: similar lengths share a batch
        pad = self.tokenizer.pad_token_id or 0
        logits = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                rows = order[start:start + batch_size]
                width = min(int(lengths[rows].max()), self.max_length)
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

    def score(self, texts: list[str], batch_size: int = 32) -> list[ScoreResult]:
        """Score texts: probabilities, flagged labels (>= threshold), token counts and truncation."""
        texts = [str(t) for t in texts]
        if self.model_kind == "tfidf":
            probs, lengths = self.model.predict_proba(texts), np.array([len(t.split()) for t in texts])
        else:
            probs, lengths = self._transformer_probs(texts, batch_size)
        results = []
        for text, row, length in zip(texts, probs, lengths):
            values = {label: float(p) for label, p in zip(self.labels, row)}
            flagged = [label for label in self.labels if values[label] >= self.thresholds[label]]
            results.append(ScoreResult(text, values, flagged, int(length),
                                       bool(self.max_length and length > self.max_length)))
        return results
