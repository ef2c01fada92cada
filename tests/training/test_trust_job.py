"""The job's trust steps (normalisation, identity augmentation, calibration, template audit), the audit CLI and
the model card section, on quick TF-IDF runs of the bundled sample."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from core import runs
from core.config import TrainConfig
from core.data import Dataset, load_dataset
from core.data.identity import augmentation_sentences
from core.errors import ConfigError
from core.paths import PROJECT_ROOT, SAMPLE_MULTILABEL
from core.scoring.scorer import Scorer
from core.training.augment import identity_augmentation
from core.training.data import load_training_data
from core.training.job import run_job


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "core", *map(str, args)], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, timeout=300, env=env)


PLAIN = {"normalize": "none", "identity_augmentation": False, "identity_swaps": False}


def test_augmentation_adds_swapped_copies_and_non_toxic_sentences_to_training_only():
    config = dict(data=str(SAMPLE_MULTILABEL), model_kind="tfidf", normalize="none")
    plain = load_training_data(TrainConfig(**config, identity_augmentation=False))
    augmented = load_training_data(TrainConfig(**config, identity_augmentation=True, identity_swaps=True))
    summary = augmented.augmentation
    # the sentences are at most a twentieth of the training split (a seeded subset of the 1,272)
    assert summary["sentences"] == int(0.05 * len(plain.train.frame)) and summary["counterfactual"] > 0
    assert len(augmented.train.frame) == len(plain.train.frame) + summary["sentences"] + summary["counterfactual"]
    assert augmented.val.frame.equals(plain.val.frame) and augmented.test.frame.equals(plain.test.frame)
    added = augmented.train.frame.iloc[len(plain.train.frame):]
    sentences = added[added["text"].isin(augmentation_sentences())]
    assert len(sentences) == summary["sentences"] and (sentences[plain.labels] == 0).all().all()
    copies = added.iloc[:summary["counterfactual"]]
    originals = plain.train.frame[plain.train.frame["id"].isin(copies["id"])].set_index("id")
    # a copy keeps its row's labels and differs only in its identity words
    assert (copies.set_index("id")[plain.labels] == originals.loc[copies["id"], plain.labels]).all().all()
    assert (copies.set_index("id")["text"] != originals.loc[copies["id"], "text"]).all()


def test_each_augmentation_option_alone():
    config = dict(data=str(SAMPLE_MULTILABEL), model_kind="tfidf")
    sentences = load_training_data(TrainConfig(**config, identity_augmentation=True)).augmentation
    swaps = load_training_data(TrainConfig(**config, identity_augmentation=False, identity_swaps=True)).augmentation
    assert sentences["counterfactual"] == 0 and sentences["sentences"] > 0
    assert swaps["counterfactual"] > 0 and swaps["sentences"] == 0
    assert load_training_data(TrainConfig(**config, **PLAIN)).augmentation is None


def test_identity_sentences_by_default_for_multilabel_data_only(tmp_path):
    # `auto`: on for multilabel (issue 23's figures on Jigsaw), off for multiclass (Davidson's hate speech lost F1)
    assert TrainConfig(data="x.csv").identity_augmentation == "auto"
    multilabel = load_training_data(TrainConfig(data=str(SAMPLE_MULTILABEL), model_kind="tfidf")).augmentation
    assert multilabel["sentences"] > 0 and multilabel["counterfactual"] == 0
    frame = pd.read_csv(SAMPLE_MULTILABEL)
    path = tmp_path / "three.csv"
    pd.DataFrame({"text": frame["comment_text"], "label": np.where(frame["identity_hate"] == 1, "hate", np.where(
        frame["toxic"] == 1, "offensive", "neither"))}).to_csv(path, index=False)
    config = dict(data=str(path), model_kind="tfidf", task="multiclass")
    assert load_training_data(TrainConfig(**config)).augmentation is None
    assert load_training_data(TrainConfig(**config, identity_augmentation=True)).augmentation["sentences"] > 0
    with pytest.raises(ConfigError, match=r"identity_augmentation='yes' is invalid: use true, false or 'auto'"):
        TrainConfig(**config, identity_augmentation="yes")


def _multiclass(labels: list[str]) -> Dataset:
    texts = ["Muslims are great", "you idiot", "a fine day"] + [f"comment number {i}" for i in range(27)]
    frame = pd.DataFrame({"text": texts, "label": [0, 1] + [2] * 28})
    return load_dataset(frame.to_csv(index=False).encode(), name="m.csv", kind="multiclass", class_names=labels)


def test_multiclass_augmentation_labels_its_sentences_with_the_clean_class():
    augmented, summary = identity_augmentation(_multiclass(["hate", "offensive", "neither"]), seed=0)
    tail = augmented.frame.iloc[-summary["sentences"]:]
    # a twentieth of the 30 rows
    assert summary["sentences"] == 1 and (tail["label"] == 2).all() and summary["counterfactual"] == 1
    assert tail["text"].isin(augmentation_sentences()).all()
    unnamed, summary = identity_augmentation(_multiclass(["x", "y", "z"]), seed=0)
    assert summary["sentences"] == 0 and summary["counterfactual"] == 1 and "no class of" in summary["note"]
    assert len(unnamed.frame) == 31


@pytest.fixture
def trust_run(make_run):
    run_dir = make_run(model_kind="tfidf", run_name="trust", normalize="unicode+leet", identity_augmentation=True)
    assert run_job(run_dir) == "succeeded", (run_dir / runs.STATUS).read_text()
    return run_dir


def test_the_job_calibrates_audits_and_says_so_in_metrics_and_card(trust_run):
    metrics = json.loads((trust_run / runs.METRICS).read_text())
    assert 0 < metrics["identity_augmentation"]["sentences"] < len(augmentation_sentences())
    calibration = metrics["calibration"]
    assert calibration["method"] == "platt" and set(calibration) >= {"val_ece_before", "test_ece_after"}
    assert runs.read_calibration(trust_run, metrics["labels"])["method"] == "platt"
    templates = json.loads((trust_run / runs.AUDIT / runs.AUDIT_TEMPLATES).read_text())
    assert templates["sentences"] == 3180 and metrics["bias_templates"]["sentences"] == 3180
    assert metrics["bias_templates"]["max_flagged_share"] == templates["max_flagged_share"]
    card = (trust_run / runs.CARD).read_text()
    assert "## Bias and calibration" in card and "identity augmentation" in card and "Macro ECE on test" in card
    assert runs.read_model_meta(trust_run)["normalize"] == "unicode+leet"


def test_the_card_says_what_auto_options_meant_for_the_run(tfidf_run, make_run, tmp_path):
    card = (tfidf_run / runs.CARD).read_text()
    assert "- `normalize`: `auto` (for this multilabel run: `unicode+leet`)" in card
    assert "- `identity_augmentation`: `auto` (for this multilabel run: `True`)" in card
    frame = pd.read_csv(SAMPLE_MULTILABEL)
    data = tmp_path / "three.csv"
    pd.DataFrame({"text": frame["comment_text"], "label": np.where(frame["toxic"] == 1, "toxic", "clean")}
                 ).to_csv(data, index=False)
    run_dir = make_run(model_kind="tfidf", run_name="two", data=str(data))
    assert run_job(run_dir) == "succeeded"
    card = (run_dir / runs.CARD).read_text()
    assert "- `normalize`: `auto` (for this multiclass run: `none`)" in card
    assert "- `identity_augmentation`: `auto` (for this multiclass run: `False`)" in card


def test_a_normalised_run_scores_disguised_words_as_plain_ones(trust_run, make_run):
    plain_run = make_run(model_kind="tfidf", run_name="plain", **PLAIN)
    assert run_job(plain_run) == "succeeded"
    scorer = Scorer.from_run(trust_run)
    plain, disguised, leet = scorer.predict_proba(["you are a stupid idiot", "you are a \u0455tupid \u0456diot",
                                                   "you are a 5tup1d 1d10t"])
    assert np.allclose(plain, disguised) and np.allclose(plain, leet)
    unnormalised = Scorer.from_run(plain_run)
    assert unnormalised.normalize == "none"
    plain, disguised = unnormalised.predict_proba(["you are a stupid idiot", "you are a \u0455tupid \u0456diot"])
    assert not np.allclose(plain, disguised)


def test_calibrated_scores_keep_every_flag_and_raw_ones_stay_selectable(trust_run):
    texts = pd.read_csv(SAMPLE_MULTILABEL)["comment_text"].tolist()[:200]
    calibrated, raw = Scorer.from_run(trust_run), Scorer.from_run(trust_run, calibrated=False)
    assert calibrated.calibration is not None and raw.calibration is None
    got, want = calibrated.score(texts), raw.score(texts)
    assert [r.flagged for r in got] == [r.flagged for r in want]
    assert any(abs(g.probabilities[k] - w.probabilities[k]) > 1e-3 for g, w in zip(got, want) for k in g.probabilities)
    assert raw.score_thresholds == raw.thresholds and calibrated.score_thresholds != calibrated.thresholds
    for result in got:  # a calibrated score clears its mapped threshold exactly when the label is flagged
        over = {k for k, v in result.probabilities.items() if v >= calibrated.score_thresholds[k]}
        assert over == set(result.flagged)


def test_audit_cli_reports_templates_calibration_robustness_and_data(trust_run, write):
    env = {**os.environ, "CLEANSPEECH_MODELS_DIR": str(trust_run.parent)}
    frame = pd.read_csv(SAMPLE_MULTILABEL)
    frame["muslim"] = (np.arange(len(frame)) % 5 == 0).astype(float)
    data = write("with-identities.csv", frame.to_csv(index=False))
    result = run_cli("audit", "--run", trust_run.name, "--data", data, "--sample", 60, env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["templates"]["sentences"] == 3180 and report["normalize"] == "unicode+leet"
    assert report["data"]["subgroups_from"].startswith("identity columns (muslim)")
    assert [row["subgroup"] for row in report["data"]["bias"]["subgroups"]] == ["muslim"]
    assert {p["perturbation"] for p in report["robustness"]["perturbations"]} >= {"lookalike", "leet", "spaced"}
    assert "robustness_unnormalised" in report and report["calibration"]["splits"]["test"]["rows"] > 0
    assert json.loads((trust_run / runs.AUDIT / "report.json").read_text())["run"] == trust_run.name


def test_a_run_without_calibration_stays_raw_after_an_audit(make_run):
    from core.audit import audit_run

    run_dir = make_run(model_kind="tfidf", run_name="raw", calibration="none")
    assert run_job(run_dir) == "succeeded"
    assert "calibration" not in json.loads((run_dir / runs.METRICS).read_text())
    report = audit_run(run_dir, robustness=False)
    assert report["calibration"]["method"] == "none" and "ece_after" not in report["calibration"]["splits"]["val"]
    assert not (run_dir / runs.CALIBRATION).exists() and Scorer.from_run(run_dir).calibration is None


@pytest.mark.parametrize("args,match", [
    (["--label", "nope"], r"label 'nope' is not one of the run's labels \['toxic'"),
    (["--sample", "5"], "--sample 5 is too small"),
])
def test_audit_cli_bad_input_is_one_line_exit_2(tfidf_run, args, match):
    env = {**os.environ, "CLEANSPEECH_MODELS_DIR": str(tfidf_run.parent)}
    result = run_cli("audit", "--run", tfidf_run.name, "--no-robustness", *args, env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and re.search(match, lines[0])


def test_score_cli_reports_calibrated_scores_unless_raw(tfidf_run):
    env = {**os.environ, "CLEANSPEECH_MODELS_DIR": str(tfidf_run.parent)}
    text = "you are a stupid idiot"
    calibrated = json.loads(run_cli("score", "--run", tfidf_run.name, text, env=env).stdout)[0]
    raw = json.loads(run_cli("score", "--run", tfidf_run.name, "--raw", text, env=env).stdout)[0]
    scorer = Scorer.from_run(tfidf_run)
    assert raw["probabilities"] == pytest.approx(dict(zip(scorer.labels, scorer.predict_proba([text])[0])), abs=1e-6)
    assert calibrated["probabilities"] == pytest.approx(
        dict(zip(scorer.labels, scorer.predict_proba([text], calibrated=True)[0])), abs=1e-6)
    assert calibrated["flagged"] == raw["flagged"]
