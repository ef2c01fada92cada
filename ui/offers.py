"""The offer made where a run loses to its TF-IDF baseline: train it again blended with the TF-IDF model."""

from __future__ import annotations

import dataclasses

import streamlit as st

from core import jobs, runs
from core.config import TrainConfig
from core.errors import CoreError


def blend_config(info: runs.RunInfo) -> TrainConfig | None:
    """The run's own recipe with `ensemble: tfidf` (None when the run cannot take it: a TF-IDF or SBERT run, one
    that already tried the blend, or a run without a readable config)."""
    try:
        config = TrainConfig.from_json(info.path / runs.CONFIG)
    except CoreError:
        return None
    task = info.metrics.get("task") or config.task or "multilabel"
    if config.model_kind != "classifier" or config.resolved_ensemble(task) != "none":
        return None
    return dataclasses.replace(config, ensemble="tfidf", run_name=f"{config.run_name or info.name}-tfidf-blend")


def offer_ensemble(info: runs.RunInfo, key: str) -> None:
    """A button that queues the run's recipe again with the TF-IDF blend (a background job, like the Train page);
    nothing when the run cannot take the option."""
    config = blend_config(info)
    if config is None:
        return
    if st.button("Train it again blended with TF-IDF", key=key, icon=":material/join:",
                 help="The same recipe with `ensemble: tfidf`: the fine-tuned model and a TF-IDF model fitted on the "
                      "same training split, blended with a weight chosen on validation (0 when the blend does not "
                      "help there). A new run; this one stays as it is."):
        try:
            run_dir = jobs.create_run(config)
            jobs.launch(run_dir)
        except CoreError as error:
            st.error(str(error))
            return
        st.success(f"Started run `{run_dir.name}`: follow it on the Train page.")
