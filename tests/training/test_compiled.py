"""`compile: true` (issue 28): when the step is compiled, where the compiled kernels are kept, what it cost; a
compiled tiny-BERT run on CPU (slow: the compiler takes a while) that reuses its cache on a second run."""

import json

import pytest

from core import runs
from core.config import TrainConfig
from core.errors import ConfigError
from core.scoring.scorer import Scorer
from core.training.compiled import CACHE_ENV, COMPILE_MIN_STEPS, StepTimer, compile_plan, use_compile_cache
from core.training.job import run_job


def test_the_compile_turns_itself_off_for_short_runs_and_on_cpu():
    assert compile_plan(False, 10**6, "cuda") == {"used": False, "why": "not asked for (compile: false)"}
    assert compile_plan(True, 10**6, "cpu")["used"] is False
    assert "for GPUs" in compile_plan(True, 10**6, "cpu")["why"]
    short = compile_plan(True, COMPILE_MIN_STEPS - 1, "cuda")
    assert short["used"] is False and f"under {COMPILE_MIN_STEPS}" in short["why"]
    assert compile_plan(True, COMPILE_MIN_STEPS, "cuda")["used"] is True


def test_the_cache_lives_in_the_models_folder_unless_the_user_names_one(tmp_path, monkeypatch):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    folder = use_compile_cache(tmp_path / "models")
    assert folder == tmp_path / "models" / ".cache" / "torchinductor" and folder.is_dir()
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "mine"))
    assert use_compile_cache(tmp_path / "models") == tmp_path / "mine"


def test_the_step_timer_separates_the_compile_from_the_steady_step():
    timer = StepTimer()
    timer.seconds = [30.0, 2.0, 0.5, 0.1, 0.1, 0.12, 0.1]
    assert timer.summary() == {"first_steps_seconds": 32.5, "median_step_seconds": 0.1, "compile_seconds": 32.2}
    timer.seconds = [1.0, 2.0]
    assert timer.summary()["compile_seconds"] is None


def test_a_cpu_run_asked_to_compile_says_why_it_did_not(make_run, tiny_bert):
    run_dir = make_run(base_model=str(tiny_bert), compile=True, max_steps=2, eval_steps=2)
    assert run_job(run_dir) == "succeeded", (run_dir / runs.STATUS).read_text()
    found = json.loads((run_dir / runs.METRICS).read_text())["compile"]
    assert found["used"] is False and "for GPUs" in found["why"]


def test_compile_is_for_classifier_runs():
    with pytest.raises(ConfigError, match=r"compile=True is invalid: applies to classifier runs only"):
        TrainConfig.from_dict({"data": "x.csv", "model_kind": "sbert", "compile": True})


@pytest.mark.slow
def test_a_compiled_run_trains_reloads_and_a_second_run_reuses_the_cache(make_run, tiny_bert, monkeypatch,
                                                                        isolated_dirs):
    import core.training.classifier as classifier

    monkeypatch.delenv(CACHE_ENV, raising=False)
    # the GPU rule aside (none here), the same path a GPU run takes
    monkeypatch.setattr(classifier, "compile_plan", lambda wanted, steps, device: {"used": True, "why": "test"})
    import torch

    found = []
    for name in ("first", "second"):
        torch._dynamo.reset()  # nothing compiled kept in memory: the second run can only find the disk cache
        run_dir = make_run(base_model=str(tiny_bert), compile=True, max_steps=8, eval_steps=8, run_name=name)
        assert run_job(run_dir) == "succeeded", (run_dir / runs.STATUS).read_text()
        found.append(json.loads((run_dir / runs.METRICS).read_text())["compile"])
        Scorer.from_run(run_dir)  # the saved (uncompiled) model reproduces the job's predictions
    print("compile figures:", found)
    cache = isolated_dirs[0] / ".cache" / "torchinductor"
    assert found[0]["used"] and found[0]["cache"] == str(cache) and any(cache.iterdir())
    assert found[0]["compile_seconds"] > 1.0 and found[0]["median_step_seconds"] < 1.0
    assert found[1]["compile_seconds"] < found[0]["compile_seconds"] / 2, found  # the kernels came from the cache
