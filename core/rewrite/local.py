"""The offline rewriter: explanation-guided editing, no key and no network.

Loop: score the text; while a label is at or above its threshold, explain the label that is furthest over
its threshold (exact linear contributions for tfidf runs, Integrated Gradients for transformer runs),
take the word with the largest positive attribution, replace it with a neutral word from the lexicon or
remove it, and re-score; stop when nothing is flagged or after `max_steps` edits. Every edit is recorded.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from core.explain import explain
from core.data.lexicon import NEUTRAL

_CORE_RE = re.compile(r"^(\W*)(.*?)(\W*)$", re.S)


@dataclass
class LocalRewrite:
    """The edited text and what changed."""

    text: str
    changes: list[str] = field(default_factory=list)
    steps: int = 0
    passed: bool = False
    seconds: float = 0.0


def _worst_label(result, thresholds: dict[str, float]) -> str | None:
    over = {label: result.probabilities[label] - thresholds[label] for label in result.flagged}
    return max(over, key=over.get) if over else None


def _edit(word: str) -> tuple[str, str]:
    """The replacement of one whitespace-separated word (punctuation kept) and a description of the edit."""
    lead, core, trail = _CORE_RE.match(word).groups()
    replacement = NEUTRAL.get(core.lower(), "")
    if replacement and core[:1].isupper():
        replacement = replacement[:1].upper() + replacement[1:]
    if replacement:
        return f"{lead}{replacement}{trail}", f"{core!r} -> {replacement!r}"
    kept = (lead + trail).strip()
    return kept, f"removed {core!r}"


def _pick(words: list[str], scores: list[float], inserted: set[int]) -> int | None:
    """The word to edit: the most-attributed known insult/profanity, else the most-attributed word.

    Only words that push the label up (score > 0) qualify, and never a neutral word we put in ourselves.
    """
    ranked = [i for i in sorted(range(len(words)), key=lambda i: -scores[i]) if scores[i] > 0 and i not in inserted]
    known = [i for i in ranked if _CORE_RE.match(words[i]).group(2).lower() in NEUTRAL]
    return (known or ranked or [None])[0]


def rewrite_local(scorer, text: str, max_steps: int = 8) -> LocalRewrite:
    """Edit `text` until no label is flagged by `scorer` (or `max_steps` edits)."""
    started = time.perf_counter()
    method = "linear" if scorer.model_kind == "tfidf" else "ig"
    options = {} if method == "linear" else {"n_steps": 16}
    words, changes, inserted = text.split(), [], set()
    current = text
    for step in range(max_steps + 1):
        result = scorer.score([current])[0]
        label = _worst_label(result, scorer.score_thresholds)
        if label is None or not words or step == max_steps:
            break
        attribution = explain(scorer, current, method, label=label, **options)
        index = _pick(words, attribution.word_scores, inserted)
        if index is None:
            break  # nothing left pushes the label up: further edits would be guesses
        new_word, change = _edit(words[index])
        changes.append(f"{change} (for {label})")
        inserted = {i if i < index else i - (0 if new_word else 1) for i in inserted if i != index}
        if new_word:
            inserted.add(index)
        words = words[:index] + ([new_word] if new_word else []) + words[index + 1:]
        current = " ".join(words)
    final = scorer.score([current])[0] if current else None
    return LocalRewrite(current, changes, len(changes), bool(final is not None and not final.flagged),
                        time.perf_counter() - started)
