"""The Scorer: row order, backends (auto/exact/onnx/int8), saved backend, thresholds, truncation; batch scoring."""

import json

import numpy as np
import pandas as pd
import pytest

from core import runs
from core.scoring.batch import neutralise_formula, score_file
from core.errors import ConfigError, DataError, ModelNotAvailable
from core.evaluate import load_predictions
from core.scoring.scorer import Scorer, save_backend, saved_backend

TEXTS = ["you are an idiot", "thanks for the help with the article, much appreciated", "ok",
         "I will find you and hurt you, you worthless piece of garbage " * 3]


def test_scores_follow_input_order_whatever_the_length_sorting(bert_run):
    scorer = Scorer.from_run(bert_run, device="cpu")
    together = scorer.predict_proba(TEXTS, batch_size=2)
    one_by_one = np.vstack([scorer.predict_proba([t]) for t in TEXTS])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)


def test_scorer_reproduces_the_saved_validation_predictions(bert_run):
    saved = load_predictions(bert_run, "val")
    again = Scorer.from_run(bert_run, device="cpu").predict_proba(saved.texts)
    np.testing.assert_allclose(again, saved.probs, atol=1e-4)


def test_int8_backend_is_close_to_exact_and_can_be_saved_as_the_run_default(bert_run):
    exact = Scorer.from_run(bert_run, device="cpu", backend="exact").predict_proba(TEXTS)
    assert saved_backend(bert_run) == "auto"
    save_backend(bert_run, "int8")
    fast = Scorer.from_run(bert_run, device="cpu")
    assert fast.backend == "int8" and "DynamicQuantizedLinear" in repr(fast.model)
    assert np.abs(fast.predict_proba(TEXTS) - exact).max() < 0.05
    with pytest.raises(ConfigError, match="backend='fp16' is not known"):
        save_backend(bert_run, "fp16")


def test_onnx_backend_gives_the_exact_probabilities_and_can_be_saved(bert_run):
    exact = Scorer.from_run(bert_run, device="cpu", backend="exact").predict_proba(TEXTS)
    save_backend(bert_run, "onnx")
    fast = Scorer.from_run(bert_run, device="cpu")
    assert fast.backend == "onnx" and type(fast.model).__name__ == "OnnxClassifier"
    np.testing.assert_allclose(fast.predict_proba(TEXTS), exact, atol=1e-5)
    assert not any(p.suffix == ".onnx" for p in bert_run.rglob("*"))  # exported in memory, never saved


@pytest.mark.parametrize("backend, budget", [("exact", 2048), ("onnx", 1024)])
def test_batches_stay_within_the_backends_token_budget(bert_run, backend, budget):
    scorer = Scorer.from_run(bert_run, device="cpu", backend=backend)
    assert scorer.default_batch_tokens() == budget
    shapes, model = [], scorer.model

    def recording(input_ids, attention_mask):
        shapes.append(tuple(input_ids.shape))
        return model(input_ids=input_ids, attention_mask=attention_mask)

    scorer.model = recording
    texts = [f"comment number {i} " + "word " * (i % 40) for i in range(300)]
    scorer.predict_proba(texts, batch_size=128)
    assert sum(rows for rows, _ in shapes) == len(texts)
    assert max(rows * width for rows, width in shapes) <= budget
    assert max(rows * width for rows, width in shapes) > budget // 2  # batches fill the budget, not tiny ones


def test_auto_backend_is_onnx_on_cpu_with_exact_probabilities(bert_run):
    exact = Scorer.from_run(bert_run, device="cpu", backend="exact")
    auto = Scorer.from_run(bert_run, device="cpu")  # no inference.json: the default
    assert (auto.backend, type(auto.model).__name__) == ("onnx", "OnnxClassifier")
    assert auto.backend_note.startswith("auto: onnx") and exact.backend_note == ""
    np.testing.assert_allclose(auto.predict_proba(TEXTS), exact.predict_proba(TEXTS), atol=1e-5)


def test_auto_backend_falls_back_to_exact_and_says_why(bert_run, monkeypatch):
    import sys

    from core.scoring.scorer import _auto_backend

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if it were not installed
    scorer = Scorer.from_run(bert_run, device="cpu", backend="auto")
    assert scorer.backend == "exact" and type(scorer.model).__name__ != "OnnxClassifier"
    assert "exact, because onnx is unavailable: backend='onnx' needs ONNX Runtime" in scorer.backend_note
    exact = Scorer.from_run(bert_run, device="cpu", backend="exact")
    np.testing.assert_allclose(scorer.predict_proba(TEXTS), exact.predict_proba(TEXTS), atol=1e-6)
    backend, model, note = _auto_backend(exact.model, exact.tokenizer, "cuda")  # a GPU: never onnx
    assert (backend, model, note) == ("exact", exact.model, "auto: exact on cuda (onnx runs on CPU only)")


def test_cpu_only_backends_refuse_a_gpu_device(bert_run):
    with pytest.raises(ConfigError, match="backend='onnx' runs on CPU only, not 'cuda'"):
        Scorer.from_run(bert_run, device="cuda", backend="onnx")


