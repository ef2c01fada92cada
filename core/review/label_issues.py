"""Rank the rows of a labelled dataset by how likely their labels are wrong (issue 25).

Three steps, each measured on Jigsaw with seeded noise (bench/label_issues.py):

1. Out-of-fold probabilities from k-fold cross-fitting of the TF-IDF model: every row is scored by a model that
   never saw it (folds stratified, multilabel by iterative stratification).
2. Multilabel data: per label, an out-of-fold logistic regression on the text model's logits of *every* label and
   the given values of the *other* labels. Labels are strongly tied (an insult is nearly always toxic), and one
   label's error rarely comes with the same error on the others, so the other given labels tell a wrong `insult`
   from a right one where the text alone cannot (top-N precision on `insult` 0.51 -> 0.55).
3. `cleanlab` estimates, from those probabilities, how often each label value is given in error (the noise matrix
   of confident learning, Northcutt et al. 2021) and flags the rows whose given label disagrees with the rest of
   the data. Each given label's *quality* is the posterior probability that it is right, given the text, the other
   labels and the estimated noise rates: ranking by it weighs a doubtful positive against a doubtful negative by
   how often each kind of error happens (top-N precision on `insult` 0.55 -> 0.61), where a plain
   self-confidence ranking mixes the two scales. A flag whose quality is also under `MAX_QUALITY` is *confident*:
   the suggestion is likelier than the given label.

Multilabel data is ranked per label, one binary problem per label, so a row can be suspect on `insult` and fine on
`toxic`. Two more issue types come from the data layer: near-duplicate groups whose rows carry different labels,
and outliers (text empty after cleaning, extremely long, or with no letters at all).

`find_label_issues(dataset) -> LabelIssues`; `issue_rows(issues)` is the review queue, worst first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from core.data.clean import clean_text
from core.data.dedup import find_duplicates
from core.data.schema import Dataset
from core.errors import DataError
from core.models.tfidf import TfidfModel

ISSUE_TYPES = ("label", "conflict", "outlier")
QUEUE_FILE = "label_issues.jsonl"  # the ranked queue, kept in the version folder so a restart does not recompute
LONG_CHARS = 5000  # longer than this many characters is an outlier (a pasted page, not a comment)
# A flagged label is *confident* when the posterior probability that it is right is also under this: the suggestion
# is then likelier than the given value. On a rare label cleanlab flags many cells whose given value is plausible;
# relabelling every flag adds about as many errors as it fixes, relabelling the confident ones helps
# (bench/label_issues.py). The queue is ordered by quality, so the confident ones come first.
MAX_QUALITY = 0.5
Progress = Callable[[float, str], None]


@dataclass
class LabelIssues:
    """Out-of-fold probabilities and what was found, row by row (positions in the dataset)."""

    labels: list[str]
    task: str
    given: np.ndarray  # (rows, labels) 0/1 multilabel, (rows,) class ids multiclass
    probs: np.ndarray  # out-of-fold probabilities, (rows, labels) (multilabel: with the other given labels)
    quality: np.ndarray  # (rows, labels) multilabel, (rows,) multiclass: posterior probability the given label is right
    suspect: np.ndarray  # bool, same shape as quality: cleanlab flags this label as likely wrong
    suggestion: np.ndarray | None = None  # multiclass: the likeliest true class of each row (rows,)
    conflicts: dict[int, int] = field(default_factory=dict)  # row -> conflict group number
    outliers: dict[int, str] = field(default_factory=dict)  # row -> why
    folds: int = 5
    seconds: float = 0.0
    ranker: str = "TF-IDF"  # what gave the out-of-fold probabilities

    @property
    def confident(self) -> np.ndarray:
        """Flagged labels the out-of-fold model is also sure about (quality < MAX_QUALITY), same shape as suspect."""
        return self.suspect & (self.quality < MAX_QUALITY)

    def suspect_counts(self) -> dict[str, int]:
        """Suspect given labels per label (multilabel) or per given class (multiclass)."""
        if self.task == "multiclass":
            return {label: int((self.suspect & (self.given == j)).sum()) for j, label in enumerate(self.labels)}
        return {label: int(n) for label, n in zip(self.labels, self.suspect.sum(axis=0))}

    def suggested(self, row: int) -> list[str]:
        """The labels the out-of-fold model would give the row (the given ones with the suspect ones flipped)."""
        if self.task == "multiclass":
            best = self.probs[row].argmax() if self.suggestion is None else self.suggestion[row]
            return [self.labels[int(best)]]
        given = self.given[row].astype(bool) ^ self.suspect[row]
        return [label for label, on in zip(self.labels, given) if on]


def check_reviewable(dataset: Dataset, folds: int) -> None:
    """Raise DataError when `dataset` cannot be cross-fitted with `folds` folds (no labels, one class, too few
    rows), before any slow work."""
    if dataset.kind not in ("multilabel", "multiclass"):
        raise DataError(f"{dataset.name} is a {dataset.kind} dataset; label review needs labels (multilabel or "
                        "multiclass). Fix: load a file with label columns or a class column.")
    if folds < 2:
        raise DataError(f"folds={folds}: cross-fitting needs at least 2 folds. Fix: use --folds 5.")
    rows = len(dataset.frame)
    if rows < folds * 2:
        raise DataError(f"{dataset.name} has {rows} rows, fewer than 2 per fold for {folds} folds. "
                        f"Fix: use fewer folds (--folds {max(2, rows // 2)}) or more rows.")
    given = dataset.label_matrix()
    if dataset.kind == "multiclass":
        counts = np.bincount(given, minlength=len(dataset.labels))
        if (counts > 0).sum() < 2:
            raise DataError(f"{dataset.name} has a single class ({dataset.labels[int(counts.argmax())]!r}) in all "
                            f"{rows} rows; there is nothing to tell apart. Fix: load data with at least two classes.")
        if counts[counts > 0].min() < folds:
            small = [dataset.labels[i] for i in np.flatnonzero((counts > 0) & (counts < folds))]
            raise DataError(f"class(es) {small} have fewer rows than folds ({folds}); every fold needs one. "
                            f"Fix: use --folds {int(counts[counts > 0].min())} or more rows of those classes.")
    else:
        positives = given.sum(axis=0)
        if not ((positives > 0) & (positives < rows)).any():
            raise DataError(f"no label of {dataset.name} has both positive and negative rows "
                            f"(positives per label: {dict(zip(dataset.labels, positives.tolist()))}). "
                            "Fix: load data where some rows carry a label and others do not.")


def fold_splits(given: np.ndarray, task: str, folds: int, seed: int):
    """(fit rows, held-out rows) for each of `folds` stratified folds (multilabel: iterative stratification); the
    TF-IDF ranker here and the recipe ranker (`core.review_recipe`) cross-fit on the same folds."""
    if task == "multiclass" or given.shape[1] == 1:  # one label: iterative stratification wants two or more
        from sklearn.model_selection import StratifiedKFold

        target = given if task == "multiclass" else given[:, 0]
        return StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(given)), target)
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

    return MultilabelStratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(
        np.zeros(len(given)), given)


def out_of_fold_probs(dataset: Dataset, folds: int = 5, seed: int = 42, progress: Progress | None = None
                      ) -> np.ndarray:
    """Probabilities of every row from a TF-IDF model fitted on the other folds, (rows, labels)."""
    progress = progress or (lambda fraction, message: None)
    texts = dataset.frame["text"].astype(str).tolist()
    given = dataset.label_matrix()
    probs = np.zeros((len(texts), len(dataset.labels)))
    for number, (fit_rows, held_rows) in enumerate(fold_splits(given, dataset.kind, folds, seed)):
        progress(number / folds, f"Fold {number + 1} of {folds}: fitting TF-IDF on {len(fit_rows):,} rows")
        model = TfidfModel.fit([texts[i] for i in fit_rows], given[fit_rows], dataset.kind, dataset.labels, seed)
        probs[held_rows] = model.predict_proba([texts[i] for i in held_rows])
    return probs


def label_aware_probs(given: np.ndarray, probs: np.ndarray, folds: int = 5, seed: int = 42) -> np.ndarray:
    """Multilabel: per label, out-of-fold probabilities of a logistic regression on the text model's logits of
    every label and the given values of the other labels (step 2 of the module docstring). A label with fewer
    positive (or negative) rows than folds keeps the text model's probabilities."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    if given.shape[1] < 2:
        return probs
    clipped = np.clip(probs, 1e-6, 1 - 1e-6)
    logits = np.log(clipped / (1 - clipped))
    refined = probs.copy()
    for j in range(given.shape[1]):
        y = given[:, j].astype(np.int64)
        if min(int(y.sum()), int(len(y) - y.sum())) < folds:
            continue
        features = np.column_stack([logits, np.delete(given, j, axis=1)])
        for fit_rows, held_rows in StratifiedKFold(folds, shuffle=True, random_state=seed).split(features, y):
            model = LogisticRegression(C=1.0, max_iter=1000).fit(features[fit_rows], y[fit_rows])
            refined[held_rows, j] = model.predict_proba(features[held_rows])[:, 1]
    return refined


