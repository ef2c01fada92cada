"""The model card (README.md) written into every finished run."""

from __future__ import annotations

from core.config import TrainConfig
from core.data.prepare import review_changelog
from core.evaluation.versus import baseline_comparison


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def _head_note(pooling: str | None) -> str:
    if pooling != "mean":
        return ""
    return ("\nHead: mean pooling over the last layer -> linear (not Hugging Face's [CLS] head), so load it with\n"
            "`core.models.pooled.load_classifier(folder)` or `core.scoring.scorer.Scorer.from_run(run)`; plain\n"
            "`AutoModelForSequenceClassification.from_pretrained` would put a random head on the encoder.\n")


def decision_section(metrics: dict) -> str:
    """Multiclass runs: what the decision rule (decision.json) does to macro-F1, against the top class."""
    split = "test" if (metrics.get("test") or {}).get("decision_rule") else "val"
    part = metrics.get(split) or {}
    rule = part.get("decision_rule")
    if not rule:
        return ""
    return (f"\nDecisions (`predicted`) take the top class after per-class offsets fitted on validation for macro-F1 "
            f"(`decision.json`): {split} macro-F1 {_fmt(rule.get('macro_f1'))} with the rule, "
            f"{_fmt(part.get('macro_f1'))} with the plain top class.\n")


ENSEMBLE_OFFER = ("Training it again with `ensemble: tfidf` blends it with the TF-IDF model (a weight chosen on "
                  "validation, 0 when the blend does not help); a TF-IDF run (`model_kind: tfidf`) may also serve "
                  "these labels better.")


def ensemble_section(metrics: dict) -> str:
    """What the `ensemble: tfidf` option chose on validation."""
    chosen = metrics.get("ensemble")
    if not chosen:
        return ""
    if not chosen.get("weight"):
        return f"\nEnsemble: {chosen.get('note')} (validation {chosen.get('metric')}: {chosen.get('val')}).\n"
    return (f"\nEnsemble: the fine-tuned model is blended with a TF-IDF model fitted on the same training split, "
            f"weight {chosen['weight']:g} chosen on validation ({chosen.get('metric')} "
            f"{chosen.get('gain', 0):+.4f} over the model alone); the partner is saved in `partner/` and every "
            "scorer applies it. Explanations show the fine-tuned model alone.\n")


def baseline_section(metrics: dict) -> str:
    """Where the run loses to the TF-IDF baseline trained on the same splits (or that it loses nowhere)."""
    comparison = baseline_comparison(metrics)
    if comparison is None:
        return ""
    compared = " and ".join({"roc_auc": "ROC-AUC", "f1": "F1 at the tuned decisions"}[m]
                            for m in comparison["metrics"])
    if not comparison["worse"]:
        return (f"\nAgainst the TF-IDF baseline on the same {comparison['split']} split: at least as good on every "
                f"label in {compared}.\n")
    rows = "\n".join(f"| {r['label']} | {'ROC-AUC' if r['metric'] == 'roc_auc' else 'F1'} | {_fmt(r['run'])} | "
                     f"{_fmt(r['baseline'])} | {r['gap']:+.4f} |" for r in comparison["worse"])
    return (f"\n**Worse than the TF-IDF baseline** on the same {comparison['split']} split ({compared}) here:\n\n"
            f"| label | metric | this run | TF-IDF | gap |\n|---|---|---|---|---|\n{rows}\n\n"
            f"Check these labels before relying on the run. {ENSEMBLE_OFFER}\n")


def review_note(data_path: str | None) -> str:
    """A line saying the data is a label-reviewed version, with what the review changed."""
    changelog = review_changelog(data_path)
    if not changelog:
        return ""
    actions = ", ".join(f"{n} {action}" for action, n in sorted((changelog.get("actions") or {}).items()))
    changes = ", ".join(f"{label} {n}" for label, n in sorted((changelog.get("label_changes") or {}).items()))
    return (f"\nLabel-reviewed version of `{changelog.get('source_version')}` ({changelog.get('created')}; reviewers: "
            f"{', '.join(changelog.get('reviewers') or [])}): {changelog.get('decisions')} decisions ({actions})"
            f"{'; label changes: ' + changes if changes else ''}. See the version's `changelog.json`.\n")


