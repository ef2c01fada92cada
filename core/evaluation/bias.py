"""Identity bias metrics (Borkan et al. 2019, "Nuanced Metrics for Measuring Unintended Bias").

For one score (a label's probability) and 0/1 truth, per identity subgroup (a boolean mask of the rows that
mention the identity):

- subgroup AUC: ROC-AUC on the subgroup's rows only (can the model separate toxic from non-toxic there?);
- BPSN AUC (background positive, subgroup negative): the toxic rows outside the subgroup with the non-toxic
  rows inside it; low when non-toxic mentions of the identity score like abuse (false positives);
- BNSP AUC (background negative, subgroup positive): the reverse; low when abuse of the identity scores like
  harmless text elsewhere (false negatives);
- the subgroup's false-positive rate and mean score on its non-toxic rows, at the run's threshold.

Each AUC is summarised over subgroups by the power mean M_p = (mean of AUC^p)^(1/p) with p = -5, which
weighs the worst subgroups most; the final metric is 0.25 x overall AUC + 0.25 x each of the three power means.
An AUC whose subset has a single class is undefined (None) and left out of its power mean.

`template_audit` runs a model over the identity template suite (`core.data.identity.template_suite`) and reports
per term the share of non-toxic sentences flagged, per label and by any label, beside the metrics above.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.metrics import roc_auc_score

from core.data.identity import clean_class, template_suite
from core.errors import ConfigError
from core.evaluation.decision import decide

POWER = -5
FLAG_GOAL = 0.05  # the share of a term's non-toxic template sentences a run may flag (issue 23)


def _auc(truth: np.ndarray, scores: np.ndarray) -> float | None:
    if len(truth) == 0 or truth.min() == truth.max():
        return None
    return float(roc_auc_score(truth, scores))


def subgroup_auc(scores, truth, mask) -> float | None:
    """ROC-AUC on the subgroup's rows (None if they hold one class only)."""
    scores, truth, mask = np.asarray(scores), np.asarray(truth).astype(int), np.asarray(mask, dtype=bool)
    return _auc(truth[mask], scores[mask])


def bpsn_auc(scores, truth, mask) -> float | None:
    """ROC-AUC on background positives (outside the subgroup, toxic) with subgroup negatives."""
    scores, truth, mask = np.asarray(scores), np.asarray(truth).astype(int), np.asarray(mask, dtype=bool)
    rows = (~mask & (truth == 1)) | (mask & (truth == 0))
    return _auc(truth[rows], scores[rows])


def bnsp_auc(scores, truth, mask) -> float | None:
    """ROC-AUC on background negatives (outside the subgroup, non-toxic) with subgroup positives."""
    scores, truth, mask = np.asarray(scores), np.asarray(truth).astype(int), np.asarray(mask, dtype=bool)
    rows = (~mask & (truth == 0)) | (mask & (truth == 1))
    return _auc(truth[rows], scores[rows])


def power_mean(values, p: float = POWER) -> float | None:
    """(mean of v^p)^(1/p) over the defined values (None if there are none)."""
    values = np.array([v for v in values if v is not None], dtype=np.float64)
    if not len(values):
        return None
    if np.any(values == 0):
        return 0.0  # the limit for negative p: one subgroup at 0 makes the mean 0
    return float(np.mean(values ** p) ** (1.0 / p))


def subgroup_table(scores, truth, subgroups: dict[str, np.ndarray], threshold: float) -> list[dict]:
    """One row per subgroup: size, positives, the three AUCs, false-positive rate and mean score on its
    non-toxic rows at `threshold`; worst first (by the lowest of its three AUCs)."""
    scores, truth = np.asarray(scores, dtype=np.float64), np.asarray(truth).astype(int)
    rows = []
    for name, mask in subgroups.items():
        mask = np.asarray(mask, dtype=bool)
        negatives = mask & (truth == 0)
        rows.append({"subgroup": name, "size": int(mask.sum()), "positives": int((mask & (truth == 1)).sum()),
                     "subgroup_auc": subgroup_auc(scores, truth, mask), "bpsn_auc": bpsn_auc(scores, truth, mask),
                     "bnsp_auc": bnsp_auc(scores, truth, mask),
                     "false_positive_rate": float((scores[negatives] >= threshold).mean()) if negatives.any() else None,
                     "mean_score_non_toxic": float(scores[negatives].mean()) if negatives.any() else None})
    return sorted(rows, key=_worst_key)


def _worst_key(row: dict) -> tuple:
    defined = [row[k] for k in ("subgroup_auc", "bpsn_auc", "bnsp_auc") if row[k] is not None]
    return (min(defined) if defined else 2.0, row["subgroup"])


