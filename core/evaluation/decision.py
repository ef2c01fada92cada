"""Multiclass decisions beyond argmax: per-class offsets on log-probabilities, fitted on validation.

The top class under-serves rare classes (hate speech among offensive tweets): a model that gives `hate` 0.3 and
`offensive` 0.6 always says `offensive`. Adding a per-class offset b_c to log p_c before the argmax,
`decide(p) = argmax_c(log p_c + b_c)`, is the prior-correction family of rules: b_c = log(w_c) reweights each
class. The offsets are fitted on the validation split to maximise macro-F1 over a grid (the first class is the
reference, b_0 = 0, since adding one constant to all changes nothing).
"""

from __future__ import annotations

import numpy as np

GRID = np.round(np.linspace(-4.0, 4.0, 81), 6)  # log-space offsets: class weights from e^-4 to e^4
ROUNDS = 4
_EPS = 1e-12


def decide(probs: np.ndarray, offsets: np.ndarray | None = None) -> np.ndarray:
    """Class index per row: argmax of log-probability plus the class's offset (plain argmax without offsets)."""
    probs = np.asarray(probs, dtype=np.float64)
    if offsets is None:
        return probs.argmax(axis=1)
    return (np.log(np.clip(probs, _EPS, 1.0)) + np.asarray(offsets, dtype=np.float64)).argmax(axis=1)


def macro_f1(truth: np.ndarray, predicted: np.ndarray, classes: int) -> float:
    """Unweighted mean of per-class F1 (a class never true nor predicted counts as 0, as sklearn's default)."""
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    scores = []
    for c in range(classes):
        tp = int(((truth == c) & (predicted == c)).sum())
        denominator = int((truth == c).sum() + (predicted == c).sum())
        scores.append(2 * tp / denominator if denominator else 0.0)
    return float(np.mean(scores))


def fit_offsets(probs: np.ndarray, truth: np.ndarray, grid: np.ndarray = GRID, rounds: int = ROUNDS) -> np.ndarray:
    """Per-class offsets (first class 0) that maximise macro-F1 of `decide` on (probs, truth).

    Up to three classes every combination of grid values is tried (81 x 81 for three), so the optimum on the grid
    is found; with more classes, coordinate ascent from argmax (a local optimum). Ties keep the offsets with the
    smallest total size (the least change from argmax), so the result is never worse than argmax on the data it
    was fitted on.
    """
    probs, truth = np.asarray(probs, dtype=np.float64), np.asarray(truth, dtype=np.int64)
    classes = probs.shape[1]
    logp = np.log(np.clip(probs, _EPS, 1.0))
    offsets = np.zeros(classes)
    best = macro_f1(truth, logp.argmax(axis=1), classes)
    if classes <= 3:
        combos = np.array(np.meshgrid(*[grid] * (classes - 1), indexing="ij")).reshape(classes - 1, -1).T
        for combo in combos[np.argsort(np.abs(combos).sum(axis=1), kind="stable")]:
            trial = np.concatenate([[0.0], combo])
            score = macro_f1(truth, (logp + trial).argmax(axis=1), classes)
            if score > best + 1e-12:
                best, offsets = score, trial
        return offsets
    by_closeness = grid[np.argsort(np.abs(grid), kind="stable")]
    for _ in range(rounds):
        improved = False
        for c in range(1, classes):
            for value in by_closeness:
                trial = offsets.copy()
                trial[c] = value
                score = macro_f1(truth, (logp + trial).argmax(axis=1), classes)
                if score > best + 1e-12:
                    best, offsets, improved = score, trial, True
        if not improved:
            break
    return offsets


def class_precision_recall(truth: np.ndarray, predicted: np.ndarray, cls: int) -> tuple[float, float]:
    """Precision and recall of class `cls` (precision 0 when it is never predicted)."""
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    tp = int(((truth == cls) & (predicted == cls)).sum())
    return tp / max(int((predicted == cls).sum()), 1), tp / max(int((truth == cls).sum()), 1)


def offsets_for_target(probs: np.ndarray, truth: np.ndarray, offsets: np.ndarray, cls: int, metric: str,
                       target: float, grid: np.ndarray = GRID) -> np.ndarray | None:
    """Move one class's offset (the others kept) to meet a precision or recall target for that class.

    Recall of `cls` never falls as its offset rises, so `recall` takes the smallest offset on the grid that
    reaches `target` (the best precision among them); `precision` takes, of the offsets whose precision reaches
    `target`, the one with the highest recall (ties: the smallest offset). None when no offset on the grid meets
    the target. The grid is the Evaluate page's slider grid, so what is chosen is what the sliders show.
    """
    if metric not in ("precision", "recall"):
        raise ValueError(f"metric must be 'precision' or 'recall', not {metric!r}")
    probs, truth = np.asarray(probs, dtype=np.float64), np.asarray(truth, dtype=np.int64)
    best, best_recall = None, -1.0
    for value in np.sort(grid):
        trial = np.asarray(offsets, dtype=np.float64).copy()
        trial[cls] = value
        precision, recall = class_precision_recall(truth, decide(probs, trial), cls)
        if metric == "recall" and recall >= target:
            return trial
        if metric == "precision" and precision >= target and (truth == cls).any() and recall > best_recall:
            best, best_recall = trial, recall
    return best


def describe_offsets(probs: np.ndarray, truth: np.ndarray, labels: list[str], offsets: np.ndarray, method: str,
                     split: str = "val") -> dict:
    """The `decision.json` payload for `offsets`: per class, how they were chosen, and macro-F1 with and without."""
    classes = len(labels)
    return {"rule": "log_prob_offsets", "offsets": {label: float(v) for label, v in zip(labels, offsets)},
            "method": method, "split": split, "macro_f1_argmax": macro_f1(truth, decide(probs), classes),
            "macro_f1": macro_f1(truth, decide(probs, offsets), classes)}


def decision_payload(probs: np.ndarray, truth: np.ndarray, labels: list[str], split: str = "val") -> dict:
    """The `decision.json` of a multiclass run: offsets fitted for macro-F1, and macro-F1 with and without them."""
    return describe_offsets(probs, truth, labels, fit_offsets(probs, truth), "max_macro_f1", split)
