"""The command line: JSON on stdout, one clear line and exit 2 on bad input."""

import json
import re
import subprocess
import sys

import pytest

from core.cli import main
from core.paths import PROJECT_ROOT, SAMPLE_MULTILABEL
from tests.conftest import jigsaw_file


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "core", *map(str, args)], capture_output=True, text=True,
                          cwd=PROJECT_ROOT, timeout=120)


def test_inspect_sample_prints_a_json_report(capsys):
    assert main(["data", "inspect", str(SAMPLE_MULTILABEL)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 827 and report["kind"] == "multilabel"


@pytest.mark.parametrize("content, match", [
    ("", "the file is empty"),
    ("text,toxic\n", "no data rows"),
    ("text;toxic\na;0\n", "delimited by ';'"),
    ('text,toxic\n"a,0\n', "unterminated quote"),
])
def test_bad_inputs_give_one_line_and_exit_2(write, content, match):
    result = run_cli("data", "inspect", write("bad.csv", content))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and match in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_latin1_warns_but_succeeds(write):
    result = run_cli("data", "inspect", write("l.csv", "text,toxic\ncaf\xe9,0\nbad,1\n".encode("latin-1")))
    assert result.returncode == 0 and "warning:" in result.stderr
    assert json.loads(result.stdout)["rows"] == 2


def test_bad_option_is_one_line_exit_2():
    result = run_cli("data", "inspect", SAMPLE_MULTILABEL, "--kind", "nonsense")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_prepare_writes_splits_and_report(tmp_path, capsys):
    out = tmp_path / "prepared"
    code = main(["data", "prepare", str(SAMPLE_MULTILABEL), "--out", str(out), "--reduce-majority-to", "0.5",
                 "--drop-labels", "severe_toxic"])
    assert code == 0
    assert {p.name for p in out.iterdir()} == {"train.csv", "val.csv", "test.csv", "report.json", "dataset.json"}
    report = json.loads((out / "report.json").read_text())
    assert "severe_toxic" not in report["labels"] and report["steps"]["balance"]["majority_rows_removed"] > 100
    assert json.loads(capsys.readouterr().out)["out"] == str(out)


def test_inspect_shared_jigsaw(capsys):
    assert main(["data", "inspect", str(jigsaw_file("train.csv"))]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 18716 and len(report["prevalence"]["all"]) == 6


def test_score_a_file_from_the_cli(tfidf_run, write, tmp_path, capsys):
    source = write("comments.csv", "id,comment\n1,you idiot\n2,=1+1\n3,thanks\n")
    out = tmp_path / "scored.csv"
    assert main(["score", "--run", tfidf_run.name, "--file", str(source), "--text-col", "comment",
                 "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    lines = out.read_text().splitlines()
    assert len(lines) == 4 and lines[2].startswith("2,'=1+1,")
    assert main(["score", "--run", tfidf_run.name, "--file", str(source)]) == 2
    assert "no column 'text'" in capsys.readouterr().err


def test_score_with_the_onnx_backend_from_the_cli(bert_run, capsys):
    from core.scoring.scorer import Scorer

    assert main(["score", "--run", bert_run.name, "--backend", "onnx", "you idiot", "thanks"]) == 0
    printed = json.loads(capsys.readouterr().out)
    exact = Scorer.from_run(bert_run, backend="exact").predict_proba(["you idiot", "thanks"], calibrated=True)
    got = [[row["probabilities"][label] for label in printed[0]["probabilities"]] for row in printed]
    assert abs(float(exact.max() - max(map(max, got)))) < 1e-5 and len(printed) == 2
    with pytest.raises(SystemExit, match="2"):
        main(["score", "--run", bert_run.name, "--backend", "fp16", "x"])
    assert "invalid choice: 'fp16' (choose from 'auto', 'exact', 'onnx', 'int8', 'bf16')" in capsys.readouterr().err


def test_detached_train_with_more_processes_than_gpus_fails_before_making_a_run(isolated_dirs, monkeypatch, capsys):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")  # one GPU, as the launcher sees it
    code = main(["train", "--model-kind", "tfidf", "--data", str(SAMPLE_MULTILABEL), "--num-processes", "2",
                 "--detach"])
    assert code == 2
    assert "num_processes=2, but this machine shows 1 GPU(s)" in capsys.readouterr().err
    models = isolated_dirs[0]
    assert not models.exists() or not any(models.iterdir())  # no orphan run folder


def test_train_flags_for_the_rare_class_options_reach_the_config_and_are_checked(isolated_dirs, capsys):
    from core.cli import _train_config, build_parser

    args = build_parser().parse_args(["train", "--data", str(SAMPLE_MULTILABEL), "--ensemble", "tfidf",
                                      "--soft-labels", "0.5", "--class-weighting", "balanced", "--task", "multiclass"])
    config = _train_config(args)
    assert (config.ensemble, config.soft_labels, config.class_weighting) == ("tfidf", 0.5, "balanced")
    code = main(["train", "--model-kind", "tfidf", "--data", str(SAMPLE_MULTILABEL), "--ensemble", "tfidf"])
    assert code == 2
    assert "only transformer classifier runs blend with a TF-IDF partner" in capsys.readouterr().err
    models = isolated_dirs[0]
    assert not models.exists() or not any(models.iterdir())


def test_calibrate_moves_scores_to_the_traffic_prevalence_and_back(tfidf_run, capsys):
    from core import runs
    from core.scoring.scorer import Scorer

    texts = ["you are a stupid idiot", "thanks for the help", "I will hurt you", "what a lovely day"] * 5
    before = Scorer.from_run(tfidf_run).score(texts)
    fitted = runs.read_calibration(tfidf_run, Scorer.from_run(tfidf_run).labels)["prevalence_fitted"]
    assert main(["calibrate", "--run", str(tfidf_run), "--prevalence", "toxic=0.02, insult=0.01"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["prevalence"] == {"toxic": 0.02, "insult": 0.01} and found["prevalence_fitted"] == fitted
    after = Scorer.from_run(tfidf_run).score(texts)
    for b, a in zip(before, after):
        assert a.flagged == b.flagged  # decisions never move with the calibration
        assert a.probabilities["toxic"] < b.probabilities["toxic"] and a.probabilities["insult"] < b.probabilities[
            "insult"]
        assert a.probabilities["threat"] == pytest.approx(b.probabilities["threat"])  # not named: unchanged
    card = (tfidf_run / runs.CARD).read_text()
    assert card.count("## Deployment prevalence") == 1 and "| toxic |" in card.split("## Deployment prevalence")[1]
    assert main(["calibrate", "--run", str(tfidf_run), "--reset"]) == 0
    assert json.loads(capsys.readouterr().out)["prevalence"] is None
    again = Scorer.from_run(tfidf_run).score(texts)
    assert all(a.probabilities == pytest.approx(b.probabilities) for a, b in zip(again, before))
    assert "## Deployment prevalence" not in (tfidf_run / runs.CARD).read_text()


@pytest.mark.parametrize("args,match", [
    (["--prevalence", "toxic"], r"--prevalence 'toxic' is not LABEL=SHARE"),
    (["--prevalence", "toxic=2"], r"each share must be a number between 0 and 1"),
    (["--prevalence", "hate=0.1"], r"prevalence for \['hate'\]: the run's labels are \['toxic'"),
    ([], r"give one of --data FILE .* --prevalence LABEL=SHARE,\.\.\. .* or --reset"),
])
def test_calibrate_refuses_bad_shares_in_one_line(tfidf_run, args, match):
    result = run_cli("calibrate", "--run", tfidf_run, *args)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert re.search(match, result.stderr), result.stderr
