"""Make every page run through app.py, even when the first request after a server start is a deep link.

Streamlit still honours its old "pages/ folder" mode until the entry script has called `st.navigation`
once in the process: a first visit to e.g. /score would run pages/score.py on its own (no page config,
file names as navigation). A page that finds itself in that mode switches it off and reruns, so app.py
runs and resolves the same URL through our navigation.
"""

from __future__ import annotations

import streamlit as st


def require_app_entry() -> None:
    """Call first in every page."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the legacy mode: nothing to do
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()
