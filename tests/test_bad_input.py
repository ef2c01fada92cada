"""One clear answer for every bad input (issue 21): exit code 2, one `error:` line, nothing lost or left behind."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from core import runs
from core.cli import main
from core.errors import ConfigError, DataError, ModelNotAvailable
from tests.conftest import ROOT

SAMPLE = ROOT / "data" / "sample.csv"


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error(err: str) -> str:
    """The one `error:` line, last on stderr; anything before it is progress, never a traceback."""
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0] and "Traceback" not in err, err
    return errors[0]


def run_folders() -> list[Path]:
    return sorted(p for p in runs.models_dir().iterdir() if p.is_dir() and not p.name.startswith("."))


# ----------------------------------------------------------------------------------------------- tiny files
@pytest.mark.parametrize("rows", [1, 3, 6])
def test_prepare_and_train_on_a_tiny_file_give_one_error_or_work(capsys, write, tmp_path, rows):
    body = "\n".join(f"comment number {i} {'you idiot' if i % 2 else 'thanks'},{i % 2}" for i in range(rows))
    path = write("tiny.csv", f"text,toxic\n{body}\n")
    code, _, err = run_cli(capsys, "data", "prepare", path, "--out", tmp_path / "v", "--dedup", "none")
    if rows == 1:  # one row cannot have both label values
        assert code == 2 and "label 'toxic' has no positive rows" in one_error(err)
    elif rows < 6:
        assert code == 2 and "too few" in one_error(err)
    else:
        assert code == 0, err
    code, _, err = run_cli(capsys, "train", "--model-kind", "tfidf", "--data", path)
    if rows < 6:
        assert code == 2 and ("too few" in one_error(err) or "no positive rows" in err)
        assert run_folders() == []
    else:  # six distinct rows are enough to split and train (uselessly, but without a traceback)
        assert code == 0, err


def test_train_on_an_unreadable_file_leaves_no_run_folder(capsys, write):
    path = write("bad.csv", b"\x00\x01\x02binary")
    code, out, err = run_cli(capsys, "train", "--model-kind", "tfidf", "--data", path)
    assert code == 2 and out == "" and "binary data" in one_error(err)
    code, _, err = run_cli(capsys, "train", "--model-kind", "tfidf", "--data", "no/such/file.csv")
    assert code == 2 and "no such file" in one_error(err)
    assert run_folders() == []


# ------------------------------------------------------------------------------------------------ config
@pytest.mark.parametrize("key,value,match", [
    ("batch_size", "16", r"batch_size='16' is invalid: must be a whole number"),
    ("batch_size", True, r"batch_size=True is invalid: must be a whole number"),
    ("seed", "abc", r"seed='abc' is invalid"),
    ("data", 12, r"data=12 is invalid: must be a string"),
    ("learning_rate", "1e-4", r"learning_rate='1e-4' is invalid: must be a number \(or null\)"),
    ("label_cols", ["toxic", 3], r"label_cols=\['toxic', 3\] is invalid: must be a list of strings"),
    ("length_grouping", 1, r"length_grouping=1 is invalid: must be true or false"),
])
def test_config_values_of_the_wrong_type_are_refused(key, value, match):
    from core.config import TrainConfig

    with pytest.raises(ConfigError, match=match):
        TrainConfig.from_dict({"data": str(SAMPLE), key: value})


def test_config_file_that_is_not_utf8_or_is_a_folder(capsys, write, tmp_path):
    path = write("cfg.json", '{"data": "caf\xe9.csv"}'.encode("latin-1"))
    code, _, err = run_cli(capsys, "train", "--config", path)
    assert code == 2 and "is not UTF-8 text" in one_error(err)
    code, _, err = run_cli(capsys, "train", "--config", tmp_path)
    assert code == 2 and "is a folder" in one_error(err)


def test_prepare_out_pointing_at_an_existing_file(capsys, write):
    target = write("existing.txt", "keep me")
    code, _, err = run_cli(capsys, "data", "prepare", SAMPLE, "--out", target)
    assert code == 2 and "is an existing file, not a folder" in one_error(err)
    assert target.read_text() == "keep me"


# ---------------------------------------------------------------------------------------------- scoring
def test_score_file_header_only_or_truncated_parquet(capsys, tfidf_run, write, tmp_path):
    header_only = write("head.csv", "id,text\n")
    code, _, err = run_cli(capsys, "score", "--run", tfidf_run.name, "--file", header_only, "--out", tmp_path / "o.csv")
    assert code == 2 and "no data rows" in one_error(err)
    buffer = io.BytesIO()
    pd.DataFrame({"text": [f"comment {i}" for i in range(500)]}).to_parquet(buffer)
    truncated = write("cut.parquet", buffer.getvalue()[:-200])
    code, _, err = run_cli(capsys, "score", "--run", tfidf_run.name, "--file", truncated, "--out", tmp_path / "o.csv")
    assert code == 2 and "Parquet" in one_error(err)
    assert not (tmp_path / "o.csv").exists()


def test_failed_score_file_keeps_the_existing_output_and_leaves_no_partial_file(capsys, tfidf_run, write, tmp_path):
    out = write("scored.csv", "precious,old,results\n")
    rows = "\n".join(f"{i},fine comment {i}" for i in range(30)) + '\n31,"never closed\n'
    source = write("in.csv", "id,text\n" + rows)
    code, _, err = run_cli(capsys, "score", "--run", tfidf_run.name, "--file", source, "--out", out)
    assert code == 2 and one_error(err)
    assert out.read_text() == "precious,old,results\n"
    assert not list(tmp_path.glob(".scored.csv*"))
    source = write("missing.csv", "id,comment\n1,hello\n")
    code, _, err = run_cli(capsys, "score", "--run", tfidf_run.name, "--file", source, "--out", tmp_path / "new.csv")
    assert code == 2 and "no column 'text'" in one_error(err)
    assert not (tmp_path / "new.csv").exists() and not list(tmp_path.glob(".new.csv*"))


def test_csv_formula_injection_through_line_breaks(capsys, tfidf_run, tmp_path):
    source = tmp_path / "in.jsonl"
    texts = ["ok\r@SUM(1+1)*cmd|x", "fine\n=HYPERLINK(\"x\")", "line\r\n+1", "-2", "plain text"]
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    out = tmp_path / "scored.csv"
    code, _, err = run_cli(capsys, "score", "--run", tfidf_run.name, "--file", source, "--out", out)
    assert code == 0, err
    with open(out, newline="", encoding="utf-8") as handle:
        cells = [row[0] for row in csv.reader(handle)][1:]
    assert cells == ["ok\r'@SUM(1+1)*cmd|x", "fine\n'=HYPERLINK(\"x\")", "line\r\n'+1", "'-2", "plain text"]
    assert pd.read_csv(out)["text"].tolist() == cells
    # every physical line a spreadsheet might split on starts harmlessly
    for line in out.read_bytes().replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n"):
        assert not line.startswith((b"=", b"+", b"-", b"@"))


def test_run_files_get_the_umask_mode(tfidf_run, capsys, tmp_path):
    old = os.umask(0o022)
    try:
        from core.fileio import write_json

        path = write_json(tmp_path / "x.json", {"a": 1})
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    finally:
        os.umask(old)
    for name in (runs.CONFIG, runs.STATUS, runs.METRICS, runs.THRESHOLDS, f"{runs.MODEL}/{runs.MODEL_META}",
                 f"{runs.MODEL}/tfidf.safetensors"):
        assert stat.S_IMODE((tfidf_run / name).stat().st_mode) & 0o044 == 0o044, name
    out = tmp_path / "scored.csv"
    source = tmp_path / "in.csv"
    source.write_text("text\nhello\n")
    assert run_cli(capsys, "score", "--run", tfidf_run.name, "--file", source, "--out", out)[0] == 0
    assert stat.S_IMODE(out.stat().st_mode) & 0o044 == 0o044


# ------------------------------------------------------------------------------------------------- data
def test_duplicate_column_names_are_refused(write):
    from core.data import load_dataset

    with pytest.raises(DataError, match=r"\['toxic'\] appear more than once"):
        load_dataset(write("dup.csv", "text,toxic,toxic\nhello,0,1\nyou idiot,1,1\n"))


def test_a_file_with_only_id_and_labels_has_no_text_column(write):
    from core.data import load_dataset

    with pytest.raises(DataError, match="No text column found"):
        load_dataset(write("ids.csv", "id,toxic,insult\na1,0,1\na2,1,0\n"), kind="multilabel")


def test_a_label_that_is_one_on_every_row_is_refused_for_training(write):
    from core.data import load_dataset

    path = write("ones.csv", "text,toxic,insult\nhello there,1,0\nyou idiot,1,1\n")
    with pytest.raises(DataError, match=r"label 'toxic' has no negative rows \(all 2 are 1\)"):
        load_dataset(path)
    assert any("toxic" in w for w in load_dataset(path, for_evaluation=True).warnings)


@pytest.mark.parametrize("values", [("yes", "no"), (2, 0)])
def test_a_label_named_column_that_is_not_binary_is_named(write, values):
    from core.data import load_dataset

    path = write("yes.csv", f"text,toxic,insult\nhello,{values[1]},0\nyou idiot,{values[0]},1\n")
    with pytest.raises(DataError, match=r"column 'toxic' is named like a label"):
        load_dataset(path, kind="multilabel")


def test_other_unused_columns_are_reported(write):
    from core.data import load_dataset

    dataset = load_dataset(write("extra.csv", "text,insult,score\nhello,0,0.3\nyou idiot,1,0.9\n"),
                           kind="multilabel")
    assert dataset.labels == ["insult"] and any("'score' is not used" in w for w in dataset.warnings)


def test_parquet_that_decodes_past_the_size_cap(capsys, write, tfidf_run, tmp_path):
    from core.data import read_table

    buffer = io.BytesIO()
    pd.DataFrame({"text": ["x" * 1000] * 2000, "toxic": [0, 1] * 1000}).to_parquet(buffer, compression="gzip")
    raw = buffer.getvalue()
    assert len(raw) < 100_000  # small on disk, about 2 MB decoded
    with pytest.raises(DataError, match=r"decodes to more than 1 MB \(the limit\)"):
        read_table(raw, name="bomb.parquet", max_bytes=2**20)
    path = write("bomb.parquet", raw)
    code, _, err = run_cli(capsys, "data", "inspect", path, "--max-size-mb", "1")
    assert code == 2 and "decodes to" in one_error(err)


def test_size_limit_error_only_suggests_the_flag_where_it_exists(write):
    from core.data.io import read_bytes

    with pytest.raises(DataError, match=r"data inspect/prepare --max-size-mb"):
        read_bytes(write("big.csv", "text\n" + "x" * 3000), None, 1000)


# ----------------------------------------------------------------------------------------------- runs/CLI
def test_detached_train_resolves_data_against_the_callers_folder(tmp_path, monkeypatch):
    from core import jobs
    from core.config import TrainConfig

    mine = tmp_path / "data" / "sample.csv"
    mine.parent.mkdir()
    mine.write_text("text,toxic\n" + "\n".join(f"my own row {i},{i % 2}" for i in range(40)) + "\n")
    monkeypatch.chdir(tmp_path)
    run_dir = jobs.create_run(TrainConfig(model_kind="tfidf", data="data/sample.csv"))
    assert json.loads((run_dir / runs.CONFIG).read_text())["data"] == str(mine.resolve())


def test_resume_of_a_succeeded_run_is_refused(capsys, tfidf_run):
    before = (tfidf_run / runs.THRESHOLDS).read_text()
    code, _, err = run_cli(capsys, "train", "--resume", tfidf_run.name)
    assert code == 2 and "is succeeded; only stopped, failed or killed runs resume" in one_error(err)
    assert (tfidf_run / runs.THRESHOLDS).read_text() == before


def test_ctrl_c_in_a_foreground_run_is_recorded_as_stopped(make_run, monkeypatch):
    from core.training import job

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(job, "train_tfidf", interrupted)
    run_dir = make_run(model_kind="tfidf")
    with pytest.raises(KeyboardInterrupt):
        job.run_job(run_dir)
    assert runs.read_status(run_dir)["state"] == "stopped"


def test_run_given_as_a_path_from_the_project_folder(capsys, tfidf_run, monkeypatch):
    monkeypatch.chdir(tfidf_run.parent.parent)
    code, out, err = run_cli(capsys, "score", "--run", f"models/{tfidf_run.name}", "hello")
    assert code == 0, err and json.loads(out)[0]["text"] == "hello"
    code, _, err = run_cli(capsys, "score", "--run", "../../etc", "hello")
    assert code == 2 and "outside" in one_error(err)


# ------------------------------------------------------------------------------------------ corrupt runs
@pytest.mark.parametrize("name,content", [(runs.STATUS, "[1, 2]"), (runs.STATUS, "null"), (runs.CONFIG, "[]"),
                                          (runs.CONFIG, "null"), (runs.METRICS, '"text"')])
def test_status_or_config_of_the_wrong_shape_lists_the_run_as_broken(capsys, tfidf_run, name, content):
    from core.demo import usable_runs

    (tfidf_run / name).write_text(content)
    code, out, err = run_cli(capsys, "runs")
    assert code == 0, err
    if (name, content) == (runs.STATUS, "null"):  # no status: an unknown state, still usable
        return
    listed = json.loads(out)[0]
    assert listed["state"] == "broken"
    assert tfidf_run.name not in [r.name for r in usable_runs()]
    with pytest.raises(ModelNotAvailable, match="is broken"):
        from core.scoring.scorer import Scorer

        Scorer.from_run(tfidf_run)


@pytest.mark.parametrize("value", ["NaN", "-3", "1.5", '"0.4"', "null", "[0.5]"])
def test_thresholds_outside_zero_one_are_refused(tfidf_run, value):
    from core.scoring.scorer import Scorer

    payload = json.loads((tfidf_run / runs.THRESHOLDS).read_text())
    text = json.dumps(payload).replace(f'"toxic": {json.dumps(payload["thresholds"]["toxic"])}',
                                       f'"toxic": {value}')
    (tfidf_run / runs.THRESHOLDS).write_text(text)
    with pytest.raises(ModelNotAvailable, match=r"thresholds.json: the threshold of 'toxic' is .* not a number in "
                                                r"\[0, 1\]. Fix: save thresholds again"):
        Scorer.from_run(tfidf_run)


def test_unparseable_thresholds_file_is_refused(tfidf_run):
    from core.scoring.scorer import Scorer

    (tfidf_run / runs.THRESHOLDS).write_text("{not json")
    with pytest.raises(ModelNotAvailable, match=r"thresholds.json cannot be read"):
        Scorer.from_run(tfidf_run)
    (tfidf_run / runs.THRESHOLDS).write_text("[]")
    with pytest.raises(ModelNotAvailable, match=r"has no \"thresholds\" object"):
        Scorer.from_run(tfidf_run)


def test_truncated_weights_or_meta_without_labels(capsys, tfidf_run, bert_run):
    weights = bert_run / runs.MODEL / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    code, _, err = run_cli(capsys, "score", "--run", bert_run.name, "--backend", "exact", "hello")
    assert code == 2 and "cannot be loaded" in one_error(err)
    meta = tfidf_run / runs.MODEL / runs.MODEL_META
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "labels": []}))
    code, _, err = run_cli(capsys, "score", "--run", tfidf_run.name, "hello")
    assert code == 2 and "is damaged (labels [] are not a non-empty list" in one_error(err)


def test_symlinked_run_pointing_outside_the_models_folder_is_refused(tfidf_run, tmp_path):
    import shutil

    from core.demo import usable_runs
    from core.scoring.scorer import Scorer

    outside = tmp_path / "elsewhere"
    shutil.move(str(tfidf_run), outside)
    link = runs.models_dir() / "linked-run"
    link.symlink_to(outside, target_is_directory=True)
    listed = {r.name: r for r in runs.list_runs()}
    assert listed["linked-run"].state == "broken" and "outside the models folder" in listed["linked-run"].status["error"]
    assert usable_runs() == [] and not runs.can_score(link)
    with pytest.raises(ModelNotAvailable, match="outside the models folder"):
        Scorer.from_run(link)


# ------------------------------------------------------------------------------------- the check on load
def test_a_run_whose_weights_no_longer_reproduce_its_predictions_is_refused(tfidf_run, bert_run):
    import numpy as np
    from safetensors.numpy import load_file, save_file
    from safetensors.torch import load_file as load_torch
    from safetensors.torch import save_file as save_torch

    from core.scoring.scorer import Scorer

    weights = tfidf_run / runs.MODEL / "tfidf.safetensors"
    arrays = load_file(str(weights))
    # the issue-21 bug: a column-major coefficient matrix written as it lay in memory
    arrays["coef"] = np.ascontiguousarray(arrays["coef"]).reshape(-1).reshape(arrays["coef"].shape, order="F")
    save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, str(weights))
    with pytest.raises(ModelNotAvailable, match=r"does not reproduce its own saved predictions: .* Fix: retrain"):
        Scorer.from_run(tfidf_run)
    model = bert_run / runs.MODEL / "model.safetensors"
    tensors = load_torch(str(model))
    name = next(k for k in tensors if "classifier" in k or "head" in k)
    tensors[name] = tensors[name] * 3
    save_torch(tensors, str(model), metadata={"format": "pt"})
    for backend in ("exact", "onnx"):
        with pytest.raises(ModelNotAvailable, match="does not reproduce its own saved predictions"):
            Scorer.from_run(bert_run, device="cpu", backend=backend)


def test_the_check_on_load_accepts_a_run_without_saved_predictions(tfidf_run):
    import shutil

    from core.scoring.scorer import Scorer

    shutil.rmtree(tfidf_run / runs.PREDICTIONS)
    assert Scorer.from_run(tfidf_run).score(["hello"])[0].text == "hello"
