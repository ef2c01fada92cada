"""Semantic search with a run's sentence model: index a text column, query it, get the top k with scores.

Exact search: embeddings are unit length, so cosine similarity is a dot product; with faiss-cpu installed
the index is a faiss `IndexFlatIP` (same results, faster on big corpora), else numpy. `base_model(run)`
loads the model the run started from, so pages and CLI can show base and fine-tuned results side by side.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core import runs
from core.errors import ConfigError, DataError, ModelNotAvailable
from core.models.catalog import resolve_model
from core.models.embedding import embed, load_sentence_model

MAX_CORPUS_ROWS = 200_000


@dataclass
class SearchHit:
    """One result: rank (1 = best), cosine similarity, the corpus row number and its text."""

    rank: int
    score: float
    row: int
    text: str

    def to_dict(self) -> dict:
        return asdict(self)


def run_model(run_dir: str | Path):
    """The fine-tuned sentence model of an SBERT run.

    Raises:
        ModelNotAvailable: the run has no saved model, or is not an SBERT run.
    """
    run_dir = Path(run_dir)
    runs.check_loadable(run_dir)
    meta = runs.read_model_meta(run_dir)
    if meta.get("model_kind") != "sbert":
        raise ModelNotAvailable(f"run {run_dir.name!r} is a {meta.get('model_kind')} run, not a sentence model. "
                                "Fix: pick an SBERT run (train one with model kind 'sbert').")
    return load_sentence_model(run_dir / runs.MODEL)


def base_model(run_dir: str | Path):
    """The sentence model the run was fine-tuned from (its config's `base_model`)."""
    config = runs.read_run(Path(run_dir)).config
    resolved = resolve_model(config.get("base_model"))
    return load_sentence_model(resolved.path, hub=resolved.source == "hub")


def corpus_texts(frame, column: str, max_rows: int = MAX_CORPUS_ROWS) -> list[str]:
    """The non-empty texts of `column` (as strings), at most `max_rows`.

    Raises:
        DataError: unknown column, no text, or too many rows.
    """
    if column not in frame.columns:
        raise DataError(f"column {column!r} is not in the corpus (columns: {list(frame.columns)}). "
                        "Fix: pick the text column.")
    texts = [str(t) for t in frame[column].dropna().tolist() if str(t).strip()]
    if not texts:
        raise DataError(f"column {column!r} has no text to index. Fix: pick the text column.")
    if len(texts) > max_rows:
        raise DataError(f"the corpus has {len(texts)} texts; the limit is {max_rows}. Fix: index a sample.")
    return texts


class SearchIndex:
    """Unit-length embeddings of a corpus, searchable by cosine similarity."""

    def __init__(self, vectors: np.ndarray, texts: list[str]):
        self.vectors, self.texts = np.ascontiguousarray(vectors, dtype=np.float32), list(texts)
        self._faiss = None
        try:
            import faiss  # optional: `pip install faiss-cpu`
        except ImportError:
            pass
        else:
            self._faiss = faiss.IndexFlatIP(self.vectors.shape[1])
            self._faiss.add(self.vectors)

    @property
    def backend(self) -> str:
        return "faiss" if self._faiss is not None else "numpy"

    @classmethod
    def build(cls, model, texts: list[str], batch_size: int = 64, progress=None) -> "SearchIndex":
        """Embed `texts` with `model`; `progress(done, total)` is called after each chunk (for a progress bar)."""
        chunk = max(batch_size * 8, 1)
        parts = []
        for start in range(0, len(texts), chunk):
            parts.append(embed(model, texts[start:start + chunk], batch_size))
            if progress:
                progress(min(start + chunk, len(texts)), len(texts))
        return cls(np.concatenate(parts) if parts else np.zeros((0, 1), np.float32), texts)

    def search(self, model, query: str, k: int = 5) -> list[SearchHit]:
        """The `k` corpus texts most similar to `query`, best first.

        Raises:
            ConfigError: an empty query or k < 1.
        """
        if not str(query).strip():
            raise ConfigError("the query is empty. Fix: type what you are looking for.")
        if int(k) < 1:
            raise ConfigError(f"top_k={k} is invalid. Fix: use 1 or more.")
        vector = embed(model, [str(query)])
        k = min(int(k), len(self.texts))
        if self._faiss is not None:
            scores, rows = self._faiss.search(vector, k)
            scores, rows = scores[0], rows[0]
        else:
            sims = self.vectors @ vector[0]
            rows = np.argsort(-sims, kind="stable")[:k]
            scores = sims[rows]
        return [SearchHit(rank, round(float(score), 6), int(row), self.texts[int(row)])
                for rank, (row, score) in enumerate(zip(rows, scores), start=1)]
