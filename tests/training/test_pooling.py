"""The mean-pooling classifier head: choice of head, maths, save/load, training job, scoring and explaining."""

import json

import numpy as np
import pytest
import torch

from core import runs
from core.config import TrainConfig
from core.errors import ConfigError, ModelNotAvailable
from core.scoring.scorer import Scorer
from core.models.catalog import bundled_model_path
from core.models.pooled import (MeanPoolingClassifier, load_classifier, mean_pooling_classifier, pooling_of,
                                    resolve_pooling, sentence_transformers_pooling)
from core.training.job import run_job

LABELS = {0: "toxic", 1: "insult", 2: "threat"}


def test_auto_pooling_follows_the_base_model(tiny_bert, tiny_sbert, tmp_path):
    assert resolve_pooling("auto", bundled_model_path()) == "mean"  # older sentence-transformers layout
    assert resolve_pooling("auto", tiny_sbert) == "mean"  # sentence-transformers 6 layout
    assert resolve_pooling("auto", tiny_bert) == "cls"  # a plain encoder folder
    assert resolve_pooling("auto", "microsoft/mdeberta-v3-base") == "cls"  # a Hub id: nothing to read
    assert resolve_pooling("mean", tiny_bert) == "mean" and resolve_pooling("cls", tiny_sbert) == "cls"
    (tmp_path / "modules.json").write_text(json.dumps([{"idx": 1, "name": "1", "path": "p",
                                                         "type": "sentence_transformers.models.Pooling"}]))
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    assert sentence_transformers_pooling(tmp_path) == "cls" and resolve_pooling("auto", tmp_path) == "cls"
    with pytest.raises(ConfigError, match=r"pooling='max' is invalid: use one of \('auto', 'cls', 'mean'\)"):
        resolve_pooling("max", tiny_bert)


def test_config_validates_pooling():
    assert TrainConfig(data="x.csv").pooling == "auto"
    with pytest.raises(ConfigError, match=r"pooling='first' is invalid: use one of"):
        TrainConfig(data="x.csv", pooling="first")
    with pytest.raises(ConfigError, match=r"pooling='mean' is invalid: only classifier runs take a pooling"):
        TrainConfig(data="x.csv", model_kind="sbert", pooling="mean")


@pytest.fixture
def tiny_mean_model(tiny_bert):
    torch.manual_seed(0)
    return mean_pooling_classifier(str(tiny_bert), 3, LABELS, "multi_label_classification").eval()


def _batch(tiny_bert, texts):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_bert)(texts, padding=True, return_tensors="pt")


def test_logits_are_the_linear_head_on_the_masked_mean(tiny_mean_model, tiny_bert):
    batch = _batch(tiny_bert, ["you idiot", "a much longer comment about the article and its sources"])
    with torch.no_grad():
        logits = tiny_mean_model(**batch).logits
        hidden = tiny_mean_model.encoder(**batch).last_hidden_state
        alone = tiny_mean_model(**_batch(tiny_bert, ["you idiot"])).logits
    real = batch["attention_mask"][0].bool()
    expected = tiny_mean_model.classifier(hidden[0, real].mean(0))
    torch.testing.assert_close(logits[0], expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(logits[0], alone[0], atol=1e-5, rtol=1e-5)  # padding changes nothing
    assert tiny_mean_model.encoder.pooler is None  # would be an unused parameter under DDP


def test_every_parameter_gets_a_gradient(tiny_mean_model, tiny_bert):
    """DistributedDataParallel fails on parameters that take no part in the loss."""
    tiny_mean_model.train()
    tiny_mean_model(**_batch(tiny_bert, ["you idiot", "thanks"])).logits.sum().backward()
    missing = [n for n, p in tiny_mean_model.named_parameters() if p.grad is None]
    assert missing == []


def test_save_and_load_round_trip(tiny_mean_model, tiny_bert, tmp_path):
    tiny_mean_model.save_pretrained(tmp_path / "model")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["config.json", "model.safetensors"]
    assert pooling_of(tmp_path / "model") == "mean" and pooling_of(tiny_bert) == "cls"
    loaded = load_classifier(tmp_path / "model")
    assert isinstance(loaded, MeanPoolingClassifier) and not loaded.training
    assert loaded.config.id2label == LABELS and loaded.config.problem_type == "multi_label_classification"
    batch = _batch(tiny_bert, ["you idiot", "thanks for the edit"])
    with torch.no_grad():
        torch.testing.assert_close(loaded(**batch).logits, tiny_mean_model(**batch).logits)
    (tmp_path / "model" / "model.safetensors").unlink()
    with pytest.raises(ModelNotAvailable, match=r"has no model.safetensors"):
        load_classifier(tmp_path / "model")
    with pytest.raises(ModelNotAvailable, match=r"config.json is missing"):
        load_classifier(tmp_path / "nothing")


@pytest.fixture(scope="module")
def mean_run_template(tmp_path_factory, tiny_sbert):
    """A finished classifier run on the tiny sentence-transformers model: `auto` picks mean pooling."""
    from tests.conftest import ROOT

    root = tmp_path_factory.mktemp("mean-run")
    config = TrainConfig(data=str(ROOT / "data" / "sample.csv"), base_model=str(tiny_sbert), max_steps=8,
                         batch_size=16, eval_steps=4, learning_rate=1e-3, early_stopping_patience=0,
                         precision="fp32")  # on a GPU too, so the saved predictions are fp32 like the Scorer's
    run_dir = runs.new_run_dir("tiny-mean", root)
    config.to_json(run_dir / runs.CONFIG)
    assert run_job(run_dir) == "succeeded", (run_dir / runs.STATUS).read_text()
    return run_dir


def test_job_trains_saves_and_scores_a_mean_pooling_run(mean_run_template):
    from core.evaluate import load_predictions

    run_dir = mean_run_template
    model_dir = run_dir / runs.MODEL
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in model_dir.iterdir()}
    assert not any(p.suffix in (".bin", ".pt", ".pkl") for p in model_dir.iterdir())
    assert json.loads((model_dir / "config.json").read_text())["cleanspeech_pooling"] == "mean"
    assert runs.read_model_meta(run_dir)["pooling"] == "mean"
    assert json.loads((run_dir / runs.METRICS).read_text())["pooling"] == "mean"
    assert "Head: mean pooling" in (run_dir / runs.CARD).read_text()
    scorer = Scorer.from_run(run_dir, backend="exact")
    assert isinstance(scorer.model, MeanPoolingClassifier)
    saved = load_predictions(run_dir, "val")  # written by the Trainer's own predictions at the end of training
    np.testing.assert_allclose(scorer.predict_proba(saved.texts), saved.probs, atol=1e-5)
    int8 = Scorer.from_run(run_dir, device="cpu", backend="int8")
    assert int8.predict_proba(saved.texts[:4]).shape == (4, len(scorer.labels))
    onnx = Scorer.from_run(run_dir, device="cpu", backend="onnx")  # the mean-pooling head exports too
    np.testing.assert_allclose(onnx.predict_proba(saved.texts), saved.probs, atol=1e-5)


