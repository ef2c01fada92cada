"""AppTest of the Audit page and of the Score page's calibrated / raw switch."""

import pandas as pd
import pytest

from core import runs
from core.paths import SAMPLE_MULTILABEL
from core.training.job import run_job
from tests.test_pages_workflow import button, frame_with, open_page


def test_a_new_run_shows_its_job_template_audit_then_the_full_audit(tfidf_run):
    at = open_page("pages/audit.py", tfidf_run.name)
    # the job audited the templates and calibrated: shown before any button is pressed
    assert any(s.value == "Identity template suite" for s in at.subheader), [s.value for s in at.subheader]
    terms = frame_with(at, "term", "non-toxic flagged", "BPSN AUC")
    assert len(terms) == 53 and terms["non-toxic flagged"].is_monotonic_decreasing
    assert any(s.value == "Calibration" for s in at.subheader)
    assert not any(s.value == "Robustness" for s in at.subheader)
    at.number_input(key="audit.sample").set_value(60)
    button(at, "Run the audit").click().run()
    assert not at.exception, at.exception
    robustness = frame_with(at, "perturbation", "AUC change", "flags flipped")
    assert {"lookalike", "leet", "spaced", "identity_swap"} <= set(robustness["perturbation"])
    # beside the run's own figures, the same texts scored the other way: what normalising recovers
    other = "AUC change with normalisation" if runs.read_model_meta(tfidf_run).get("normalize", "none") == "none" \
        else "AUC change without normalisation"
    assert other in robustness.columns
    assert (tfidf_run / runs.AUDIT / "report.json").exists()
    at.selectbox(key="audit.cal_label").set_value("insult").run()
    assert not at.exception


def test_compare_two_audited_runs_side_by_side(tfidf_run, make_run):
    other = make_run(model_kind="tfidf", run_name="augmented", identity_augmentation=True)
    assert run_job(other) == "succeeded"
    at = open_page("pages/audit.py", other.name)
    at.checkbox(key="audit.robustness").uncheck()
    button(at, "Run the audit").click().run()
    at.selectbox(key="audit.compare").set_value(tfidf_run.name).run()
    assert not at.exception, at.exception
    table = frame_with(at, other.name, tfidf_run.name)
    assert "terms over the goal" in table.index and "final bias metric" in table.index


def test_bias_on_an_uploaded_file_with_identity_columns(tfidf_run):
    at = open_page("pages/audit.py", tfidf_run.name)
    frame = pd.read_csv(SAMPLE_MULTILABEL)
    frame["female"] = (frame.index % 3 == 0).astype(float)
    at.checkbox(key="audit.robustness").uncheck()
    at.file_uploader(key="audit.upload").set_value(("identity.csv", frame.to_csv(index=False).encode(), "text/csv"))
    button(at, "Run the audit").click().run()
    assert not at.exception, at.exception
    assert any(s.value == "Your data" for s in at.subheader)
    assert frame_with(at, "subgroup", "bpsn_auc")["subgroup"].tolist() == ["female"]


def test_score_page_switches_between_calibrated_and_raw_scores(tfidf_run):
    at = open_page("pages/score.py", tfidf_run.name)
    at.text_area(key="score.text").input("you stupid idiot, I hate you")
    at.button[0].click().run()
    assert any("calibrated scores" in c.value for c in at.caption)
    flagged = [e.value for e in at.error]
    at.toggle(key="score.calibrated").set_value(False).run()
    at.button[0].click().run()
    assert not at.exception and any("raw scores" in c.value for c in at.caption)
    assert [e.value for e in at.error] == flagged  # the same flags either way


def test_the_audit_page_calibrates_to_the_traffic_shares_and_back(tfidf_run):
    at = open_page("pages/audit.py", tfidf_run.name)
    fitted = runs.read_calibration(tfidf_run, runs.read_model_meta(tfidf_run)["labels"])["prevalence_fitted"]
    # each label starts at its validation share
    assert at.number_input(key="audit.prevalence.toxic").value == pytest.approx(fitted["toxic"])
    at.number_input(key="audit.prevalence.toxic").set_value(0.05)
    button(at, "Calibrate to these shares").click().run()
    assert not at.exception, at.exception
    assert any("Calibrated to toxic 0.05" in s.value for s in at.success), [s.value for s in at.success]
    saved = runs.read_calibration(tfidf_run, list(fitted))
    assert saved["prevalence"] == {"toxic": 0.05}  # only the label the user moved
    assert "## Deployment prevalence" in (tfidf_run / runs.CARD).read_text()
    at.run()
    assert any("Now moved to: toxic 0.05" in c.value for c in at.caption)
    button(at, "Back to the validation shares").click().run()
    assert "prevalence" not in runs.read_calibration(tfidf_run, list(fitted))


def test_the_audit_page_calibrates_on_an_uploaded_sample_of_the_traffic_and_back(tfidf_run):
    labels = runs.read_model_meta(tfidf_run)["labels"]
    validation = runs.read_calibration(tfidf_run, labels)
    at = open_page("pages/audit.py", tfidf_run.name)
    button(at, "Calibrate on this file").click().run()
    assert [e.value for e in at.error] == ["Choose a labelled file first."]
    frame = pd.read_csv(SAMPLE_MULTILABEL)
    frame.loc[frame.index[frame["toxic"] == 1][::2], "toxic"] = 0  # labelled more strictly than the training data
    frame.loc[frame.index[frame["threat"] == 1][2:], "threat"] = 0
    at.file_uploader(key="audit.traffic_upload").set_value(("our <b>traffic.csv",
                                                            frame.to_csv(index=False).encode(), "text/csv"))
    button(at, "Calibrate on this file").click().run()
    assert not at.exception, at.exception
    assert any("rows of `our _b_traffic.csv`: expected macro ECE" in s.value for s in at.success), \
        [s.value for s in at.success]
    assert any("threat (2 positive" in i.value for i in at.info)
    table = frame_with(at, "label", "ECE expected after the refit")
    assert table.set_index("label").loc["toxic", "ECE expected after the refit"] < \
        table.set_index("label").loc["toxic", "ECE with the maps replaced"]
    saved = runs.read_calibration(tfidf_run, labels)
    assert saved["source"]["rows"] == len(frame) and saved["validation"]["per_label"] == validation["per_label"]
    # the share form now moves from the file's shares
    assert at.number_input(key="audit.prevalence.toxic").value == pytest.approx(frame["toxic"].mean())
    button(at, "Back to the validation maps").click().run()
    assert not at.exception and "source" not in runs.read_calibration(tfidf_run, labels)
    assert runs.read_calibration(tfidf_run, labels)["per_label"] == validation["per_label"]
