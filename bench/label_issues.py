"""Benchmark (issue 25): finding label errors seeded into the Jigsaw training file, and what cleaning recovers.

On ../shared/data/jigsaw/train.csv, per label, 10% of the positive rows are flipped to negative and as many negative
rows flipped to positive (seeded). `core.review.label_issues.find_label_issues` (5-fold out-of-fold TF-IDF, each
label weighed against the others, cleanlab's noise estimate) then ranks the noisy file, and the script prints:

- detection, per label: precision and recall of the flipped cells among the top-N ranked cells (N = the flips;
  so precision = recall) (goal: >= 0.6 for toxic, obscene and insult), of the cells cleanlab flags, and of the
  confident ones among them (posterior probability that the given value is right < 0.5);
- effect: test.csv macro ROC-AUC of the TF-IDF model (the product's baseline model) trained on the clean file,
  the noisy file, the noisy file with the confident cells relabelled to the suggestion (what a reviewer working
  down the queue accepts first), with every flagged cell relabelled, and with the confident rows dropped;
  recovered = (cleaned - noisy) / (clean - noisy) (goal >= 0.5);
- time of the ranking on 18.7k rows (goal < 120 s on 2 cores).

Run: .venv/bin/python bench/label_issues.py [--seed 0] [--rate 0.1]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from _common import JIGSAW_TEST, JIGSAW_TRAIN  # noqa: E402  (puts the project on sys.path)


def seeded_noise(given: np.ndarray, rate: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(noisy labels, flipped mask): per label, `rate` of the positives -> 0 and as many negatives -> 1."""
    rng = np.random.default_rng(seed)
    noisy, flipped = given.copy(), np.zeros(given.shape, dtype=bool)
    for j in range(given.shape[1]):
        positives, negatives = np.flatnonzero(given[:, j] == 1), np.flatnonzero(given[:, j] == 0)
        count = int(round(rate * len(positives)))
        for rows in (rng.choice(positives, count, replace=False), rng.choice(negatives, count, replace=False)):
            noisy[rows, j] = 1 - noisy[rows, j]
            flipped[rows, j] = True
    return noisy, flipped


def test_auc(train, labels: np.ndarray, test) -> float:
    from core.evaluation.metrics import multilabel_metrics
    from core.models.tfidf import TfidfModel

    model = TfidfModel.fit(train.frame["text"].astype(str).tolist(), labels, "multilabel", train.labels, 42)
    probs = model.predict_proba(test.frame["text"].astype(str).tolist())
    return multilabel_metrics(probs, test.label_matrix(), test.labels)["macro_roc_auc"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rate", type=float, default=0.1)
    args = parser.parse_args(argv)
    if not JIGSAW_TRAIN.exists():
        sys.exit(f"{JIGSAW_TRAIN} is absent: this benchmark needs the shared Jigsaw files")
    from core.data import load_dataset
    from core.review.label_issues import find_label_issues, ranked_cells

    clean = load_dataset(str(JIGSAW_TRAIN))
    test = load_dataset(str(JIGSAW_TEST))
    given = clean.label_matrix()
    noisy_labels, flipped = seeded_noise(given, args.rate, args.seed)
    frame = clean.frame.copy()
    frame[clean.labels] = noisy_labels
    noisy = clean.with_frame(frame)

    started = time.perf_counter()
    issues = find_label_issues(noisy, folds=5, seed=42)
    seconds = time.perf_counter() - started
    print(f"rows {len(frame):,}, flips per label {flipped.sum(axis=0).tolist()}, ranking {seconds:.1f} s "
          f"(goal < 120 s)\n")
    print("| label | flips | top-N precision = recall | flagged cells | precision | recall "
          "| confident cells | precision | recall |")
    print("|---|---|---|---|---|---|---|---|---|")
    for j, label in enumerate(clean.labels):
        n = int(flipped[:, j].sum())
        top = ranked_cells(issues, label)[:n]
        hits = flipped[top, j].sum()
        cells = []
        for chosen in (issues.suspect[:, j], issues.confident[:, j]):
            caught = (chosen & flipped[:, j]).sum()
            cells.append(f"{int(chosen.sum())} | {caught / max(chosen.sum(), 1):.3f} | {caught / max(n, 1):.3f}")
        print(f"| {label} | {n} | {hits / max(n, 1):.3f} | {cells[0]} | {cells[1]} |")

    def relabel(cells):
        labels = noisy_labels.copy()
        labels[cells] = 1 - labels[cells]
        return labels

    keep = ~issues.confident.any(axis=1)
    aucs = {"clean": test_auc(clean, given, test), "noisy": test_auc(noisy, noisy_labels, test),
            "noisy, confident cells relabelled": test_auc(noisy, relabel(issues.confident), test),
            "noisy, every flagged cell relabelled": test_auc(noisy, relabel(issues.suspect), test),
            "noisy, rows with a confident cell dropped": test_auc(noisy.with_frame(frame[keep]), noisy_labels[keep],
                                                                  test)}
    lost = aucs["clean"] - aucs["noisy"]
    print("\n| TF-IDF trained on | test.csv macro ROC-AUC | recovered of the loss |\n|---|---|---|")
    for name, value in aucs.items():
        recovered = "" if name in ("clean", "noisy") else f"{(value - aucs['noisy']) / lost:.2f}" if lost else "n/a"
        print(f"| {name} | {value:.4f} | {recovered} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
