"""Search: index a text column with an SBERT run's model and query it; base and fine-tuned side by side."""

import hashlib

import pandas as pd
import streamlit as st

from core import runs
from core.data import guess_text_column
from core.errors import CoreError
from core.paths import SAMPLE_QA
from core.search import corpus_texts
from ui import cache
from ui.entry import require_app_entry
from ui.run_select import offer_demo

require_app_entry()
MAX_UPLOAD_MB = 200
BUNDLED = "Bundled moderation Q&A sample"

st.title("Search")
st.caption("Semantic search: every text of a column is embedded once; a query returns the most similar texts "
           "by cosine similarity (exact search; with the `faiss` package installed, Facebook's nearest-neighbour "
           "library searches large corpora faster).")

sentence_runs = [r for r in runs.list_runs() if runs.is_sentence_model(r.path)]
if not sentence_runs:
    st.info("No SBERT run yet. Train one on the Train page (model: SBERT; data: the bundled Q&A sample or your "
            "own pairs, triplets, Q&A or labelled text), or start the demo below.")
    offer_demo("sbert-qa", "Train the SBERT Q&A demo (MiniLM + MNRL on the bundled Q&A sample, about a minute)")
    st.stop()

names = [r.name for r in sentence_runs]
wanted = st.query_params.get("run")
choice = st.sidebar.selectbox("SBERT run", names, index=names.index(wanted) if wanted in names else 0,
                              help="Runs trained with model kind SBERT, newest first.")
info = sentence_runs[names.index(choice)]
st.sidebar.caption(f"Base model: `{info.base_model}`")

source = st.radio("Corpus", [BUNDLED, "Upload a file"], horizontal=True)
try:
    if source == BUNDLED:
        raw = cache.raw_table(str(SAMPLE_QA), SAMPLE_QA.name)
    else:
        upload = st.file_uploader("CSV, TSV, JSONL or Parquet", type=["csv", "tsv", "jsonl", "json", "parquet"])
        if upload is None:
            st.stop()
        raw = cache.raw_table(upload.getvalue(), upload.name, MAX_UPLOAD_MB * 2**20)
    columns = [str(c) for c in raw.frame.columns]
    guess = guess_text_column(columns, extra=("answer", "document"))  # Q&A corpora: index the answers
    default = columns.index(guess) if guess else 0
    column = st.selectbox("Text column to index", columns, index=default)
    texts = corpus_texts(raw.frame, column)
except CoreError as exc:
    st.error(str(exc))
    st.stop()
st.caption(f"{len(texts)} texts in `{column}`.")

with st.form("search.form"):
    query = st.text_input("Query", placeholder="e.g. someone insulted me, what can I do?", key="search.query")
    left, right = st.columns(2)
    top_k = left.slider("Results (top k)", 1, 50, 5, key="search.k")
    compare = right.checkbox("Compare with the base model", True, key="search.compare")
    submitted = st.form_submit_button("Search", type="primary")

if submitted:
    corpus_key = hashlib.sha1("\x1f".join(texts).encode("utf-8")).hexdigest()
    models = [("fine_tuned", "Fine-tuned")] + ([("base", f"Base ({info.base_model})")] if compare else [])
    panels = st.columns(len(models))
    for (which, title), panel in zip(models, panels):
        with panel:
            st.subheader(title)
            bar = st.progress(0.0, text="Embedding the corpus…")
            try:
                index = cache.search_index(str(info.path), which, corpus_key, tuple(texts),
                                           _progress=lambda done, total: bar.progress(done / total,
                                                                                      text=f"Embedded {done}/{total}"))
                hits = index.search(cache.sentence_model(str(info.path), which), query, top_k)
            except CoreError as exc:
                bar.empty()
                st.error(str(exc))
                continue
            bar.empty()
            # st.dataframe shows text as text (no HTML), so corpus content cannot inject markup
            # the text right after the rank and as wide as the panel allows; the cosine bar last; every result's
            # whole text below (a table cell cannot wrap)
            st.dataframe(pd.DataFrame([h.to_dict() for h in hits]), hide_index=True,
                         column_order=["rank", "text", "score"],
                         column_config={"score": st.column_config.ProgressColumn("cosine", min_value=-1.0,
                                                                                 max_value=1.0, format="%.3f",
                                                                                 width="small"),
                                        "rank": st.column_config.NumberColumn(width=40),
                                        "text": st.column_config.TextColumn(width="large")})
            with st.expander("Full texts of the results"):
                for hit in hits:  # st.text: corpus content shown as text, never as markup
                    st.text(f"{hit.rank}. ({hit.score:.3f}) {hit.text}")
            st.caption(f"index: {index.backend}")
