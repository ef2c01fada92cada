"""SBERT runs with a tiny sentence-transformers model: every loss family, the head, search, stop/resume."""

import copy
import json

import numpy as np
import pandas as pd
import pytest

from core import demo, jobs, runs
from core.config import TrainConfig
from core.errors import ConfigError, DataError, ModelNotAvailable
from core.scoring.scorer import Scorer
from core.paths import PROJECT_ROOT, SAMPLE_MULTILABEL, SAMPLE_PAIRS, SAMPLE_QA
from core.runs import last_checkpoint
from core.training.job import run_job
from core.training.sbert import LOSS_STATE, sample_pairs
from tests.training.test_jobs import run_two_processes, steps_logged, wait_for


@pytest.fixture(scope="session")
def extra_data(tmp_path_factory):
    """Crafted triplets and scored pairs (written here: the project ships pairs and Q&A samples only)."""
    folder = tmp_path_factory.mktemp("sbert-data")
    qa = pd.read_json(SAMPLE_QA, lines=True)
    rng = np.random.default_rng(0)
    triplets = pd.DataFrame({"anchor": qa["question"], "positive": qa["answer"],
                             "negative": qa["answer"].to_numpy()[rng.permutation(len(qa))]})
    triplets.to_json(folder / "triplets.jsonl", orient="records", lines=True)
    pairs = pd.read_json(SAMPLE_PAIRS, lines=True)
    pairs["score"] = pairs.pop("label") * 4.0 + rng.uniform(0, 1, len(pairs))  # a 0..5 scale, like STS
    pairs.to_json(folder / "scored.jsonl", orient="records", lines=True)
    return {"triplets": folder / "triplets.jsonl", "scored": folder / "scored.jsonl"}


def sbert_run(make_run, tiny_sbert, data, **overrides):
    return make_run(model_kind="sbert", base_model=str(tiny_sbert), data=str(data), **overrides)


def embeddings_of(model, texts):
    from core.models.embedding import embed

    return embed(model, texts)


# ------------------------------------------------------------------------------------------------ config & pairs
def test_config_takes_sbert_options_and_checks_the_loss_name():
    config = TrainConfig(model_kind="sbert", data="x.csv", loss="mnrl", knn_k=3)
    assert TrainConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match=r"loss='nope' is invalid: use one of \('softmax'"):
        TrainConfig(model_kind="sbert", data="x.csv", loss="nope")
    with pytest.raises(ConfigError, match="only SBERT runs take a loss name"):
        TrainConfig(model_kind="classifier", data="x.csv", loss="mnrl")
    with pytest.raises(ConfigError, match="max_pairs=1 is invalid"):
        TrainConfig(model_kind="sbert", data="x.csv", max_pairs=1)


def test_loss_must_fit_the_data(make_run, tiny_sbert):
    run_dir = sbert_run(make_run, tiny_sbert, SAMPLE_MULTILABEL, loss="cosent")
    assert run_job(run_dir) == "failed"
    assert "loss='cosent' does not fit labelled data. Fix: use one of ('softmax'" in runs.read_status(run_dir)["error"]
    run_dir = sbert_run(make_run, tiny_sbert, SAMPLE_PAIRS, loss="mnrl", mine_hard_negatives=True)
    assert run_job(run_dir) == "failed"
    assert "does not fit pairs with label data" in runs.read_status(run_dir)["error"]


def test_classifier_runs_refuse_pair_data(make_run, tiny_bert):
    run_dir = make_run(base_model=str(tiny_bert), data=str(SAMPLE_QA))
    assert run_job(run_dir) == "failed"
    assert "a qa dataset cannot train a classifier" in runs.read_status(run_dir)["error"]


def test_setfit_pair_sampling_is_capped_balanced_and_correct():
    keys = np.repeat([0, 1, 2], [500, 300, 7])
    left, right, same = sample_pairs(keys, max_pairs=50, seed=1)
    assert len(left) == len(right) == len(same) == 50 and same.sum() == 25
    assert np.all(keys[left][same == 1] == keys[right][same == 1])
    assert np.all(keys[left][same == 0] != keys[right][same == 0])
    assert not np.any((left == right) & (same == 1))  # a text is never its own positive
    left, _, _ = sample_pairs(keys, max_pairs=10**9, seed=1)
    assert len(left) == 2 * len(keys)  # without a binding cap: two pairs per text
    with pytest.raises(DataError, match="SetFit pairs need two classes"):
        sample_pairs(np.zeros(10, dtype=int), 10, 0)


