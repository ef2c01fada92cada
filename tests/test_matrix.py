"""The model-kind x task matrix: every kind a user can train, on both tasks, reloaded in a fresh process.

Each cell trains a tiny run in this process; one subprocess (tests/matrix_worker.py) then loads every run as a
user would (`Scorer.from_run` with every backend that loads for it, `evaluate` on the run's own test rows, one
explanation, one local rewrite) and the tests below compare with what the job saved. A new model kind or
backend adds a row here, not a test file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import ROOT

# kind -> config overrides; "{bert}"/"{deberta}"/"{sbert}" name the session's tiny models
KINDS = {
    # the plain path, without the trust defaults (normalisation, identity sentences)
    "classifier-cls": {"model_kind": "classifier", "base_model": "{bert}", "pooling": "cls", "normalize": "none",
                       "identity_augmentation": False},
    "classifier-mean": {"model_kind": "classifier", "base_model": "{bert}", "pooling": "mean"},
    "deberta-v2": {"model_kind": "classifier", "base_model": "{deberta}"},
    "tfidf": {"model_kind": "tfidf", "calibration": "isotonic", "normalize": "unicode"},
    "sbert-head": {"model_kind": "sbert", "base_model": "{sbert}"},
    # the trust options on a transformer: normalisation in training and scoring, augmentation, temperature
    "classifier-trust": {"model_kind": "classifier", "base_model": "{bert}", "pooling": "mean",
                         "normalize": "unicode+leet", "identity_augmentation": True, "identity_swaps": True,
                         "calibration": "temperature"},
    # blended with its TF-IDF partner (issue 24): the partner reloads with the run and every backend blends
    "classifier-ensemble": {"model_kind": "classifier", "base_model": "{bert}", "ensemble": "tfidf"},
}
TASKS = ("multilabel", "multiclass")


def _normalize(kind: str, task: str) -> str:
    """The normalisation a cell's run trained and scores with (the default `auto` resolved for its task)."""
    from core.config import TrainConfig

    return TrainConfig(data="x.csv", **{k: v for k, v in KINDS[kind].items() if k != "base_model"}).resolved_normalize(
        task)
CELLS = [(kind, task) for kind in KINDS for task in TASKS]
EXACT = {"exact": 1e-5, "onnx": 1e-5}  # tolerance against the saved predictions
APPROXIMATE = {"bf16": 0.05, "int8": 0.2}  # these change the arithmetic; tiny random models stay close


