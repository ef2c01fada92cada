"""Score texts with an exported CleanSpeech Studio run. Needs numpy, onnxruntime and tokenizers only.

    python score.py "first comment" "second comment"     # one JSON object per text
    python score.py --file comments.txt                    # one text per line
    python score.py --check                                # reproduce the run's probabilities saved at export

From Python: `from score import Bundle; Bundle().score(["text"])`. Probabilities are calibrated where the run has a
calibration (`bundle.json` "calibration"); flags compare the raw scores with the run's thresholds, and a multiclass
run's `predicted` applies its decision rule, exactly as the project's Scorer does. A run blended with a TF-IDF
partner (`ensemble: tfidf`) ships it as `partner.npz` + `partner_vocabulary.json`, computed here in numpy.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import onnxruntime
from tokenizers import Tokenizer

HERE = Path(__file__).resolve().parent
EPS = 1e-7


def _sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def _logit(p):
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def _binary_map(p, params):
    if "x" in params:  # isotonic: interpolate between the knots
        return np.interp(p, params["x"], params["y"]) if params["x"] else np.asarray(p, np.float64)
    return _sigmoid(params["a"] * _logit(p) + params["b"])


class TfidfPartner:
    """The run's TF-IDF + logistic regression partner in numpy: scikit-learn's TfidfVectorizer as the run fitted
    it (lowercase, tokens `(?u)\\b\\w+\\b`, word 1-2-grams, sublinear tf, idf, l2 norm), then the linear layer."""

    def __init__(self, folder: Path):
        meta = json.loads((folder / "partner_vocabulary.json").read_text(encoding="utf-8"))
        self.vocabulary, self.task = meta["vocabulary"], meta["task"]
        weights = np.load(folder / "partner.npz", allow_pickle=False)
        self.idf, self.coef, self.intercept = weights["idf"], weights["coef"], weights["intercept"]
        self.pattern = re.compile(meta["token_pattern"])

    def _features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        tokens = self.pattern.findall(text.lower())
        grams = tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]
        counts: dict[int, int] = {}
        for gram in grams:
            index = self.vocabulary.get(gram)
            if index is not None:
                counts[index] = counts.get(index, 0) + 1
        columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
        values = np.array([1.0 + math.log(c) for c in counts.values()], dtype=np.float64) * self.idf[columns]
        norm = float(np.sqrt((values ** 2).sum()))
        return columns, values / norm if norm else values

    def probabilities(self, texts: list[str]) -> np.ndarray:
        logits = np.zeros((len(texts), len(self.intercept)), dtype=np.float64)
        for row, text in enumerate(texts):
            columns, values = self._features(text)
            logits[row] = self.coef[:, columns].astype(np.float64) @ values + self.intercept
        if self.task == "multilabel":
            return 1.0 / (1.0 + np.exp(-logits))
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)


def blend(model: np.ndarray, partner: np.ndarray, weight: float, task: str) -> np.ndarray:
    """core.models.blend.blend, repeated (the bundle may not import the project): the weighted mean of the two
    models' logits (multilabel) or log-probabilities renormalised (multiclass)."""
    model = np.clip(np.asarray(model, dtype=np.float64), EPS, 1 - EPS)
    partner = np.clip(np.asarray(partner, dtype=np.float64), EPS, 1 - EPS)
    if task == "multilabel":
        return _sigmoid((1 - weight) * _logit(model) + weight * _logit(partner))
    z = (1 - weight) * np.log(model) + weight * np.log(partner)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


