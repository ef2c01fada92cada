"""Plotly figures built from core result objects (dict reports)."""

from __future__ import annotations

import plotly.graph_objects as go


def prevalence_chart(report: dict) -> go.Figure:
    """Grouped bars: share of rows per label (multilabel) or class (multiclass), one bar group per split."""
    figure = go.Figure()
    for split, prevalence in report["prevalence"].items():
        figure.add_bar(name=split, x=list(prevalence), y=[100 * v for v in prevalence.values()])
    figure.update_layout(barmode="group", yaxis_title="% of rows", height=320, margin=dict(t=30, b=10),
                         legend_title="split")
    return figure


def length_histogram(report: dict, unit: str = "chars") -> go.Figure:
    """Histogram of text lengths from the report's precomputed bins."""
    stats = report["lengths"][unit]
    edges, counts = stats["hist"]["edges"], stats["hist"]["counts"]
    centres = [(a + b) / 2 for a, b in zip(edges, edges[1:])]
    figure = go.Figure(go.Bar(x=centres, y=counts, width=[b - a for a, b in zip(edges, edges[1:])]))
    figure.add_vline(x=stats["p95"], line_dash="dash", annotation_text="95th percentile")
    figure.update_layout(xaxis_title=f"length ({unit})", yaxis_title="rows", height=280, margin=dict(t=30, b=10))
    return figure


def cooccurrence_heatmap(report: dict) -> go.Figure:
    """Label co-occurrence counts (multilabel)."""
    data = report["cooccurrence"]
    figure = go.Figure(go.Heatmap(z=data["matrix"], x=data["labels"], y=data["labels"], colorscale="Blues",
                                  text=data["matrix"], texttemplate="%{text}"))
    figure.update_layout(height=340, margin=dict(t=30, b=10))
    return figure


def loss_chart(events: list[dict]) -> go.Figure:
    """Training loss per logged step and validation loss per evaluation."""
    train = [e for e in events if e.get("event") == "log" and "loss" in e]
    evals = [e for e in events if e.get("event") == "eval" and "loss" in e]
    figure = go.Figure()
    # markers while there are few points: a line through one point draws nothing
    figure.add_scatter(x=[e["step"] for e in train], y=[e["loss"] for e in train],
                       mode="lines+markers" if len(train) < 3 else "lines", name="train loss")
    figure.add_scatter(x=[e["step"] for e in evals], y=[e["loss"] for e in evals], mode="lines+markers",
                       name="validation loss")
    figure.update_layout(xaxis_title="step", yaxis_title="loss", height=320, margin=dict(t=30, b=10))
    return figure


def main_metric(events: list[dict]) -> str:
    """The run's validation metric (from its start event): macro ROC-AUC for classifiers, e.g. kNN macro-F1 for SBERT."""
    starts = [e for e in events if e.get("event") == "start" and e.get("main_metric")]
    return starts[-1]["main_metric"] if starts else "macro_roc_auc"


def auc_chart(events: list[dict]) -> go.Figure:
    """Validation ROC-AUC per evaluation: macro (bold) and per label; for SBERT runs, the evaluator's metrics."""
    evals = [e for e in events if e.get("event") == "eval"]
    main = main_metric(events)
    if main != "macro_roc_auc":
        return evaluator_chart(evals, main)
    figure = go.Figure()
    steps = [e["step"] for e in evals]
    labels = sorted({k.split("/", 1)[1] for e in evals for k in e if k.startswith("roc_auc/")})
    for label in labels:
        figure.add_scatter(x=steps, y=[e.get(f"roc_auc/{label}") for e in evals], mode="lines", name=label,
                           line=dict(width=1))
    figure.add_scatter(x=steps, y=[e.get("macro_roc_auc") for e in evals], mode="lines+markers", name="macro",
                       line=dict(width=3, color="black"))
    figure.update_layout(xaxis_title="step", yaxis_title="validation ROC-AUC", height=320, margin=dict(t=30, b=10))
    return figure


# The evaluator metrics worth a line beside the main one, by their name without the evaluator's prefix, and how to
# call them on the chart (sentence-transformers logs a dozen per evaluator: cosine/dot variants, @1/@3/@5/@10).
READABLE_METRICS = {"accuracy@1": "accuracy@1", "mrr@10": "MRR@10", "ndcg@10": "nDCG@10", "recall@10": "recall@10",
                    "spearman": "Spearman", "pearson": "Pearson", "f1": "F1", "accuracy": "accuracy",
                    "ap": "average precision", "macro_f1": "macro-F1"}
