"""Evaluate: per-label curves and confusion counts, a threshold slider per label with live metrics,
automatic thresholds (max F1, target precision/recall), saving them, and error analysis."""

import hashlib
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import streamlit as st

from core.errors import CoreError
from core.evaluation.curves import operating_point, top_errors
from core.evaluation.decision import (class_precision_recall, decide, describe_offsets, fit_offsets,
                                     offsets_for_target)
from core.evaluation.metrics import confusion_matrix, decision_rule_metrics, multiclass_metrics
from core.evaluate import load_predictions
from core.evaluation.predictions import SPLIT_NAMES, predictions_path, score_dataset
from core.evaluation.versus import baseline_comparison, worse_summary
from core.evaluation.thresholds import choose_threshold, describe_thresholds, metrics_at
from core.fileio import read_json
from core.runs import THRESHOLDS, read_decision, read_thresholds, save_decision, save_thresholds
from ui import cache, charts
from ui.offers import offer_ensemble
from ui.run_select import pick_run
from ui.entry import require_app_entry

require_app_entry()
st.title("Evaluate")
info = pick_run()
versus = baseline_comparison(info.metrics)
lost = worse_summary(versus)
if lost:
    st.warning(f"On its {SPLIT_NAMES.get(versus['split'], versus['split'])} split this run is **worse than the "
               f"TF-IDF baseline** trained on the same data: {lost}. Check these labels before relying on the "
               "run; a blend with the TF-IDF model (below), or a TF-IDF run (model kind `tfidf` on the Train "
               "page), may serve them better.", icon=":material/warning:")
    offer_ensemble(info, "eval.blend")

SOURCES = {"validation": "val", "test": "test", "uploaded labelled file": "upload"}
source = SOURCES[st.radio("Evaluate on", list(SOURCES), horizontal=True, key="eval.source")]


def progress_bar(label: str):
    bar = st.progress(0.0, text=label)
    return lambda done, total: bar.progress(min(done / max(total, 1), 1.0), text=f"{label} {done:,}/{total:,}")


def run_predictions(split: str):
    """Saved predictions of the run on a split; scored once (with progress) for runs that predate them."""
    if not predictions_path(info.path, split).exists():
        load_predictions(info.path, split, lambda: cache.scorer(str(info.path), "exact"),
                         progress_bar(f"Scoring the {SPLIT_NAMES[split]} split…"))
    return cache.split_predictions(str(info.path), split)


def uploaded_predictions():
    upload = st.file_uploader("Labelled file with the run's label columns (CSV, TSV, JSONL, Parquet)",
                              type=["csv", "tsv", "jsonl", "ndjson", "parquet"], key="eval.upload")
    if upload is None:
        st.info("Upload a labelled file to score it on the fly.")
        st.stop()
    raw = upload.getvalue()
    key = f"eval.upload.{info.name}.{hashlib.sha1(raw).hexdigest()}"
    if key not in st.session_state:
        dataset = cache.dataset(cache.raw_table(raw, upload.name))
        scorer = cache.scorer(str(info.path), "exact")
        st.session_state[key] = score_dataset(scorer, dataset, "upload", progress_bar(f"Scoring {upload.name}…"))
    return st.session_state[key]