def _pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def trust_section(metrics: dict) -> str:
    """Bias on the identity template suite and calibration (ECE before and after), when the job measured them."""
    parts = []
    bias = metrics.get("bias_templates")
    if bias:
        over = bias.get("terms_over_goal") or []
        worst = bias.get("worst_bpsn") or {}
        parts.append(
            f"Identity bias on the product's template suite ({bias.get('sentences')} sentences naming 53 identity "
            f"terms, `audit/templates.json`), at the saved thresholds: the most-flagged term has "
            f"{_pct(bias.get('max_flagged_share'))} of its non-toxic sentences flagged (goal at most "
            f"{_pct(bias.get('flag_goal'))}); {len(over)} term(s) over the goal"
            f"{': ' + ', '.join(over[:12]) + (' ...' if len(over) > 12 else '') if over else ''}. "
            f"For `{bias.get('label')}`: final bias metric {_fmt(bias.get('final_metric'))}, power means of subgroup "
            f"AUC {_fmt(bias.get('subgroup_auc_power_mean'))}, BPSN AUC {_fmt(bias.get('bpsn_auc_power_mean'))}, "
            f"BNSP AUC {_fmt(bias.get('bnsp_auc_power_mean'))}; worst BPSN AUC {_fmt(worst.get('bpsn_auc'))} "
            f"(`{worst.get('term')}`). Run `python -m core audit --run RUN` for robustness and your own data.")
    soft = metrics.get("soft_labels")
    if soft:
        parts.append(f"Trained on soft labels: each training target mixes the majority class "
                     f"({1 - soft['weight']:.2g}) with the annotators' shares ({soft['weight']:.2g}); annotators disagreed on "
                     f"{soft['disputed_rows']:,} of {soft['rows']:,} training rows.")
    augmentation = metrics.get("identity_augmentation")
    if augmentation:
        parts.append(f"Trained with identity augmentation: {augmentation.get('sentences')} non-toxic identity "
                     f"sentences and {augmentation.get('counterfactual')} identity-swapped copies added to the "
                     f"training split. {augmentation.get('note') or ''}".strip())
    calibration = metrics.get("calibration")
    if calibration:
        split = "test" if "test_ece_before" in calibration else "val"
        before, after = calibration[f"{split}_ece_before"], calibration[f"{split}_ece_after"]
        parts.append(f"Scores are calibrated (`calibration.json`, `{calibration.get('method')}` fitted on "
                     f"validation) and reported calibrated by the Scorer; flags are unchanged. Macro ECE on {split} "
                     f"(15 equal-mass bins): {_fmt(before.get('macro'))} raw, {_fmt(after.get('macro'))} calibrated.")
    if not parts:
        return ""
    return "\n## Bias and calibration\n\n" + "\n\n".join(parts) + "\n"


PREVALENCE_HEADING = "## Deployment prevalence"
DATA_CALIBRATION_HEADING = "## Calibrated on your data"


def _without_section(card: str, heading: str) -> str:
    start = card.find("\n" + heading)
    if start < 0:
        return card
    end = card.find("\n## ", start + 1)
    return card[:start] + (card[end:] if end >= 0 else "\n")


def with_calibration_notes(card: str, calibration: dict | None) -> str:
    """The card with its notes on where the calibration comes from replaced: a section when the maps were refitted
    on a labelled sample of the user's traffic (`python -m core calibrate --data`), and one when they are moved to
    other label shares (`--prevalence`); neither for the validation split's own maps (or no calibration)."""
    card = _without_section(_without_section(card, DATA_CALIBRATION_HEADING), PREVALENCE_HEADING)
    calibration = calibration or {}
    source = calibration.get("source")
    if source:
        kept = source.get("kept") or {}
        kept_note = ("" if not kept else " Kept from validation (too few rows to refit): "
                     + ", ".join(f"{label} ({why})" for label, why in kept.items()) + ".")
        ece = source.get("ece_expected") or {}
        card = (card.rstrip("\n") + f"\n\n{DATA_CALIBRATION_HEADING}\n\nCalibrated scores now come from "
                f"`{calibration.get('method')}` maps refitted on `{source.get('data')}` ({source.get('rows')} labelled "
                "rows of the traffic the run scores), not from the validation maps named above; flags are "
                f"unchanged.{kept_note} "
                f"Expected macro ECE on such traffic {_fmt(ece.get('macro'))} (fitted on one half of the file, "
                f"measured on the other), against {_fmt((source.get('ece_before') or {}).get('macro'))} with the "
                "maps it replaced. `python -m core calibrate --run RUN --reset` goes back to validation.\n")
    prevalence = calibration.get("prevalence")
    if prevalence:
        fitted = calibration.get("prevalence_fitted") or {}
        where = "calibration sample" if source else "validation split"
        rows = "\n".join(f"| {label} | {_fmt(fitted.get(label))} | {_fmt(share)} |"
                         for label, share in prevalence.items())
        card = (card.rstrip("\n") + f"\n\n{PREVALENCE_HEADING}\n\nCalibrated scores are probabilities at these "
                f"label shares (set with `python -m core calibrate --prevalence`), not at the {where}'s; flags "
                f"are unchanged.\n\n| label | {where.split()[0]} share | deployment share |\n|---|---|---|\n{rows}\n")
    return card


