"""The model card (README.md) written into every finished run."""

from __future__ import annotations

from core.config import TrainConfig


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def model_card(config: TrainConfig, metrics: dict, thresholds: dict, data_source: str, labels: list[str]) -> str:
    """Markdown describing data, recipe, metrics, thresholds, intended use and limits."""
    test = metrics.get("test") or {}
    val = metrics.get("val") or {}
    rows = "\n".join(
        f"| {label} | {_fmt(val.get('per_label', {}).get(label, {}).get('roc_auc'))} | "
        f"{_fmt(test.get('per_label', {}).get(label, {}).get('roc_auc'))} | "
        f"{_fmt(test.get('per_label', {}).get(label, {}).get('pr_auc'))} | "
        f"{_fmt(thresholds.get('thresholds', {}).get(label))} |" for label in labels)
    baseline = (metrics.get("baseline_tfidf") or {}).get("test") or {}
    recipe = "\n".join(f"- `{k}`: `{v}`" for k, v in config.to_dict().items() if v not in (None, {}, []))
    return f"""# CleanSpeech run: {config.run_name or config.model_kind}

A {metrics.get('task', '')} toxicity classifier ({config.model_kind}) fine-tuned from `{config.base_model}` with
CleanSpeech Studio. Labels: {', '.join(labels)}.

## Data

Source: `{data_source}`. Rows: {metrics.get('rows', {})}.

## Metrics

Validation macro ROC-AUC {_fmt(val.get('macro_roc_auc'))}; test macro ROC-AUC {_fmt(test.get('macro_roc_auc'))}
(TF-IDF + logistic regression baseline on the same test split: {_fmt(baseline.get('macro_roc_auc'))}).

| label | val ROC-AUC | test ROC-AUC | test PR-AUC | threshold |
|---|---|---|---|---|
{rows}

Thresholds were chosen on the **{thresholds.get('split', 'val')}** split by `{thresholds.get('method', '?')}`;
test figures use them without re-tuning.

## Recipe

{recipe}

## Intended use and limits

For assisting human moderators: rank and flag comments for review. Scores reflect the training data's
labelling conventions and prevalence; precision and recall at a threshold change with real traffic's
prevalence, so re-tune thresholds on data like yours. Identity terms can be over-flagged; check the
explanations before acting. Not for automated punitive decisions without human review.
"""