def bias_summary(scores, truth, subgroups: dict[str, np.ndarray], threshold: float) -> dict:
    """The subgroup table, the power mean of each AUC over subgroups, and the final metric
    (0.25 x overall AUC + 0.25 x each power mean; None when a part is undefined)."""
    table = subgroup_table(scores, truth, subgroups, threshold)
    means = {f"{key}_power_mean": power_mean([row[key] for row in table])
             for key in ("subgroup_auc", "bpsn_auc", "bnsp_auc")}
    overall = _auc(np.asarray(truth).astype(int), np.asarray(scores))
    parts = [overall, *means.values()]
    final = None if any(p is None for p in parts) else 0.25 * sum(parts)
    return {"overall_auc": overall, **means, "final_metric": final, "threshold": float(threshold),
            "subgroups": table}


def audit_label(labels: list[str], task: str, label: str | None) -> str:
    """The label the AUCs are computed for: `label`, else `toxic` if present, else the first label;
    multiclass with a clean class: `not <clean class>` (the score is 1 - p(clean))."""
    if label is not None:
        if label not in labels and not (task == "multiclass" and label.startswith("not ")):
            raise ConfigError(f"label {label!r} is not one of the run's labels {labels}. Fix: use one of them.")
        return label
    if task == "multiclass":
        clean = clean_class(labels)
        return f"not {labels[clean]}" if clean is not None else labels[0]
    return "toxic" if "toxic" in labels else labels[0]


def label_scores(probs: np.ndarray, labels: list[str], label: str) -> np.ndarray:
    """The column of `probs` a label names; `not X` is 1 - p(X)."""
    if label.startswith("not ") and label[4:] in labels:
        return 1.0 - probs[:, labels.index(label[4:])]
    return probs[:, labels.index(label)]


def flags(probs: np.ndarray, task: str, labels: list[str], thresholds: dict[str, float],
          offsets: list[float] | None = None) -> np.ndarray:
    """(rows, labels) 0/1 decisions: multilabel = score >= the label's threshold; multiclass = the class the
    decision rule picks, where it is not the clean class."""
    if task == "multiclass":
        picked = decide(probs, offsets)
        out = np.zeros_like(probs, dtype=bool)
        out[np.arange(len(probs)), picked] = True
        clean = clean_class(labels)
        if clean is not None:
            out[:, clean] = False
        return out
    return probs >= np.array([thresholds[label] for label in labels])


def template_audit(predict, labels: list[str], task: str, thresholds: dict[str, float],
                   offsets: list[float] | None = None, label: str | None = None) -> dict:
    """Score the identity template suite with `predict(texts) -> (rows, labels)` raw probabilities.

    Returns: `label`, `sentences`, `seconds`, `terms` (per term: the share of its non-toxic sentences flagged
    by any label and per label, mean score on them, and the three AUCs), `bias` (`bias_summary` with one
    subgroup per term), `max_flagged_share`, `terms_over_goal` (terms whose non-toxic sentences are flagged
    more than `FLAG_GOAL`).
    """
    started = time.perf_counter()
    suite = template_suite()
    probs = np.asarray(predict(suite["text"].tolist()), dtype=np.float64)
    label = audit_label(labels, task, label)
    scores = label_scores(probs, labels, label)
    truth = suite["toxic"].to_numpy()
    decided = flags(probs, task, labels, thresholds, offsets)
    threshold = thresholds.get(label, 0.5) if label in labels else 0.5
    subgroups = {term: (suite["term"] == term).to_numpy() for term in suite["term"].unique()}
    bias = bias_summary(scores, truth, subgroups, threshold)
    by_term = {row["subgroup"]: row for row in bias["subgroups"]}
    terms = []
    for term, mask in subgroups.items():
        clean = mask & (truth == 0)
        terms.append({"term": term, "category": str(suite.loc[mask, "category"].iloc[0]),
                      "non_toxic_sentences": int(clean.sum()),
                      "flagged_share": float(decided[clean].any(axis=1).mean()),
                      "flagged_share_per_label": {lb: float(decided[clean, j].mean()) for j, lb in enumerate(labels)},
                      "mean_score_non_toxic": float(scores[clean].mean()),
                      "toxic_caught_share": float(decided[mask & (truth == 1)].any(axis=1).mean()),
                      **{k: by_term[term][k] for k in ("subgroup_auc", "bpsn_auc", "bnsp_auc")}})
    terms.sort(key=lambda row: (-row["flagged_share"], row["term"]))
    return {"label": label, "sentences": len(suite), "seconds": round(time.perf_counter() - started, 2),
            "max_flagged_share": max(row["flagged_share"] for row in terms),
            "terms_over_goal": [row["term"] for row in terms if row["flagged_share"] > FLAG_GOAL],
            "flag_goal": FLAG_GOAL, "terms": terms, "bias": bias}
