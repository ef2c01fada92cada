"""The only Streamlit cache wrappers. Keys are plain strings/bytes so reruns hit the cache."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.data import Dataset, RawTable, interpret, read_table
from core.data.io import DEFAULT_MAX_BYTES
from core.evaluate import load_predictions
from core.evaluation.curves import pr_points, roc_points
from core.evaluation.metrics import average_precision, roc_auc
from core.evaluation.predictions import predictions_path
from core.evaluation.thresholds import threshold_curve
from core.explain import explain
from core.models.catalog import load_tokenizer
from core.scoring.scorer import Scorer
from core.search import SearchIndex, base_model, run_model


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
    return load_tokenizer(model_name)


@st.cache_resource(show_spinner="Loading the model…", max_entries=6)
def scorer(run_dir: str, backend: str, calibrated: bool = True):
    """A run's Scorer, loaded once per (run folder, backend, calibrated) and shared by pages."""
    return Scorer.from_run(run_dir, backend=backend, calibrated=calibrated)


@st.cache_resource(show_spinner="Loading the sentence model…", max_entries=4)
def sentence_model(run_dir: str, which: str):
    """An SBERT run's fine-tuned (`which="fine_tuned"`) or base (`"base"`) SentenceTransformer, loaded once."""
    return base_model(run_dir) if which == "base" else run_model(run_dir)


@st.cache_resource(show_spinner=False, max_entries=8)
def search_index(run_dir: str, which: str, corpus_key: str, _texts: tuple, _progress=None):
    """The corpus embedded with one model, once per (run, model, corpus content)."""
    return SearchIndex.build(sentence_model(run_dir, which), list(_texts), progress=_progress)


def _stamp(path) -> float:
    from pathlib import Path

    path = Path(path)
    return path.stat().st_mtime if path.exists() else 0.0


def split_predictions(run_dir: str, split: str):
    """A run's saved predictions on a split (re-read when the file changes)."""
    return _split_predictions(run_dir, split, _stamp(predictions_path(run_dir, split)))


@st.cache_resource(show_spinner=False, max_entries=8)
def _split_predictions(run_dir: str, split: str, stamp: float):
    return load_predictions(run_dir, split, scorer_factory=lambda: scorer(run_dir, "exact"))


def predictions_key(run_name: str, source: str, predictions) -> str:
    """The cache key of one set of predictions (run, split or upload, size, checksum of the scores)."""
    return f"{run_name}:{source}:{len(predictions)}:{float(predictions.probs.sum()):.6f}"


@st.cache_resource(show_spinner=False, max_entries=16)
def threshold_curves(key: str, _predictions) -> dict:
    """Per-label threshold curves of a predictions object, built once per `key` (sliders then cost O(log n))."""
    return {label: threshold_curve(_predictions.truth[:, i], _predictions.probs[:, i])
            for i, label in enumerate(_predictions.labels)}


@st.cache_data(show_spinner=False, max_entries=16)
def ranking_metrics(key: str, _predictions) -> dict:
    """Per-label ROC-AUC, PR-AUC and support of a predictions object (threshold-free), once per `key`."""
    truth, probs = _predictions.truth, _predictions.probs
    return {label: {"roc_auc": roc_auc(truth[:, i], probs[:, i]), "pr_auc": average_precision(truth[:, i], probs[:, i]),
                    "support": int(truth[:, i].sum())} for i, label in enumerate(_predictions.labels)}


@st.cache_resource(show_spinner=False, max_entries=32)
def curve_points(key: str, label: str, _predictions) -> dict:
    """ROC and PR points of one label (thinned for plotting), once per `key`."""
    i = _predictions.labels.index(label)
    return {"roc": roc_points(_predictions.truth[:, i], _predictions.probs[:, i]),
            "pr": pr_points(_predictions.truth[:, i], _predictions.probs[:, i])}


@st.cache_data(show_spinner=False, max_entries=256)
def explanation(run_dir: str, text: str, method: str, label: str, options: tuple) -> dict:
    """One explanation, cached per (run, text, method, label, options)."""
    return explain(scorer(run_dir, "exact"), text, method, label=label, **dict(options)).to_dict()


def audit_report(run_dir: str) -> dict | None:
    """A run's saved audit report (`core.audit.saved_report`), read again only when its files change."""
    from pathlib import Path

    from core import runs

    folder = Path(run_dir)
    stamps = tuple(_stamp(folder / name) for name in (f"{runs.AUDIT}/{runs.AUDIT_REPORT}",
                                                      f"{runs.AUDIT}/{runs.AUDIT_TEMPLATES}", runs.CALIBRATION))
    return _audit_report(run_dir, stamps)


@st.cache_data(show_spinner=False, max_entries=16)
def _audit_report(run_dir: str, stamps: tuple) -> dict | None:
    from core.audit import saved_report

    return saved_report(run_dir)


@st.cache_resource(show_spinner="Fitting TF-IDF on the version…", max_entries=2)
def review_tfidf(version: str) -> Scorer:
    """A TF-IDF model of a dataset version's rows, as a Scorer, for the review queue's word heatmap."""
    from core.models.tfidf import TfidfModel
    from core.review.decisions import version_rows

    dataset = version_rows(version)[0]
    model = TfidfModel.fit(dataset.frame["text"].astype(str).tolist(), dataset.label_matrix(), dataset.kind,
                           dataset.labels)
    return Scorer(Path(version), "tfidf", dataset.kind, dataset.labels, {label: 0.5 for label in dataset.labels}, 0,
                  model)