_SIMILARITIES = ("cosine", "dot", "euclidean", "manhattan")


def _metric_parts(key: str) -> tuple[str, str, str]:
    """(evaluator, similarity or "", metric) of a log key: `qa_cosine_ndcg@10` -> ("qa", "cosine", "ndcg@10")."""
    group, _, name = key.partition("_")
    for similarity in _SIMILARITIES:
        if name.startswith(similarity + "_"):
            return group, similarity, name[len(similarity) + 1:]
    return group, "", name


def metric_label(key: str) -> str:
    """A readable name for an evaluator metric key: `qa_cosine_ndcg@10` -> `nDCG@10 (qa, cosine)`."""
    group, similarity, name = _metric_parts(key)
    if not name:
        return key
    return f"{READABLE_METRICS.get(name, name)} ({group}{', ' + similarity if similarity else ''})"


def evaluator_chart(evals: list[dict], main: str) -> go.Figure:
    """An SBERT run's live evaluator metrics: the main one bold, and at most three other readable ones of the same
    evaluator (cosine similarity only), named for people rather than by their log keys."""
    group = main.split("_", 1)[0]
    figure = go.Figure()
    steps = [e["step"] for e in evals]
    keys = sorted({k for e in evals for k in e if k.startswith(group + "_") and k != main})
    readable = [k for k in keys if _metric_parts(k)[1] in ("", "cosine") and _metric_parts(k)[2] in READABLE_METRICS]
    for key in readable[:3]:
        figure.add_scatter(x=steps, y=[e.get(key) for e in evals], mode="lines", name=metric_label(key),
                           line=dict(width=1))
    figure.add_scatter(x=steps, y=[e.get(main) for e in evals], mode="lines+markers", name=metric_label(main),
                       line=dict(width=3, color="black"))
    figure.update_layout(xaxis_title="step", yaxis_title=f"validation {metric_label(main)}", height=320,
                         margin=dict(t=30, b=10))
    return figure


def probability_bars(probabilities: dict[str, float], thresholds: dict[str, float]) -> go.Figure:
    """Horizontal bars per label (red when flagged) with each label's threshold as a black tick, and a legend.

    The values sit in the axis labels (`toxic 0.970`), not at the bar ends, where they ran into the tick."""
    labels = list(probabilities)
    values = [probabilities[label] for label in labels]
    names = [f"{label} {probabilities[label]:.3f}" for label in labels]
    colours = ["#d62728" if probabilities[label] >= thresholds.get(label, 0.5) else "#1f77b4" for label in labels]
    figure = go.Figure(go.Bar(x=values, y=names, orientation="h", marker_color=colours,
                              name="probability (red: flagged)"))
    figure.add_scatter(x=[thresholds.get(label, 0.5) for label in labels], y=names, mode="markers",
                       marker=dict(symbol="line-ns-open", size=22, color="black", line=dict(width=3)),
                       name="threshold")
    figure.update_layout(xaxis=dict(range=[0, 1.0], title="probability"), yaxis=dict(autorange="reversed"),
                         height=90 + 32 * len(labels), margin=dict(t=30, b=10, l=10, r=10), showlegend=True,
                         legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0))
    return figure


# One colour per curve by its position, the same in the ROC and the PR chart (plotly's automatic colours count the
# ROC chart's diagonal too, so the same run came out in two colours)
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")


def roc_chart(curves: dict[str, dict], point: dict | None = None) -> go.Figure:
    """ROC curves (one per name: label or run), with the operating point at the current threshold."""
    figure = go.Figure()
    figure.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="grey"), showlegend=False)
    for i, (name, points) in enumerate(curves.items()):
        figure.add_scatter(x=points["fpr"], y=points["tpr"], mode="lines", name=name,
                           line=dict(color=PALETTE[i % len(PALETTE)]))
    if point is not None:
        figure.add_scatter(x=[point["fpr"]], y=[point["tpr"]], mode="markers", name=f"threshold {point['threshold']:.2f}",
                           marker=dict(size=12, color="black", symbol="x"))
    figure.update_layout(xaxis_title="false positive rate", yaxis_title="true positive rate", height=330,
                         margin=dict(t=30, b=10), xaxis_range=[0, 1], yaxis_range=[0, 1.02])
    return figure


