"""A run against its own TF-IDF baseline: per label (class), ROC-AUC and F1 on the same split, and where it loses.

Every classifier and SBERT run records the baseline's metrics on its splits (`metrics.json` `baseline_tfidf`).
The comparison uses the test split when both have it, else validation. F1 is at each model's own decisions tuned on
validation (multilabel max-F1 thresholds; multiclass the decision rule when the run has one, else argmax); runs
written before the baseline's decisions were tuned (no `decisions` key) compare ROC-AUC only, since their baseline
F1 is at 0.5 and would flatter the run.
"""

from __future__ import annotations

METRICS = ("roc_auc", "f1")


def _f1s(split_metrics: dict) -> dict:
    rule = split_metrics.get("decision_rule")
    if rule:
        return dict(rule["f1"])
    return {label: values.get("f1") for label, values in (split_metrics.get("per_label") or {}).items()}


def baseline_comparison(metrics: dict) -> dict | None:
    """Per label: the run's and the baseline's ROC-AUC and F1 and the gap (run - baseline); None without a baseline
    (a tfidf run records none: it is the baseline).

    Returns:
        {"split", "metrics": compared metric names, "rows": [{"label", "metric", "run", "baseline", "gap"}],
         "worse": the rows with gap < 0, worst first}.
    """
    baseline = metrics.get("baseline_tfidf") or {}
    split = "test" if metrics.get("test") and baseline.get("test") else "val"
    ours, theirs = metrics.get(split) or {}, baseline.get(split) or {}
    if not ours.get("per_label") or not theirs.get("per_label"):
        return None
    compared = METRICS if baseline.get("decisions") else ("roc_auc",)
    values = {"roc_auc": ({k: v.get("roc_auc") for k, v in ours["per_label"].items()},
                          {k: v.get("roc_auc") for k, v in theirs["per_label"].items()}),
              "f1": (_f1s(ours), _f1s(theirs))}
    rows = []
    for label in ours["per_label"]:
        for metric in compared:
            run, base = values[metric][0].get(label), values[metric][1].get(label)
            if run is None or base is None:  # one class only in the split: ROC-AUC undefined
                continue
            rows.append({"label": label, "metric": metric, "run": float(run), "baseline": float(base),
                         "gap": float(run) - float(base)})
    worse = sorted((r for r in rows if r["gap"] < 0), key=lambda r: r["gap"])
    return {"split": split, "metrics": list(compared), "rows": rows, "worse": worse}


def worse_summary(comparison: dict | None) -> str | None:
    """One line such as `threat ROC-AUC (-0.012), hate F1 (-0.030)` naming where the run loses; None if nowhere."""
    if not comparison or not comparison["worse"]:
        return None
    names = {"roc_auc": "ROC-AUC", "f1": "F1"}
    return ", ".join(f"{r['label']} {names[r['metric']]} ({r['gap']:+.3f})" for r in comparison["worse"])
