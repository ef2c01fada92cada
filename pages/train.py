"""Train: launch a background training job and watch it live (re-attaches after refresh via ?run=)."""

from pathlib import Path

import streamlit as st

from core import jobs, runs
from core.errors import CoreError
from ui import charts, forms
from ui.logs import log_tail
from ui.entry import require_app_entry

require_app_entry()
st.title("Train")


def launch(config) -> None:
    run_dir = jobs.create_run(config)  # checks model, data and processes before a run folder exists
    jobs.launch(run_dir)
    st.query_params["run"] = run_dir.name


def latest_step(events: list[dict], heartbeat: dict | None) -> dict | None:
    """The newest {step, max_steps, time}: the heartbeat between logging steps, else the last logged event."""
    logged = [e for e in events if e.get("max_steps")]
    last = logged[-1] if logged else None
    if heartbeat and last and last.get("event") != "end" and heartbeat["step"] > last.get("step", 0):
        return heartbeat
    return last


def eta(last: dict | None) -> str:
    if not last or not last.get("step"):
        return ""
    left = (last["max_steps"] - last["step"]) * last["time"] / max(last["step"], 1)
    return f" — about {left:.0f} s left" if left > 0 else ""


def done_message(metrics: dict) -> str:
    """One line of headline results: test ROC-AUC vs TF-IDF, and for SBERT runs base vs fine-tuned embeddings."""
    nan = float("nan")
    parts = []
    split = "test" if metrics.get("test") else "val"
    shown = metrics.get(split) or {}
    if "macro_roc_auc" in shown:
        name = "Test" if split == "test" else "Validation"
        baseline = ((metrics.get("baseline_tfidf") or {}).get(split) or {}).get("macro_roc_auc")
        versus = f" (TF-IDF baseline {baseline:.4f})" if baseline is not None else ""  # a tfidf run is its own
        parts.append(f"{name} macro ROC-AUC {shown['macro_roc_auc']:.4f}{versus}.")
    embedding = metrics.get("embedding")
    if embedding and metrics.get("main_metric_path"):
        group, name = metrics["main_metric_path"]
        base = (embedding.get("base") or {}).get(group, {}).get(name, nan)
        tuned = (embedding.get("fine_tuned") or {}).get(group, {}).get(name, nan)
        parts.append(f"{group} {name} on {embedding.get('split')}: base {base:.4f} -> fine-tuned {tuned:.4f}.")
    return "Done. " + " ".join(parts)


@st.fragment(run_every=2)
def monitor(run_dir: Path) -> None:
    status = runs.read_status(run_dir)
    events = runs.read_progress(run_dir)
    state = status.get("state", "unknown")
    st.subheader(f"`{run_dir.name}` — {state}")
    if state == "queued":
        st.info(f"Waiting for the device: {jobs.queue_position(run_dir)} job(s) ahead.")
    if state == "failed":
        st.error(f"Failed: {status.get('error')}")
    last = latest_step(events, runs.read_heartbeat(run_dir))
    if last:
        fraction = min(last.get("step", 0) / max(last["max_steps"], 1), 1.0)
        remaining = eta(last) if state == "running" else ""  # a stopped or failed run has no time left
        st.progress(fraction, text=f"step {last.get('step', 0)} / {last['max_steps']}{remaining}")
    if any(e.get("event") in ("log", "eval") for e in events):
        left, right = st.columns(2)
        left.plotly_chart(charts.loss_chart(events), key="loss")
        right.plotly_chart(charts.auc_chart(events), key="auc")
    elif runs.read_run(run_dir).model_kind == "tfidf":
        st.caption("A TF-IDF run fits in one step: it has no training curve.")
    buttons = st.columns(4)
    if state in runs.ACTIVE_STATES and buttons[0].button("Stop", key="stop"):
        jobs.stop(run_dir)
        st.toast("Stop requested: the job saves a checkpoint and ends.")
    if state in ("stopped", "failed") and buttons[1].button("Resume", key="resume"):
        try:
            jobs.launch(run_dir, resume=True)
        except CoreError as exc:
            st.error(str(exc))
    if state == "succeeded":
        st.success(done_message(runs.read_run(run_dir).metrics))
    log = run_dir / runs.LOG
    if log.exists():
        with st.expander("Log (last lines)"):
            st.code(log_tail(log.read_text(errors="replace")) or "(empty)", language=None)


try:
    config = forms.train_form()
    if config is not None:
        launch(config)
except CoreError as exc:
    st.error(str(exc))

existing = [r.name for r in runs.list_runs()]
selected = st.query_params.get("run")
if existing:
    index = existing.index(selected) if selected in existing else 0
    choice = st.selectbox("Watch run", existing, index=index)
    if choice != selected:
        st.query_params["run"] = choice
    try:
        monitor(runs.run_path(choice))
    except CoreError as exc:
        st.error(str(exc))
else:
    st.info("No runs yet: fill in the form and start one. The TF-IDF baseline trains in seconds.")