def pr_chart(curves: dict[str, dict], point: dict | None = None) -> go.Figure:
    """Precision-recall curves, with the operating point at the current threshold."""
    figure = go.Figure()
    for i, (name, points) in enumerate(curves.items()):
        figure.add_scatter(x=points["recall"], y=points["precision"], mode="lines", name=name,
                           line=dict(color=PALETTE[i % len(PALETTE)]))
    if point is not None:
        figure.add_scatter(x=[point["recall"]], y=[point["precision"]], mode="markers",
                           name=f"threshold {point['threshold']:.2f}", marker=dict(size=12, color="black", symbol="x"))
    figure.update_layout(xaxis_title="recall", yaxis_title="precision", height=330, margin=dict(t=30, b=10),
                         xaxis_range=[0, 1], yaxis_range=[0, 1.02])
    return figure


def confusion_chart(matrix: list[list[int]], names: list[str], title: str = "") -> go.Figure:
    """A confusion matrix heatmap: rows = truth, columns = prediction."""
    figure = go.Figure(go.Heatmap(z=matrix, x=[f"pred {n}" for n in names], y=[f"true {n}" for n in names],
                                  colorscale="Blues", text=matrix, texttemplate="%{text}", showscale=False))
    figure.update_layout(title=title, height=120 + 40 * len(names), margin=dict(t=40 if title else 10, b=10),
                         yaxis=dict(autorange="reversed"))
    return figure


def compare_loss_chart(events_by_run: dict[str, list[dict]]) -> go.Figure:
    """Training loss (lines) and validation loss (dashed) of several runs on one chart."""
    figure = go.Figure()
    for name, events in events_by_run.items():
        train = [e for e in events if e.get("event") == "log" and "loss" in e]
        evals = [e for e in events if e.get("event") == "eval" and "loss" in e]
        figure.add_scatter(x=[e["step"] for e in train], y=[e["loss"] for e in train], mode="lines",
                           name=f"{name} train")
        figure.add_scatter(x=[e["step"] for e in evals], y=[e["loss"] for e in evals], mode="lines+markers",
                           line=dict(dash="dash"), name=f"{name} val")
    figure.update_layout(xaxis_title="step", yaxis_title="loss", height=340, margin=dict(t=30, b=10))
    return figure


def bias_auc_bars(rows: list[dict], limit: int = 15) -> go.Figure:
    """Grouped horizontal bars of subgroup, BPSN and BNSP AUC per subgroup (the `limit` worst, worst on top)."""
    rows = rows[:limit]
    names = [row["subgroup"] for row in rows]
    figure = go.Figure()
    for key, title in (("subgroup_auc", "subgroup AUC"), ("bpsn_auc", "BPSN AUC"), ("bnsp_auc", "BNSP AUC")):
        figure.add_bar(y=names, x=[row[key] if row[key] is not None else 0 for row in rows], orientation="h",
                       name=title)
    figure.update_layout(barmode="group", height=80 + 46 * len(rows), margin=dict(t=10, b=10, l=10, r=10),
                         xaxis=dict(range=[0.5, 1.0], title="AUC"), yaxis=dict(autorange="reversed"),
                         legend=dict(orientation="h", y=-0.08))
    return figure


def reliability_chart(curves: dict[str, list[dict]]) -> go.Figure:
    """Reliability diagram: mean score (x) against the share of positives (y) per equal-mass bin, one line per
    curve name (raw, calibrated), with the diagonal of perfect calibration."""
    figure = go.Figure()
    figure.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="grey"), name="perfect")
    for name, bins in curves.items():
        figure.add_scatter(x=[b["mean_score"] for b in bins], y=[b["positive_rate"] for b in bins],
                           mode="lines+markers", name=name,
                           text=[f"{b['count']} rows" for b in bins], hovertemplate="%{x:.3f} → %{y:.3f} (%{text})")
    figure.update_layout(xaxis_title="mean score in bin", yaxis_title="share of positives", height=360,
                         margin=dict(t=30, b=10), xaxis_range=[0, 1], yaxis_range=[0, 1.02])
    return figure
