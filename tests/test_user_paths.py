"""Paths users of the seed systems take (issue 21, item 3): each worked only with a traceback, or not at all."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core import runs
from core.cli import main
from tests.conftest import ROOT


def three_classes(write, rows: int = 60):
    lines = []
    for i in range(rows):
        label = ["neither", "offensive", "hate"][i % 3]
        word = {"neither": "lovely", "offensive": "stupid", "hate": "hateful"}[label]
        lines.append(f"this {word} remark number {i} on the article,{label}")
    return write("mc.csv", "\n".join(["text,label", *lines]) + "\n")


def test_fine_tuning_a_model_that_has_a_head_of_another_size(make_run, tiny_deberta, tmp_path, write):
    from transformers import AutoTokenizer, DebertaV2ForSequenceClassification

    from core.training.job import run_job

    nli = tmp_path / "tiny-nli"  # like an NLI model: a DeBERTa-v2 with a 2-label classification head
    DebertaV2ForSequenceClassification.from_pretrained(tiny_deberta, num_labels=2).save_pretrained(nli)
    AutoTokenizer.from_pretrained(tiny_deberta).save_pretrained(nli)
    run_dir = make_run(base_model=str(nli), data=str(three_classes(write)), task="multiclass", pooling="cls")
    assert run_job(run_dir) == "succeeded", runs.read_status(run_dir)
    meta = runs.read_model_meta(run_dir)
    assert meta["labels"] == ["hate", "neither", "offensive"]


def test_head_reinitialisation_is_logged(tiny_deberta, tmp_path, write, capfd):
    from transformers import AutoTokenizer, DebertaV2ForSequenceClassification

    from core.config import TrainConfig
    from core.training.classifier import load_base
    from core.training.data import load_training_data

    nli = tmp_path / "tiny-nli"
    DebertaV2ForSequenceClassification.from_pretrained(tiny_deberta, num_labels=2).save_pretrained(nli)
    AutoTokenizer.from_pretrained(tiny_deberta).save_pretrained(nli)
    config = TrainConfig(base_model=str(nli), data=str(three_classes(write)), pooling="cls")
    _, model = load_base(config, load_training_data(config))
    assert model.config.num_labels == 3 and model.classifier.out_features == 3
    err = capfd.readouterr().err
    assert "re-initialised" in err and "classifier.weight" in err


def test_evaluate_a_dataset_version_and_its_id_labelled_files(capsys, make_run, write, tmp_path):
    from core.training.job import run_job

    source = three_classes(write, 90)
    version = tmp_path / "version"
    assert main(["data", "prepare", str(source), "--out", str(version), "--dedup", "none"]) == 0
    run_dir = make_run(model_kind="tfidf", data=str(version))
    assert run_job(run_dir) == "succeeded"
    capsys.readouterr()
    assert main(["evaluate", "--run", run_dir.name, "--data", str(version)]) == 0
    whole = json.loads(capsys.readouterr().out)
    trained = json.loads((run_dir / runs.METRICS).read_text())["test"]
    assert whole["data"] == "version (test split)" and whole["macro_f1"] == trained["macro_f1"]
    assert pd.read_csv(version / "test.csv")["label"].dtype.kind == "i"  # the version's file holds class ids
    assert main(["evaluate", "--run", run_dir.name, "--data", str(version / "test.csv")]) == 0
    by_file = json.loads(capsys.readouterr().out)
    assert by_file["macro_f1"] == trained["macro_f1"] and by_file["rows"] == trained["rows"]


def test_evaluate_an_sbert_run_without_a_head_with_the_base_model(capsys, make_run, tiny_sbert):
    from core.training.job import run_job

    run_dir = make_run(model_kind="sbert", base_model=str(tiny_sbert), data=str(ROOT / "data" / "qa_sample.jsonl"),
                       max_steps=2)
    assert run_job(run_dir) == "succeeded", runs.read_status(run_dir)
    capsys.readouterr()
    assert main(["evaluate", "--run", run_dir.name, "--data", str(ROOT / "data" / "qa_sample.jsonl"),
                 "--compare-base"]) == 0
    result = json.loads(capsys.readouterr().out)
    for model in ("fine_tuned", "base"):
        retrieval = result[model]["retrieval"]
        assert {"ndcg@10", "mrr@10", "recall@100", "precision@1", "precision@10"} <= set(retrieval)
        assert 0 < retrieval["recall@100"] <= 1 and retrieval["precision@10"] <= retrieval["precision@1"] + 1e-9
    pairs = ROOT / "data" / "pairs_sample.jsonl"
    assert main(["evaluate", "--run", run_dir.name, "--data", str(pairs)]) == 0
    pair = json.loads(capsys.readouterr().out)["fine_tuned"]["pair_classification"]  # 0/1 pairs
    assert {"best_f1", "accuracy", "precision", "recall", "average_precision"} <= set(pair) and pair["pairs"] == 60
    assert main(["evaluate", "--run", run_dir.name, "--data", str(ROOT / "data" / "sample.csv")]) == 2
    assert "has no classification head" in capsys.readouterr().err


def test_pair_metrics_at_the_best_f1_threshold_by_hand():
    from core.evaluation.embeddings import pair_classification_metrics

    sims = np.array([0.9, 0.8, 0.7, 0.4, 0.3, 0.2])
    labels = np.array([1, 1, 0, 1, 0, 0])
    got = pair_classification_metrics(sims, labels)
    # cut at 0.55 flags the first three: tp 2, fp 1, fn 1 -> F1 2/3; the cut at 0.35 flags four: tp 3, fp 1 -> 6/7
    assert got["best_f1"] == pytest.approx(6 / 7, abs=1e-6) and got["best_threshold"] == pytest.approx(0.35)
    assert got["precision"] == pytest.approx(3 / 4) and got["recall"] == 1.0
    assert got["accuracy"] == pytest.approx(5 / 6, abs=1e-6)


def test_recall_at_100_and_precision_at_k_by_hand():
    from core.evaluation.retrieval import ranking_metrics

    ranked = np.array([list(range(120))])
    got = ranking_metrics(ranked[:, :100], [{0, 4, 50, 110}])
    assert got["recall@100"] == pytest.approx(3 / 4) and got["recall@5"] == pytest.approx(2 / 4)
    assert got["precision@1"] == 1.0 and got["precision@5"] == pytest.approx(2 / 5)
    assert got["precision@10"] == pytest.approx(2 / 10)


def test_drop_labels_on_multiclass_drops_the_classes_and_their_rows(capsys, write, tmp_path):
    source = three_classes(write, 90)
    out = tmp_path / "v"
    assert main(["data", "prepare", str(source), "--out", str(out), "--drop-labels", "hate", "--dedup", "none"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["dropped"] == {"class 'hate' (dropped)": 30}
    spec = json.loads((out / "dataset.json").read_text())["spec"]
    assert spec["class_names"] == ["neither", "offensive"]
    labels = pd.concat(pd.read_csv(out / f"{s}.csv") for s in ("train", "val", "test"))["label"]
    assert sorted(labels.unique()) == [0, 1] and len(labels) == 60
    assert main(["data", "prepare", str(source), "--out", str(out), "--drop-labels", "hate", "neither"]) == 2
    assert "at least two" in capsys.readouterr().err


def test_train_flags_for_what_the_config_holds(capsys, write, monkeypatch):
    from core.cli import _train_config, build_parser

    args = build_parser().parse_args(["train", "--data", "x.csv", "--val-fraction", "0.2", "--test-fraction", "0",
                                      "--oversample", "--no-clean", "--downsample-majority", "0.5",
                                      "--n-clusters", "4"])
    config = _train_config(args)
    assert (config.val_fraction, config.test_fraction, config.oversample, config.clean,
            config.downsample_majority, config.n_clusters) == (0.2, 0.0, True, False, 0.5, 4)


def test_oversample_and_downsample_change_the_training_split(write):
    from core.config import TrainConfig
    from core.training.data import load_training_data

    path = ROOT / "data" / "sample.csv"
    # without the identity sentences (added after balancing, every label 0), to count the balanced rows alone
    base = dict(data=str(path), identity_augmentation=False)
    plain = load_training_data(TrainConfig(**base))
    fewer = load_training_data(TrainConfig(**base, downsample_majority=0.5))
    more = load_training_data(TrainConfig(**base, oversample=True))
    clean_rows = (plain.train.label_matrix().sum(axis=1) == 0).sum()
    assert (fewer.train.label_matrix().sum(axis=1) == 0).sum() == pytest.approx(clean_rows / 2, abs=1)
    assert len(more.train.frame) > len(plain.train.frame)
    assert len(fewer.val.frame) == len(plain.val.frame)  # only the training split is rebalanced


def test_n_clusters_sets_the_k_of_the_clustering_evaluation():
    from core.evaluation.embeddings import clustering_metrics

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(40, 8))
    classes = np.array([0, 1] * 20)
    assert clustering_metrics(vectors, classes)["k"] == 2
    assert clustering_metrics(vectors, classes, n_clusters=5)["k"] == 5


@pytest.mark.parametrize("command", [["evaluate"], ["audit", "--no-robustness"], ["calibrate"]])
def test_a_file_without_the_runs_label_columns_is_refused_in_the_runs_words(capsys, tfidf_run, tmp_path, command):
    frame = pd.read_csv(ROOT / "data" / "sample.csv").drop(columns=["threat", "insult"])
    path = tmp_path / "fewer.csv"
    frame.to_csv(path, index=False)
    capsys.readouterr()
    assert main([*command[:1], "--run", tfidf_run.name, "--data", str(path), *command[1:]]) == 2
    err = capsys.readouterr().err
    assert "has no column for the run's label(s) ['threat', 'insult']" in err and "--label-cols" not in err
    assert len(err.strip().splitlines()) == 1
