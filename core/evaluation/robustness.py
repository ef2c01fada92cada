"""Robustness: how a run's scores hold up when its validation texts are perturbed.

Each perturbation rewrites a sample of texts (seeded, so two audits of one run agree). Character obfuscations
target the words an abuser would hide: the words of the lexicon (`core.data.lexicon`, insults and
profanity) when the text has any, else up to three of its longest words.

- `lookalike`: letters swapped for look-alike letters of other scripts (Cyrillic `а`, `е`, `о`, `ѕ`, ...) and
  symbols (`@` for a, `$` for s);
- `leet`: letters swapped for digits and symbols (`1d10t`, `k!ll`);
- `spaced`: the letters of a word spaced, dotted or dashed apart (`s t u p i d`, `s.t.u.p.i.d`, `i-d-i-o-t`);
- `repeated`: one letter repeated (`stuuuupid`);
- `typo`: two neighbouring letters swapped, or a letter dropped (other words, once per text);
- `upper`, `lower`: the whole text in one case;
- `negation`: `It is not true that` before the text (meaning changes: flags *should* move);
- `identity_swap`: identity terms swapped for others of their category (meaning kept: flags should stay).

`robustness_report` scores the clean and perturbed texts with `predict` and reports, per perturbation, the
texts it changed, macro ROC-AUC over the labels with both classes in the sample (clean vs perturbed), the
change, and the share of (text, label) flags that flip.
"""

from __future__ import annotations

import re
import time

import numpy as np
from sklearn.metrics import roc_auc_score

from core.data.identity import swap_identity
from core.data.lexicon import NEUTRAL

_LOOKALIKE = {"a": "а", "c": "с", "e": "е", "i": "і", "o": "о", "p": "р", "s": "ѕ", "x": "х", "y": "у", "j": "ј",
              "h": "һ", "k": "к"}
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7", "l": "1", "b": "8"}
_LEET_SYMBOL = {"a": "@", "s": "$", "i": "!"}
_WORDS = re.compile(r"[A-Za-z]{3,}")
PERTURBATIONS = ("lookalike", "leet", "spaced", "repeated", "typo", "upper", "lower", "negation", "identity_swap")
OBFUSCATIONS = ("lookalike", "leet", "spaced", "repeated")  # the goal: AUC within 0.01 of clean


def _targets(text: str, rng: np.random.Generator) -> list[re.Match]:
    words = list(_WORDS.finditer(text))
    hits = [m for m in words if m.group(0).lower() in NEUTRAL]
    if hits:
        return hits
    longest = sorted(words, key=lambda m: (-len(m.group(0)), m.start()))[:3]
    return sorted(longest, key=lambda m: m.start())


def _replace_words(text: str, matches: list[re.Match], change) -> str:
    out, last = [], 0
    for m in matches:
        out.append(text[last:m.start()])
        out.append(change(m.group(0)))
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def _swap_letters(word: str, table: dict, rng: np.random.Generator, share: float = 0.5) -> str:
    positions = [i for i, c in enumerate(word) if c.lower() in table]
    if not positions:
        return word
    chosen = set(rng.choice(positions, size=max(1, int(round(share * len(positions)))), replace=False).tolist())
    return "".join(table[c.lower()] if i in chosen else c for i, c in enumerate(word))


def perturb(text: str, kind: str, rng: np.random.Generator) -> str:
    """`text` under one perturbation of `PERTURBATIONS` (may return it unchanged, e.g. no identity term)."""
    if kind == "upper":
        return text.upper()
    if kind == "lower":
        return text.lower()
    if kind == "negation":
        return "It is not true that " + text[:1].lower() + text[1:]
    if kind == "identity_swap":
        return swap_identity(text, rng) or text
    targets = _targets(text, rng)
    if kind == "lookalike":
        table = dict(_LOOKALIKE)
        return _replace_words(text, targets, lambda w: _swap_letters(w, table, rng))
    if kind == "leet":
        table = {**_LEET, **(_LEET_SYMBOL if rng.random() < 0.5 else {})}
        return _replace_words(text, targets, lambda w: _swap_letters(w, table, rng))
    if kind == "spaced":
        joiner = str(rng.choice([" ", ".", "-"]))
        # letters spaced apart across two neighbouring words cannot be told apart ("s t u p i d i d i o t"):
        # spaces go into one word, dots and dashes into every target
        return _replace_words(text, targets[:1] if joiner == " " else targets, lambda w: joiner.join(w))
    if kind == "repeated":
        def repeat(word: str) -> str:
            i = int(rng.integers(1, len(word)))
            return word[:i] + word[i] * int(rng.integers(3, 6)) + word[i + 1:]
        return _replace_words(text, targets, repeat)
    if kind == "typo":
        def typo(word: str) -> str:
            i = int(rng.integers(0, len(word) - 1))
            if rng.random() < 0.5:
                return word[:i] + word[i + 1] + word[i] + word[i + 2:]
            return word[:i] + word[i + 1:]
        words = list(_WORDS.finditer(text))
        picked = [words[int(rng.integers(0, len(words)))]] if words else []
        return _replace_words(text, picked, typo)
    raise ValueError(f"unknown perturbation {kind!r}: use one of {PERTURBATIONS}")


