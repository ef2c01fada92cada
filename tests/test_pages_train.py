"""AppTest of the Train page: launch a tiny job from the form and see its progress."""

import time

from streamlit.testing.v1 import AppTest

from core import runs
from core.paths import PROJECT_ROOT


def open_train() -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=90).run()
    at.switch_page("pages/train.py").run()
    return at


def test_train_page_empty_state():
    at = open_train()
    assert not at.exception
    assert any("No runs yet" in i.value for i in at.info)


def test_train_page_launches_a_job_and_shows_progress(isolated_dirs):
    at = open_train()
    at.radio[0].set_value("tfidf")
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    run_dirs = [p for p in isolated_dirs[0].iterdir() if (p / runs.CONFIG).exists()]
    assert len(run_dirs) == 1 and at.query_params["run"] == run_dirs[0].name
    deadline = time.time() + 90
    while runs.read_status(run_dirs[0]).get("state") != "succeeded" and time.time() < deadline:
        time.sleep(0.5)
    at.run()
    assert any(s.value.startswith("Done. Test macro ROC-AUC") for s in at.success)
    assert at.subheader[0].value.endswith("succeeded")


def test_trust_options_reach_the_run_config(isolated_dirs):
    at = open_train()
    at.radio[0].set_value("tfidf")
    at.selectbox(key="train.normalize").set_value("unicode")
    at.checkbox(key="train.identity_augmentation").check()
    at.selectbox(key="train.calibration").set_value("temperature")
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    run_dir = next(p for p in isolated_dirs[0].iterdir() if (p / runs.CONFIG).exists())
    config = runs.read_run(run_dir).config
    assert (config["normalize"], config["identity_augmentation"], config["calibration"]) == \
        ("unicode", True, "temperature")


def test_unavailable_hub_model_is_a_clear_error_and_no_run_folder(isolated_dirs):
    at = open_train()
    at.selectbox[0].set_value(next(o for o in at.selectbox[0].options if o.startswith("mdeberta")))
    next(b for b in at.button if b.label == "Start training").click().run()
    assert any("cannot be downloaded" in e.value for e in at.error)
    assert not any(isolated_dirs[0].glob("*/config.json"))
