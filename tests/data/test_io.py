"""Reading files: formats, encodings and every malformed input with its message."""

import pandas as pd
import pytest

from core.data import load_dataset, read_table, write_table
from core.errors import DataError

GOOD = "id,comment_text,toxic,insult\n1,hello there,0,0\n2,you idiot,1,1\n3,nice work,0,0\n"


def test_reads_csv_with_text_that_looks_like_missing_values(write):
    path = write("a.csv", "text,toxic\nNA,0\nnull,1\n")
    frame = read_table(path).frame
    assert frame["text"].tolist() == ["NA", "null"]


def test_latin1_file_loads_with_a_warning(write):
    path = write("latin.csv", "text,toxic\ncaf\xe9 cr\xe8me,0\nna\xefve idiot,1\n".encode("latin-1"))
    table = read_table(path)
    assert table.frame["text"].tolist() == ["café crème", "naïve idiot"]
    assert table.encoding == "cp1252"
    assert any("not valid UTF-8" in w for w in table.warnings)


def test_utf8_with_emoji_and_bom_is_kept_verbatim(write):
    path = write("u.csv", "\ufefftext,toxic\nlove it 😊,0\nça va ✓,1\n")
    assert read_table(path).frame["text"].tolist() == ["love it 😊", "ça va ✓"]


@pytest.mark.parametrize("name, content, match", [
    ("empty.csv", "", r"the file is empty"),
    ("blank.csv", "  \n\n", r"the file is empty"),
    ("header.csv", "id,text,toxic\n", r"has a header \(id, text, toxic\) but no data rows"),
    ("bin.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", r"binary data \(NUL bytes\)"),
    ("garbage.csv", bytes(range(128, 160)) * 40, r"neither UTF-8 nor Latin-1/cp1252"),
    ("semi.csv", "text;toxic\nhello;0\nbye;1\n", r"looks delimited by ';'.*--delimiter ';'"),
    ("quote.csv", 'text,toxic\n"hello,0\nbye,1\n', r"unterminated quote.*row"),
    ("fields.csv", "text,toxic\nhello,0\nbye,1,2,3\n", r"line 3 has 4 fields but the header has 2"),
    ("data.xlsx", "whatever", r"cannot tell the format from the extension '.xlsx'"),
    ("bad.jsonl", '{"text": "a", "toxic": 0}\n{"text": oops}\n', r"line 2 is not valid JSON"),
    ("list.jsonl", '[1, 2]\n', r"record\(s\) \[1, 2\] are not JSON objects"),
    ("fake.parquet", "not parquet at all", r"not a Parquet file"),
])
def test_malformed_files_fail_with_a_clear_message(write, name, content, match):
    with pytest.raises(DataError, match=match):
        read_table(write(name, content))


def test_missing_file():
    with pytest.raises(DataError, match=r"no such file"):
        read_table("does/not/exist.csv")


def test_size_limit_for_paths_and_uploads(write):
    path = write("big.csv", GOOD * 100)
    with pytest.raises(DataError, match=r"MB is over the 0 MB limit.*--max-size-mb"):
        read_table(path, max_bytes=1000)
    with pytest.raises(DataError, match=r"upload.csv: .* over the"):
        read_table(path.read_bytes(), name="upload.csv", max_bytes=1000)


def test_explicit_delimiter(write):
    path = write("semi.csv", "text;toxic\nhello;0\nbye;1\n")
    assert read_table(path, delimiter=";").frame.shape == (2, 2)


def test_unnamed_index_column_is_dropped_with_a_note(write):
    path = write("d.csv", ",text,toxic\n0,hello,0\n1,bye,1\n")
    table = read_table(path)
    assert list(table.frame.columns) == ["text", "toxic"]
    assert "Unnamed: 0" in table.warnings[0]


@pytest.mark.parametrize("suffix", ["csv", "tsv", "jsonl", "parquet"])
def test_round_trip_through_every_format(write, tmp_path, suffix):
    original = load_dataset(write("a.csv", GOOD)).frame
    path = write_table(original, tmp_path / f"out.{suffix}")
    again = load_dataset(path).frame
    pd.testing.assert_frame_equal(original, again, check_dtype=False)


def test_bytes_upload_reads_like_a_path(write):
    path = write("a.csv", GOOD)
    assert read_table(path.read_bytes(), name="a.csv").frame.equals(read_table(path).frame)
