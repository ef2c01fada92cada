"""The only Streamlit cache wrappers. Keys are plain strings/bytes so reruns hit the cache."""

from __future__ import annotations

import streamlit as st

from core.data import Dataset, RawTable, interpret, read_table
from core.data.io import DEFAULT_MAX_BYTES


@st.cache_data(show_spinner=False, max_entries=8)
def raw_table(source: str | bytes, name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> RawTable:
    """Read a table from a path or upload bytes once per content."""
    return read_table(source, name=name, max_bytes=max_bytes)


def dataset(raw: RawTable, **columns) -> Dataset:
    """Interpret a cached raw table with the chosen columns (cheap; not cached, the frame is copied)."""
    copy = RawTable(raw.frame.copy(), raw.name, raw.fmt, raw.encoding, list(raw.warnings))
    return interpret(copy, **columns)


@st.cache_resource(show_spinner="Loading tokenizer…", max_entries=4)
def tokenizer(model_name: str):
    """A base model's tokenizer, loaded once per name."""
    from core.models import load_tokenizer

    return load_tokenizer(model_name)
