"""Verify rewrites: re-score with the user's own model and compare meaning with the original.

A candidate is *accepted* when no label reaches its threshold any more and its meaning similarity (cosine of
bundled-MiniLM sentence embeddings) is at least `min_similarity` (the ParaDetox idea: style-transfer
accuracy + similarity). Candidates are ranked by (accepted, similarity).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np

from core.models.catalog import bundled_model_path

DEFAULT_MIN_SIMILARITY = 0.6


@dataclass
class Candidate:
    """One verified rewrite."""

    text: str
    source: str  # "gemini" | "local"
    before: dict[str, float]
    after: dict[str, float]
    flagged_after: list[str]
    similarity: float
    length_ratio: float
    accepted: bool
    changes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=1)
def _embedder():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(bundled_model_path()), device="cpu")


def similarities(original: str, candidates: list[str]) -> np.ndarray:
    """Cosine similarity of each candidate to the original (bundled MiniLM, normalised mean-pooled embeddings)."""
    if not candidates:
        return np.zeros(0)
    vectors = _embedder().encode([original, *candidates], normalize_embeddings=True, convert_to_numpy=True)
    return vectors[1:] @ vectors[0]


def verify(scorer, original: str, texts: list[str], source: str, min_similarity: float = DEFAULT_MIN_SIMILARITY,
           changes: list[list[str]] | None = None) -> list[Candidate]:
    """Score, compare and rank rewrites of `original` (best first)."""
    before = scorer.score([original])[0].probabilities
    results = scorer.score(texts) if texts else []
    similarity = similarities(original, texts)
    candidates = []
    for i, (text, result) in enumerate(zip(texts, results)):
        accepted = not result.flagged and float(similarity[i]) >= min_similarity
        candidates.append(Candidate(text, source, before, result.probabilities, result.flagged,
                                    float(similarity[i]), len(text) / max(len(original), 1), accepted,
                                    (changes or [[]] * len(texts))[i]))
    return sorted(candidates, key=lambda c: (c.accepted, c.similarity), reverse=True)


def verdict_notes(candidate: Candidate, min_similarity: float) -> tuple[list[str], str]:
    """(why the candidate was not accepted, what to try next); ([], "") for an accepted one."""
    if candidate.accepted:
        return [], ""
    why, tips = [], []
    if not candidate.text.strip():
        return (["nothing was left after taking the abuse out"],
                "The comment had no content besides the abuse; there is nothing to keep. Write the point, if any, "
                "yourself.")
    if candidate.flagged_after:
        why.append(f"still flagged: {', '.join(candidate.flagged_after)}")
        if candidate.source == "local":
            tips.append("the local rewriter only swaps or removes single words that push a label up (8 edits at "
                        "most), and what is left is carried by the sentence as a whole: try Gemini (set "
                        "GEMINI_API_KEY), or rephrase the words the Explain page highlights")
        else:
            tips.append("ask for more candidates, or rephrase the words the Explain page highlights")
    if candidate.similarity < min_similarity:
        why.append(f"meaning drifted (similarity {candidate.similarity:.2f} < {min_similarity:.2f})")
        tips.append("lower the similarity floor if the rewrite still says what was meant; a comment that is "
                    "mostly abuse keeps little of its meaning once the abuse is gone")
    return why, ("Try: " + "; or ".join(tips) + ".") if tips else ""
