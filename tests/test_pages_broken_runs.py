"""Pages with a damaged run folder in the models folder: they list it as broken and never crash or load it."""

from __future__ import annotations

import pytest

from core import runs
from tests.test_pages_workflow import frame_with, open_page

PAGES = ["pages/home.py", "pages/runs.py", "pages/score.py", "pages/train.py", "pages/evaluate.py"]


@pytest.mark.parametrize("name,content", [(runs.STATUS, "[1, 2]"), (runs.CONFIG, "null")])
def test_pages_survive_a_run_whose_json_has_the_wrong_shape(tfidf_run, make_run, name, content):
    from core.training.job import run_job

    good = make_run(model_kind="tfidf", run_name="good")
    assert run_job(good) == "succeeded"
    (tfidf_run / name).write_text(content)
    for page in PAGES:
        at = open_page(page)  # asserts no exception
        if page == "pages/runs.py":
            table = frame_with(at, "run", "state")
            assert dict(zip(table["run"], table["state"]))[tfidf_run.name] == "broken"
        if page == "pages/score.py":
            # the run's own name first, its folder's timestamp short at the end: the narrow sidebar shows the name
            stamp = good.name[4:6] + "-" + good.name[6:8] + " " + good.name[9:11] + ":" + good.name[11:13]
            assert at.sidebar.selectbox[0].options == [f"good · tfidf · {stamp}"]
