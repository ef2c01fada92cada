"""Training code. Runs inside a job process (`python -m core.training.job RUN_DIR`), never in a page."""
