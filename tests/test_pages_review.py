"""AppTest of the Data page's Review labels tab (issue 25): rank, decide, refresh, save a version, retrain."""

from __future__ import annotations

import json
import time

import numpy as np
from streamlit.testing.v1 import AppTest

from core import runs
from core.data import load_dataset
from core.data.prepare import PrepareOptions, SplitOptions, prepare_dataset, save_version
from core.paths import PROJECT_ROOT, SAMPLE_MULTILABEL
from core.review.decisions import REVIEW_FILE


def data_page() -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def noisy_version(name: str = "noisy-v1", root=None):
    dataset = load_dataset(str(SAMPLE_MULTILABEL))
    frame = dataset.frame.copy()
    rng = np.random.default_rng(0)
    frame.loc[rng.choice(np.flatnonzero(frame["toxic"] == 1), 12, replace=False), "toxic"] = 0
    prepared = prepare_dataset(dataset.with_frame(frame), PrepareOptions(split=SplitOptions(0.7, 0.15, 0.15, 42)))
    return save_version(prepared, name, root=root)


def test_review_tab_empty_state(isolated_dirs):
    at = data_page()
    assert any("Save a labelled dataset version" in i.value for i in at.info)


def test_review_queue_decisions_survive_a_refresh_and_become_a_new_version_and_a_run(isolated_dirs, tfidf_run):
    version = noisy_version()
    at = data_page()
    assert at.selectbox(key="review.version").value == "noisy-v1"
    button(at, "Find label issues").click().run()
    assert not at.exception and not at.error
    assert any(c.value.startswith("Ranked ") and "with issues" in c.value for c in at.caption)
    status = next(c.value for c in at.caption if "queued rows reviewed" in c.value)
    assert status.startswith("0 of ")
    shown = next(m.value for m in at.markdown if m.value.startswith("**Row `"))
    row_id = shown.split("`")[1]
    suggested = at.multiselect(key=f"review.new.{row_id}").value
    button(at, "Relabel (l)").click().run()
    assert not at.exception
    lines = (version / REVIEW_FILE).read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["id"] == row_id
    assert json.loads(lines[0])["action"] == "relabel" and json.loads(lines[0])["new"] == suggested
    assert any(c.value.startswith("1 of ") for c in at.caption)
    button(at, "Drop (d)").click().run()

    at = data_page()  # a refresh: a new session reads the decisions back from the version's folder
    assert any(c.value.startswith("2 of ") and "queued rows reviewed" in c.value for c in at.caption)
    assert not any(m.value.startswith(f"**Row `{row_id}`") for m in at.markdown)  # reviewed rows are hidden
    at.text_input(key="review.name").set_value("noisy reviewed")
    button(at, "Save as new version").click().run()
    assert any("Saved `noisy-reviewed`" in s.value for s in at.success)
    changelog = json.loads((isolated_dirs[1] / "noisy-reviewed" / "changelog.json").read_text())
    assert changelog["actions"] == {"relabel": 1, "drop": 1}

    at.selectbox(key="review.run").set_value(tfidf_run.name).run()
    button(at, "Train on the reviewed version").click().run()
    assert not at.exception
    started = [r for r in runs.list_runs() if r.name != tfidf_run.name]
    assert len(started) == 1 and started[0].config["data"].endswith("noisy-reviewed")
    assert started[0].config["model_kind"] == "tfidf"
    deadline = time.time() + 120
    while runs.read_status(started[0].path).get("state") not in ("succeeded", "failed") and time.time() < deadline:
        time.sleep(1)
    assert runs.read_status(started[0].path)["state"] == "succeeded"
    card = (started[0].path / runs.CARD).read_text()
    assert "Label-reviewed version of `noisy-v1`" in card and "1 drop, 1 relabel" in card


def test_ranking_with_a_runs_recipe_runs_in_the_background_and_its_queue_appears(isolated_dirs, tfidf_run):
    from core import review_recipe
    from core.review.label_issues import QUEUE_FILE

    version = noisy_version()
    at = data_page()
    at.radio(key="review.ranker").set_value("a run's recipe (slower, stronger)").run()
    assert at.selectbox(key="review.recipe").value == tfidf_run.name
    assert any(c.value.startswith("5 trainings of ") and "about 1 min" in c.value for c in at.caption)
    at.number_input(key="review.folds").set_value(2).run()
    button(at, "Rank with this recipe").click().run()
    assert not at.exception and not at.error
    deadline = time.time() + 180
    while (review_recipe.read_status(version) or {}).get("state") == "running" and time.time() < deadline:
        time.sleep(1)
    status = review_recipe.read_status(version)
    assert status["state"] == "succeeded", (version / "ranking.log").read_text()[-2000:]
    at.run()
    assert not at.exception and (version / QUEUE_FILE).exists()
    assert any(c.value.startswith("Ranked ") and f"with the recipe of {tfidf_run.name}" in c.value for c in at.caption)
    assert any(m.value.startswith("**Row `") for m in at.markdown)


def test_the_recipe_option_says_when_no_run_fits(isolated_dirs):
    noisy_version()
    at = data_page()
    at.radio(key="review.ranker").set_value("a run's recipe (slower, stronger)").run()
    assert any("No finished run is multilabel with this version's labels" in i.value for i in at.info)
