"""Token-budget batches, bucketed padding widths and the learning-rate rule (issue 28's CPU-checkable parts), and
a tiny-BERT job trained with them, resumed from a checkpoint to the same weights."""

import json
import math
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import runs
from core.config import TrainConfig
from core.errors import ConfigError
from core.training.batching import TokenBudgetBatchSampler, round_width, scaled_learning_rate
from core.training.classifier import PaddingCollator, default_learning_rate
from core.training.job import run_job


@pytest.mark.parametrize("width,multiple,cap,wanted", [
    (37, 64, 256, 64), (64, 64, 256, 64), (65, 64, 256, 128), (200, 64, 230, 230), (37, None, 256, 37),
    (37, 1, 256, 37), (9, 8, None, 16), (230, 64, 230, 230),
])
def test_widths_round_up_to_a_bucket_never_past_the_max_length(width, multiple, cap, wanted):
    assert round_width(width, multiple, cap) == wanted


def test_the_learning_rate_follows_the_square_root_of_the_rows():
    assert scaled_learning_rate(1e-4, 16) == pytest.approx(1e-4)
    assert scaled_learning_rate(1e-4, 64) == pytest.approx(2e-4)
    assert scaled_learning_rate(2e-5, 4) == pytest.approx(1e-5)
    with pytest.raises(ValueError, match="rows per step must be positive, got 0"):
        scaled_learning_rate(1e-4, 0)


@settings(max_examples=60, deadline=None)
@given(lengths=st.lists(st.integers(1, 300), min_size=1, max_size=400), budget=st.integers(64, 5000),
       multiple=st.sampled_from([None, 8, 64]), seed=st.integers(0, 5))
def test_every_row_once_an_epoch_and_no_batch_over_the_budget(lengths, budget, multiple, seed):
    lengths = np.array(lengths)
    sampler = TokenBudgetBatchSampler(lengths, budget, seed, multiple, max_length=300)
    for _ in range(2):
        expected = len(sampler)
        batches = list(sampler)
        assert len(batches) == expected
        assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
        for batch in batches:
            padded = len(batch) * round_width(int(lengths[batch].max()), multiple, 300)
            assert padded <= budget or len(batch) == 1  # a row over the budget goes alone


def test_batches_hold_many_short_rows_or_few_long_ones_and_little_padding():
    rng = np.random.default_rng(0)
    lengths = np.concatenate([rng.integers(5, 30, 3000), rng.integers(200, 256, 300)])
    sampler = TokenBudgetBatchSampler(lengths, 4096, seed=1, pad_multiple=8, max_length=256)
    batches = list(sampler)
    rows = [len(b) for b in batches]
    assert max(rows) >= 128 and min(rows) <= 16  # 4096 tokens: 128 rows of 32 tokens, 16 of 256
    padded = sum(len(b) * round_width(int(lengths[b].max()), 8, 256) for b in batches)
    # against 16 random rows a batch (20% of the padded tokens real here), rows share a width with their like
    order = rng.permutation(len(lengths))
    plain = sum(16 * int(lengths[order[i:i + 16]].max()) for i in range(0, len(order), 16))
    assert lengths.sum() / padded > 0.85 and lengths.sum() / plain < 0.25
    assert sampler.mean_rows() == pytest.approx(len(lengths) / len(batches))


def test_the_order_is_seeded_differs_by_epoch_and_replays_on_resume():
    lengths = np.random.default_rng(3).integers(1, 128, 500)
    first = TokenBudgetBatchSampler(lengths, 1024, seed=7)
    epoch0, epoch1 = list(first), list(first)
    assert epoch0 != epoch1
    again = TokenBudgetBatchSampler(lengths, 1024, seed=7)
    assert list(again) == epoch0
    resumed = TokenBudgetBatchSampler(lengths, 1024, seed=7)
    resumed.set_epoch(1)  # what the Trainer does when it resumes in the second epoch
    assert list(resumed) == epoch1
    assert list(TokenBudgetBatchSampler(lengths, 1024, seed=8)) != epoch0


