"""Data: load a file (or the bundled sample), map columns, read the report, prepare and save a version."""

import pandas as pd
import streamlit as st

from core.data import (KINDS, BalanceOptions, CleanOptions, PrepareOptions, SplitOptions, data_report,
                       prepare_dataset, save_version)
from core.errors import CoreError
from core.paths import SAMPLE_MULTILABEL, SAMPLE_PAIRS, SAMPLE_QA
from ui import cache, charts, state
from ui.entry import require_app_entry
from ui.review import review_tab

SAMPLES = {"Toxic comments (multilabel)": SAMPLE_MULTILABEL, "Paraphrase pairs": SAMPLE_PAIRS,
           "Moderation Q&A": SAMPLE_QA}
UPLOAD_LIMIT_MB = 200

require_app_entry()
st.title("Data")
prepare_tab, review = st.tabs(["Load and prepare", "Review labels"])
with review:  # drawn first: the prepare flow below ends early (st.stop) until a file is loaded
    review_tab()

with prepare_tab:
    # 1. Source ---------------------------------------------------------------------------------------------
    source = st.radio("Source", ["Bundled sample", "Upload a file"], horizontal=True, key="data.source")
    raw = None
    try:
        if source == "Bundled sample":
            path = SAMPLES[st.selectbox("Sample", list(SAMPLES))]
            raw = cache.raw_table(str(path), path.name)
        else:
            upload = st.file_uploader("CSV, TSV, JSONL or Parquet", type=["csv", "tsv", "jsonl", "json", "parquet"])
            if upload is not None:
                raw = cache.raw_table(upload.getvalue(), upload.name, UPLOAD_LIMIT_MB * 2**20)
    except CoreError as exc:
        st.error(str(exc))
    if raw is None:
        st.info("Pick the bundled sample or upload a file to start.")
        st.stop()
    for warning in raw.warnings:
        st.warning(warning)

    # 2. Columns (inferred defaults, user can override) -----------------------------------------------------
    try:
        inferred = cache.dataset(raw)
    except CoreError as exc:
        inferred = None
        st.warning(f"Could not infer the layout: {exc}")
    columns = list(raw.frame.columns)
    with st.expander("Columns", expanded=inferred is None):
        default_kind = inferred.kind if inferred else "multilabel"
        kind = st.selectbox("Dataset kind", KINDS, index=KINDS.index(default_kind))
        choice: dict = {"kind": kind}
        if kind in ("multilabel", "multiclass"):
            default_text = inferred.spec.text_col if inferred and inferred.spec.text_col in columns else columns[0]
            choice["text_col"] = st.selectbox("Text column", columns, index=columns.index(default_text))
            if kind == "multilabel":
                default_labels = inferred.spec.label_cols if inferred and inferred.kind == "multilabel" else []
                choice["label_cols"] = st.multiselect("Label columns (0/1)", columns, default=default_labels)
            else:
                default_label = inferred.spec.label_col if inferred and inferred.spec.label_col in columns else columns[-1]
                choice["label_col"] = st.selectbox("Class column", columns, index=columns.index(default_label))
        choice["drop_empty"] = st.checkbox("Drop rows with empty texts", value=False)
        if inferred:
            for line in inferred.inference:
                st.caption(f"Inferred {line}")

    try:
        dataset = cache.dataset(raw, **choice)
    except CoreError as exc:
        st.error(str(exc))
        st.stop()

    # 3. Report ----------------------------------------------------------------------------------------------
    report = data_report(dataset)
    st.subheader("Report")
    cols = st.columns(4)
    cols[0].metric("Rows", f"{report['rows']:,}")
    cols[1].metric("Kind", report["kind"])
    cols[2].metric("Labels", len(report["labels"]) or "—")
    cols[3].metric("Median length (chars)", f"{report['lengths']['chars']['p50']:.0f}")
    if report["dropped"]:
        st.caption("Rows dropped: " + ", ".join(f"{n} {why}" for why, n in report["dropped"].items()))
    st.dataframe(dataset.frame.head(20), hide_index=True)
    chart_cols = st.columns(2)
    if report["labels"]:
        chart_cols[0].plotly_chart(charts.prevalence_chart(report), key="prevalence_all")
    chart_cols[1].plotly_chart(charts.length_histogram(report), key="lengths_all")
    if "cooccurrence" in report:
        with st.expander("Label co-occurrence"):
            st.plotly_chart(charts.cooccurrence_heatmap(report), key="cooc")

    # 4. Prepare ---------------------------------------------------------------------------------------------
    st.subheader("Prepare")
    with st.form("prepare"):
        left, mid, right = st.columns(3)
        with left:
            do_clean = st.checkbox("Clean text (URLs, @mentions, HTML entities, whitespace)", value=True)
            dedup = st.radio("De-duplicate", ["near", "exact", "none"], horizontal=True,
                             help="near: TF-IDF cosine at or above the threshold")
            threshold = st.slider("Near-duplicate threshold", 0.5, 1.0, 0.9, 0.01)
        with mid:
            train = st.slider("Train fraction", 0.5, 0.9, 0.7, 0.05)
            val = st.slider("Validation fraction", 0.05, 0.3, 0.15, 0.05)
            seed = st.number_input("Seed", 0, 2**31 - 1, 42)
        with right:
            downsample = st.slider("Keep this fraction of majority rows (train)", 0.1, 1.0, 1.0, 0.05)
            oversample = st.checkbox("Oversample minority labels (train)")
            drop = st.multiselect("Drop labels", dataset.labels) if dataset.kind == "multilabel" else []
        submitted = st.form_submit_button("Prepare", type="primary")

    if submitted:
        bar = st.progress(0.0, text="Starting")
        try:
            test = round(1 - train - val, 4)
            balance = BalanceOptions(downsample, oversample, seed=int(seed)) if downsample < 1 or oversample else None
            options = PrepareOptions(clean=CleanOptions() if do_clean else None, dedup=dedup, near_threshold=threshold,
                                     split=SplitOptions(train, val, test, int(seed)), balance=balance, drop_labels=drop)
            state.set_prepared(prepare_dataset(dataset, options, progress=lambda f, m: bar.progress(f, text=m)))
        except CoreError as exc:
            st.error(str(exc))

    prepared = state.get_prepared()
    if prepared is not None:
        result = prepared.report
        st.success(f"Prepared in {result['seconds']} s: " + ", ".join(f"{k} {v:,}" for k, v in result["split_rows"].items()
                                                                    if k != "all"))
        steps = result["steps"]
        st.caption(f"Duplicates removed: {steps.get('dedup', {}).get('rows_removed', 0)}; conflicting groups: "
                   f"{steps.get('dedup', {}).get('conflicting_groups', 0)}; cleaned cells: "
                   f"{steps.get('clean', {}).get('cells_changed', 0)}")
        if result["labels"]:
            st.plotly_chart(charts.prevalence_chart(result), key="prevalence_splits")
            st.dataframe(pd.DataFrame(result["label_counts"]), key="counts_splits")
        with st.form("save"):
            name = st.text_input("Version name", value=f"{dataset.kind}-v1", key="data.version_name")
            if st.form_submit_button("Save version"):
                try:
                    folder = save_version(prepared, name)
                    st.success(f"Saved dataset version `{folder.name}` in `{folder.parent}`.")
                except CoreError as exc:
                    st.error(str(exc))