def test_resume_continues_a_mean_pooling_run(mean_run_template, tmp_path):
    import shutil

    from core.runs import last_checkpoint

    run_dir = shutil.copytree(mean_run_template, tmp_path / "run")
    assert last_checkpoint(run_dir).name == "checkpoint-8"
    config = TrainConfig.from_json(run_dir / runs.CONFIG)
    config.max_steps = 12
    config.to_json(run_dir / runs.CONFIG)
    assert run_job(run_dir, resume=True) == "succeeded"
    assert json.loads((run_dir / runs.METRICS).read_text())["global_step"] == 12
    assert isinstance(load_classifier(run_dir / runs.MODEL), MeanPoolingClassifier)


def test_explainers_run_on_a_mean_pooling_run(mean_run_template):
    from core.explain import explain

    scorer = Scorer.from_run(mean_run_template, backend="exact")  # IG and attention need the PyTorch model
    text = "you are a stupid idiot"
    ig = explain(scorer, text, "ig", label="insult", n_steps=16)
    assert len(ig.words) == 5 and np.isfinite(ig.word_scores).all()
    attention = explain(scorer, text, "attention")
    assert attention.details["reads"] == "every token (mean-pooling head)"
    assert sum(attention.token_scores) == pytest.approx(1.0, abs=1e-4)  # mean of attention rows: still sums to 1
    assert scorer.model.config._attn_implementation != "eager"  # scoring keeps its fast kernel afterwards


def test_attention_views_read_every_row_for_a_mean_pooling_head():
    from core.explain.attention import last_layer_cls, rollout

    rng = np.random.default_rng(0)
    layers = [rng.dirichlet(np.ones(4), size=(2, 4)) for _ in range(3)]  # (heads, query, key), rows sum to 1
    np.testing.assert_allclose(last_layer_cls(layers), layers[-1].mean(0)[0])
    np.testing.assert_allclose(last_layer_cls(layers, mean_pooled=True), layers[-1].mean(0).mean(0))
    assert rollout(layers, mean_pooled=True) == pytest.approx(
        np.mean([rollout([layer[:, order][:, :, order] for layer in layers])[np.argsort(order)]
                 for order in ([0, 1, 2, 3], [1, 0, 2, 3], [2, 1, 0, 3], [3, 1, 2, 0])], axis=0))


def test_cli_takes_a_pooling_flag(capsys):
    from core.cli import main
    from core.paths import SAMPLE_MULTILABEL

    assert main(["train", "--data", str(SAMPLE_MULTILABEL), "--pooling", "first", "--max-steps", "1"]) == 2
    assert "pooling='first' is invalid: use one of ('auto', 'cls', 'mean')" in capsys.readouterr().err
