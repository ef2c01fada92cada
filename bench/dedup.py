"""Benchmark: near-duplicate detection on ../shared/data/jigsaw/train.csv (goal: < 60 s, < 2 GB peak, 2 cores).

Baseline in the same run: the dense n x n cosine-similarity matrix (sklearn cosine_similarity on the same TF-IDF
rows, float32), the approach the issue rules out, to show the time and memory ratios.

Run: .venv/bin/python bench/dedup.py [PATH]
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.data import find_duplicates, load_dataset  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/data/jigsaw/train.csv"
    dataset = load_dataset(path)
    base_mb = peak_mb()
    started = time.perf_counter()
    groups = find_duplicates(dataset, near_threshold=0.9)
    ours = time.perf_counter() - started
    ours_peak = peak_mb()
    print(f"ours:     {len(dataset.frame):,} rows, {groups.exact_pairs} exact + {groups.near_pairs} near pairs, "
          f"{len(groups.groups())} groups, {ours:.1f} s, peak RSS {ours_peak:.0f} MB (after load {base_mb:.0f} MB)")

    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    from core.data.dedup import normalise

    started = time.perf_counter()
    texts = dataset.frame["text"].map(normalise).tolist()
    matrix = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32,
                             token_pattern=r"(?u)\b\w+\b").fit_transform(texts)
    similarity = cosine_similarity(matrix, dense_output=True)
    pairs = int((np.triu(similarity >= 0.9 - 1e-6, k=1)).sum())
    baseline = time.perf_counter() - started
    baseline_peak = peak_mb()
    print(f"baseline: dense n x n cosine_similarity: {pairs} near pairs, {baseline:.1f} s, peak RSS {baseline_peak:.0f} MB")
    print(f"ratio: ours {baseline / ours:.2f}x faster, peak memory {baseline_peak / ours_peak:.2f}x lower")


if __name__ == "__main__":
    main()
