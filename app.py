"""CleanSpeech Studio: the Streamlit entry point (navigation only; no ML code here)."""

from pathlib import Path

import streamlit as st

# A local image: a `:material/...:` page icon makes the browser fetch the favicon from a fonts host, which fails
# offline (and tells that host who is using the app)
FAVICON = Path(__file__).resolve().parent / "ui" / "assets" / "favicon.png"
st.set_page_config(page_title="CleanSpeech Studio", page_icon=str(FAVICON), layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/data.py", title="Data", icon=":material/dataset:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/runs.py", title="Runs", icon=":material/table_chart:"),
    st.Page("pages/evaluate.py", title="Evaluate", icon=":material/tune:"),
    st.Page("pages/audit.py", title="Audit", icon=":material/balance:"),
    st.Page("pages/score.py", title="Score", icon=":material/speed:"),
    st.Page("pages/explain.py", title="Explain", icon=":material/visibility:"),
    st.Page("pages/rewrite.py", title="Rewrite", icon=":material/edit_note:"),
    st.Page("pages/search.py", title="Search", icon=":material/search:"),
]

st.navigation(PAGES).run()
