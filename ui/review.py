"""The Data page's "Review labels" tab: rank likely label errors of a saved version, review them one by one (keep,
relabel, drop; keyboard shortcuts), every decision written at once to the version's review.jsonl, then save the
reviewed data as a new version and train on it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core import jobs, review_recipe, runs
from core.config import TrainConfig
from core.data.prepare import list_versions
from core.errors import CoreError
from core.explain.render import legend_html, words_html
from core.fileio import read_jsonl, to_json, write_text_atomic
from core.review.decisions import apply_decisions, read_decisions, record_decision, version_rows
from core.review.label_issues import ISSUE_TYPES, QUEUE_FILE, find_label_issues, issue_rows
from ui import cache


@st.cache_data(show_spinner=False, max_entries=8)
def _queue(path: str, mtime: float) -> list[dict]:
    return read_jsonl(Path(path))


def _rank(folder: Path, folds: int) -> None:
    bar = st.progress(0.0, text="Starting")
    dataset, ids, _ = version_rows(folder)
    issues = find_label_issues(dataset, folds=folds, progress=lambda f, m: bar.progress(min(f, 1.0), text=m))
    queue = issue_rows(issues, dataset.frame["text"].astype(str).tolist(), ids)
    write_text_atomic(folder / QUEUE_FILE, "".join(to_json(row, indent=None) + "\n" for row in queue))
    st.session_state["review.position"] = 0
    st.session_state["review.ranked"] = (f"Ranked {len(dataset.frame):,} rows in {issues.seconds:.0f} s "
                                         f"({folds}-fold TF-IDF + cleanlab): {len(queue):,} with issues.")


@st.cache_data(show_spinner=False, max_entries=8)
def _version_summary(path: str, mtime: float) -> tuple[list[str], str, int]:
    """(labels, kind, rows) of a version, read once per change of the folder."""
    dataset, _, _ = version_rows(path)
    return list(dataset.labels), dataset.kind, len(dataset.frame)


def _recipe_runs(labels: list[str], kind: str) -> list:
    """Finished runs whose task and labels match the version: their recipes can be cross-fitted on it."""
    found = []
    for info in runs.list_runs():
        if info.state != "succeeded" or not runs.can_score(info.path):
            continue
        meta = runs.read_model_meta(info.path)
        if meta.get("task") == kind and list(meta.get("labels", [])) == list(labels):
            found.append(info)
    return found


@st.fragment(run_every=2)
def _ranking_progress(folder: Path) -> None:
    """The background ranking's progress, polled; the page reruns once it ends so the new queue shows."""
    status = review_recipe.read_status(folder)
    if not status or status.get("state") != "running":
        st.rerun()  # the whole page: the new queue (or the error) shows, and this poll stops
    st.progress(min(float(status.get("fraction") or 0.0), 1.0), text=status.get("message") or "Starting")
    if st.button("Stop ranking", key="review.stop_ranking"):
        review_recipe.stop_ranking(folder)
        st.rerun()


def _ranker_controls(folder: Path, folds: int) -> None:
    """Rank with TF-IDF here (seconds), or with a run's recipe in the background (about k trainings)."""
    labels, kind, rows = _version_summary(str(folder), folder.stat().st_mtime)
    choice = st.radio("Rank with", ["TF-IDF (seconds)", "a run's recipe (slower, stronger)"], horizontal=True,
                      key="review.ranker",
                      help="Both cross-fit: every row is scored by a model that never saw it. A run's recipe trains "
                           "that run's config once per fold.")
    status = review_recipe.read_status(folder)
    running = bool(status and status.get("state") == "running")
    if choice.startswith("TF-IDF"):
        label = "Find label issues" if not (folder / QUEUE_FILE).exists() else "Rank again"
        if st.button(label, key="review.rank", disabled=running,
                     help="Out-of-fold TF-IDF probabilities (seconds for thousands of rows) ranked by cleanlab"):
            try:
                _rank(folder, folds)
            except CoreError as exc:
                st.error(str(exc))
    else:
        candidates = _recipe_runs(labels, kind)
        if not candidates:
            st.info(f"No finished run is {kind} with this version's labels; train one, or rank with TF-IDF.")
        else:
            name = st.selectbox("Run whose recipe to cross-fit", [r.name for r in candidates], key="review.recipe")
            run_dir = next(r.path for r in candidates if r.name == name)
            seconds = review_recipe.estimate_seconds(run_dir, rows, folds)
            st.caption(f"{folds} trainings of {name}'s config on {rows * (folds - 1) // folds:,} rows "
                       "each" + (f": about {max(seconds / 60, 1):.0f} min on this machine (from that run's own "
                                 "training time)." if seconds else "; that run recorded no training time.")
                       + " It runs in the background; you can leave this page.")
            if st.button("Rank with this recipe", key="review.rank_recipe", disabled=running):
                try:
                    review_recipe.check_recipe_run(run_dir, version_rows(folder)[0])
                    review_recipe.launch_ranking(folder, run_dir, folds)
                    st.session_state.pop("review.ranked", None)
                    st.rerun()  # the buttons disable and the progress shows
                except CoreError as exc:
                    st.error(str(exc))
    if running:  # poll only while a ranking runs
        _ranking_progress(folder)
    elif status and status.get("state") == "failed":
        st.error(f"The last ranking with a recipe failed: {status.get('error')}")
    elif status and status.get("state") == "stopped":
        st.caption("The last ranking with a recipe was stopped; the queue below is the one from before it.")
    elif status and status.get("state") == "succeeded" and not st.session_state.get("review.ranked"):
        st.caption(status.get("message", ""))