def test_the_collator_pads_to_the_bucket():
    collate = PaddingCollator(0, "multilabel", pad_multiple=16, max_length=40)
    batch = collate([{"input_ids": [1] * 5, "labels": np.array([1, 0])}, {"input_ids": [1] * 17,
                                                                          "labels": np.array([0, 0])}])
    assert tuple(batch["input_ids"].shape) == (2, 32) and batch["attention_mask"].sum() == 22
    assert tuple(PaddingCollator(0, "multilabel", 16, 40)([{"input_ids": [1] * 38}])["input_ids"].shape) == (1, 40)


@pytest.mark.parametrize("values,match", [
    ({"batch_tokens": 10}, r"batch_tokens=10 is invalid: must be >= 64"),
    ({"batch_tokens": 4096, "model_kind": "tfidf"}, r"batch_tokens=4096 is invalid: applies to classifier runs"),
    ({"pad_multiple": 0}, r"pad_multiple=0 is invalid: must be in \[1, 512\]"),
    ({"pad_multiple": 64, "model_kind": "sbert"}, r"pad_multiple=64 is invalid: applies to classifier runs"),
    ({"batch_tokens": "4096"}, r"batch_tokens='4096' is invalid: must be a whole number \(or null\)"),
])
def test_bad_batching_options_are_refused(values, match):
    with pytest.raises(ConfigError, match=match):
        TrainConfig.from_dict({"data": "x.csv", **values})


def test_a_token_batch_job_trains_records_its_batching_and_resumes_to_the_same_weights(make_run, tiny_bert,
                                                                                      isolated_dirs):
    from safetensors.numpy import load_file

    options = dict(base_model=str(tiny_bert), batch_tokens=512, pad_multiple=16, max_steps=6, eval_steps=3,
                   save_total_limit=3)
    whole = make_run(run_name="whole", **options)
    assert run_job(whole) == "succeeded", (whole / runs.STATUS).read_text()
    batching = json.loads((whole / runs.METRICS).read_text())["batching"]
    assert batching["batch_tokens"] == 512 and batching["pad_multiple"] == 16 and batching["mean_rows"] > 8
    from transformers import AutoModel

    base_lr = default_learning_rate(AutoModel.from_pretrained(tiny_bert))
    assert batching["learning_rate"] == pytest.approx(base_lr * math.sqrt(batching["mean_rows"] / 16))
    # a second run stopped at step 3: its checkpoint copied in, then resumed
    resumed = make_run(run_name="resumed", **options)
    (resumed / runs.CHECKPOINTS).mkdir(parents=True, exist_ok=True)
    shutil.copytree(whole / runs.CHECKPOINTS / "checkpoint-3", resumed / runs.CHECKPOINTS / "checkpoint-3")
    assert run_job(resumed, resume=True) == "succeeded", (resumed / runs.STATUS).read_text()
    a = load_file(whole / runs.CHECKPOINTS / "checkpoint-6" / "model.safetensors")
    b = load_file(resumed / runs.CHECKPOINTS / "checkpoint-6" / "model.safetensors")
    assert a.keys() == b.keys()
    assert max(float(np.abs(a[k] - b[k]).max()) for k in a) < 1e-6


def test_token_batches_train_under_two_process_ddp(make_run, tiny_bert):
    from tests.training.test_jobs import run_two_processes

    run_dir = make_run(base_model=str(tiny_bert), num_processes=2, max_steps=4, eval_steps=2, batch_tokens=512,
                       pad_multiple=16)
    metrics = run_two_processes(run_dir)
    assert metrics["global_step"] == 4 and metrics["batching"]["batch_tokens"] == 512
    assert metrics["val"]["rows"] == metrics["rows"]["val"]  # every validation row predicted once
