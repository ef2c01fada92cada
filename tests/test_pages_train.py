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
    done = next(s.value for s in at.success if s.value.startswith("Done. Test macro ROC-AUC"))
    assert "nan" not in done and "baseline" not in done  # a TF-IDF run is its own baseline
    assert at.subheader[0].value.endswith("succeeded")
    assert any("has no training curve" in c.value for c in at.caption) and not at.get("plotly_chart")


def test_log_tail_shows_what_a_terminal_shows():
    from ui.logs import log_tail

    log = "loading\n  0%|   | 0/8\r 50%|##  | 4/8\r100%|####| 8/8\n\x1b[32mdone\x1b[0m\n\n"
    assert log_tail(log) == "loading\n100%|####| 8/8\ndone"  # the last drawing of a bar; no colour codes
    assert log_tail("a\nb\nc", lines=2) == "b\nc"
    assert log_tail("x\n 10%|#\r 90%|#########\r\n") == "x\n 90%|#########"