# ------------------------------------------------------------------------------------------ every loss family trains
FAMILIES = [
    ("sample", "softmax", ("knn", "macro_f1")),
    ("sample", "setfit", ("knn", "macro_f1")),
    ("sample", "batch_all_triplet", ("knn", "macro_f1")),
    ("sample", "batch_hard_soft_margin_triplet", ("knn", "macro_f1")),
    ("pairs", "online_contrastive", ("pair_classification", "average_precision")),
    ("pairs", "contrastive", ("pair_classification", "best_f1")),
    ("scored", "cosent", ("pair_scores", "spearman")),
    ("scored", "cosine", ("pair_scores", "spearman")),
    ("qa", "mnrl", ("retrieval", "ndcg@10")),
    ("qa", "cached_mnrl", ("retrieval", "mrr@10")),
    ("triplets", "triplet", ("retrieval", "map@100")),
    ("triplets", "mnrl", ("retrieval", "recall@5")),
]


@pytest.mark.parametrize("data_name,loss,metric", FAMILIES, ids=[f"{d}-{loss}" for d, loss, _ in FAMILIES])
def test_each_loss_family_trains_and_reports_base_vs_fine_tuned(make_run, tiny_sbert, tiny_sbert_model, extra_data,
                                                                 data_name, loss, metric):
    from sentence_transformers import SentenceTransformer

    data = {"sample": SAMPLE_MULTILABEL, "pairs": SAMPLE_PAIRS, "qa": SAMPLE_QA, **extra_data}[data_name]
    run_dir = sbert_run(make_run, tiny_sbert, data, loss=loss, learning_rate=1e-3, max_pairs=64)
    assert run_job(run_dir, model=copy.deepcopy(tiny_sbert_model)) == "succeeded", runs.read_status(run_dir)
    metrics = json.loads((run_dir / runs.METRICS).read_text())
    assert metrics["loss"] == loss and metrics["global_step"] == 6
    group, name = metric
    for which in ("base", "fine_tuned"):
        value = metrics["embedding"][which][group][name]
        assert 0.0 <= value <= 1.0 or group == "pair_scores"
    evals = [e for e in runs.read_progress(run_dir) if e["event"] == "eval"]
    start = next(e for e in runs.read_progress(run_dir) if e["event"] == "start")
    assert evals and start["main_metric"] in evals[-1]  # the live chart's metric is logged at each evaluation
    files = {p.name for p in (run_dir / runs.MODEL).rglob("*")}
    assert "model.safetensors" in files and not any(f.endswith((".bin", ".pkl", ".pt")) for f in files)
    saved = SentenceTransformer(str(run_dir / runs.MODEL), device="cpu")  # loads as a plain SBERT model
    texts = ["how do I report abuse?", "you are an idiot"]
    assert not np.allclose(embeddings_of(saved, texts), embeddings_of(tiny_sbert_model, texts), atol=1e-4)
    assert f"Loss: `{loss}`" in (run_dir / runs.CARD).read_text()


def test_hard_negatives_are_mined_with_the_base_model(make_run, tiny_sbert, tiny_sbert_model):
    run_dir = sbert_run(make_run, tiny_sbert, SAMPLE_QA, loss="mnrl", mine_hard_negatives=True)
    assert run_job(run_dir, model=copy.deepcopy(tiny_sbert_model)) == "succeeded", runs.read_status(run_dir)
    assert "retrieval" in json.loads((run_dir / runs.METRICS).read_text())["embedding"]["fine_tuned"]


# ------------------------------------------------------------------------------------- head: the run scores text
@pytest.fixture(scope="session")
def head_run_template(tmp_path_factory, tiny_sbert):
    from core.models.embedding import load_sentence_model

    root = tmp_path_factory.mktemp("sbert-run")
    run_dir = runs.new_run_dir("tiny-sbert", root)
    TrainConfig(model_kind="sbert", base_model=str(tiny_sbert), data=str(SAMPLE_MULTILABEL), max_steps=8,
                eval_steps=4, batch_size=16, learning_rate=1e-3,
                early_stopping_patience=0).to_json(run_dir / runs.CONFIG)
    assert run_job(run_dir, model=load_sentence_model(tiny_sbert, device="cpu")) == "succeeded"
    return run_dir