def decision_panel(predictions, labels: list[str], tuning_allowed: bool) -> None:
    """Multiclass: an offset slider per class (the decision rule), the metrics and confusion matrix following
    them, fit-for-macro-F1 / argmax / saved buttons, and Save (validation only) to the run's decision.json."""
    truth, probs = predictions.truth.argmax(axis=1), predictions.probs
    try:
        saved = read_decision(info.path, labels)
    except CoreError as exc:
        st.error(str(exc))
        saved = None
    keys = {label: f"dec.{info.name}.{label}" for label in labels}
    for label, value in zip(labels, saved or [0.0] * len(labels)):
        st.session_state.setdefault(keys[label], round(float(value), 1))

    def set_offsets(which: str) -> None:
        values = {"fit": fit_offsets(probs, truth), "argmax": np.zeros(len(labels)),
                  "saved": np.array(saved or [0.0] * len(labels))}[which]
        for label, value in zip(labels, values):
            st.session_state[keys[label]] = round(float(value), 1)
        st.session_state[f"dec.{info.name}.method"] = {"fit": "max_macro_f1", "argmax": "argmax",
                                                       "saved": "saved"}[which]

    st.subheader("Decision rule")
    st.caption("Each class's offset is added to its log-probability before the top class is taken: raise a rare "
               "class's offset to predict it more often (+0.7 is about twice its weight). The run fitted its "
               "offsets on validation for macro-F1; `predicted` in Score and the CLI uses the saved ones.")
    def manual() -> None:
        st.session_state[f"dec.{info.name}.method"] = "manual"

    for column, label in zip(st.columns(len(labels)), labels):
        column.slider(label, -4.0, 4.0, step=0.1, key=keys[label], on_change=manual)
    offsets = np.array([st.session_state[keys[label]] for label in labels])
    rule = decision_rule_metrics(probs, truth, labels, offsets)
    summary = multiclass_metrics(probs, truth, labels)
    cols = st.columns(4)
    cols[0].metric("accuracy", f"{rule['accuracy']:.3f}")
    cols[1].metric("macro F1", f"{rule['macro_f1']:.3f}", delta=f"{rule['macro_f1'] - summary['macro_f1']:+.3f} vs "
                   "argmax", delta_color="normal")
    cols[2].metric("top-2 accuracy", f"{summary.get('top2_accuracy', 1.0):.3f}")
    cols[3].metric("top-3 accuracy", f"{summary.get('top3_accuracy', 1.0):.3f}")
    changed = saved is None and offsets.any() or saved is not None and not np.allclose(offsets, saved)
    st.plotly_chart(charts.confusion_chart(confusion_matrix(truth, decide(probs, offsets), len(labels)).tolist(),
                                           labels, "Confusion matrix (decision rule" + (", unsaved)" if changed
                                                                                        else ")")),
                    key="eval.mc_confusion")
    def set_target(metric: str) -> None:
        cls, target = labels.index(st.session_state["dec.class"]), st.session_state[f"dec.target_{metric}"]
        current = np.array([st.session_state[keys[label]] for label in labels])
        found = offsets_for_target(probs, truth, current, cls, metric, target)
        if found is None:
            st.session_state["dec.message"] = (f"No offset of `{labels[cls]}` in [-4, 4] reaches {metric} "
                                               f"{target:.2f} on validation with the other offsets as they are.")
            return
        st.session_state.pop("dec.message", None)
        st.session_state[keys[labels[cls]]] = round(float(found[cls]), 1)
        st.session_state[f"dec.{info.name}.method"] = f"target_{metric}"

    targets = st.columns([2, 1, 1, 1, 1])
    rarest = int(np.argmin(np.bincount(truth, minlength=len(labels))))
    chosen_class = targets[0].selectbox("Class to target", labels, index=rarest, key="dec.class",
                                        help="Move this class's offset until it reaches a precision or recall "
                                             "(validation); the other offsets stay")
    targets[1].number_input("target precision", 0.05, 1.0, 0.7, 0.05, key="dec.target_precision")
    targets[2].button("Offset for precision", on_click=set_target, args=("precision",), disabled=not tuning_allowed,
                      key="dec.precision")
    targets[3].number_input("target recall", 0.05, 1.0, 0.7, 0.05, key="dec.target_recall")
    targets[4].button("Offset for recall", on_click=set_target, args=("recall",), disabled=not tuning_allowed,
                      key="dec.recall")
    precision, recall = class_precision_recall(truth, decide(probs, offsets), labels.index(chosen_class))
    st.caption(f"`{chosen_class}` at these offsets: precision {precision:.3f}, recall {recall:.3f}")
    if st.session_state.get("dec.message"):
        st.warning(st.session_state["dec.message"])
    buttons = st.columns(4)
    buttons[0].button("Fit: max macro F1", on_click=set_offsets, args=("fit",), disabled=not tuning_allowed,
                      key="dec.fit")
    buttons[1].button("Argmax", on_click=set_offsets, args=("argmax",), key="dec.argmax")
    buttons[2].button("Saved rule", on_click=set_offsets, args=("saved",), key="dec.saved")
    if buttons[3].button("Save rule", type="primary", disabled=not tuning_allowed, key="dec.save",
                         help="Writes the run's decision.json; Score, the CLI and evaluate use it."):
        method = st.session_state.get(f"dec.{info.name}.method", "manual")
        save_decision(info.path, describe_offsets(probs, truth, labels, offsets, method, "val"))
        st.success(f"Saved the decision rule ({method}, validation macro F1 {rule['macro_f1']:.3f}).")
    st.caption("Below: one-vs-rest flag thresholds per class (e.g. flag `hate` at 0.3 whatever the top class).")


