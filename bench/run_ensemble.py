"""Benchmark (issue 24): how far averaging finished Jigsaw runs moves test.csv macro ROC-AUC (goal 0.980).

Scores ../shared/data/jigsaw/test.csv with each run given (the Scorer, raw scores; a run with a TF-IDF partner
scores with it) and prints each run's macro and per-label ROC-AUC, then the runs averaged two ways: the mean of
their probabilities and the mean of their per-label ranks. The runs are the user's (for example two seeds or two
recipes of `python -m core train`); nothing is trained here.

Run: .venv/bin/python bench/run_ensemble.py RUN RUN [RUN ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

from _common import JIGSAW_TEST  # noqa: E402  (puts the project on sys.path)


def main() -> None:
    import numpy as np
    import pandas as pd
    from scipy.stats import rankdata
    from sklearn.metrics import roc_auc_score

    from core.scoring.scorer import Scorer

    folders = [Path(arg) for arg in sys.argv[1:]]
    if len(folders) < 2:
        sys.exit("give two or more run folders")
    if not JIGSAW_TEST.exists():
        sys.exit(f"{JIGSAW_TEST} is missing: this benchmark needs the shared Jigsaw data")
    test = pd.read_csv(JIGSAW_TEST)
    texts = test["comment_text"].astype(str).tolist()
    scored, labels = {}, None
    for folder in folders:
        scorer = Scorer.from_run(folder, calibrated=False)
        if labels is not None and scorer.labels != labels:
            sys.exit(f"{folder.name} predicts {scorer.labels}, the first run {labels}: give runs of the same labels")
        labels = scorer.labels
        scored[folder.name] = scorer.predict_proba(texts).astype(np.float64)
    truth = test[labels].to_numpy()

    def per_label(probs):
        return [roc_auc_score(truth[:, j], probs[:, j]) for j in range(len(labels))]

    rows = {name: per_label(probs) for name, probs in scored.items()}
    stack = np.stack(list(scored.values()))
    rows["mean of probabilities"] = per_label(stack.mean(axis=0))
    ranks = np.stack([np.column_stack([rankdata(p[:, j]) for j in range(len(labels))]) for p in stack])
    rows["mean of ranks"] = per_label(ranks.mean(axis=0))
    print("| model | macro ROC-AUC | " + " | ".join(labels) + " |")
    print("|---" * (len(labels) + 2) + "|")
    for name, values in rows.items():
        print(f"| {name} | {np.mean(values):.4f} | " + " | ".join(f"{v:.4f}" for v in values) + " |")


if __name__ == "__main__":
    main()
