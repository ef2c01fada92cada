"""Rewrite toxic comments (Gemini or the offline local rewriter) and verify every candidate.

`rewrite(scorer, text, backend="local"|"gemini", candidates=N, ...) -> list[Candidate]`, best first.
"""

from __future__ import annotations

from core.errors import ConfigError, RewriteError
from core.rewrite.verify import DEFAULT_MIN_SIMILARITY, Candidate, verify

BACKENDS = ("local", "gemini")


def rewrite(scorer, text: str, backend: str = "local", candidates: int = 3,
            min_similarity: float = DEFAULT_MIN_SIMILARITY, api_key: str | None = None, model: str | None = None,
            client=None) -> list[Candidate]:
    """Rewrite `text` with `backend` and verify each candidate with `scorer` (ranked, best first).

    Raises:
        RewriteError: the backend failed (plain message); ConfigError: bad arguments.
    """
    if backend not in BACKENDS:
        raise ConfigError(f"backend={backend!r} is not known. Fix: use one of {BACKENDS}.")
    if not str(text).strip():
        raise RewriteError("nothing to rewrite: the text is empty. Fix: paste a comment.")
    if not 1 <= int(candidates) <= 8:
        raise ConfigError(f"candidates={candidates!r} is out of range. Fix: ask for 1 to 8.")
    if backend == "local":
        from core.rewrite.local import rewrite_local

        edited = rewrite_local(scorer, text)
        return verify(scorer, text, [edited.text], "local", min_similarity, [edited.changes])
    from core.rewrite.gemini import DEFAULT_MODEL, GeminiRewriter, api_key_from_env

    rewriter = GeminiRewriter(api_key or api_key_from_env(), model or DEFAULT_MODEL, client=client)
    return verify(scorer, text, rewriter.rewrite(text, int(candidates)), "gemini", min_similarity)


__all__ = ["BACKENDS", "Candidate", "rewrite"]