def sample_rows(truth: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Up to `size` row indices, keeping every row positive for some label when they fit in half the sample
    (rare labels need their positives for an AUC), the rest drawn from the others."""
    rng = np.random.default_rng(seed)
    truth = np.asarray(truth)
    positive = np.flatnonzero(truth.reshape(len(truth), -1).any(axis=1)) if truth.ndim > 1 else np.arange(0)
    if truth.ndim == 1:  # multiclass: a stratified draw keeps every class
        picked = []
        for value in np.unique(truth):
            rows = np.flatnonzero(truth == value)
            take = max(1, int(round(size * len(rows) / len(truth))))
            picked.extend(rng.choice(rows, size=min(take, len(rows)), replace=False).tolist())
        return np.sort(np.array(picked[:size] if len(picked) > size else picked, dtype=int))
    keep = rng.permutation(positive)[: size // 2]
    rest = np.setdiff1d(np.arange(len(truth)), keep)
    fill = rng.choice(rest, size=min(size - len(keep), len(rest)), replace=False)
    return np.sort(np.concatenate([keep, fill]).astype(int))


def _macro_auc(truth: np.ndarray, probs: np.ndarray) -> float | None:
    values = [roc_auc_score(truth[:, j], probs[:, j]) for j in range(truth.shape[1])
              if 0 < truth[:, j].sum() < len(truth)]
    return float(np.mean(values)) if values else None


def robustness_report(predict, texts: list[str], truth: np.ndarray, task: str, labels: list[str],
                      thresholds: dict[str, float], sample: int = 600, seed: int = 0,
                      kinds: tuple[str, ...] = PERTURBATIONS) -> dict:
    """Macro ROC-AUC and flag flips of `predict(texts) -> (rows, labels)` under each perturbation.

    Args:
        truth: multilabel (rows, labels) 0/1; multiclass (rows,) class indices.
        sample: at most this many texts (chosen by `sample_rows`).
    """
    started = time.perf_counter()
    truth = np.asarray(truth)
    rows = sample_rows(truth, sample, seed)
    chosen = [str(texts[i]) for i in rows]
    matrix = np.eye(len(labels), dtype=int)[truth[rows]] if task == "multiclass" else truth[rows].astype(int)
    limits = np.array([thresholds[label] for label in labels])
    clean = np.asarray(predict(chosen), dtype=np.float64)
    clean_auc = _macro_auc(matrix, clean)
    clean_flags = clean >= limits
    results = []
    for k, kind in enumerate(kinds):
        rng = np.random.default_rng(seed + 1000 * (k + 1))
        perturbed = [perturb(text, kind, rng) for text in chosen]
        changed = np.array([a != b for a, b in zip(perturbed, chosen)])
        probs = clean.copy()
        if changed.any():
            probs[changed] = np.asarray(predict([t for t, c in zip(perturbed, changed) if c]), dtype=np.float64)
        auc = _macro_auc(matrix, probs)
        example = next((t for t, c in zip(perturbed, changed) if c), "")
        results.append({"perturbation": kind, "texts_changed": int(changed.sum()), "macro_roc_auc": auc,
                        "auc_change": None if auc is None or clean_auc is None else auc - clean_auc,
                        "flags_flipped": float((clean_flags != (probs >= limits)).mean()),
                        "example": example[:200]})
    return {"rows": len(rows), "seed": seed, "clean_macro_roc_auc": clean_auc, "perturbations": results,
            "seconds": round(time.perf_counter() - started, 2)}
