"""Runs: every run in the models folder; compare several side by side; download or delete one."""

from pathlib import Path

import pandas as pd
import streamlit as st

from core import runs
from core.errors import CoreError
from core.evaluation.versus import baseline_comparison, worse_summary
from core.paths import models_dir
from ui import cache, charts
from ui.run_select import offer_demo
from ui.entry import require_app_entry

require_app_entry()
st.title("Runs")
st.caption(f"Runs folder: `{models_dir()}`")
all_runs = runs.list_runs()
if not all_runs:
    st.info("No runs yet. Train one on the Train page, or start a demo model here.")
    offer_demo("minilm", "Train a MiniLM demo model (about a minute on CPU)")
    st.stop()

def worse_than_baseline(info: runs.RunInfo) -> str | None:
    """Where a run loses to the TF-IDF baseline it recorded on its own splits; "" when nowhere."""
    comparison = baseline_comparison(info.metrics)
    return None if comparison is None else worse_summary(comparison) or ""


table = pd.DataFrame([{**runs.summary(r), "worse than TF-IDF on": worse_than_baseline(r)} for r in all_runs])
table["data"] = [Path(str(p)).name if p else "" for p in table["data"]]  # the full path is in each run's config
first = ["run", "state", "test macro ROC-AUC", "test macro F1", "best val macro ROC-AUC"]  # seen without scrolling
table = table[[c for c in first if c in table.columns] + [c for c in table.columns if c not in first]]
st.dataframe(table, hide_index=True, key="runs.table",
             column_config={**{c: st.column_config.NumberColumn(format="%.4f") for c in table.columns
                               if "AUC" in c or "F1" in c},
                            "worse than TF-IDF on": st.column_config.TextColumn(
                                help="Labels where the run's ROC-AUC or F1 (at its tuned decisions) is below the "
                                     "TF-IDF baseline trained on the same splits (test split, else validation)"),
                            "identity terms over-flagged": st.column_config.NumberColumn(
                                help="Of the 53 identity terms of the template suite, how many have more than 5% of "
                                     "their non-toxic sentences flagged (details on the Audit page)")})
losing = [r.name for r in all_runs if worse_than_baseline(r)]
if losing:
    st.caption(f"{len(losing)} run(s) lose to their TF-IDF baseline somewhere ({', '.join(losing[:3])}"
               f"{' ...' if len(losing) > 3 else ''}): the Evaluate page offers to train such a run again blended "
               "with the TF-IDF model (`ensemble: tfidf`).")

# ---------------------------------------------------------------------------------------------------- compare
st.subheader("Compare")
names = [r.name for r in all_runs]
by_name = {r.name: r for r in all_runs}
usable = [r.name for r in all_runs if runs.has_model(r.path)] or names  # stopped or failed runs are not the default
chosen = st.multiselect("Runs to compare (two or more)", names, default=usable[:2], key="runs.compare")
if len(chosen) >= 2:
    compared = [by_name[n] for n in chosen]
    per_label = {}
    for info in compared:
        test = info.metrics.get("test") or info.metrics.get("val") or {}
        for label, values in (test.get("per_label") or {}).items():
            per_label.setdefault(label, {})[info.name] = values.get("roc_auc")
    if per_label:
        st.markdown("**Test ROC-AUC per label** (validation where a run has no test split)")
        st.dataframe(pd.DataFrame(per_label).T.rename_axis("label").reset_index(), hide_index=True,
                     key="runs.per_label")
    st.plotly_chart(charts.compare_loss_chart({i.name: runs.read_progress(i.path) for i in compared}),
                    key="runs.loss")
    with_model = [i for i in compared if runs.has_model(i.path)]
    labels = list(dict.fromkeys(label for i in with_model for label in i.metrics.get("labels", [])))  # run order
    if with_model and labels:
        label = st.selectbox("ROC and PR curves (test split) for label", labels, key="runs.curve_label",
                             index=labels.index("toxic") if "toxic" in labels else 0)
        roc, pr = {}, {}
        for info in with_model:
            try:
                predictions = cache.split_predictions(str(info.path), "test")
            except CoreError as exc:
                st.caption(f"{info.name}: {exc}")
                continue
            if label in predictions.labels:
                key = cache.predictions_key(info.name, "test", predictions)
                points = cache.curve_points(key, label, predictions)
                roc[info.name], pr[info.name] = points["roc"], points["pr"]
        left, right = st.columns(2)
        left.plotly_chart(charts.roc_chart(roc), key="runs.roc")
        right.plotly_chart(charts.pr_chart(pr), key="runs.pr")
else:
    st.caption("Pick two or more runs to compare their metrics and curves.")

# ---------------------------------------------------------------------------------------------------- one run
st.subheader("One run")
name = st.selectbox("Run", names, key="runs.one", index=names.index(usable[0]))
info = by_name[name]
left, middle, right = st.columns(3)
config_file, card_file = info.path / runs.CONFIG, info.path / runs.CARD
left.download_button("Download config.json", config_file.read_bytes(), file_name=f"{name}-config.json",
                     mime="application/json", key="runs.dl_config")
if card_file.exists():
    middle.download_button("Download model card", card_file.read_bytes(), file_name=f"{name}-README.md",
                           mime="text/markdown", key="runs.dl_card")
if info.status.get("error"):
    st.error(f"Error: {info.status['error']}")
with right.popover("Delete run…", disabled=info.state in runs.ACTIVE_STATES):
    st.write(f"Delete `{name}` and everything in it (model, checkpoints, metrics)? This cannot be undone.")
    confirm = st.text_input("Type the run name to confirm", key="runs.confirm")
    if st.button("Delete", type="primary", disabled=confirm != name, key="runs.delete"):
        try:
            runs.delete_run(info.path)
        except CoreError as exc:
            st.error(str(exc))
        else:
            cache.scorer.clear()
            st.rerun()
if card_file.exists():
    with st.expander("Model card"):
        st.markdown(card_file.read_text(encoding="utf-8"))
