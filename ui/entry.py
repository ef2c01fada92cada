"""Make every page run through app.py, even when Streamlit starts it in its legacy "pages/ folder" mode.

Streamlit treats an app with a `pages/` folder in the old way until the entry script has called
`st.navigation` once in the process: a first request to e.g. /score after a server start runs
pages/score.py on its own (no page config, file names as navigation). A page that finds itself in
that mode switches it off and runs app.py in its place, in the same script run (so nothing the user
clicked is lost); app.py's navigation then runs this page, and the outer run stops.
"""

from __future__ import annotations

import runpy

import streamlit as st

from core.paths import PROJECT_ROOT


def require_app_entry() -> None:
    """Call first in every page."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the legacy mode: nothing to do
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        runpy.run_path(str(PROJECT_ROOT / "app.py"), run_name="__main__")
        st.stop()
