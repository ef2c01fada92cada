"""CleanSpeech Studio: the Streamlit entry point (navigation only; no ML code here)."""

import streamlit as st

st.set_page_config(page_title="CleanSpeech Studio", page_icon=":material/shield:", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/data.py", title="Data", icon=":material/dataset:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
]

st.navigation(PAGES).run()