@pytest.fixture
def head_run(head_run_template, isolated_dirs):
    import shutil

    return shutil.copytree(head_run_template, isolated_dirs[0] / head_run_template.name)


def test_labelled_sbert_run_has_a_head_thresholds_and_scores_like_a_classifier(head_run):
    from core.evaluate import load_predictions
    from core.explain import explain

    metrics = json.loads((head_run / runs.METRICS).read_text())
    assert metrics["model_kind"] == "sbert" and set(metrics["head"]) == {"base", "fine_tuned"}
    assert 0.5 < metrics["head"]["fine_tuned"]["macro_roc_auc"] <= 1.0
    assert metrics["test"]["macro_roc_auc"] == pytest.approx(metrics["head"]["fine_tuned"]["macro_roc_auc"])
    assert {"knn", "clustering"} <= set(metrics["embedding"]["fine_tuned"])
    thresholds = json.loads((head_run / runs.THRESHOLDS).read_text())
    assert thresholds["split"] == "val" and len(thresholds["thresholds"]) == 6
    scorer = Scorer.from_run(head_run, backend="exact")  # explained below: IG needs the PyTorch model
    saved = load_predictions(head_run, "test")
    # 1e-5 on CPU; on an H100 the training job's saved predictions and a fresh GPU scorer differed by up to 1.2e-4
    tolerance = 5e-4 if str(scorer.device).startswith("cuda") else 1e-5
    np.testing.assert_allclose(scorer.predict_proba(saved.texts), saved.probs, atol=tolerance)
    onnx = Scorer.from_run(head_run, device="cpu", backend="onnx")  # encoder + pooling + head export as one graph
    np.testing.assert_allclose(onnx.predict_proba(saved.texts), saved.probs, atol=tolerance)
    result = scorer.score(["you are a stupid idiot"])[0]
    assert set(result.probabilities) == set(thresholds["thresholds"])
    attribution = explain(scorer, "you are a stupid idiot", "ig", n_steps=64)
    assert abs(sum(attribution.token_scores) - (attribution.output - attribution.base)) < 0.01 + abs(
        attribution.details["convergence_delta"])
    card = (head_run / runs.CARD).read_text()
    assert "| knn macro_f1 |" in card and "Thresholds were chosen on the **val** split" in card
    assert runs.can_score(head_run) and runs.is_sentence_model(head_run)


def test_labelled_sbert_run_scores_in_bf16_close_to_its_saved_predictions(head_run, monkeypatch):
    from core.scoring import bf16 as bf16_backend
    from core.evaluate import load_predictions

    monkeypatch.setattr(bf16_backend, "native_bf16", lambda device: (True, ""))  # emulated on CPUs without it
    bf16 = Scorer.from_run(head_run, device="cpu", backend="bf16")  # encoder + pooling + head under autocast
    saved = load_predictions(head_run, "test")
    probs = bf16.predict_proba(saved.texts)
    assert bf16.backend == "bf16" and probs.shape == saved.probs.shape
    assert 0 < np.abs(probs - saved.probs).max() < 0.02


def test_embedding_only_run_cannot_score_but_can_search(make_run, tiny_sbert, tiny_sbert_model, isolated_dirs):
    from core.search import SearchIndex, base_model, run_model

    run_dir = sbert_run(make_run, tiny_sbert, SAMPLE_QA, learning_rate=1e-3)
    assert run_job(run_dir, model=copy.deepcopy(tiny_sbert_model)) == "succeeded"
    with pytest.raises(ModelNotAvailable, match="has no classification head"):
        Scorer.from_run(run_dir)
    assert not runs.can_score(run_dir) and runs.is_sentence_model(run_dir)
    assert run_dir not in [r.path for r in demo.usable_runs(isolated_dirs[0])]
    answers = pd.read_json(SAMPLE_QA, lines=True)["answer"].tolist()
    for loader in (run_model, base_model):
        model = loader(run_dir)
        index = SearchIndex.build(model, answers)
        hits = index.search(model, answers[3], k=3)  # a corpus text finds itself first
        assert [h.rank for h in hits] == [1, 2, 3] and hits[0].row == 3 and hits[0].score == pytest.approx(1, abs=1e-4)
        assert hits[0].score >= hits[1].score >= hits[2].score
    with pytest.raises(ConfigError, match="the query is empty"):
        index.search(model, "  ", 3)