def test_cpu_only_backends_pick_the_cpu_where_a_gpu_is_visible(bert_run, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # as on a GPU machine; nothing touches the GPU
    for backend in ("onnx", "int8"):
        scorer = Scorer.from_run(bert_run, backend=backend)  # no device given, as the CLI and pages call it
        assert (scorer.backend, scorer.device) == (backend, "cpu")
        assert scorer.predict_proba(TEXTS).shape == (len(TEXTS), len(scorer.labels))


def test_onnx_backend_explains_a_missing_runtime(bert_run, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if it were not installed
    with pytest.raises(ConfigError, match="needs ONNX Runtime .*pip install onnxruntime onnx"):
        Scorer.from_run(bert_run, device="cpu", backend="onnx")


def test_onnx_backend_refuses_a_graph_that_disagrees_with_pytorch(bert_run, monkeypatch):
    from core.scoring import onnx as onnx_backend

    monkeypatch.setattr(onnx_backend, "MAX_LOGIT_DIFF", -1.0)  # no graph can pass: the check must run
    with pytest.raises(ConfigError, match="logits differ from PyTorch's by .* Fix: use backend 'exact'"):
        Scorer.from_run(bert_run, device="cpu", backend="onnx")


def test_thresholds_decide_flags_and_reload(bert_run):
    scorer = Scorer.from_run(bert_run, device="cpu")
    probs = scorer.predict_proba(TEXTS[:1])[0]
    label = scorer.labels[0]
    payload = json.loads((bert_run / runs.THRESHOLDS).read_text())
    payload["thresholds"][label] = float(probs[0]) + 0.01
    (bert_run / runs.THRESHOLDS).write_text(json.dumps(payload))
    scorer.reload_thresholds()
    assert label not in scorer.score(TEXTS[:1])[0].flagged
    payload["thresholds"][label] = float(probs[0]) - 0.01
    (bert_run / runs.THRESHOLDS).write_text(json.dumps(payload))
    scorer.reload_thresholds()
    assert label in scorer.score(TEXTS[:1])[0].flagged


def test_truncation_is_reported(bert_run):
    scorer = Scorer.from_run(bert_run, device="cpu")
    long, short = scorer.score(["word " * (scorer.max_length + 20), "short"])
    assert long.truncated and long.tokens > scorer.max_length
    assert not short.truncated


def test_run_without_model_is_a_clear_error(make_run):
    with pytest.raises(ModelNotAvailable, match="has no saved model"):
        Scorer.from_run(make_run())


@pytest.mark.parametrize("value, expected", [("=1+1", "'=1+1"), ("+33 6", "'+33 6"), ("-2", "'-2"),
                                             ("@SUM(A1)", "'@SUM(A1)"), ("\t=x", "'\t=x"), ("fine", "fine"),
                                             (3, 3), (-2.5, -2.5)])
def test_formula_cells_are_neutralised(value, expected):
    assert neutralise_formula(value) == expected


def test_score_file_in_chunks_keeps_rows_and_neutralises_formulas(tfidf_run, write, tmp_path):
    texts = ["=HYPERLINK(\"http://x\")", "you idiot", "@cmd", "have a nice day"] * 13
    source = write("in.csv", pd.DataFrame({"id": range(len(texts)), "comment": texts}).to_csv(index=False))
    seen = []
    scorer = Scorer.from_run(tfidf_run)
    result = score_file(scorer, source, "in.csv", "comment", tmp_path / "out.csv", chunk_rows=10,
                        progress=lambda done, total: seen.append((done, total)))
    out = pd.read_csv(tmp_path / "out.csv", dtype={"comment": str}, keep_default_na=False)
    assert result.rows == len(texts) == len(out) and seen[-1] == (52, 52) and len(seen) == 6
    assert out["id"].tolist() == list(range(len(texts)))
    assert out["comment"][0] == "'=HYPERLINK(\"http://x\")" and out["comment"][2] == "'@cmd"
    np.testing.assert_allclose(out[[f"p_{label}" for label in scorer.labels]].to_numpy(),
                               scorer.predict_proba(texts, calibrated=True), atol=1e-6)
    assert result.flagged_rows == int((out["flagged"] != "").sum())


def test_score_file_jsonl_and_errors(tfidf_run, write, tmp_path):
    scorer = Scorer.from_run(tfidf_run)
    source = write("in.jsonl", "\n".join(json.dumps({"text": t}) for t in ["a", "you idiot"]) + "\n")
    result = score_file(scorer, source, "in.jsonl", "text", tmp_path / "out.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert result.rows == 2 and set(rows[1]) >= {"text", "flagged", "truncated", f"p_{scorer.labels[0]}"}
    with pytest.raises(DataError, match="no column 'body'"):
        score_file(scorer, source, "in.jsonl", "body", tmp_path / "x.csv")
    with pytest.raises(DataError, match="over the 0 MB limit"):
        score_file(scorer, source, "in.jsonl", "text", tmp_path / "x.csv", max_bytes=10)