def _heatmap(folder: str, text: str, label: str) -> None:
    """TF-IDF contributions of each word to `label`, from a model fitted on the whole version (cached)."""
    scorer = cache.review_tfidf(folder)
    if label not in scorer.labels:
        return
    from core.explain import explain

    attribution = explain(scorer, text, "linear", label=label)
    scale = max((abs(s) for s in attribution.word_scores), default=0.0)
    st.html(words_html(attribution, scale))
    st.html(legend_html(scale))
    st.caption(f"Words coloured by their TF-IDF contribution to `{label}` (a model fitted on the whole version).")


def _decide(folder: Path, entry: dict, action: str, labels: list[str] | None = None) -> None:
    try:
        record_decision(folder, entry["id"], action, labels, st.session_state.get("review.reviewer", ""))
    except CoreError as exc:
        st.session_state["review.error"] = str(exc)
        return
    st.session_state.pop("review.error", None)
    if not st.session_state.get("review.hide", True):  # a hidden row leaves the list: the next one moves up
        st.session_state["review.position"] = st.session_state.get("review.position", 0) + 1


def _move(step: int, total: int) -> None:
    st.session_state["review.position"] = min(max(st.session_state.get("review.position", 0) + step, 0),
                                              max(total - 1, 0))


def _save_and_train(folder: Path) -> None:
    st.subheader("Save the reviewed data")
    decisions = read_decisions(folder)
    if not decisions:
        st.caption("Decisions appear here as you make them; none yet.")
        return
    counts = pd.Series([d["action"] for d in decisions.values()]).value_counts()
    st.caption("Decisions so far (in `review.jsonl`): " + ", ".join(f"{n} {a}" for a, n in counts.items()))
    with st.form("review.save"):
        name = st.text_input("New version name", value=f"{folder.name}-reviewed", key="review.name")
        if st.form_submit_button("Save as new version", type="primary"):
            try:
                target = apply_decisions(folder, name)
                st.session_state["review.saved"] = str(target)
            except CoreError as exc:
                st.error(str(exc))
    saved = st.session_state.get("review.saved")
    if not saved:
        return
    st.success(f"Saved `{Path(saved).name}` with the decisions applied (see its `changelog.json`).")
    previous = [r for r in runs.list_runs() if r.state == "succeeded" and r.config.get("model_kind") != "sbert"]
    if not previous:
        st.caption("Train on it from the Train page (pick the version as data).")
        return
    run = st.selectbox("Retrain with the config of run", [r.name for r in previous], key="review.run")
    if st.button("Train on the reviewed version", key="review.train"):
        try:
            config = TrainConfig.from_dict({**next(r for r in previous if r.name == run).config, "data": saved,
                                            "train_file": None, "val_file": None, "test_file": None,
                                            "run_name": f"{Path(saved).name}"})
            run_dir = jobs.create_run(config)
            jobs.launch(run_dir)
        except CoreError as exc:
            st.error(str(exc))
            return
        st.query_params["run"] = run_dir.name
        st.switch_page("pages/train.py")