class Bundle:
    """The exported model, tokenizer and decisions of one run."""

    def __init__(self, folder=HERE, threads: int | None = None):
        folder = Path(folder)
        self.meta = json.loads((folder / "bundle.json").read_text(encoding="utf-8"))
        self.labels, self.task = self.meta["labels"], self.meta["task"]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = onnxruntime.InferenceSession(str(folder / "model.onnx"), options,
                                                    providers=["CPUExecutionProvider"])
        self.normalize = None
        if self.meta.get("normalize", "none") != "none":
            sys.path.insert(0, str(folder))
            from normalize import normalize_text  # the project's normalisation, shipped with the bundle

            mode = self.meta["normalize"]
            self.normalize = lambda text: normalize_text(text, mode)
        self.partner = TfidfPartner(folder) if self.meta.get("partner_weight") else None

    def raw_probabilities(self, texts: list[str], batch_size: int = 32) -> tuple[np.ndarray, np.ndarray]:
        """(uncalibrated probabilities (rows, labels), token counts before truncation)."""
        texts = [self.normalize(str(t)) if self.normalize else str(t) for t in texts]
        encoded = [e.ids for e in self.tokenizer.encode_batch(texts)]
        lengths = np.array([len(ids) for ids in encoded], dtype=int)
        limit, pad = int(self.meta["max_length"]), int(self.meta["pad_token_id"])
        logits = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            rows = range(start, min(start + batch_size, len(texts)))
            width = min(max(len(encoded[r]) for r in rows), limit)
            ids = np.full((len(rows), width), pad, dtype=np.int64)
            mask = np.zeros_like(ids)
            for i, row in enumerate(rows):
                seq = encoded[row]
                if len(seq) > width:  # keep the final special token when truncating, as the run's Scorer does
                    seq = seq[:width - 1] + seq[-1:]
                ids[i, :len(seq)], mask[i, :len(seq)] = seq, 1
            logits[start:start + len(rows)] = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        logits = logits.astype(np.float64)
        if self.task == "multilabel":
            probs = 1.0 / (1.0 + np.exp(-logits))
        else:
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs = shifted / shifted.sum(axis=1, keepdims=True)
        if self.partner is not None and len(texts):
            probs = blend(probs, self.partner.probabilities(texts), float(self.meta["partner_weight"]), self.task)
        return probs, lengths

    def calibrate(self, probs: np.ndarray) -> np.ndarray:
        """The run's calibration maps applied (the raw scores when it has none).

        The same maths as core.evaluation.calibration.apply_calibration, repeated because the bundle may not import
        the project (or scipy); tests/test_matrix.py pins the two together for platt, temperature, isotonic and
        multiclass maps.
        """
        payload = self.meta.get("calibration")
        if not payload or not len(probs):
            return probs
        if payload["task"] == "multiclass":
            params = payload["classes"]
            s = np.log(np.clip(probs, EPS, 1.0)) * params["a"] + np.asarray(params["b"])
            s = np.exp(s - s.max(axis=1, keepdims=True))
            return (s / s.sum(axis=1, keepdims=True)).astype(np.float32)
        out = np.empty_like(probs)
        for j, label in enumerate(payload["labels"]):
            out[:, j] = _binary_map(probs[:, j], payload["per_label"][label])
        return out.astype(np.float32)

    def score(self, texts: list[str]) -> list[dict]:
        """Per text: probabilities, flagged labels, token count, truncated, and (multiclass) the predicted class."""
        raw, lengths = self.raw_probabilities(texts)
        probs = self.calibrate(raw)
        predicted = None
        if self.task == "multiclass" and len(texts):
            offsets = np.asarray(self.meta.get("offsets") or [0.0] * len(self.labels), dtype=np.float64)
            predicted = (np.log(np.clip(raw, 1e-12, 1.0)) + offsets).argmax(axis=1)
        limits = self.meta["thresholds"]
        results = []
        for i, text in enumerate(texts):
            result = {"text": str(text), "probabilities": {label: float(p) for label, p in zip(self.labels, probs[i])},
                      "flagged": [label for j, label in enumerate(self.labels) if raw[i, j] >= limits[label]],
                      "tokens": int(lengths[i]), "truncated": bool(lengths[i] > self.meta["max_length"])}
            if predicted is not None:
                result["predicted"] = self.labels[int(predicted[i])]
            results.append(result)
        return results

    def check(self) -> float:
        """Largest difference from the probabilities the run gave the check texts at export."""
        saved = self.meta["check"]
        found = self.score(saved["texts"])
        return max(abs(r["probabilities"][label] - p[label]) for r, p in zip(found, saved["probabilities"])
                   for label in self.labels)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    bundle = Bundle()
    if argv[0] == "--check":
        diff, tolerance = bundle.check(), bundle.meta["check"]["tolerance"]
        print(json.dumps({"max_diff": diff, "tolerance": tolerance, "ok": diff <= tolerance}))
        return 0 if diff <= tolerance else 1
    if argv[0] == "--file":
        if len(argv) < 2:
            print("error: --file needs a path", file=sys.stderr)
            return 2
        texts = [line for line in Path(argv[1]).read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        texts = argv
    for result in bundle.score(texts):
        print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
