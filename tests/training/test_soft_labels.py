"""Soft labels (issue 24, item 4): annotator counts per class kept by the data layer, turned into training targets,
trained on with a soft cross-entropy, refused clearly where they cannot apply."""

import json

import numpy as np
import pytest
import torch

from core import runs
from core.config import TrainConfig
from core.data import load_dataset
from core.errors import ConfigError
from core.training.classifier import PaddingCollator, training_targets, weighted_loss
from core.training.data import load_training_data
from core.training.job import run_job

HEADER = ",count,hate_speech,offensive_language,neither,class,tweet"


def davidson_rows(n: int = 60) -> list[str]:
    """Davidson-layout rows: every third row disputed (2 of 3 annotators chose the majority class)."""
    rows = [HEADER]
    words = {0: "hateful", 1: "stupid", 2: "lovely"}
    for i in range(n):
        label = i % 3
        votes = [0, 0, 0]
        votes[label] = 3
        if i % 3 == 0:  # a disputed row: one annotator chose the next class
            votes[label], votes[(label + 1) % 3] = 2, 1
        rows.append(f"{i},3,{votes[0]},{votes[1]},{votes[2]},{label},this {words[label]} tweet number {i}")
    return rows


def test_vote_columns_are_kept_and_turned_into_shares(write):
    dataset = load_dataset(write("d.csv", "\n".join(davidson_rows(6)) + "\n"))
    assert dataset.spec.vote_cols == ["hate_speech", "offensive_language", "neither"]
    assert list(dataset.frame.columns) == ["text", "label", "votes:hate_speech", "votes:offensive_language",
                                           "votes:neither"]
    shares = dataset.vote_shares()
    # row 0: class 0 with votes (2, 1, 0); row 1: class 1, unanimous
    np.testing.assert_allclose(shares[0], [2 / 3, 1 / 3, 0], rtol=1e-6)
    np.testing.assert_allclose(shares[1], [0, 1, 0])
    assert any("annotator counts" in line for line in dataset.inference)


def test_a_row_without_votes_gets_its_hard_label():
    import pandas as pd

    from core.data.schema import Dataset, DatasetSpec

    spec = DatasetSpec("multiclass", text_col="t", label_col="c", class_names=["a", "b"], vote_cols=["a", "b"])
    frame = pd.DataFrame({"text": ["x", "y", "z"], "label": [1, 0, 1], "votes:a": [1.0, 0.0, np.nan],
                          "votes:b": [3.0, 0.0, np.nan]})
    shares = Dataset(frame, spec).vote_shares()
    np.testing.assert_allclose(shares, [[0.25, 0.75], [1, 0], [0, 1]])


def test_columns_named_like_classes_that_are_not_counts_are_not_votes(write):
    text = "text,label,spam,ham\nhello,spam,yes,no\nbuy now,ham,no,yes\nok,spam,yes,no\n"
    dataset = load_dataset(write("m.csv", text))
    assert dataset.spec.vote_cols == [] and dataset.vote_shares() is None
    negative = "text,label,spam,ham\nhello,spam,-1,2\nbuy now,ham,0,2\nok,spam,1,0\n"
    assert load_dataset(write("n.csv", negative)).spec.vote_cols == []


def test_training_targets_mix_the_majority_class_and_the_shares(write):
    path = write("d.csv", "\n".join(davidson_rows()) + "\n")
    data = load_training_data(TrainConfig(data=str(path), soft_labels=0.5, test_fraction=0.0, val_fraction=0.2))
    targets = training_targets(TrainConfig(data=str(path), soft_labels=0.5), data)
    hard, shares = np.eye(3)[data.train.label_matrix()], data.train.vote_shares()
    np.testing.assert_allclose(targets, 0.5 * hard + 0.5 * shares, rtol=1e-6)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-6)
    assert (targets.max(axis=1) < 1).sum() == (shares.max(axis=1) < 1).sum() > 0
    # weight 0: the class indices themselves, so the hard-label path is unchanged
    plain = training_targets(TrainConfig(data=str(path)), data)
    assert plain.dtype == np.int64 and plain.ndim == 1


