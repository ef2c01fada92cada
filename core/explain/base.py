"""The explainer interface: `Attribution` results, declared options, and token -> word aggregation.

Every method explains one number: the scorer's probability for one label (sigmoid for multilabel runs,
softmax for multiclass), except the exact linear view of the tfidf baseline, which explains its logit.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np

from core.errors import ConfigError

_WORD_RE = re.compile(r"\S+")


@dataclass
class Option:
    """One option an explainer accepts; pages draw a widget from it (LIT-style declared spec)."""

    name: str
    kind: str  # "int" | "float"
    default: float
    minimum: float
    maximum: float
    help: str = ""

    def check(self, value) -> float:
        cast = int if self.kind == "int" else float
        try:
            value = cast(value)
        except (TypeError, ValueError):
            raise ConfigError(f"option {self.name}={value!r} is not a number. Fix: {self.help}") from None
        if not self.minimum <= value <= self.maximum:
            raise ConfigError(f"option {self.name}={value!r} is out of range [{self.minimum}, {self.maximum}].")
        return value


@dataclass
class Attribution:
    """How much each token and word of `text` pushed `output` (the explained number) up or down."""

    method: str
    label: str
    text: str
    output: float
    tokens: list[str]
    token_scores: list[float]
    words: list[str]
    word_scores: list[float]
    base: float | None = None  # the output with everything masked (SHAP) / at the baseline (IG)
    seconds: float = 0.0
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def resolve_options(declared: list[Option], given: dict) -> dict:
    """Defaults for missing options, validated values for given ones; unknown names are an error."""
    names = {o.name for o in declared}
    unknown = sorted(set(given) - names)
    if unknown:
        raise ConfigError(f"unknown option(s) {unknown}; this method accepts {sorted(names)}.")
    return {o.name: o.check(given[o.name]) if o.name in given else o.default for o in declared}


def word_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the whitespace-separated words of `text`."""
    return [m.span() for m in _WORD_RE.finditer(text)]


def words_from_offsets(text: str, offsets: list[tuple[int, int]], scores: np.ndarray) -> tuple[list[str], list[float]]:
    """Sum token scores into the words their character offsets fall in (special tokens, offset (0, 0), skipped).

    The words are substrings of the original text, so nothing is duplicated or re-spelled, whatever the
    tokenizer (WordPiece ## pieces, SentencePiece ▁ pieces).
    """
    spans = word_spans(text)
    starts = np.array([s for s, _ in spans])
    totals = np.zeros(len(spans))
    for (start, end), score in zip(offsets, scores):
        if end <= start or not spans:
            continue
        index = int(np.searchsorted(starts, start, side="right")) - 1
        totals[max(index, 0)] += float(score)
    return [text[s:e] for s, e in spans], totals.tolist()


def label_index(labels: list[str], label: str | None, probs: np.ndarray) -> int:
    """The label to explain: the one named, else the highest-scoring one."""
    if label is None:
        return int(np.argmax(probs))
    if label not in labels:
        raise ConfigError(f"label {label!r} is not one of the run's labels {labels}.")
    return labels.index(label)