def test_stop_then_resume_an_sbert_run_keeps_the_head_weights(make_run, tiny_sbert):
    run_dir = sbert_run(make_run, tiny_sbert, SAMPLE_MULTILABEL, max_steps=100000, eval_steps=50, logging_steps=1)
    jobs.launch(run_dir)
    assert wait_for(lambda: steps_logged(run_dir) >= 3), (run_dir / runs.LOG).read_text()[-3000:]
    jobs.stop(run_dir)
    assert wait_for(lambda: runs.read_status(run_dir).get("state") == "stopped", 60), runs.read_status(run_dir)
    checkpoint = last_checkpoint(run_dir)
    assert checkpoint is not None and (checkpoint / LOSS_STATE).exists()
    stopped_at = int(checkpoint.name.split("-")[1])
    config = TrainConfig.from_json(run_dir / runs.CONFIG)
    config.max_steps = stopped_at + 2
    config.to_json(run_dir / runs.CONFIG)
    assert run_job(run_dir, resume=True) == "succeeded"
    metrics = json.loads((run_dir / runs.METRICS).read_text())
    assert metrics["global_step"] == stopped_at + 2 and metrics["head"]["fine_tuned"]["macro_roc_auc"] > 0.5


def test_cli_train_embed_and_search(tiny_sbert, isolated_dirs, capsys):
    from core.cli import main

    assert main(["train", "--model-kind", "sbert", "--base-model", str(tiny_sbert), "--data", str(SAMPLE_QA),
                 "--max-steps", "2", "--batch-size", "8", "--run-name", "cli-sbert"]) == 0
    run_dir = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["embed", "--run", run_dir, "first text", "second text"]) == 0
    result = json.loads(capsys.readouterr().out)
    vectors = np.array(result["vectors"])
    assert vectors.shape == (2, 32) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    assert main(["search", "--run", run_dir, "--corpus", str(SAMPLE_QA), "--column", "answer", "--query",
                 "Yes, the reported user never sees who flagged the comment.", "--top-k", "2", "--compare-base"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["fine_tuned"][0]["text"] == "Yes, the reported user never sees who flagged the comment."
    assert len(result["base"]) == 2 and result["corpus_rows"] == 40
    assert main(["search", "--run", run_dir, "--corpus", str(SAMPLE_QA), "--column", "nope", "--query", "x"]) == 2
    assert "column 'nope' is not in the corpus" in capsys.readouterr().err
    assert main(["embed", "--run", str(PROJECT_ROOT / "data"), "x"]) == 2  # outside the models folder
    assert "outside" in capsys.readouterr().err


def test_sbert_head_run_on_the_score_evaluate_and_explain_pages(head_run):
    from tests.test_pages_workflow import frame_with, open_page

    at = open_page("pages/score.py", head_run.name)
    at.text_area(key="score.text").input("you are a stupid idiot")
    at.button[0].click().run()
    assert not at.exception and all(e.value.startswith("Flagged: ") for e in at.error), [e.value for e in at.error]
    assert any(c.value.startswith("Scored 1 text(s) in") and "sbert" in c.value for c in at.caption)
    at = open_page("pages/evaluate.py", head_run.name)
    assert not at.error, [e.value for e in at.error]
    assert len(frame_with(at, "label", "threshold")) == 6
    at = open_page("pages/explain.py", head_run.name)
    at.text_area(key="explain.text").input("you are a stupid idiot").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert sum("Integrated Gradients" in m.value for m in at.markdown) == 1 and len(at.get("html")) >= 8


def test_two_process_cpu_ddp_sbert(make_run, tiny_sbert):
    run_dir = sbert_run(make_run, tiny_sbert, SAMPLE_MULTILABEL, num_processes=2, max_steps=4, eval_steps=2)
    metrics = run_two_processes(run_dir)
    assert metrics["val"]["rows"] == metrics["rows"]["val"] and metrics["global_step"] == 4
    evals = [e for e in runs.read_progress(run_dir) if e["event"] == "eval"]
    assert len(evals) == 2 and all("knn_macro_f1" in e for e in evals)  # rank 0 writes, once per evaluation
