"""End-to-end training jobs with tiny models: files, thresholds, STOP, kill -9, resume, queue, DDP."""

import json
import os
import signal
import subprocess
import time

import numpy as np
import pytest

from core import jobs, runs
from core.config import TrainConfig
from core.errors import JobError
from core.scoring.scorer import Scorer
from core.paths import PROJECT_ROOT
from core.runs import last_checkpoint
from core.training.job import run_job


def wait_for(predicate, timeout=120, every=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


def steps_logged(run_dir):
    return max([e.get("step", 0) for e in runs.read_progress(run_dir)] or [0])


def test_tiny_bert_multilabel_job_writes_a_self_describing_run(make_run, tiny_bert):
    run_dir = make_run(base_model=str(tiny_bert))
    assert run_job(run_dir) == "succeeded"
    status = runs.read_status(run_dir)
    assert status["state"] == "succeeded" and status["finished_at"] >= status["started_at"]
    model_files = {p.name for p in (run_dir / runs.MODEL).iterdir()}
    assert "model.safetensors" in model_files and "tokenizer.json" in model_files
    assert not any(name.endswith((".bin", ".pkl", ".pt")) for name in model_files)
    saved_config = json.loads((run_dir / runs.MODEL / "config.json").read_text())
    assert saved_config["id2label"]["3"] == "threat" and saved_config["label2id"]["insult"] == 4
    thresholds = json.loads((run_dir / runs.THRESHOLDS).read_text())
    assert thresholds["split"] == "val" and thresholds["method"] == "max_f1" and len(thresholds["thresholds"]) == 6
    metrics = json.loads((run_dir / runs.METRICS).read_text())
    assert set(metrics["test"]["per_label"]) == set(thresholds["thresholds"])
    assert metrics["baseline_tfidf"]["test"]["macro_roc_auc"] > 0.9
    events = runs.read_progress(run_dir)
    kinds = {e["event"] for e in events}
    assert {"start", "log", "eval", "end"} <= kinds
    evals = [e for e in events if e["event"] == "eval"]
    assert "roc_auc/toxic" in evals[0] and "macro_roc_auc" in evals[0]
    assert any("grad_norm" in e and "learning_rate" in e for e in events if e["event"] == "log")
    assert "Thresholds were chosen on the **val** split" in (run_dir / runs.CARD).read_text()
    scorer = Scorer.from_run(run_dir)
    result = scorer.score(["you are an idiot", "thanks for the edit"])
    assert set(result[0].probabilities) == set(thresholds["thresholds"])


def test_predictions_follow_row_order(make_run, tiny_bert):
    """transformers 5.23 length-groups and shuffles evaluation when length grouping is on: we must not."""
    from core.training.classifier import build_classifier_trainer, predict_probs
    from core.training.data import load_training_data

    config = TrainConfig.from_json(make_run(base_model=str(tiny_bert)) / runs.CONFIG)
    data = load_training_data(config)
    trainer = build_classifier_trainer(config, data, [], "/tmp/unused-checkpoints")
    output = trainer.predict(trainer.eval_dataset)
    np.testing.assert_array_equal(output.label_ids, data.val.label_matrix())
    texts = data.val.frame["text"].tolist()
    batched = predict_probs(trainer, texts, "multilabel")
    one_by_one = np.vstack([predict_probs(trainer, [t], "multilabel") for t in texts[:12]])
    np.testing.assert_allclose(batched[:12], one_by_one, atol=1e-5)


def test_tiny_deberta_multiclass_job(make_run, tiny_deberta, write):
    rows = []
    for i in range(90):
        label = ["neither", "offensive", "hate"][i % 3]
        word = {"neither": "lovely", "offensive": "stupid", "hate": "hateful"}[label]
        rows.append(f"this {word} remark number {i} on the article,{label}")
    path = write("mc.csv", "\n".join(["text,label", *rows]) + "\n")
    run_dir = make_run(base_model=str(tiny_deberta), data=str(path), task="multiclass", class_weighting="balanced")
    assert run_job(run_dir) == "succeeded", runs.read_status(run_dir)
    metrics = json.loads((run_dir / runs.METRICS).read_text())
    assert {"accuracy", "macro_f1", "top2_accuracy"} <= set(metrics["test"])
    scorer = Scorer.from_run(run_dir)
    assert scorer.labels == ["hate", "neither", "offensive"]
    probs = scorer.predict_proba(["this stupid remark"])
    assert probs.shape == (1, 3) and probs.sum() == pytest.approx(1.0, abs=1e-5)
    assert type(scorer.tokenizer).__name__ == "DebertaV2Tokenizer"
    onnx = Scorer.from_run(run_dir, device="cpu", backend="onnx")  # DeBERTa-v2's own attention exports too
    np.testing.assert_allclose(onnx.predict_proba(["this stupid remark", "a lovely one"]),
                               scorer.predict_proba(["this stupid remark", "a lovely one"]), atol=1e-5)


def test_early_stopping_stops_before_max_steps(make_run, tiny_bert):
    run_dir = make_run(base_model=str(tiny_bert), max_steps=60, eval_steps=2, early_stopping_patience=1,
                       learning_rate=1e-12)
    assert run_job(run_dir) == "succeeded"
    metrics = json.loads((run_dir / runs.METRICS).read_text())
    assert metrics["global_step"] < 60


def test_tfidf_run_and_failed_run(make_run, write):
    run_dir = make_run(model_kind="tfidf")
    assert run_job(run_dir) == "succeeded"
    insult, friendly = Scorer.from_run(run_dir).score(["you stupid idiot", "thanks for fixing the article"])
    assert "toxic" in insult.flagged and not friendly.flagged
    assert insult.probabilities["insult"] > friendly.probabilities["insult"] + 0.3
    bad = make_run(data=str(write("bad.csv", "text,toxic\n")))
    assert run_job(bad) == "failed"
    assert "no data rows" in runs.read_status(bad)["error"]


def test_stop_then_resume_continues_from_the_checkpoint(make_run, tiny_bert):
    run_dir = make_run(base_model=str(tiny_bert), max_steps=100000, eval_steps=50, logging_steps=1)
    jobs.launch(run_dir)
    assert wait_for(lambda: steps_logged(run_dir) >= 3), (run_dir / runs.LOG).read_text()[-3000:]
    jobs.stop(run_dir)
    assert wait_for(lambda: runs.read_status(run_dir).get("state") == "stopped", 60), runs.read_status(run_dir)
    checkpoint = last_checkpoint(run_dir)
    assert checkpoint is not None and not (run_dir / runs.STOP).exists()
    stopped_at = int(checkpoint.name.split("-")[1])
    config = TrainConfig.from_json(run_dir / runs.CONFIG)
    config.max_steps = stopped_at + 4
    config.to_json(run_dir / runs.CONFIG)
    assert run_job(run_dir, resume=True) == "succeeded"
    starts = [e for e in runs.read_progress(run_dir) if e["event"] == "start"]
    logs_after = [e["step"] for e in runs.read_progress(run_dir) if e["event"] == "log"][-4:]
    assert len(starts) == 2 and min(logs_after) > stopped_at
    assert json.loads((run_dir / runs.METRICS).read_text())["global_step"] == stopped_at + 4


def test_kill_9_is_reported_as_failed_and_queue_waits(make_run, tiny_bert):
    first = make_run(base_model=str(tiny_bert), max_steps=100000, eval_steps=1000, run_name="first")
    second = make_run(model_kind="tfidf", run_name="second")
    process = jobs.launch(first)
    assert wait_for(lambda: runs.read_status(first).get("state") == "running")
    jobs.launch(second)
    time.sleep(3)
    assert runs.read_status(second)["state"] == "queued" and jobs.queue_position(second) == 1
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    status = runs.read_status(first)
    assert status["state"] == "failed" and "died without finishing" in status["error"]
    assert wait_for(lambda: runs.read_status(second).get("state") == "succeeded", 90)


def test_more_processes_than_gpus_is_refused_with_the_fix(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    assert jobs.check_processes(None) == 1 and jobs.check_processes(1) == 1
    with pytest.raises(JobError, match=r"num_processes=2, but this machine shows 1 GPU.*at most 1"):
        jobs.check_processes(2)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # no GPU: CPU processes (gloo), as many as asked
    assert jobs.check_processes(None) == 1 and jobs.check_processes(2) == 2


def run_two_processes(run_dir) -> dict:
    """Run the job under torchrun with 2 CPU processes (gloo); returns its metrics.json after checking success."""
    # CUDA_VISIBLE_DEVICES="": CPU processes even on a GPU machine (two processes on one GPU fail in NCCL)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(jobs.job_command(run_dir, False, 2), cwd=PROJECT_ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert runs.read_status(run_dir)["state"] == "succeeded"
    return json.loads((run_dir / runs.METRICS).read_text())


def test_two_process_cpu_ddp(make_run, tiny_bert):
    run_dir = make_run(base_model=str(tiny_bert), num_processes=2, max_steps=4, eval_steps=2)
    metrics = run_two_processes(run_dir)
    assert metrics["val"]["rows"] == metrics["rows"]["val"]
    evals = [e for e in runs.read_progress(run_dir) if e["event"] == "eval"]
    assert len(evals) == 2  # rank 0 only writes, one line per evaluation