def _recipe(config: TrainConfig, task: str | None) -> str:
    """The config as a markdown list; an `auto` option says what it meant for this run's task."""
    resolved = {"normalize": config.resolved_normalize(task),
                "identity_augmentation": config.resolved_identity_augmentation(task),
                "ensemble": config.resolved_ensemble(task)} if task in ("multilabel", "multiclass") else {}
    return "\n".join(f"- `{k}`: `{v}`" + (f" (for this {task} run: `{resolved[k]}`)" if v == "auto" and k in resolved
                                            else "")
                     for k, v in config.to_dict().items() if v not in (None, {}, []))


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
    recipe = _recipe(config, metrics.get("task"))
    return f"""# CleanSpeech run: {config.run_name or config.model_kind}

A {metrics.get('task', '')} toxicity classifier ({config.model_kind}) fine-tuned from `{config.base_model}` with
CleanSpeech Studio. Labels: {', '.join(labels)}.
{_head_note(metrics.get('pooling'))}
## Data

Source: `{data_source}`. Rows: {metrics.get('rows', {})}.
{review_note(config.data)}
## Metrics

Validation macro ROC-AUC {_fmt(val.get('macro_roc_auc'))}; test macro ROC-AUC {_fmt(test.get('macro_roc_auc'))}
(TF-IDF + logistic regression baseline on the same test split: {_fmt(baseline.get('macro_roc_auc'))}).

| label | val ROC-AUC | test ROC-AUC | test PR-AUC | threshold |
|---|---|---|---|---|
{rows}

Thresholds were chosen on the **{thresholds.get('split', 'val')}** split by `{thresholds.get('method', '?')}`;
test figures use them without re-tuning.
{decision_section(metrics)}{baseline_section(metrics)}{ensemble_section(metrics)}{trust_section(metrics)}\
{sbert_section(metrics)}
## Recipe

{recipe}

## Intended use and limits

For assisting human moderators: rank and flag comments for review. Scores reflect the training data's
labelling conventions and prevalence; precision and recall at a threshold change with real traffic's
prevalence, so re-tune thresholds on data like yours. Identity terms can be over-flagged; check the
explanations before acting. Not for automated punitive decisions without human review.
"""


def _embedding_table(embedding: dict) -> str:
    """Base vs fine-tuned embedding metrics as markdown rows."""
    base, tuned = embedding.get("base") or {}, embedding.get("fine_tuned") or {}
    rows = []
    for group in ("knn", "clustering", "retrieval", "pair_classification", "pair_scores"):
        for name, value in (tuned.get(group) or {}).items():
            if isinstance(value, (int, float)) and name not in ("k", "queries", "corpus", "pairs"):
                rows.append(f"| {group} {name} | {_fmt((base.get(group) or {}).get(name))} | {_fmt(value)} |")
    if "triplet_accuracy" in tuned:
        rows.append(f"| triplet accuracy | {_fmt(base.get('triplet_accuracy'))} | {_fmt(tuned['triplet_accuracy'])} |")
    return "| metric | base model | fine-tuned |\n|---|---|---|\n" + "\n".join(rows)


def sbert_section(metrics: dict) -> str:
    """The SBERT part of a card: loss, and embedding metrics of the base and fine-tuned models."""
    embedding = metrics.get("embedding")
    if not embedding:
        return ""
    head = metrics.get("head") or {}
    head_line = ""
    if head:
        base_auc = (head.get("base") or {}).get("macro_roc_auc")
        tuned_auc = (head.get("fine_tuned") or {}).get("macro_roc_auc")
        head_line = (f"\nLogistic-regression head on the embeddings, macro ROC-AUC on {embedding.get('split')}: "
                     f"base {_fmt(base_auc)}, fine-tuned {_fmt(tuned_auc)}.\n")
    return f"""
## SBERT training

Loss: `{metrics.get('loss')}` on {metrics.get('data_kind')} data; {metrics.get('train_rows_used')} training rows
(pairs for SetFit sampling). Load the model with `SentenceTransformer("RUN_DIR/model")`.

Embedding metrics on the **{embedding.get('split')}** split:

{_embedding_table(embedding)}
{head_line}"""


def embedding_card(config: TrainConfig, metrics: dict, data_source: str) -> str:
    """Card of an SBERT run trained on pairs, triplets or Q&A (an embedding model without a scoring head)."""
    recipe = _recipe(config, metrics.get("task"))
    return f"""# CleanSpeech run: {config.run_name or 'sbert'}

A sentence-embedding model fine-tuned from `{config.base_model}` with CleanSpeech Studio on {metrics.get('task')}
data, for semantic search and similarity (it has no classification head, so it does not score toxicity).

## Data

Source: `{data_source}`. Rows: {metrics.get('rows', {})}.
{review_note(config.data)}{sbert_section(metrics)}
## Recipe

{recipe}

## Intended use and limits

Retrieval and similarity over texts like the training data. Similarity scores are not probabilities;
check search results on your own corpus before relying on them.
"""
