"""`python -m core export`: refusals and no partial output (the bundle's scores are checked in the matrix)."""

from __future__ import annotations

import json

import pytest

from core.cli import main


def test_export_refuses_tfidf_runs_and_existing_folders_with_one_error(capsys, tfidf_run, bert_run, tmp_path):
    assert main(["export", "--run", tfidf_run.name, "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "error: export makes an ONNX bundle of a transformer run; this run is the tfidf baseline" in err
    assert "Traceback" not in err and not (tmp_path / "b").exists()
    (tmp_path / "taken").mkdir()
    assert main(["export", "--run", bert_run.name, "--out", str(tmp_path / "taken")]) == 2
    assert "already exists. Fix: give a new folder" in capsys.readouterr().err


def test_a_failed_export_leaves_nothing_behind(bert_run, tmp_path, monkeypatch):
    import core.export

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(core.export, "write_json", broken)
    with pytest.raises(OSError, match="disk full"):
        core.export.export_run(bert_run, tmp_path / "bundle")
    leftovers = {p.name for p in tmp_path.iterdir()} - {"models", "datasets"}  # the fixtures' own folders
    assert leftovers == set()  # no bundle, no staging folder


def test_export_then_the_bundle_checks_itself(capsys, bert_run, tmp_path):
    import subprocess
    import sys

    # calibrated to other label shares first: the bundle reports the probabilities the run now gives
    assert main(["calibrate", "--run", bert_run.name, "--prevalence", "toxic=0.03"]) == 0
    capsys.readouterr()
    assert main(["export", "--run", bert_run.name, "--out", str(tmp_path / "bundle")]) == 0
    out = json.loads(capsys.readouterr().out)
    # a multilabel run normalises its texts by default: the normalisation travels with it
    assert out["files"] == ["README.md", "bundle.json", "confusables.json", "model.onnx", "normalize.py", "score.py",
                            "tokenizer.json", "words.txt"]
    assert json.loads((tmp_path / "bundle" / "bundle.json").read_text())["calibration"]["prevalence"] == {
        "toxic": 0.03}
    assert "## Deployment prevalence" in (tmp_path / "bundle" / "README.md").read_text()
    done = subprocess.run([sys.executable, str(tmp_path / "bundle" / "score.py"), "--check"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and json.loads(done.stdout)["ok"], done.stderr


@pytest.mark.parametrize("task", ["multilabel", "multiclass"])
def test_the_bundles_numpy_tfidf_partner_equals_the_runs(tmp_path, task):
    """score.py recomputes the TF-IDF partner without scikit-learn: the same probabilities on awkward texts."""
    import numpy as np
    import pandas as pd

    from core.bundle_score import TfidfPartner
    from core.export import _write_partner
    from core.models.tfidf import TfidfModel
    from tests.conftest import ROOT

    frame = pd.read_csv(ROOT / "data" / "sample.csv")
    labels = ["toxic", "insult", "identity_hate"]
    truth = frame[labels].to_numpy() if task == "multilabel" else frame[labels].to_numpy().argmax(axis=1)
    model = TfidfModel.fit(frame["comment_text"].tolist(), truth, task, labels)
    _write_partner(tmp_path, model)
    texts = ["", "   ", "You are a STUPID idiot idiot idiot", "café naïve İstanbul ÀÉ", "you_are a-stupid.idiot!!",
             "word " * 3000, "\U0001F600 emoji only", "ok", "Ｆｕｌｌｗｉｄｔｈ idiot", "the the the"]
    np.testing.assert_allclose(TfidfPartner(tmp_path).probabilities(texts), model.predict_proba(texts), atol=2e-6)
