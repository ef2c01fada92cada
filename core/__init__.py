"""CleanSpeech Studio core: data, training, evaluation, inference, explanation and rewriting.

This package never imports streamlit; the web app in `app.py`/`pages/` is a thin layer over it and
everything is also reachable headless through `python -m core ...`.
"""

__version__ = "0.1.0"
