"""The shared run picker (sidebar): which saved model Score, Evaluate, Explain and Rewrite use.

The choice follows the user across pages (session state) and survives a refresh (`?run=` in the URL).
With no model at all, the first visit trains the TF-IDF demo on the bundled sample (seconds).
"""

from __future__ import annotations

import streamlit as st

from core import demo, runs
from core.errors import CoreError
from ui import cache

_KEY = "run.selected"


def _label(info: runs.RunInfo) -> str:
    """The run's own name first (the folder's timestamp prefix moved to the end, short), so that the part a
    person chose is what the narrow sidebar shows: `jigsaw-base · classifier · 12-02 05:41`."""
    name, stamp = info.name, ""
    parts = name.split("-", 2)
    if len(parts) == 3 and len(parts[0]) == 8 and parts[0].isdigit() and len(parts[1]) == 6 and parts[1].isdigit():
        name, stamp = parts[2], f" · {parts[0][4:6]}-{parts[0][6:]} {parts[1][:2]}:{parts[1][2:4]}"
    extra = " · demo" if demo.is_demo(info) else ""
    return f"{name} · {info.model_kind}{extra}{stamp}"


def offer_demo(kind: str, label: str) -> None:
    """A button that launches the `core.demo` run of this kind, then links to it on the Train page."""
    if st.button(label, key=f"demo.{kind}"):
        try:
            run_dir = demo.start_demo(kind)
        except CoreError as exc:
            st.error(str(exc))
        else:
            st.page_link("pages/train.py", label=f"Watch `{run_dir.name}` on the Train page",
                         query_params={"run": run_dir.name}, icon=":material/model_training:")


def pick_run() -> runs.RunInfo:
    """Sidebar selectbox over runs with a saved model; trains the demo model on first launch.

    When no model can be had, it shows why and stops the page.
    """
    usable = demo.usable_runs()
    if not usable:
        try:
            with st.spinner("No model yet: training the TF-IDF demo model on the bundled sample (a few seconds)…"):
                demo.ensure_demo_model()
        except CoreError as exc:
            st.error(str(exc))
            st.stop()
        usable = demo.usable_runs()
    names = [r.name for r in usable]
    wanted = st.query_params.get("run") or st.session_state.get(_KEY)
    index = names.index(wanted) if wanted in names else 0
    choice = st.sidebar.selectbox("Model (run)", names, index=index, format_func=lambda n: _label(usable[names.index(n)]),
                                  help="Runs with a saved model, newest first. Train more on the Train page.")
    st.session_state[_KEY] = choice
    if st.query_params.get("run") != choice:
        st.query_params["run"] = choice
    info = usable[names.index(choice)]
    if demo.is_demo(info):
        st.sidebar.info("This is a **demo model** trained on the small bundled sample: fine for trying the tool, "
                        "not for moderation. Train your own on the Train page.")
    return info


def load_scorer(info: runs.RunInfo, backend: str = "exact", calibrated: bool = True):
    """The run's cached Scorer with the latest saved thresholds; shows the error and stops the page if it fails."""
    try:
        scorer = cache.scorer(str(info.path), backend, calibrated)
        scorer.reload_thresholds()  # thresholds saved on the Evaluate page apply at once
    except CoreError as exc:
        st.error(str(exc))
        st.stop()
    return scorer
