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
    figure.add_scatter(x=[e["step"] for e in train], y=[e["loss"] for e in train], mode="lines", name="train loss")
    figure.add_scatter(x=[e["step"] for e in evals], y=[e["loss"] for e in evals], mode="lines+markers",
                       name="validation loss")
    figure.update_layout(xaxis_title="step", yaxis_title="loss", height=320, margin=dict(t=30, b=10))
    return figure


def auc_chart(events: list[dict]) -> go.Figure:
    """Validation ROC-AUC per evaluation: macro (bold) and per label."""
    evals = [e for e in events if e.get("event") == "eval"]
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