def test_soft_cross_entropy_against_a_hand_computation():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]])
    target = torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    log_softmax = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    expected = -(target * log_softmax).sum(dim=1).mean()
    assert float(weighted_loss(logits, target, "multiclass", None, None)) == pytest.approx(float(expected), 1e-6)
    # a one-hot target gives the hard-label loss
    hard = weighted_loss(logits, torch.tensor([0, 2]), "multiclass", None, None)
    one_hot = weighted_loss(logits, torch.eye(3)[[0, 2]], "multiclass", None, None)
    assert float(hard) == pytest.approx(float(one_hot), 1e-6)
    batch = PaddingCollator(0, "multiclass")([{"input_ids": [1, 2], "labels": np.array([0.5, 0.5, 0.0])},
                                              {"input_ids": [3], "labels": np.array([0.0, 0.0, 1.0])}])
    assert batch["labels"].dtype == torch.float32 and batch["labels"].shape == (2, 3)


@pytest.mark.parametrize("options, message", [
    ({"soft_labels": 1.5}, r"soft_labels=1.5 is invalid: .*must be in \[0, 1\]"),
    ({"soft_labels": 0.5, "model_kind": "tfidf"}, r"only transformer classifier runs train on soft labels"),
    ({"soft_labels": 0.5, "task": "multilabel"}, r"set it to 0 for multilabel"),
])
def test_soft_labels_settings_are_refused_with_the_fix(options, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(data="x.csv", **options)


def test_soft_labels_without_vote_columns_are_refused_before_training(write):
    path = write("m.csv", "text,label\n" + "".join(f"row {i},{'ab'[i % 2]}\n" for i in range(20)))
    with pytest.raises(ConfigError, match=r"soft_labels=1.0 needs multiclass data with one annotator-count column "
                                          r"per class.*\['a', 'b'\].*Fix: add those count columns"):
        load_training_data(TrainConfig(data=str(path), soft_labels=1.0))


def test_a_soft_label_run_trains_records_it_and_reloads(make_run, tiny_bert, write):
    from core.scoring.scorer import Scorer

    path = write("d.csv", "\n".join(davidson_rows(90)) + "\n")
    run_dir = make_run(base_model=str(tiny_bert), data=str(path), soft_labels=1.0, max_steps=4)
    assert run_job(run_dir) == "succeeded", runs.read_status(run_dir)
    metrics = json.loads((run_dir / runs.METRICS).read_text())
    assert metrics["soft_labels"]["weight"] == 1.0
    assert 0 < metrics["soft_labels"]["disputed_rows"] < metrics["soft_labels"]["rows"]
    assert "Trained on soft labels" in (run_dir / runs.CARD).read_text()
    # validation stays hard: the saved predictions' truth is class indices, the scorer reproduces them
    scorer = Scorer.from_run(run_dir)
    assert scorer.labels == ["hate_speech", "offensive_language", "neither"]
    probs = scorer.predict_proba(["this hateful tweet number 1"])
    assert probs.shape == (1, 3) and probs.sum() == pytest.approx(1.0, abs=1e-5)


def test_multiclass_runs_weigh_classes_balanced_by_default(write):
    from core.training.classifier import loss_weights

    rows = davidson_rows(60)[:1] + [r for i, r in enumerate(davidson_rows(60)[1:]) if i % 3 != 2 or i < 30]
    path = write("d.csv", "\n".join(rows) + "\n")
    config = TrainConfig(data=str(path), test_fraction=0.0, val_fraction=0.2)
    data = load_training_data(config)
    counts = np.bincount(data.train.label_matrix(), minlength=3)
    pos_weight, class_weight = loss_weights(config, data)
    assert pos_weight is None and counts[2] < counts[0]  # "neither" is the rare class here
    np.testing.assert_allclose(class_weight.numpy(), counts.sum() / (3 * counts), rtol=1e-6)
    assert loss_weights(TrainConfig(data=str(path), class_weighting="none"), data) == (None, None)


def test_the_automatic_max_length_is_the_95th_percentile_but_never_below_128():
    from core.training.classifier import choose_max_length

    class Tokenizer:  # one token per character, plus the two special tokens
        model_max_length = 512

        def __call__(self, texts, **_):
            return {"input_ids": [[0] * (len(t) + 2) for t in texts]}

    config = TrainConfig(data="x.csv")
    tweets = ["x" * n for n in range(10, 50)]  # 95th percentile about 50 tokens
    assert choose_max_length(config, Tokenizer(), tweets) == 128
    comments = ["x" * n for n in range(100, 400)]  # 95th percentile about 387 -> 392
    assert choose_max_length(config, Tokenizer(), comments) == 392
    Tokenizer.model_max_length = 64  # the model's own limit wins over the floor
    assert choose_max_length(config, Tokenizer(), tweets) == 64
    assert choose_max_length(TrainConfig(data="x.csv", max_length=32), Tokenizer(), comments) == 32
