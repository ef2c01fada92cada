"""Cleaning, de-duplication, balancing, splits, the report and saved versions."""

import numpy as np
import pandas as pd
import pytest

from core.data import (BalanceOptions, CleanOptions, PrepareOptions, SplitOptions, balance, clean_text,
                       find_duplicates, list_versions, load_dataset, load_version, prepare_dataset, save_version,
                       split_dataset)
from core.data.clean import clean_dataset
from core.errors import ConfigError
from core.paths import SAMPLE_MULTILABEL


@pytest.fixture(scope="module")
def sample():
    return load_dataset(SAMPLE_MULTILABEL)


def test_clean_text_placeholders_entities_and_unicode():
    text = "@bob look  at https://x.org/a?b=1 &amp;#8220;wow&#8221; &lt;3 😊 ça\n"
    assert clean_text(text) == "@USER look at [URL] \u201cwow\u201d <3 😊 ça"
    assert clean_text("mail me@example.com") == "mail me@example.com"  # an address is not a mention
    assert clean_text("a  b", CleanOptions(whitespace=False)) == "a  b"


def test_clean_dataset_reports_counts(write):
    dataset = load_dataset(write("a.csv", "text,toxic\n@x hi,0\nsee www.a.com,1\nplain,0\n"))
    cleaned, report = clean_dataset(dataset)
    assert cleaned.frame["text"].tolist() == ["@USER hi", "see [URL]", "plain"]
    assert report["urls"] == 1 and report["mentions"] == 1 and report["cells_changed"] == 2


def test_dedup_finds_crafted_groups_and_conflicts(write):
    rows = ["text,toxic",
            "The bridge opened in 1932 after years of work,0",      # 0 group A
            "the bridge  opened in 1932 after years of work,1",     # 1 exact dup of 0 (case/space), conflict
            "The bridge opened in 1932 after years of work!,0",     # 2 near dup of 0
            "Completely different sentence about frogs and rain,0",  # 3 alone
            "You are an idiot and everyone knows it,1",              # 4 group B
            "you are an idiot and everyone knows it really,1",       # 5 near dup of 4
            "Bananas,0"]                                              # 6 alone
    dataset = load_dataset(write("d.csv", "\n".join(rows) + "\n"))
    groups = find_duplicates(dataset, near_threshold=0.8)
    assert sorted(map(list, groups.groups())) == [[0, 1, 2], [4, 5]]
    assert groups.exact_pairs == 1
    assert len(groups.conflicts) == 1 and groups.conflicts[0]["rows"] == [0, 1, 2]
    exact_only = find_duplicates(dataset, near_threshold=None)
    assert [list(g) for g in exact_only.groups()] == [[0, 1]]


def test_dedup_threshold_is_validated(sample):
    with pytest.raises(ConfigError, match=r"near-duplicate threshold 1.5 must be in \(0, 1\]"):
        find_duplicates(sample, near_threshold=1.5)


def test_sample_splits_are_stratified_and_leak_free(sample):
    prepared = prepare_dataset(sample, PrepareOptions(dedup="near"))
    splits = prepared.splits
    for label in sample.labels:
        rates = [splits[s].frame[label].mean() for s in ("train", "val", "test")]
        assert max(rates) - min(rates) <= 0.02, (label, rates)
        assert min(splits[s].frame[label].sum() for s in ("val", "test")) >= 8, label
    texts = [set(splits[s].frame["text"]) for s in ("train", "val", "test")]
    assert not (texts[0] & texts[1] or texts[0] & texts[2] or texts[1] & texts[2])
    assert sum(len(splits[s].frame) for s in splits) == prepared.report["rows"]


def test_near_duplicates_never_straddle_splits_when_kept(sample):
    prepared = prepare_dataset(sample, PrepareOptions(dedup="none"))
    parts = list(prepared.splits.values())
    whole = sample.with_frame(pd.concat([p.frame for p in parts]))
    split_of = np.repeat(np.arange(3), [len(p.frame) for p in parts])
    groups = find_duplicates(whole, 0.9).groups()
    assert groups, "the sample should contain some near duplicates"
    for rows in groups:
        assert len(set(split_of[rows])) == 1, whole.frame["text"].iloc[rows].tolist()


def test_split_fractions_are_validated():
    with pytest.raises(ConfigError, match=r"sum to 1.100, not 1"):
        SplitOptions(0.8, 0.15, 0.15)
    with pytest.raises(ConfigError, match=r"split fraction val=0 must be in"):
        SplitOptions(0.9, 0, 0.1)


def test_multiclass_split_is_stratified(write):
    lines = ["text,label"] + [f"text number {i} about {'cats' if i % 3 else 'dogs'},{i % 3}" for i in range(90)]
    dataset = load_dataset(write("m.csv", "\n".join(lines) + "\n"))
    parts = split_dataset(dataset, SplitOptions(0.6, 0.2, 0.2))
    for part in parts.values():
        assert part.frame["label"].value_counts().tolist() == [6, 6, 6] or len(part.frame) == 54


def test_downsampling_keeps_every_rare_label(sample):
    balanced, report = balance(sample, BalanceOptions(downsample_majority=0.5))
    clean_before = int((sample.label_matrix().sum(1) == 0).sum())
    clean_after = int((balanced.label_matrix().sum(1) == 0).sum())
    assert clean_after == round(clean_before * 0.5)
    assert (balanced.frame[sample.labels].sum() == sample.frame[sample.labels].sum()).all()
    assert report["majority_rows_removed"] == clean_before - clean_after


def test_oversampling_raises_rare_labels(sample):
    balanced, _ = balance(sample, BalanceOptions(oversample=True, oversample_ratio=0.5))
    counts, before = balanced.frame[sample.labels].sum(), sample.frame[sample.labels].sum()
    assert counts.min() >= int(before.max() * 0.5)


def test_drop_labels_and_its_errors(sample):
    balanced, _ = balance(sample, BalanceOptions(drop_labels=["threat"]))
    assert "threat" not in balanced.labels and "threat" not in balanced.frame
    with pytest.raises(ConfigError, match=r"cannot drop unknown labels \['nope'\]"):
        balance(sample, BalanceOptions(drop_labels=["nope"]))


def test_report_has_prevalence_cooccurrence_lengths_and_tokens(sample):
    from core.models.catalog import load_tokenizer

    prepared = prepare_dataset(sample, tokenizer=load_tokenizer("minilm"))
    report = prepared.report
    assert set(report["prevalence"]) == {"all", "train", "val", "test"}
    matrix = np.array(report["cooccurrence"]["matrix"])
    assert matrix.shape == (6, 6) and (np.diag(matrix) == list(report["label_counts"]["all"].values())).all()
    assert report["lengths"]["tokens"]["p95"] > 10
    assert report["dropped"].get("duplicate", 0) == report["steps"]["dedup"]["rows_removed"] > 0


def test_save_and_load_version_round_trip(sample, isolated_dirs):
    prepared = prepare_dataset(sample)
    folder = save_version(prepared, "My Sample v1")
    assert folder.name == "my-sample-v1" and folder.parent == isolated_dirs[1]
    parts = load_version(folder)
    assert parts["train"].labels == sample.labels
    assert parts["val"].frame.equals(prepared.splits["val"].frame.astype(parts["val"].frame.dtypes))
    assert list_versions()[0]["name"] == "my-sample-v1"
    with pytest.raises(ConfigError, match=r"dataset version 'my-sample-v1' already exists"):
        save_version(prepared, "my sample v1")
