"""Calibration on the user's traffic (`core.recalibrate`, `python -m core calibrate --data`): maps refitted on a
labelled file, the ECE to expect measured on rows the fit did not see, flags unchanged, the validation maps kept
for a reset; on TF-IDF runs of the bundled sample (multilabel and multiclass) and the tiny BERT run."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from core import runs
from core.errors import ConfigError, DataError, ModelNotAvailable
from core.evaluation.calibration import apply_calibration, ece_per_label, fit_calibration
from core.paths import PROJECT_ROOT, SAMPLE_MULTILABEL
from core.recalibrate import calibrate_on_data, reset_calibration, set_prevalence
from core.scoring.scorer import Scorer
from core.training.job import run_job

LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
TEXTS = ["you are a stupid idiot", "thanks for the help", "I will hurt you", "what a lovely day",
         "shut up you moron"] * 4


@pytest.fixture
def stricter_traffic(tmp_path):
    """The sample as another team labels it: half of its toxic rows are not toxic to them, and only three rows
    are threats (too few to refit that label's map)."""
    frame = pd.read_csv(SAMPLE_MULTILABEL)
    toxic_rows = frame.index[frame["toxic"] == 1]
    frame.loc[toxic_rows[::2], "toxic"] = 0
    threats = frame.index[frame["threat"] == 1]
    frame.loc[threats[3:], "threat"] = 0
    path = tmp_path / "traffic.csv"
    frame.to_csv(path, index=False)
    return path, frame


def _cli(*args, models):
    return subprocess.run([sys.executable, "-m", "core", "calibrate", *map(str, args)], capture_output=True,
                          text=True, cwd=PROJECT_ROOT, timeout=300,
                          env={**os.environ, "CLEANSPEECH_MODELS_DIR": str(models)})


def test_a_refit_on_the_traffic_matches_a_hand_fit_and_keeps_every_flag(tfidf_run, stricter_traffic):
    path, frame = stricter_traffic
    validation = runs.read_calibration(tfidf_run, LABELS)
    before = Scorer.from_run(tfidf_run).score(TEXTS)
    found = calibrate_on_data(tfidf_run, path)
    assert found["rows"] == len(frame) and found["method"] == "platt" and found["data"] == "traffic.csv"
    assert found["refit"] == [label for label in LABELS if label != "threat"]
    assert found["kept"] == {"threat": f"3 positive and {len(frame) - 3} negative rows"}
    # the maps are those of fitting the run's raw scores of the file by hand; threat keeps its validation map
    raw = Scorer.from_run(tfidf_run, calibrated=False).predict_proba(frame["comment_text"].tolist())
    by_hand = fit_calibration(raw, frame[LABELS].to_numpy(), "multilabel", LABELS, "platt")
    saved = runs.read_calibration(tfidf_run, LABELS)
    for label in found["refit"]:
        assert saved["per_label"][label] == pytest.approx(by_hand["per_label"][label])
    assert saved["per_label"]["threat"] == validation["per_label"]["threat"]
    assert saved["prevalence_fitted"]["toxic"] == pytest.approx(frame["toxic"].mean())
    assert saved["prevalence_fitted"]["threat"] == validation["prevalence_fitted"]["threat"]
    assert saved["validation"]["per_label"] == validation["per_label"]
    # the other team's toxic is rarer than the run's: the validation map overstates it, the refit does not
    assert found["ece_before"]["toxic"] > 0.1 and found["ece_expected"]["toxic"] < found["ece_before"]["toxic"] / 2
    assert found["ece_expected"]["threat"] == pytest.approx(found["ece_before"]["threat"], abs=0.02)
    after = Scorer.from_run(tfidf_run).score(TEXTS)
    assert [a.flagged for a in after] == [b.flagged for b in before]
    assert all(a.probabilities["toxic"] < b.probabilities["toxic"] for a, b in zip(after, before))
    assert all(a.probabilities["threat"] == pytest.approx(b.probabilities["threat"]) for a, b in zip(after, before))
    card = (tfidf_run / runs.CARD).read_text()
    assert card.count("## Calibrated on your data") == 1 and "`traffic.csv`" in card and "threat (3 positive" in card


def test_the_expected_ece_is_measured_on_rows_the_fit_did_not_see(tfidf_run, stricter_traffic):
    path, frame = stricter_traffic
    found = calibrate_on_data(tfidf_run, path, seed=3)
    raw = Scorer.from_run(tfidf_run, calibrated=False).predict_proba(frame["comment_text"].tolist())
    truth = frame[LABELS].to_numpy()
    in_sample = ece_per_label(apply_calibration(raw, runs.read_calibration(tfidf_run, LABELS)), truth, "multilabel",
                              LABELS)
    # a map measured on its own fitting rows looks better than it is; the estimate is not that figure
    assert found["ece_expected"]["macro"] > in_sample["macro"]
    assert calibrate_on_data(tfidf_run, path, seed=3)["ece_expected"] == found["ece_expected"]  # repeatable


def test_reset_goes_back_to_the_validation_maps_and_a_refit_starts_from_them(tfidf_run, stricter_traffic):
    path, _ = stricter_traffic
    original = runs.read_calibration(tfidf_run, LABELS)
    before = Scorer.from_run(tfidf_run).predict_proba(TEXTS, calibrated=True)
    set_prevalence(tfidf_run, {"toxic": 0.05})
    calibrate_on_data(tfidf_run, path)
    second = calibrate_on_data(tfidf_run, path, method="isotonic")  # a refit of a refit: from validation again
    saved = runs.read_calibration(tfidf_run, LABELS)
    assert saved["method"] == "isotonic" and "x" in saved["per_label"]["toxic"] and "prevalence" not in saved
    assert saved["validation"]["per_label"] == original["per_label"] and set(second["kept"]) == {"threat"}
    state = reset_calibration(tfidf_run)
    assert state["source"] is None and state["prevalence"] is None
    assert np.allclose(Scorer.from_run(tfidf_run).predict_proba(TEXTS, calibrated=True), before)
    card = (tfidf_run / runs.CARD).read_text()
    assert "## Calibrated on your data" not in card and "## Deployment prevalence" not in card


def test_shares_move_from_the_calibration_sample_after_a_refit(tfidf_run, stricter_traffic):
    path, frame = stricter_traffic
    calibrate_on_data(tfidf_run, path)
    moved = set_prevalence(tfidf_run, {"toxic": 0.1})
    assert moved["prevalence_fitted"]["toxic"] == pytest.approx(frame["toxic"].mean())
    saved = runs.read_calibration(tfidf_run, LABELS)
    assert saved["source"]["data"] == "traffic.csv" and saved["prevalence"] == {"toxic": 0.1}
    card = (tfidf_run / runs.CARD).read_text()
    assert "## Calibrated on your data" in card and "| label | calibration share | deployment share |" in card
    set_prevalence(tfidf_run, None)  # back to the sample's shares, the refit kept
    assert "source" in runs.read_calibration(tfidf_run, LABELS)


def test_a_multiclass_run_is_refitted_and_a_class_short_of_rows_refused(make_run, tmp_path):
    frame = pd.read_csv(SAMPLE_MULTILABEL)
    label = ["hate" if r.identity_hate else "offensive" if r.toxic or r.insult else "neither"
             for r in frame.itertuples()]
    data = tmp_path / "three.csv"
    pd.DataFrame({"text": frame["comment_text"], "label": label}).to_csv(data, index=False)
    run_dir = make_run(model_kind="tfidf", run_name="three", data=str(data))
    assert run_job(run_dir) == "succeeded"
    classes = runs.read_model_meta(run_dir)["labels"]
    before = Scorer.from_run(run_dir).score(TEXTS)
    found = calibrate_on_data(run_dir, data, method="temperature")
    saved = runs.read_calibration(run_dir, classes)
    assert saved["method"] == "temperature" and saved["classes"]["b"] == [0.0] * 3 and found["kept"] == {}
    after = Scorer.from_run(run_dir).score(TEXTS)
    assert [a.predicted for a in after] == [b.predicted for b in before]
    assert all(sum(a.probabilities.values()) == pytest.approx(1.0, abs=1e-5) for a in after)
    few = tmp_path / "few.csv"
    pd.DataFrame({"text": frame["comment_text"][:60], "label": (["hate"] * 4 + ["neither", "offensive"] * 28)}
                 ).to_csv(few, index=False)
    with pytest.raises(DataError, match=r"too few rows of some classes to calibrate on \(\{'hate': '4 rows'\}\)"):
        calibrate_on_data(run_dir, few)
    assert runs.read_calibration(run_dir, classes) == saved  # nothing written


def test_the_tiny_bert_run_refits_and_its_export_carries_the_refit(bert_run, stricter_traffic, tmp_path):
    from core.export import export_run

    path, _ = stricter_traffic
    found = calibrate_on_data(bert_run, path)
    assert found["rows"] > 800 and set(found["ece_expected"]) == {*LABELS, "macro"}
    bundle = export_run(bert_run, tmp_path / "bundle")  # the export scores its own examples against the run
    assert json.loads((bundle / "bundle.json").read_text())["calibration"]["source"]["data"] == "traffic.csv"
    assert "## Calibrated on your data" in (bundle / "README.md").read_text()


@pytest.mark.parametrize("change,match", [
    (lambda f: f.assign(threat=0, toxic=0, severe_toxic=0, obscene=0, insult=0, identity_hate=0),
     r"too few rows to refit any label's map"),
    (lambda f: f.drop(columns=["identity_hate"]),
     r"has no column for the run's label\(s\) \['identity_hate'\] .* Fix: give a file with a 0/1 column for each"),
])
def test_bad_calibration_files_are_refused_and_nothing_changes(tfidf_run, tmp_path, change, match):
    path = tmp_path / "bad.csv"
    change(pd.read_csv(SAMPLE_MULTILABEL)).to_csv(path, index=False)
    saved = (tfidf_run / runs.CALIBRATION).read_text()
    with pytest.raises(DataError, match=match):
        calibrate_on_data(tfidf_run, path)
    assert (tfidf_run / runs.CALIBRATION).read_text() == saved


def test_an_unknown_method_and_a_damaged_saved_validation_map_are_refused(tfidf_run, stricter_traffic):
    path, _ = stricter_traffic
    with pytest.raises(ConfigError, match=r"calibration method 'sigmoid' is unknown. Fix: use one of \('platt'"):
        calibrate_on_data(tfidf_run, path, method="sigmoid")
    calibrate_on_data(tfidf_run, path)
    payload = json.loads((tfidf_run / runs.CALIBRATION).read_text())
    payload["validation"]["per_label"]["toxic"]["a"] = "NaN"
    (tfidf_run / runs.CALIBRATION).write_text(json.dumps(payload))
    with pytest.raises(ModelNotAvailable, match=r"calibration.json is damaged: its parameters are missing or not"):
        Scorer.from_run(tfidf_run)


def test_a_run_trained_without_calibration_gets_one_and_resets_to_raw(make_run, stricter_traffic):
    path, _ = stricter_traffic
    run_dir = make_run(model_kind="tfidf", run_name="raw", calibration="none")
    assert run_job(run_dir) == "succeeded"
    calibrate_on_data(run_dir, path)
    assert Scorer.from_run(run_dir).calibration["source"]["rows"] > 800
    assert reset_calibration(run_dir) is None and not (run_dir / runs.CALIBRATION).exists()
    assert Scorer.from_run(run_dir).calibration is None


def test_the_cli_refits_resets_and_refuses_in_one_line(tfidf_run, stricter_traffic):
    path, _ = stricter_traffic
    done = _cli("--run", tfidf_run.name, "--data", path, "--method", "temperature", models=tfidf_run.parent)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["method"] == "temperature" and set(found["kept"]) == {"threat"}
    assert runs.read_calibration(tfidf_run, LABELS)["source"]["rows"] == found["rows"]
    for args, match in [(["--data", path, "--reset"], r"give one of --data FILE .* or --reset"),
                        (["--reset", "--method", "platt"], r"--method goes with --data"),
                        (["--data", tfidf_run / "nope.csv"], r"nope.csv")]:
        bad = _cli("--run", tfidf_run.name, *args, models=tfidf_run.parent)
        assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
        assert re.search(match, bad.stderr), bad.stderr
    done = _cli("--run", tfidf_run.name, "--reset", models=tfidf_run.parent)
    assert done.returncode == 0 and json.loads(done.stdout)["source"] is None


def test_the_last_audit_report_shows_the_maps_in_use(tfidf_run, stricter_traffic):
    from core.audit import audit_run, saved_report

    path, _ = stricter_traffic
    audited = audit_run(tfidf_run, robustness=False)["calibration"]
    assert audited["source"] is None
    calibrate_on_data(tfidf_run, path)
    report = saved_report(tfidf_run)["calibration"]
    assert report["source"]["data"] == "traffic.csv"
    assert report["splits"]["val"]["ece_after"] != audited["splits"]["val"]["ece_after"]
    assert report["splits"]["val"]["ece_before"] == audited["splits"]["val"]["ece_before"]  # raw scores: the same
    reset_calibration(tfidf_run)
    assert saved_report(tfidf_run)["calibration"] == audited


def test_the_score_page_says_the_scores_are_calibrated_on_the_traffic(tfidf_run, stricter_traffic):
    from tests.test_pages_workflow import open_page

    path, frame = stricter_traffic
    calibrate_on_data(tfidf_run, path)
    at = open_page("pages/score.py", tfidf_run.name)
    at.text_area(key="score.text").input("you stupid idiot")
    at.button[0].click().run()
    wanted = f"calibrated scores (platt refitted on traffic.csv ({len(frame):,} labelled rows))"
    assert any(wanted in c.value for c in at.caption), [c.value for c in at.caption]
