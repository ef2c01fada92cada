"""Dataset kinds, column inference and validation errors."""

import pytest

from core.data import load_dataset
from core.errors import DataError
from tests.conftest import jigsaw_file

JIGSAW_HEADER = "id,comment_text,toxic,severe_toxic,obscene,threat,insult,identity_hate\n"


def test_jigsaw_layout_is_recognised(write):
    path = write("j.csv", JIGSAW_HEADER + "a,hello,0,0,0,0,0,0\nb,die idiot,1,1,1,1,1,1\n")
    dataset = load_dataset(path)
    assert dataset.kind == "multilabel"
    assert dataset.labels == ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
    assert list(dataset.frame.columns) == ["id", "text", *dataset.labels]
    assert any("Jigsaw layout" in line for line in dataset.inference)


def test_jigsaw_test_minus_one_rows_are_dropped_and_counted(write):
    path = write("j.csv", JIGSAW_HEADER + "a,x,-1,-1,-1,-1,-1,-1\nb,hello,0,0,0,0,0,0\nc,bad,1,1,1,1,1,1\n")
    dataset = load_dataset(path)
    assert len(dataset.frame) == 2
    assert dataset.dropped == {"unlabelled (-1)": 1}


def test_davidson_layout_is_multiclass_with_named_classes(write):
    rows = [",count,hate_speech,offensive_language,neither,class,tweet"]
    classes = [0] * 3 + [1] * 5 + [2] * 4
    rows += [f"{i},3,{int(c == 0) * 3},{int(c == 1) * 3},{int(c == 2) * 3},{c},tweet number {i}"
             for i, c in enumerate(classes)]
    dataset = load_dataset(write("davidson.csv", "\n".join(rows) + "\n"))
    assert dataset.kind == "multiclass"
    assert dataset.labels == ["hate_speech", "offensive_language", "neither"]
    assert dataset.frame["label"].value_counts().sort_index().tolist() == [3, 5, 4]
    assert dataset.frame["text"].iloc[0] == "tweet number 0"


def test_string_classes_become_sorted_indices(write):
    dataset = load_dataset(write("m.csv", "text,label\na,spam\nb,ham\nc,spam\n"))
    assert dataset.labels == ["ham", "spam"]
    assert dataset.frame["label"].tolist() == [1, 0, 1]


def test_pairs_triplets_and_qa_are_inferred(write):
    pairs = load_dataset(write("p.jsonl", '{"sentence1": "a", "sentence2": "b", "label": 1}\n'
                                          '{"sentence1": "c", "sentence2": "d", "label": 0}\n'))
    assert pairs.kind == "pairs" and list(pairs.frame.columns) == ["sentence1", "sentence2", "label"]
    triplets = load_dataset(write("t.csv", "anchor,positive,negative\na,b,c\n"))
    assert triplets.kind == "triplets"
    qa = load_dataset(write("q.jsonl", '{"q": "why?", "a": "because"}\n'), columns=None)
    assert qa.kind == "qa" and qa.frame.iloc[0].tolist() == ["why?", "because"]


def test_missing_column_names_the_columns_and_the_fix(write):
    with pytest.raises(DataError, match=r"column 'body' not found\. Columns in the file: \['text', 'toxic'\]"
                                         r".*--text-col"):
        load_dataset(write("a.csv", "text,toxic\nhi,0\nyo,1\n"), text_col="body")


def test_empty_texts_fail_with_rows_or_are_dropped(write):
    path = write("a.csv", "text,toxic\nhello,0\n,1\n   ,1\nbad,1\n")
    with pytest.raises(DataError, match=r"column 'text' has 2 empty or missing texts \(data rows 2, 3\).*--drop-empty"):
        load_dataset(path)
    dataset = load_dataset(path, drop_empty=True)
    assert len(dataset.frame) == 2 and dataset.dropped == {"empty text": 2}


def test_label_outside_zero_one(write):
    with pytest.raises(DataError, match=r"label column 'toxic' has values \[2\] outside \{0, 1\} \(data rows 2\)"):
        load_dataset(write("a.csv", "text,toxic\nhi,0\nyo,2\nho,1\n"), label_cols=["toxic"])


def test_non_numeric_label(write):
    with pytest.raises(DataError, match=r"label column 'toxic' holds non-numeric values \['yes'\]"):
        load_dataset(write("a.csv", "text,toxic\nhi,0\nyo,yes\n"), label_cols=["toxic"])


def test_label_without_positives(write):
    with pytest.raises(DataError, match=r"label 'threat' has no positive rows.*--drop-labels threat"):
        load_dataset(write("a.csv", "text,toxic,threat\nhi,0,0\nyo,1,0\n"))


def test_single_class(write):
    with pytest.raises(DataError, match=r"has a single class \('spam'\)"):
        load_dataset(write("a.csv", "text,label\na,spam\nb,spam\n"))


def test_duplicate_ids_but_empty_ids_are_fine(write):
    load_dataset(write("ok.csv", "id,text,toxic\n,a,0\n,b,1\nx,c,1\n"))
    with pytest.raises(DataError, match=r"column 'id' has 1 duplicated ids, e.g. \['x'\] \(data rows 1, 3\)"):
        load_dataset(write("dup.csv", "id,text,toxic\nx,a,0\ny,b,1\nx,c,1\n"))


def test_unknown_kind_and_uninferable_layout(write):
    with pytest.raises(DataError, match=r"Unknown dataset kind 'binary'"):
        load_dataset(write("a.csv", "text,toxic\na,0\n"), kind="binary")
    with pytest.raises(DataError, match=r"Cannot tell the dataset kind from the columns \['foo', 'bar'\]"):
        load_dataset(write("b.csv", "foo,bar\nx,y\n"))


def test_shared_jigsaw_train_is_read_with_its_prevalences():
    dataset = load_dataset(jigsaw_file("train.csv"))
    assert len(dataset.frame) == 18716
    prevalence = dataset.frame[dataset.labels].mean()
    assert 0.36 < prevalence["toxic"] < 0.38 and prevalence["threat"] < prevalence["insult"]