def _multiclass_file(folder):
    """The bundled sample as three classes: hate (identity_hate), offensive (other toxic), neither."""
    frame = pd.read_csv(ROOT / "data" / "sample.csv")
    label = ["hate" if row.identity_hate else "offensive" if row.toxic or row.insult or row.obscene else "neither"
             for row in frame.itertuples()]
    path = folder / "sample-multiclass.csv"
    pd.DataFrame({"text": frame["comment_text"], "label": label}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def matrix(tmp_path_factory, tiny_bert, tiny_deberta, tiny_sbert):
    """{(kind, task): the worker's findings for that run}, trained here and checked in a fresh process."""
    from core import runs
    from core.config import TrainConfig
    from core.training.job import run_job

    folder = tmp_path_factory.mktemp("matrix")
    models = folder / "models"
    data = {"multilabel": str(ROOT / "data" / "sample.csv"), "multiclass": str(_multiclass_file(folder))}
    names = {"bert": str(tiny_bert), "deberta": str(tiny_deberta), "sbert": str(tiny_sbert)}
    cells = {}
    for kind, task in CELLS:
        values = {key: value.format(**names) if isinstance(value, str) else value
                  for key, value in KINDS[kind].items()}
        config = TrainConfig.from_dict({**values, "task": task, "data": data[task], "max_steps": 8, "eval_steps": 8,
                                        "batch_size": 16, "learning_rate": 1e-2, "early_stopping_patience": 0,
                                        "run_name": f"{kind}-{task}"})
        run_dir = runs.new_run_dir(f"{kind}-{task}", models)
        config.to_json(run_dir / runs.CONFIG)
        assert run_job(run_dir) == "succeeded", (run_dir / runs.STATUS).read_text()
        cells[run_dir.name] = (kind, task)
    out = folder / "matrix.json"
    env = {**os.environ, "CLEANSPEECH_MODELS_DIR": str(models)}
    done = subprocess.run([sys.executable, "-m", "tests.matrix_worker", str(models), str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(out.read_text())
    return {cells[name]: value for name, value in found.items()}


@pytest.mark.parametrize("kind,task", CELLS)
def test_reloaded_run_scores_as_it_trained(matrix, kind, task):
    cell = matrix[(kind, task)]
    assert (cell["kind"], cell["task"]) == (KINDS[kind]["model_kind"], task) and cell["rows"] > 10
    must_load = ["exact"] if kind == "tfidf" else ["exact", "onnx", "int8"]
    assert set(must_load) <= set(cell["backends"])
    for backend, found in cell["backends"].items():
        if backend in must_load:
            assert "error" not in found, (backend, found)
        if "error" in found:  # bf16 where the CPU has no native bf16: refused with its reason
            assert "bf16" in found["error"]
            continue
        limit = EXACT.get(backend) or APPROXIMATE[backend]
        assert found["max_diff"] <= limit, (backend, found)
        assert found["loaded_as"] == backend


@pytest.mark.parametrize("kind,task", CELLS)
def test_evaluate_after_reload_equals_training_time_metrics(matrix, kind, task):
    cell = matrix[(kind, task)]
    assert cell["evaluate_keys"] == []
    assert cell["evaluate_max_diff"] <= (1e-6 if kind == "tfidf" else 1e-5), cell["evaluate_worst"]


@pytest.mark.parametrize("kind,task", CELLS)
def test_calibration_and_template_audit_hold_after_reload(matrix, kind, task):
    trust = matrix[(kind, task)]["trust"]
    wanted = KINDS[kind].get("calibration", "platt")
    if task == "multiclass" and wanted == "isotonic":  # isotonic is per label: multiclass falls back to platt
        wanted = "platt"
    assert trust["calibration_method"] == wanted
    assert trust["flags_changed"] == 0 and trust["predicted_changed"] == 0  # calibration never moves a decision
    assert trust["calibrated_diff"] <= 1e-6  # score() reports the saved map applied to the raw scores
    if task == "multilabel" and trust["calibration_method"] != "isotonic":
        assert trust["mapped_threshold_disagreements"] == 0
    assert trust["templates_sentences"] == 3180 and trust["job_templates_sentences"] == 3180
    assert trust["template_score_diff"] <= 1e-4  # the job's audit and a reloaded scorer's agree
    assert set(trust["audit_keys"]) >= {"templates", "calibration", "robustness"}
    if _normalize(kind, task) != "none":
        assert trust["normalised_equal"], "a look-alike spelling must score as the plain word"
    # calibrated on the training file (`calibrate --data`), reloaded, then reset
    assert trust["refit_rows"] == 827 and trust["refit_labels"]
    assert trust["refit_decisions_changed"] == 0 and trust["refit_diff"] <= 1e-6
    assert trust["reset_diff"] <= 1e-6


@pytest.mark.parametrize("kind,task", CELLS)
def test_reloaded_run_explains_and_rewrites(matrix, kind, task):
    cell = matrix[(kind, task)]
    assert cell["explain"]["words"] > 0 and cell["explain"]["finite"]
    assert cell["rewrite"]["candidates"] >= 1 and cell["rewrite"]["scored"]


@pytest.mark.parametrize("kind,task", CELLS)
def test_every_explainer_explains_the_text_the_model_scores(matrix, kind, task):
    found = matrix[(kind, task)]["explain_disguised"]
    normalised = _normalize(kind, task) != "none"
    assert set(found) == ({"linear", "shap"} if kind == "tfidf" else {"shap", "ig", "attention", "rollout"})
    for name, entry in found.items():
        assert entry["words"] == ["you", "are", "stupid" if normalised else "\u0455tupid"], name
        assert entry["ensemble_note"] == (matrix[(kind, task)]["ensemble"]["weight"] > 0), name
        assert abs(entry["output"] - entry["prob"]) <= 1e-4, (name, entry)  # the explained number is the score
    if "shap" in found:
        assert found["shap"]["additivity_error"] <= 1e-4
    if "linear" in found:
        assert found["linear"]["logit_gap"] <= 1e-6


@pytest.mark.parametrize("kind,task", CELLS)
def test_the_export_bundle_scores_as_the_run_without_torch(matrix, kind, task):
    found = matrix[(kind, task)]["export"]
    if kind == "tfidf":
        assert "this run is the tfidf baseline" in found["error"]
        return
    assert "error" not in found, found.get("error")
    assert {"model.onnx", "tokenizer.json", "bundle.json", "score.py", "README.md"} <= set(found["files"])
    if _normalize(kind, task) != "none":
        assert {"normalize.py", "confusables.json", "words.txt"} <= set(found["files"])
    # an ensemble run's TF-IDF partner travels as JSON + npz and is recomputed in numpy by score.py
    blended = matrix[(kind, task)]["ensemble"]["weight"] > 0
    assert ({"partner.npz", "partner_vocabulary.json"} <= set(found["files"])) == blended
    assert found["saved_diff"] <= 1e-5 and found["scorer_diff"] <= 1e-5 and found["check"] <= 1e-5
    assert found["same_flags"] and found["same_predicted"] and found["truncated"]


@pytest.mark.parametrize("kind,task", CELLS)
def test_an_ensemble_run_reloads_with_its_partner_and_blends(matrix, kind, task):
    found = matrix[(kind, task)]["ensemble"]
    # `ensemble: auto` (the default) tries the blend on multiclass classifier runs
    tried = "ensemble" in KINDS[kind] or (KINDS[kind]["model_kind"] == "classifier" and task == "multiclass")
    if not tried:
        assert found == {"weight": 0.0}
        return
    if "ensemble" in KINDS[kind]:  # a barely trained tiny model: validation prefers a real share of the partner
        assert 0 < found["weight"] < 1
    if found["weight"] > 0:
        assert found["blend_diff"] <= 1e-6 and found["partner_moves_scores"] > 1e-3