try:
    predictions = uploaded_predictions() if source == "upload" else run_predictions(source)
except CoreError as exc:
    st.error(str(exc))
    st.stop()

labels, where = predictions.labels, SPLIT_NAMES.get(source, "uploaded file")
cache_key = cache.predictions_key(info.name, source, predictions)
curves = cache.threshold_curves(cache_key, predictions)
saved = read_json(info.path / THRESHOLDS, {}) or {}
st.caption(f"Every number on this page is computed on the **{where}** set ({len(predictions):,} rows). "
           f"Saved thresholds: method `{saved.get('method', 'default 0.5')}`, tuned on "
           f"`{SPLIT_NAMES.get(saved.get('split'), saved.get('split', '—'))}`"
           f"{', ' + saved['tuned_at'] if saved.get('tuned_at') else ''}.")
if source != "val":
    st.info("Thresholds are tuned on validation and reported here: sliders move freely, but the automatic "
            "buttons and Save work on the validation split only (tuning on test would overstate the results).")

if predictions.task == "multiclass":
    decision_panel(predictions, labels, source == "val")

# ------------------------------------------------------------------------------------------ threshold sliders
slider_key = {label: f"thr.{info.name}.{label}" for label in labels}
try:
    initial = read_thresholds(info.path, labels)
except CoreError as exc:  # a damaged thresholds.json: say which file and how to fix it, never guess 0.5
    st.error(str(exc))
    st.stop()
for label in labels:
    st.session_state.setdefault(slider_key[label], float(initial[label]))
st.session_state.setdefault(f"thr.{info.name}.method", saved.get("method", "manual"))


def set_thresholds(method: str, target: float | None = None) -> None:
    for label in labels:
        value = initial[label] if method == "saved" else choose_threshold(curves[label], method, target)
        # exact values, not rounded: rounding a threshold up can lose the very recall it was chosen for
        st.session_state[slider_key[label]] = min(max(float(value), 0.0), 1.0)
    st.session_state[f"thr.{info.name}.method"] = saved.get("method", "manual") if method == "saved" else method
    st.session_state[f"thr.{info.name}.target"] = target


auto = st.columns([1, 1, 1, 1, 1])
tuning_allowed = source == "val"
auto[0].button("Max F1 per label", on_click=set_thresholds, args=("max_f1",), disabled=not tuning_allowed)
precision_target = auto[1].number_input("target precision", 0.05, 1.0, 0.9, 0.05, key="eval.tp")
auto[2].button("Set for precision", on_click=set_thresholds, args=("target_precision", precision_target),
               disabled=not tuning_allowed)
recall_target = auto[3].number_input("target recall", 0.05, 1.0, 0.8, 0.05, key="eval.tr")
auto[4].button("Set for recall", on_click=set_thresholds, args=("target_recall", recall_target),
               disabled=not tuning_allowed)


ranking = cache.ranking_metrics(cache_key, predictions)


def on_slide() -> None:
    st.session_state[f"thr.{info.name}.method"] = "manual"