def review_tab() -> None:
    """Everything of the Review labels tab."""
    versions = [v for v in list_versions() if v["kind"] in ("multilabel", "multiclass")]
    if not versions:
        st.info("Save a labelled dataset version (the Load and prepare tab) to review its labels.")
        return
    names = [v["name"] for v in versions]
    chosen = st.selectbox("Dataset version", names, key="review.version")
    folder = Path(next(v["path"] for v in versions if v["name"] == chosen))
    queue_path = folder / QUEUE_FILE
    folds = int(st.number_input("Folds", 2, 10, 5, key="review.folds"))
    _ranker_controls(folder, folds)
    if st.session_state.get("review.ranked"):
        st.caption(st.session_state["review.ranked"])
    if not queue_path.exists():
        st.info("Find label issues to build the review queue of this version.")
        return
    queue = _queue(str(queue_path), queue_path.stat().st_mtime)
    decisions = read_decisions(folder)
    labels = list(queue[0]["probabilities"]) if queue else []
    filters = st.columns(3)
    types = filters[0].multiselect("Issue types", ISSUE_TYPES, default=list(ISSUE_TYPES), key="review.types")
    by_label = filters[1].selectbox("Label", ["any", *labels], key="review.label")
    hide_done = filters[2].checkbox("Hide reviewed rows", value=True, key="review.hide")
    shown = [row for row in queue if set(row["types"]) & set(types)
             and (by_label == "any" or by_label in row["suspect_labels"] or by_label in row["given"])
             and not (hide_done and row["id"] in decisions)]
    st.caption(f"{len(decisions):,} of {len(queue):,} queued rows reviewed; {len(shown):,} shown with these filters.")
    st.text_input("Reviewer", key="review.reviewer", help="Stored with each decision")
    if not shown:
        st.success("Nothing left to review with these filters.")
        _save_and_train(folder)
        return
    position = min(st.session_state.get("review.position", 0), len(shown) - 1)
    st.session_state["review.position"] = position
    entry = shown[position]
    st.markdown(f"**Row `{entry['id']}`** · {position + 1} of {len(shown)} · issues: {', '.join(entry['types'])}"
                + (f" · outlier: {entry['outlier']}" if entry.get("outlier") else "")
                + (f" · conflicting duplicate group {entry['conflict_group']}" if entry.get("conflict_group")
                   is not None else ""))
    focus = (entry["suspect_labels"] or entry["given"] or labels)[0]
    _heatmap(str(folder), entry["text"], focus)
    table = pd.DataFrame({"label": labels, "given": [label in entry["given"] for label in labels],
                          "suggested": [label in entry["suggested"] for label in labels],
                          "out-of-fold p": [entry["probabilities"][label] for label in labels],
                          "p(given is right)": [entry.get("label_quality", {}).get(label) for label in labels],
                          "suspect": [label in entry["suspect_labels"] for label in labels],
                          "confident": [label in entry.get("confident_labels", []) for label in labels]})
    st.dataframe(table, hide_index=True, key="review.table",
                 column_config={"suspect": st.column_config.CheckboxColumn(help="cleanlab flags the given value"),
                                "confident": st.column_config.CheckboxColumn(
                                    help="flagged, and the given value is more likely wrong than right")})
    if entry.get("task") == "multiclass":
        new = [st.radio("New class", labels, index=labels.index(entry["suggested"][0]), horizontal=True,
                        key=f"review.new.{entry['id']}")]
    else:
        new = st.multiselect("New labels", labels, default=entry["suggested"], key=f"review.new.{entry['id']}")
    actions = st.columns(5)
    actions[0].button("Keep (k)", key="review.keep", shortcut="k", on_click=_decide, args=(folder, entry, "keep"))
    actions[1].button("Relabel (l)", key="review.relabel", shortcut="l", type="primary", on_click=_decide,
                      args=(folder, entry, "relabel", new))
    actions[2].button("Drop (d)", key="review.drop", shortcut="d", on_click=_decide, args=(folder, entry, "drop"))
    actions[3].button("Previous (p)", key="review.previous", shortcut="p", on_click=_move, args=(-1, len(shown)))
    actions[4].button("Next (n)", key="review.next", shortcut="n", on_click=_move, args=(1, len(shown)))
    st.caption("Keys: k keep · l relabel to the labels above · d drop · p / n previous / next (R and C are "
               "Streamlit's own).")
    if st.session_state.get("review.error"):
        st.error(st.session_state["review.error"])
    if entry["id"] in decisions:
        done = decisions[entry["id"]]
        st.caption(f"Decided: {done['action']} {done['new'] if done['action'] == 'relabel' else ''} "
                   f"by {done.get('reviewer') or '(unnamed)'} at {done['time']}; a new decision replaces it.")
    _save_and_train(folder)
