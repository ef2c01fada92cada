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


def test_soft_labels_on_data_without_annotator_counts_are_refused_on_the_page(isolated_dirs):
    at = open_train()
    at.radio[0].set_value("tfidf")
    at.number_input(key="train.soft_labels").set_value(1.0)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception
    assert any("only transformer classifier runs train on soft labels" in e.value for e in at.error)
    at.radio[0].set_value("classifier")
    next(b for b in at.button if b.label == "Start training").click().run()
    assert any("soft_labels=1.0 needs multiclass data" in e.value for e in at.error), [e.value for e in at.error]
    assert not [p for p in isolated_dirs[0].iterdir() if (p / runs.CONFIG).exists()]  # nothing was started


def test_log_tail_shows_what_a_terminal_shows():
    from ui.logs import log_tail

    log = "loading\n  0%|   | 0/8\r 50%|##  | 4/8\r100%|####| 8/8\n\x1b[32mdone\x1b[0m\n\n"
    assert log_tail(log) == "loading\n100%|####| 8/8\ndone"  # the last drawing of a bar; no colour codes
    assert log_tail("a\nb\nc", lines=2) == "b\nc"
    assert log_tail("x\n 10%|#\r 90%|#########\r\n") == "x\n 90%|#########"


def test_the_progress_bar_follows_the_heartbeat_between_logging_steps(isolated_dirs, make_run):
    from core.fileio import append_jsonl, write_json

    run_dir = make_run(run_name="beating")
    runs.write_status(run_dir, "running", pid=None)
    append_jsonl(run_dir / runs.PROGRESS, {"event": "start", "step": 0, "max_steps": 40, "time": 0.0})
    append_jsonl(run_dir / runs.PROGRESS, {"event": "log", "step": 10, "max_steps": 40, "time": 10.0, "loss": 0.6})
    write_json(run_dir / runs.HEARTBEAT, {"step": 17, "max_steps": 40, "time": 17.0})
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=90).run()
    at.query_params["run"] = run_dir.name
    at.switch_page("pages/train.py").run()
    bar = next(p for p in at.get("progress"))
    assert bar.proto.text == "step 17 / 40 — about 23 s left" and abs(bar.proto.value - 42) <= 1
    # once the run has ended, the logged end wins over a stale heartbeat
    append_jsonl(run_dir / runs.PROGRESS, {"event": "end", "step": 40, "max_steps": 40, "time": 40.0})
    runs.write_status(run_dir, "succeeded")
    at.run()
    assert next(p for p in at.get("progress")).proto.text == "step 40 / 40"


def test_the_progress_callback_writes_a_heartbeat_at_most_once_a_second(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from core.training.callbacks import ProgressCallback

    clock = [1000.0]
    monkeypatch.setattr("core.training.callbacks.time.time", lambda: clock[0])
    callback = ProgressCallback(tmp_path)
    state = SimpleNamespace(is_world_process_zero=True, global_step=3, max_steps=20)
    callback.on_step_end(None, state, None)
    assert runs.read_heartbeat(tmp_path) == {"step": 3, "max_steps": 20, "time": 0.0}
    state.global_step, clock[0] = 4, 1000.4
    callback.on_step_end(None, state, None)  # under a second later: not rewritten
    assert runs.read_heartbeat(tmp_path)["step"] == 3
    state.global_step, clock[0] = 5, 1001.1
    callback.on_step_end(None, state, None)
    assert runs.read_heartbeat(tmp_path) == {"step": 5, "max_steps": 20, "time": 1.1}
    (tmp_path / runs.HEARTBEAT).write_text("{torn")
    assert runs.read_heartbeat(tmp_path) is None  # a torn file is no error, just no hint


def test_gpu_speed_options_reach_the_run_and_are_refused_for_tfidf(isolated_dirs, tiny_bert, monkeypatch):
    import json

    from core import jobs

    launched = []  # the job itself is tested in tests/training: here, what the form writes into config.json
    monkeypatch.setattr(jobs, "launch", lambda run_dir, resume=False: launched.append(run_dir))
    at = open_train()
    at.radio[0].set_value("tfidf")
    at.number_input(key="train.batch_tokens").set_value(512)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert any("batch_tokens=512 is invalid: applies to classifier runs only" in e.value for e in at.error)
    assert not launched
    at.radio[0].set_value("classifier")
    at.selectbox[0].set_value(next(o for o in at.selectbox[0].options if o.startswith("Other")))
    at.text_input[0].input(str(tiny_bert))
    at.number_input(key="train.pad_multiple").set_value(16)
    at.checkbox(key="train.compile").check()
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(launched) == 1
    config = json.loads((launched[0] / runs.CONFIG).read_text())
    assert (config["batch_tokens"], config["pad_multiple"], config["attention"], config["compile"]) == (
        512, 16, "auto", True)