@st.fragment
def threshold_panel() -> None:
    """Sliders and everything that depends on them: reruns alone when a slider moves."""
    columns = st.columns(min(len(labels), 3))
    for i, label in enumerate(labels):
        columns[i % len(columns)].slider(label, 0.0, 1.0, step=0.001, format="%.3f", key=slider_key[label],
                                         on_change=on_slide)
    values = {label: float(st.session_state[slider_key[label]]) for label in labels}
    rows = []
    for label in labels:
        at = metrics_at(curves[label], values[label])
        rows.append({"label": label, "threshold": values[label], "saved": float(initial[label]),
                     "precision": at["precision"],
                     "recall": at["recall"], "F1": at["f1"], "predicted positive": at["positive_rate"],
                     "support": ranking[label]["support"], "ROC-AUC": ranking[label]["roc_auc"],
                     "PR-AUC": ranking[label]["pr_auc"]})
    table = pd.DataFrame(rows)
    st.dataframe(table, hide_index=True, key="eval.table",
                 column_config={c: st.column_config.NumberColumn(format="%.3f") for c in table.columns[1:]
                                if c != "support"})
    macro_f1 = float(np.mean(table["F1"]))
    st.markdown(f"**Macro F1 at these thresholds: {macro_f1:.3f}** ({where})")
    unsaved = [label for label in labels if abs(values[label] - float(initial[label])) > 5e-4]
    if unsaved:
        st.caption(f"Not saved yet: {', '.join(f'`{label}`' for label in unsaved)} differ from `thresholds.json` "
                   "(the **saved** column).")

    label = st.selectbox("Label detail", labels, key="eval.detail")
    point = operating_point(curves[label], values[label])
    points = cache.curve_points(cache_key, label, predictions)
    left, middle, right = st.columns([2, 2, 1.4])
    left.plotly_chart(charts.roc_chart({label: points["roc"]}, point), key="eval.roc")
    middle.plotly_chart(charts.pr_chart({label: points["pr"]}, point), key="eval.pr")
    right.plotly_chart(charts.confusion_chart([[point["tn"], point["fp"]], [point["fn"], point["tp"]]],
                                              ["no", "yes"], f"{label} at {values[label]:.3f}"), key="eval.cm")

    method = st.session_state[f"thr.{info.name}.method"]
    if st.button("Save thresholds", type="primary", disabled=not tuning_allowed,
                 help="Writes the run's thresholds.json; Score, Explain and Rewrite use it."):
        payload = describe_thresholds(curves, values, method, source, st.session_state.get(f"thr.{info.name}.target"))
        save_thresholds(info.path, payload)
        st.session_state["eval.saved_message"] = (f"Saved {len(values)} thresholds ({method}, tuned on {where}) "
                                                  "to `thresholds.json`.")
        st.rerun(scope="app")  # the page's caption and the saved column read thresholds.json again
    if st.session_state.get("eval.saved_message"):
        st.success(st.session_state.pop("eval.saved_message"))
    error_analysis(values)


# ------------------------------------------------------------------------------------------ error analysis
def error_analysis(values: dict[str, float]) -> None:
    """The top errors at the sliders' thresholds: inside the fragment, so they follow every slider move."""
    st.subheader("Error analysis")
    error_label = st.selectbox("Label", labels, key="eval.error_label")
    index = labels.index(error_label)
    threshold = values[error_label]
    errors = top_errors(predictions.truth[:, index], predictions.probs[:, index], threshold, k=10)
    for kind, title in (("false_positives", "Top false positives"), ("false_negatives", "Top false negatives")):
        rows = errors[kind]
        st.markdown(f"**{title}** for `{error_label}` at {threshold:.3f} ({len(rows)} shown)")
        if len(rows):
            links = ([f"explain?{urlencode({'run': info.name, 'split': source, 'row': int(r)})}" for r in rows]
                     if source in ("val", "test") else
                     [f"explain?{urlencode({'run': info.name, 'text': predictions.texts[r][:1500]})}" for r in rows])
            st.dataframe(pd.DataFrame({"row": rows, "probability": predictions.probs[rows, index],
                                       "text": [predictions.texts[r] for r in rows], "explain": links}),
                         hide_index=True, key=f"eval.{kind}",
                         column_config={"explain": st.column_config.LinkColumn("explain",
                                                                               display_text="explain ↗")})
        else:
            st.caption("None at this threshold.")


threshold_panel()
