"""Streamlit-only helpers shared by the pages (may import streamlit and core; core never imports this)."""
