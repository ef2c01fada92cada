"""Typed accessors for st.session_state keys, so pages never spell raw keys."""

from __future__ import annotations

import streamlit as st

from core.data import PreparedDataset

_PREPARED = "data.prepared"


def get_prepared() -> PreparedDataset | None:
    """The dataset prepared on the Data page in this session, if any."""
    return st.session_state.get(_PREPARED)


def set_prepared(prepared: PreparedDataset | None) -> None:
    st.session_state[_PREPARED] = prepared
