"""Home: what the tool is, the bundled sample, the runs folder, and what to do next."""

import pandas as pd
import streamlit as st

from core.errors import CoreError
from core.paths import SAMPLE_MULTILABEL, datasets_dir, models_dir
from core.data import list_versions
from core.runs import list_runs
from ui import cache
from ui.entry import require_app_entry

require_app_entry()
st.title("CleanSpeech Studio")
st.write("Take a labelled text dataset to a fine-tuned, threshold-tuned, explained toxicity model — "
         "in the browser, offline, on a laptop or one GPU.")

left, right = st.columns(2)
with left:
    st.subheader("Bundled sample dataset")
    try:
        raw = cache.raw_table(str(SAMPLE_MULTILABEL), SAMPLE_MULTILABEL.name)
        sample = cache.dataset(raw)
    except CoreError as exc:
        st.error(str(exc))
    else:
        counts = sample.frame[sample.labels].sum()
        st.caption(f"`{SAMPLE_MULTILABEL.relative_to(SAMPLE_MULTILABEL.parent.parent)}` — {len(sample.frame)} "
                   f"synthetic comments (Jigsaw layout), written for demos and tests.")
        st.dataframe(pd.DataFrame({"label": counts.index, "positives": counts.values}), hide_index=True)
        st.dataframe(sample.frame[["text", *sample.labels]].head(5), hide_index=True)

with right:
    st.subheader("Runs")
    st.caption(f"Runs folder: `{models_dir()}`")
    runs = list_runs()
    if runs:
        st.dataframe(pd.DataFrame([{"run": r.name, "state": r.state, "kind": r.model_kind,
                                    "base model": r.base_model} for r in runs]), hide_index=True)
    else:
        st.info("No runs yet. Prepare a dataset, then train a model.")
    st.subheader("Dataset versions")
    st.caption(f"Saved in `{datasets_dir()}`")
    versions = list_versions()
    if versions:
        st.dataframe(pd.DataFrame([{"name": v["name"], "kind": v["kind"], **v["rows"]} for v in versions]),
                     hide_index=True)
    else:
        st.info("No saved dataset versions yet.")

st.subheader("What to do next")
st.page_link("pages/data.py", label="1. Load, inspect, clean and split a dataset; review likely label errors",
             icon=":material/dataset:")
st.page_link("pages/train.py", label="2. Train a model in the background and watch it learn",
             icon=":material/model_training:")
st.page_link("pages/runs.py", label="3. Compare runs", icon=":material/table_chart:")
st.page_link("pages/evaluate.py", label="4. Tune a threshold per label on validation", icon=":material/tune:")
st.page_link("pages/audit.py", label="5. Audit whom the model wrongs: identity bias, calibration, obfuscation",
             icon=":material/balance:")
st.page_link("pages/score.py", label="6. Score pasted comments or a whole file (a demo model is trained "
             "on first use if you have none), or serve the run as an API", icon=":material/speed:")
st.page_link("pages/explain.py", label="7. See why a comment was flagged (SHAP, Integrated Gradients, attention)",
             icon=":material/visibility:")
st.page_link("pages/rewrite.py", label="8. Suggest a civil rewrite of a flagged comment, checked by the model",
             icon=":material/edit_note:")
st.page_link("pages/search.py", label="9. Fine-tune SBERT embeddings and search a corpus with them",
             icon=":material/search:")