def noise_posterior(given: np.ndarray, probs: np.ndarray, noise: np.ndarray | None = None) -> np.ndarray:
    """(rows, classes) probability of each true class given the model's probabilities of the *given* labels
    (`probs`, rows sum to 1), the given class and the noise matrix (noise[s, y] = P(given s | true y); None =
    cleanlab's estimate from `given` and `probs`): clean = probs @ inv(noise).T, then P(y | x, s) ∝ clean[y]
    noise[s, y]. Falls back to `probs` itself when the noise matrix cannot be estimated or inverted."""
    if noise is None:
        from cleanlab.count import estimate_py_and_noise_matrices_from_probabilities

        try:
            noise = estimate_py_and_noise_matrices_from_probabilities(given, probs)[1]
        except ValueError:
            return probs
    noise = np.asarray(noise, dtype=float)
    try:
        clean = probs @ np.linalg.inv(noise).T
    except np.linalg.LinAlgError:
        return probs
    if not np.isfinite(clean).all():
        return probs
    clean = np.clip(clean, 1e-6, None)
    joint = clean / clean.sum(axis=1, keepdims=True) * noise[given, :]
    return joint / joint.sum(axis=1, keepdims=True)


def _rank_labels(given: np.ndarray, probs: np.ndarray, task: str
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(quality, suspect flags, multiclass suggestion): the posterior probability that each given label is right
    (`noise_posterior`) and cleanlab's issue flags; per label (binary) for multilabel data."""
    from cleanlab.filter import find_label_issues as cleanlab_issues

    probs = np.clip(probs, 1e-6, 1 - 1e-6)
    if task == "multiclass":
        normalised = probs / probs.sum(axis=1, keepdims=True)
        posterior = noise_posterior(given, normalised)
        return (posterior[np.arange(len(given)), given],
                cleanlab_issues(given, normalised, filter_by="prune_by_noise_rate", n_jobs=1),
                posterior.argmax(axis=1))
    quality = np.ones(given.shape)
    suspect = np.zeros(given.shape, dtype=bool)
    for j in range(given.shape[1]):
        y = given[:, j].astype(np.int64)
        if y.min() == y.max():  # every row agrees on this label: nothing for confident learning to contrast
            continue
        binary = np.stack([1 - probs[:, j], probs[:, j]], axis=1)
        quality[:, j] = noise_posterior(y, binary)[np.arange(len(y)), y]
        # n_jobs=1: cleanlab's default starts a multiprocessing pool, which hangs inside the app's server threads
        suspect[:, j] = cleanlab_issues(y, binary, filter_by="prune_by_noise_rate", n_jobs=1)
    return quality, suspect, None


def _outliers(dataset: Dataset) -> dict[int, str]:
    found = {}
    for row, text in enumerate(dataset.frame["text"].astype(str)):
        if not clean_text(text).strip():
            found[row] = "empty after cleaning"
        elif len(text) > LONG_CHARS:
            found[row] = f"{len(text):,} characters (over {LONG_CHARS:,})"
        elif not any(c.isalpha() for c in text):
            found[row] = "no letters"
    return found


def find_label_issues(dataset: Dataset, folds: int = 5, seed: int = 42, progress: Progress | None = None,
                      probs: np.ndarray | None = None, ranker: str = "TF-IDF") -> LabelIssues:
    """Out-of-fold probabilities -> cleanlab label issues, plus conflicting duplicates and outliers.

    Args:
        probs: out-of-fold probabilities from another ranker (`core.review_recipe`, a run's recipe), (rows, labels);
            None = cross-fit TF-IDF here. `ranker` names where they came from.

    Raises:
        DataError: no labels, a single class, or fewer rows than the folds need (each with the fix).
    """
    check_reviewable(dataset, folds)
    progress = progress or (lambda fraction, message: None)
    started = time.perf_counter()
    given = dataset.label_matrix()
    if probs is None:
        probs = out_of_fold_probs(dataset, folds, seed, lambda f, m: progress(0.8 * f, m))
    elif np.shape(probs) != (len(dataset.frame), len(dataset.labels)):
        raise DataError(f"out-of-fold probabilities of shape {np.shape(probs)} do not fit {len(dataset.frame)} rows "
                        f"x {len(dataset.labels)} labels. Fix: compute them on this dataset.")
    if dataset.kind == "multilabel":
        progress(0.8, "Weighing each label against the others")
        probs = label_aware_probs(given, probs, folds, seed)
    progress(0.85, "Ranking labels (cleanlab)")
    quality, suspect, suggestion = _rank_labels(given, probs, dataset.kind)
    progress(0.92, "Finding conflicting duplicates and outliers")
    conflicts = {}
    labels = given.reshape(len(given), -1)
    groups = [rows for rows in find_duplicates(dataset).groups() if len(np.unique(labels[rows], axis=0)) > 1]
    for number, rows in enumerate(groups):
        conflicts.update({int(row): number for row in rows})
    progress(1.0, "Done")
    return LabelIssues(list(dataset.labels), dataset.kind, given, probs, quality, suspect, suggestion, conflicts,
                       _outliers(dataset), folds, round(time.perf_counter() - started, 2), ranker)


def issue_rows(issues: LabelIssues, texts: list[str], ids: list[str] | None = None) -> list[dict]:
    """The review queue: one entry per row with any issue, worst first (lowest label quality, then conflicts, then
    outliers). Each: id, row, text, types, given and suggested labels, out-of-fold probabilities, suspect labels
    (cleanlab's flags) and the confident ones among them, quality (of the worst suspect label), label_quality
    (per label: the posterior probability that the given value is right), and the conflict group or outlier
    reason."""
    ids = ids or [str(i) for i in range(len(texts))]
    rows = []
    for row in range(len(texts)):
        suspect = issues.suspect[row]
        types = []
        if np.any(suspect):
            types.append("label")
        if row in issues.conflicts:
            types.append("conflict")
        if row in issues.outliers:
            types.append("outlier")
        if not types:
            continue
        if issues.task == "multiclass":
            given = [issues.labels[int(issues.given[row])]]
            suspects = given if suspect else []
            confident = given if issues.confident[row] else []
            quality = float(issues.quality[row])
            label_quality = {given[0]: round(quality, 4)}
        else:
            given = [label for label, on in zip(issues.labels, issues.given[row]) if on]
            suspects = [label for label, on in zip(issues.labels, suspect) if on]
            confident = [label for label, on in zip(issues.labels, issues.confident[row]) if on]
            quality = float(issues.quality[row][suspect].min()) if np.any(suspect) else float(issues.quality[row].min())
            label_quality = {label: round(float(q), 4) for label, q in zip(issues.labels, issues.quality[row])}
        rows.append({"id": ids[row], "row": row, "task": issues.task, "text": texts[row], "types": types,
                     "given": given,
                     "suggested": issues.suggested(row) if "label" in types else given,
                     "probabilities": {label: round(float(p), 4) for label, p in zip(issues.labels, issues.probs[row])},
                     "suspect_labels": suspects, "confident_labels": confident, "quality": round(quality, 4),
                     "label_quality": label_quality,
                     "conflict_group": issues.conflicts.get(row), "outlier": issues.outliers.get(row)})
    order = {"label": 0, "conflict": 1, "outlier": 2}
    return sorted(rows, key=lambda r: (order[r["types"][0]], r["quality"] if "label" in r["types"] else 0.0, r["row"]))


def ranked_cells(issues: LabelIssues, label: str) -> np.ndarray:
    """Rows ordered from the least to the most trustworthy given value of one label (for benchmarks and review
    by label): multilabel by that label's quality; multiclass, the rows whose given class is `label`."""
    j = issues.labels.index(label)
    if issues.task == "multiclass":
        rows = np.flatnonzero(issues.given == j)
        return rows[np.argsort(issues.quality[rows], kind="stable")]
    return np.argsort(issues.quality[:, j], kind="stable")
