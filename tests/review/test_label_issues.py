"""Label review (issue 25): ranking seeded label errors, conflicts and outliers; decisions; the reviewed version."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.data import load_dataset
from core.data.prepare import CHANGELOG, PrepareOptions, SplitOptions, load_version, prepare_dataset, save_version
from core.errors import ConfigError, DataError
from core.paths import SAMPLE_MULTILABEL, SAMPLE_PAIRS
from core.review.decisions import REVIEW_FILE, apply_decisions, read_decisions, record_decision, version_rows
from core.review.label_issues import MAX_QUALITY, find_label_issues, issue_rows, ranked_cells


NOUNS = ["infobox", "lead", "timeline", "map", "chart", "table", "caption", "quote", "category", "template",
         "bibliography", "discography", "roster", "footnote", "gallery", "glossary", "index", "summary", "photo",
         "navbox", "stub", "section", "paragraph", "citation", "reference", "sidebar", "header", "list", "graph",
         "appendix"]
ADJECTIVES = ["stupid", "dumb", "clueless", "brainless", "pathetic", "useless", "ignorant", "hopeless"]


def separable_frame() -> pd.DataFrame:
    """Cleanly separable labelled text (the bundled sample has label noise of its own, on purpose): thanks
    (clean), insults (toxic + insult) and profanity (toxic + obscene), 420 distinct rows."""
    rows = []
    for i, first in enumerate(NOUNS):
        for second in NOUNS[i + 1:i + 8]:
            rows.append((f"thanks for fixing the {first} and the {second}, much appreciated", 0, 0, 0))
        for adjective in ADJECTIVES[:3]:
            rows.append((f"you {adjective} idiot, your {first} edit is wrong", 1, 0, 1))
            rows.append((f"this {first} crap is {adjective} damn shit", 1, 1, 0))
    return pd.DataFrame(rows, columns=["text", "toxic", "obscene", "insult"])


def noisy_sample(seed: int = 0, flips: int = 15):
    """`separable_frame` with `flips` toxic positives set to 0 and as many negatives set to 1."""
    frame = separable_frame()
    rng = np.random.default_rng(seed)
    positives = rng.choice(np.flatnonzero(frame["toxic"] == 1), flips, replace=False)
    negatives = rng.choice(np.flatnonzero(frame["toxic"] == 0), flips, replace=False)
    frame.loc[positives, "toxic"], frame.loc[negatives, "toxic"] = 0, 1
    dataset = load_dataset(frame.to_csv(index=False).encode(), name="noisy.csv", fmt="csv", kind="multilabel",
                           text_col="text", label_cols=["toxic", "obscene", "insult"])
    return dataset, set(positives.tolist()) | set(negatives.tolist())


def test_seeded_flips_rank_first_and_cleanlab_flags_them():
    dataset, flipped = noisy_sample()
    issues = find_label_issues(dataset, folds=5, seed=0)
    top = set(ranked_cells(issues, "toxic")[:len(flipped)].tolist())
    assert len(top & flipped) / len(flipped) >= 0.8  # the sample is cleanly separable: the flips stand out
    flagged = set(np.flatnonzero(issues.suspect[:, 0]).tolist())
    assert len(flagged & flipped) / len(flipped) >= 0.8 and len(flagged & flipped) / len(flagged) >= 0.6
    confident = issues.confident
    assert (confident <= issues.suspect).all() and (issues.quality[confident] < MAX_QUALITY).all() and confident.any()
    queue = issue_rows(issues, dataset.frame["text"].tolist())
    first = queue[0]
    assert set(first["confident_labels"]) <= set(first["suspect_labels"])
    assert first["types"][0] == "label" and "toxic" in first["suspect_labels"] and first["row"] in flipped
    # the suggestion flips the suspect label and keeps the others
    given = set(first["given"])
    assert set(first["suggested"]) == given ^ {"toxic"}
    assert [r["quality"] for r in queue if r["types"][0] == "label"] == sorted(
        r["quality"] for r in queue if r["types"][0] == "label")


def test_multiclass_flips_are_found_and_the_suggestion_is_the_out_of_fold_class(write):
    dataset = load_dataset(str(SAMPLE_MULTILABEL))
    frame = dataset.frame
    label = np.where(frame["identity_hate"] == 1, "hate", np.where(frame["toxic"] == 1, "offensive", "neither"))
    rng = np.random.default_rng(1)
    flipped = rng.choice(np.flatnonzero(label == "neither"), 12, replace=False)
    label[flipped] = "offensive"
    path = write("mc.csv", pd.DataFrame({"text": frame["text"], "label": label}).to_csv(index=False))
    multiclass = load_dataset(str(path))
    issues = find_label_issues(multiclass, folds=4, seed=0)
    suspects = set(np.flatnonzero(issues.suspect).tolist())
    assert len(suspects & set(flipped.tolist())) >= 9
    entry = next(r for r in issue_rows(issues, multiclass.frame["text"].tolist()) if r["row"] in set(flipped))
    assert entry["task"] == "multiclass" and entry["given"] == ["offensive"] and entry["suggested"] == ["neither"]


def test_conflicting_duplicates_and_outliers_are_queued(write):
    rows = [(f"thanks for fixing the {w} table, much appreciated", 0) for w in "abcdefghijklmnopqrst"] + \
           [(f"you are a {w} idiot and a moron", 1) for w in "abcdefghijklmnopqrst"] + \
           [("you are a total idiot and a moron", 1), ("you are a total idiot and a moron", 0),
            ("!!! ??? 123 ...", 0), ("word " * 1200, 0)]
    path = write("small.csv", pd.DataFrame(rows, columns=["text", "toxic"]).to_csv(index=False))
    dataset = load_dataset(str(path), kind="multilabel", label_cols=["toxic"])
    issues = find_label_issues(dataset, folds=3)
    queue = {r["row"]: r for r in issue_rows(issues, dataset.frame["text"].tolist())}
    assert "conflict" in queue[40]["types"] and "conflict" in queue[41]["types"]
    assert queue[40]["conflict_group"] == queue[41]["conflict_group"]
    assert queue[42]["outlier"] == "no letters" and queue[43]["outlier"].startswith("6,000 characters")


@pytest.mark.parametrize("case,match", [
    ("pairs", r"is a pairs dataset; label review needs labels"),
    ("single class", r"has a single class \('neither'\) in all 12 rows"),
    ("few rows", r"has 6 rows, fewer than 2 per fold for 5 folds. Fix: use fewer folds \(--folds 3\)"),
    ("no contrast", r"label 'toxic' has no positive rows \(all 20 are 0\), so there is nothing to learn"),
    ("one fold", r"folds=1: cross-fitting needs at least 2 folds"),
])
def test_bad_input_gets_one_clear_error(write, case, match):
    def rank():  # loading is part of the path: a file the loader refuses never reaches the ranking
        folds = 5
        if case == "pairs":
            dataset = load_dataset(str(SAMPLE_PAIRS))
        elif case == "single class":  # e.g. a filtered version: the loader saw two classes, the ranking one
            path = write("one.csv", "text,label\n" + "".join(f"row {i},{'neither' if i < 12 else 'hate'}\n"
                                                              for i in range(14)))
            dataset = load_dataset(str(path), kind="multiclass", label_col="label")
            dataset = dataset.with_frame(dataset.frame[dataset.frame["label"] == dataset.labels.index("neither")])
        elif case == "few rows":
            path = write("few.csv", "text,toxic\n" + "".join(f"row {i},{i % 2}\n" for i in range(6)))
            dataset = load_dataset(str(path), kind="multilabel", label_cols=["toxic"])
        elif case == "no contrast":
            path = write("flat.csv", "text,toxic\n" + "".join(f"row {i},0\n" for i in range(20)))
            dataset = load_dataset(str(path), kind="multilabel", label_cols=["toxic"])
        else:
            dataset, folds = load_dataset(str(SAMPLE_MULTILABEL)), 1
        find_label_issues(dataset, folds=folds)

    with pytest.raises(DataError, match=match):
        rank()


@pytest.fixture
def version(isolated_dirs):
    dataset = load_dataset(str(SAMPLE_MULTILABEL))
    prepared = prepare_dataset(dataset, PrepareOptions(split=SplitOptions(0.7, 0.15, 0.15, 42)))
    return save_version(prepared, "sample-v1")


def test_decisions_are_appended_at_once_and_the_latest_one_wins(version):
    train = load_version(version)["train"]
    old = [label for label in train.labels if int(train.frame.iloc[3][label])]
    first = record_decision(version, "train:3", "drop", reviewer="ana")
    assert first["old"] == old and first["new"] == [] and first["reviewer"] == "ana"
    record_decision(version, "train:3", "relabel", ["toxic", "insult"], reviewer="ana")
    record_decision(version, "val:0", "keep")
    with open(version / REVIEW_FILE, "a", encoding="utf-8") as handle:
        handle.write('{"id": "train:9", "action": "dr')  # a crash mid-write: the torn line is skipped
    latest = read_decisions(version)
    assert set(latest) == {"train:3", "val:0"} and latest["train:3"]["new"] == ["toxic", "insult"]
    with pytest.raises(ConfigError, match=r"row id 'train:99999' is not a row of version 'sample-v1'"):
        record_decision(version, "train:99999", "keep")
    with pytest.raises(ConfigError, match=r"label\(s\) \['spam'\] are not labels of this data"):
        record_decision(version, "train:1", "relabel", ["spam"])
    with pytest.raises(ConfigError, match=r"action 'delete' is not one of"):
        record_decision(version, "train:1", "delete")


def test_applying_writes_a_new_version_with_a_changelog_and_leaves_the_source(version, isolated_dirs):
    with pytest.raises(DataError, match="has no review decisions yet"):
        apply_decisions(version, "sample-v2")
    before = {split: part.frame.copy() for split, part in load_version(version).items()}
    record_decision(version, "train:0", "drop", reviewer="ana")
    record_decision(version, "train:1", "relabel", ["threat"], reviewer="bo")
    record_decision(version, "test:2", "keep", reviewer="bo")
    target = apply_decisions(version, "sample v2")
    assert target.name == "sample-v2" and not any(p.name.startswith(".") for p in isolated_dirs[1].iterdir())
    after = load_version(target)
    assert len(after["train"].frame) == len(before["train"]) - 1
    assert after["train"].frame["text"].tolist() == before["train"]["text"].tolist()[1:]  # row 0 dropped
    relabelled = after["train"].frame.iloc[0]  # was row 1
    assert [label for label in after["train"].labels if int(relabelled[label])] == ["threat"]
    assert after["train"].frame.iloc[1:].equals(before["train"].iloc[2:].reset_index(drop=True).iloc[:, :]
                                                .set_axis(range(1, len(before["train"]) - 1)))
    assert after["test"].frame.equals(before["test"])
    changelog = json.loads((target / CHANGELOG).read_text())
    assert changelog["source_version"] == "sample-v1" and changelog["actions"] == {"drop": 1, "relabel": 1, "keep": 1}
    assert changelog["reviewers"] == ["ana", "bo"] and "threat added" in changelog["label_changes"]
    assert json.loads((target / "dataset.json").read_text())["reviewed_from"] == "sample-v1"
    for split, frame in before.items():  # the source is never modified
        assert load_version(version)[split].frame.equals(frame)
    with pytest.raises(ConfigError, match="already exists"):
        apply_decisions(version, "sample-v2")


def test_a_relabelled_row_with_annotator_counts_trains_towards_its_new_label(isolated_dirs, write):
    from tests.training.test_soft_labels import davidson_rows

    dataset = load_dataset(write("d.csv", "\n".join(davidson_rows(60)) + "\n"))
    folder = save_version(prepare_dataset(dataset, PrepareOptions(split=SplitOptions(0.7, 0.15, 0.15, 42))), "d-v1")
    train = load_version(folder)["train"]
    assert train.spec.vote_cols and train.vote_shares() is not None  # the counts survive a saved version
    old = train.frame.iloc[0]
    new_class = next(c for c in train.labels if c != train.labels[int(old["label"])])
    record_decision(folder, "train:0", "relabel", [new_class])
    after = load_version(apply_decisions(folder, "d-v2"))["train"]
    shares = after.vote_shares()
    np.testing.assert_allclose(shares[0], np.eye(3)[after.labels.index(new_class)])  # the reviewer wins
    np.testing.assert_allclose(shares[1:], train.vote_shares()[1:])  # other rows keep their annotators' shares


def test_version_rows_ids_follow_the_split_files(version):
    dataset, ids, parts = version_rows(version)
    assert len(dataset.frame) == sum(len(p.frame) for p in parts.values()) == len(ids)
    assert ids[0] == "train:0" and ids[len(parts["train"].frame)] == "val:0"


def test_cli_ranks_a_file_or_a_version_and_writes_the_queue(capsys, tmp_path, version, write):
    from core.cli import main

    dataset, flipped = noisy_sample(flips=10)
    path = write("noisy.csv", dataset.frame.rename(columns={"text": "comment_text"}).to_csv(index=False))
    out = tmp_path / "queue.jsonl"
    assert main(["data", "issues", str(path), "--folds", "4", "--out", str(out), "--top", "2"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert "[100%] Done" in captured.err and summary["rows"] == len(separable_frame())
    assert summary["suspect_labels"]["toxic"] >= 10
    queue = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(queue) == summary["rows_with_issues"] and summary["top"] == queue[:2]
    assert len({r["row"] for r in queue if "toxic" in r["suspect_labels"]} & flipped) >= 16
    assert main(["data", "issues", str(version), "--top", "1"]) == 0  # a version: ids name the split
    assert json.loads(capsys.readouterr().out)["rows"] == sum(len(p.frame) for p in load_version(version).values())


def test_cli_bad_input_is_one_error_line(capsys, write):
    from core.cli import main

    path = write("few.csv", "text,toxic\n" + "".join(f"row {i},{i % 2}\n" for i in range(6)))
    assert main(["data", "issues", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith("error: ") and "fewer than 2 per fold" in err
    assert "Traceback" not in err


def test_noise_posterior_matches_a_hand_computation():
    from core.review.label_issues import noise_posterior

    # noise[s, y] = P(given s | true y): 10% of true positives given as 0, 2% of true negatives given as 1
    noise = np.array([[0.98, 0.10], [0.02, 0.90]])
    probs = np.array([[0.3, 0.7], [0.95, 0.05]])  # the model's probabilities of the given (noisy) labels
    given = np.array([0, 1])
    posterior = noise_posterior(given, probs, noise)
    # row 0, given 0: clean = solve(noise, [0.3, 0.7]); P(true 0 | given 0) = clean0 * 0.98 / (clean0 * 0.98 +
    # clean1 * 0.10)
    for row in range(2):
        clean = np.clip(np.linalg.solve(noise, probs[row]), 1e-6, None)
        clean /= clean.sum()
        s = given[row]
        expected = clean * noise[s] / (clean * noise[s]).sum()
        assert posterior[row] == pytest.approx(expected)
    # by hand: clean = (0.2273, 0.7727) -> 0.2273*0.98 / (0.2273*0.98 + 0.7727*0.10) = 0.742
    assert posterior[0, 0] == pytest.approx(0.742, abs=1e-3)
    # clean = (0.9659, 0.0341) -> 0.0341*0.90 / (0.9659*0.02 + 0.0341*0.90) = 0.614: the model puts 0.05 on the
    # given positive, yet it is more likely right than wrong, because true negatives are rarely given as positive
    assert posterior[1, 1] == pytest.approx(0.614, abs=1e-3)
    # a singular matrix falls back to the probabilities themselves
    assert np.array_equal(noise_posterior(given, probs, np.ones((2, 2))), probs)


def test_label_aware_probs_use_the_other_given_labels():
    from core.review.label_issues import label_aware_probs

    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, 400)
    b = a.copy()
    wrong = rng.choice(400, 12, replace=False)
    b[wrong] = 1 - b[wrong]  # b is a copy of a with 12 errors
    given = np.column_stack([a, b])
    text = np.full((400, 2), 0.5)  # a text model that knows nothing
    refined = label_aware_probs(given, text, folds=5, seed=0)
    p_given_b = np.where(b == 1, refined[:, 1], 1 - refined[:, 1])
    assert set(np.argsort(p_given_b)[:12].tolist()) == set(wrong.tolist())
    # a single label has no others to weigh against; a label rarer than the folds keeps the text probabilities
    assert np.array_equal(label_aware_probs(given[:, :1], text[:, :1]), text[:, :1])
    rare = np.column_stack([a, np.eye(400, dtype=int)[0]])
    assert np.array_equal(label_aware_probs(rare, text, folds=5)[:, 1], text[:, 1])
