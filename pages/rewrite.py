"""Rewrite: civil versions of a toxic comment (Gemini, or the offline local rewriter), each re-scored by
the selected model and compared for meaning before it is offered."""

import difflib
import html

import streamlit as st

from core.errors import CoreError
from core.rewrite import rewrite
from core.rewrite.gemini import DEFAULT_MODEL, api_key_from_env
from core.rewrite.verify import DEFAULT_MIN_SIMILARITY, verdict_notes
from ui import charts
from ui.run_select import load_scorer, pick_run
from ui.entry import require_app_entry

require_app_entry()
_KEY = "rewrite.session_key"  # a pasted key lives in this session's memory only


def word_diff_html(original: str, candidate: str) -> str:
    """Word-level diff: removed words struck through in red, added words in green (all text escaped)."""
    a, b = original.split(), candidate.split()
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            out.append('<del style="color:#b00020">' + html.escape(" ".join(a[i1:i2])) + "</del>")
        if op in ("insert", "replace"):
            out.append('<ins style="color:#1b5e20;text-decoration:none;font-weight:600">'
                       + html.escape(" ".join(b[j1:j2])) + "</ins>")
        if op == "equal":
            out.append(html.escape(" ".join(a[i1:i2])))
    return '<div style="line-height:1.8">' + " ".join(out) + "</div>"


def secret_key() -> str | None:
    """Streamlit secrets, then the environment, then a key pasted in this session."""
    try:
        from_secrets = st.secrets.get("GEMINI_API_KEY") or st.secrets.get("GOOGLE_API_KEY")
    except Exception:  # no secrets.toml at all: Streamlit raises instead of returning nothing
        from_secrets = None
    return from_secrets or api_key_from_env() or st.session_state.get(_KEY)


st.title("Rewrite")
info = pick_run()
scorer = load_scorer(info, "exact")

if st.query_params.get("text") and st.session_state.get("rewrite.link") != st.query_params["text"]:
    st.session_state["rewrite.text"] = st.query_params["text"][:5000]
    st.session_state["rewrite.link"] = st.query_params["text"]
text = st.text_area("Comment", key="rewrite.text", height=110, max_chars=5000,
                    placeholder="Paste a toxic comment to get a civil version…")

key = secret_key()
backends = ["gemini", "local"] if key else ["local", "gemini"]
backend = st.radio("Rewriter", backends, horizontal=True, key="rewrite.backend",
                   format_func=lambda b: "Gemini" if b == "gemini" else "Local (offline: explanation-guided edits)")
left, right = st.columns(2)
candidates = left.slider("Candidates (Gemini)", 1, 5, 3, disabled=backend != "gemini")
min_similarity = right.slider("Meaning similarity floor", 0.0, 1.0, DEFAULT_MIN_SIMILARITY, 0.05,
                              help="Cosine similarity of MiniLM sentence embeddings; lower accepts freer rewrites.")
model = DEFAULT_MODEL
if backend == "gemini":
    model = st.text_input("Gemini model", DEFAULT_MODEL)
    if not key:
        pasted = st.text_input("Gemini API key (kept in this browser session's memory only)", type="password")
        if pasted:
            st.session_state[_KEY] = pasted
            key = pasted
        else:
            st.info("No key found in GEMINI_API_KEY / GOOGLE_API_KEY or Streamlit secrets: paste one, or use Local.")

# Never disabled: a text area sends its value when it loses focus, so a button disabled on an empty value stays
# disabled while the user types and swallows the first click; an empty text is answered after the click instead
clicked = st.button("Rewrite", type="primary")
if clicked and not text.strip():
    st.warning("Paste a comment to rewrite first.")
elif clicked:
    try:
        with st.spinner("Rewriting and verifying…"):
            st.session_state["rewrite.result"] = (text, rewrite(scorer, text, backend, candidates, min_similarity,
                                                                api_key=key, model=model))
    except CoreError as exc:
        st.session_state.pop("rewrite.result", None)
        st.error(str(exc))

if "rewrite.result" in st.session_state:
    original, found = st.session_state["rewrite.result"]
    st.caption(f"Each candidate is re-scored by `{info.name}` with its saved thresholds; accepted = no label "
               f"flagged and similarity >= {min_similarity:.2f}.")
    for i, candidate in enumerate(found):
        with st.container(border=True):
            verdict = "Accepted" if candidate.accepted else "Not accepted"
            why, tip = verdict_notes(candidate, min_similarity)
            (st.success if candidate.accepted else st.warning)(
                f"{verdict} · {candidate.source} · similarity {candidate.similarity:.2f} · length "
                f"{candidate.length_ratio:.0%}" + (f" — {'; '.join(why)}" if why else ""))
            if tip:
                st.caption(tip)
            st.html(word_diff_html(original, candidate.text))
            st.code(candidate.text or "(empty)", language=None, wrap_lines=True)  # has a copy button
            if candidate.changes:
                st.caption("Edits: " + "; ".join(candidate.changes))
            before, after = st.columns(2)
            before.markdown("**Before**")
            before.plotly_chart(charts.probability_bars(candidate.before, scorer.score_thresholds),
                                key=f"rw.before.{i}")
            after.markdown("**After**")
            after.plotly_chart(charts.probability_bars(candidate.after, scorer.score_thresholds),
                               key=f"rw.after.{i}")
