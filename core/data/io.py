"""Reading tables (CSV, TSV, JSONL, Parquet) from a path or uploaded bytes, with clear errors.

Every failure a user can cause becomes a `DataError` that names the file, shows what was found and
says how to fix it. Text files are decoded as UTF-8; a file that is not UTF-8 but decodes as
cp1252/Latin-1 loads with a warning; anything else (binary garbage) fails.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core.errors import DataError

DEFAULT_MAX_BYTES = 500 * 1024 * 1024
FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
           ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet", ".txt": "csv"}
_OTHER_DELIMITERS = {";": "';'", "\t": "a tab", "|": "'|'"}
_FIELDS_RE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_EOF_RE = re.compile(r"EOF inside string starting (?:at|on) (?:row|line) (\d+)")


@dataclass
class RawTable:
    """A table as read from a file, before any dataset interpretation."""

    frame: pd.DataFrame
    name: str
    fmt: str
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)


def read_table(
    source: str | Path | bytes,
    *,
    name: str | None = None,
    fmt: str | None = None,
    delimiter: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> RawTable:
    """Read a CSV/TSV/JSONL/Parquet table from a path or from bytes (an upload).

    Args:
        source: a file path, or the file's bytes.
        name: display name (and format hint by suffix) when `source` is bytes.
        fmt: `csv`, `tsv`, `jsonl` or `parquet`; inferred from the file name when omitted.
        delimiter: override the CSV delimiter.
        max_bytes: files larger than this are refused before they are read.

    Returns:
        A `RawTable` with the frame and any warnings (for example a Latin-1 fallback).

    Raises:
        DataError: missing/empty/oversized/binary file, unknown format, malformed rows.
    """
    raw, name = read_bytes(source, name, max_bytes)
    fmt = format_of(name, fmt)
    if not raw.strip():
        raise DataError(f"{name}: the file is empty. Fix: choose a file with a header row and data rows.")
    if fmt == "parquet":
        return RawTable(_read_parquet(raw, name, max_bytes), name, fmt)
    text, encoding, warnings = decode_text(raw, name)
    frame = _read_jsonl(text, name) if fmt == "jsonl" else _read_csv(text, name, fmt, delimiter)
    frame, dropped_index = _drop_index_columns(frame)
    if dropped_index:
        warnings.append(f"Ignored unnamed index column(s): {', '.join(dropped_index)}.")
    return RawTable(frame, name, fmt, encoding, warnings)


def read_bytes(source: str | Path | bytes, name: str | None, max_bytes: int) -> tuple[bytes, str]:
    """The bytes of a path or upload and its display name; missing or oversized files are a `DataError`."""
    limit_mb = max_bytes / 2**20
    if isinstance(source, (bytes, bytearray)):
        name = name or "upload"
        if len(source) > max_bytes:
            raise DataError(f"{name}: {len(source) / 2**20:.1f} MB is over the {limit_mb:.0f} MB limit. "
                            "Fix: split the file, or raise the limit (`data inspect/prepare --max-size-mb`).")
        return bytes(source), name
    path = Path(source)
    name = name or str(path)
    if not path.is_file():
        raise DataError(f"{name}: no such file. Fix: check the path (working folder: {Path.cwd()}).")
    size = path.stat().st_size
    if size > max_bytes:
        raise DataError(f"{name}: {size / 2**20:.1f} MB is over the {limit_mb:.0f} MB limit. "
                        "Fix: split the file, or raise the limit (`data inspect/prepare --max-size-mb`).")
    return path.read_bytes(), name


def format_of(name: str, fmt: str | None) -> str:
    """`fmt` if given (validated), else the format named by the file's extension."""
    if fmt:
        if fmt not in {"csv", "tsv", "jsonl", "parquet"}:
            raise DataError(f"Unknown format {fmt!r}. Fix: use one of csv, tsv, jsonl, parquet.")
        return fmt
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise DataError(f"{name}: cannot tell the format from the extension {suffix or '(none)'!r}. "
                        f"Fix: use one of {', '.join(sorted(FORMATS))}, or pass the format explicitly.")
    return FORMATS[suffix]


def decode_text(raw: bytes, name: str) -> tuple[str, str, list[str]]:
    """(text, encoding, warnings): UTF-8/UTF-16, else cp1252/Latin-1 with a warning; binary data is a `DataError`."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError as exc:  # a UTF-16 byte-order mark followed by something else
            raise DataError(f"{name}: the file starts like UTF-16 text but is not (bad bytes at offset {exc.start}). "
                            "Fix: export the data as UTF-8 CSV, JSONL or Parquet.") from None
    if b"\x00" in raw[:65536]:
        raise DataError(f"{name}: the file contains binary data (NUL bytes), not text. "
                        "Fix: export the data as UTF-8 CSV, JSONL or Parquet.")
    try:
        return raw.decode("utf-8-sig"), "utf-8", []
    except UnicodeDecodeError as exc:
        bad_at = exc.start
    for encoding in ("cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _control_ratio(text) > 0.01:
            break
        return text, encoding, [
            f"{name} is not valid UTF-8 (first bad byte at offset {bad_at}); read it as {encoding}. "
            "Check accented characters; re-save the file as UTF-8 to silence this warning."]
    raise DataError(f"{name}: the file is neither UTF-8 nor Latin-1/cp1252 text (bad byte at offset {bad_at}). "
                    "Fix: export the data as UTF-8 CSV, JSONL or Parquet.")


def _control_ratio(text: str) -> float:
    sample = text[:65536]
    controls = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r") or 0x80 <= ord(ch) < 0xA0)
    return controls / max(len(sample), 1)


def _read_csv(text: str, name: str, fmt: str, delimiter: str | None) -> pd.DataFrame:
    sep = delimiter or ("\t" if fmt == "tsv" else ",")
    try:
        # keep_default_na=False: a comment reading "NA" or "null" is text, not a missing value.
        frame = pd.read_csv(io.StringIO(text), sep=sep, keep_default_na=False, na_values=[""],
                            engine="c", low_memory=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"{name}: the file has no header row. Fix: add a header naming the columns.") from None
    except pd.errors.ParserError as exc:
        raise DataError(explain_parser_error(name, str(exc), sep)) from None
    refuse_duplicate_columns(header_names(text, sep), name)
    if frame.shape[1] == 1:
        header = str(frame.columns[0])
        for other, label in _OTHER_DELIMITERS.items():
            if other != sep and other in header:
                raise DataError(
                    f"{name}: only one column was found ({header[:60]!r}); the file looks delimited by {label}, "
                    f"not {_OTHER_DELIMITERS.get(sep, repr(sep))}. "
                    f"Fix: pass the delimiter (--delimiter {other!r}) or re-save the file comma-separated.")
    if frame.empty:
        raise DataError(f"{name}: the file has a header ({', '.join(map(str, frame.columns[:8]))}) but no data rows. "
                        "Fix: add rows below the header.")
    return frame


def header_names(text: str, sep: str) -> list[str]:
    """The header row's names as written (pandas renames a repeated `toxic` to `toxic.1`)."""
    first = next(csv.reader(io.StringIO(text[:1_000_000]), delimiter=sep), [])
    return [name.strip() for name in first]


def refuse_duplicate_columns(names, name: str) -> None:
    """Raise `DataError` naming the columns that appear twice (pandas would silently rename one `toxic.1`)."""
    counts = pd.Series([str(n) for n in names]).value_counts()
    repeated = sorted(counts[counts > 1].index)
    if repeated:
        raise DataError(f"{name}: the column name(s) {repeated} appear more than once in the header. "
                        "Fix: give every column a unique name.")


def explain_parser_error(name: str, message: str, sep: str) -> str:
    """A pandas CSV parser message as one line that says where the file is broken and how to fix it."""
    if match := _EOF_RE.search(message):
        return (f"{name}: unterminated quote: a quoted field starting at row {match.group(1)} never closes. "
                "Fix: close the quote or escape quotes inside text as \"\".")
    if match := _FIELDS_RE.search(message):
        expected, line, saw = match.groups()
        return (f"{name}: line {line} has {saw} fields but the header has {expected}. "
                f"Fix: quote text that contains the delimiter {sep!r}, or check the delimiter.")
    return f"{name}: cannot parse the file ({message.strip()}). Fix: check quoting and the delimiter."


def _read_jsonl(text: str, name: str) -> pd.DataFrame:
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            records = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise DataError(f"{name}: invalid JSON at line {exc.lineno}: {exc.msg}. Fix: repair the JSON.") from None
    else:
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DataError(f"{name}: line {number} is not valid JSON ({exc.msg}): {line[:80]!r}. "
                                "Fix: one JSON object per line (JSON Lines).") from None
    bad = [i for i, record in enumerate(records, start=1) if not isinstance(record, dict)]
    if bad:
        raise DataError(f"{name}: record(s) {bad[:5]} are not JSON objects. "
                        "Fix: write one object per line, e.g. {\"text\": \"...\", \"label\": 0}.")
    if not records:
        raise DataError(f"{name}: the file holds no records. Fix: add one JSON object per line.")
    return pd.DataFrame.from_records(records)


def check_parquet_size(raw: bytes, name: str, max_bytes: int) -> None:
    """Refuse a Parquet file whose decoded data would exceed `max_bytes` (a few KB can decode to gigabytes).

    Raises:
        DataError: the footer cannot be read, or the uncompressed size is over the limit.
    """
    import pyarrow.parquet as pq

    # The footer's sizes count dictionary-encoded bytes (2,000 copies of one long text are stored once), so the
    # data is decoded in small batches and measured, stopping as soon as it passes the limit.
    decoded = 0
    try:
        for batch in pq.ParquetFile(io.BytesIO(raw)).iter_batches(batch_size=1024):
            decoded += batch.nbytes
            if decoded > max_bytes:
                break
    except Exception as exc:  # a truncated file has no readable footer; pyarrow raises several types
        raise DataError(f"{name}: not a readable Parquet file ({str(exc)[:200]}). Fix: re-export it.") from None
    if decoded > max_bytes:
        raise DataError(f"{name}: the Parquet data decodes to more than {max_bytes / 2**20:.0f} MB (the limit). "
                        "Fix: split the file, or raise the limit (`data inspect/prepare --max-size-mb`).")


def _read_parquet(raw: bytes, name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> pd.DataFrame:
    if not raw.startswith(b"PAR1"):
        raise DataError(f"{name}: not a Parquet file (missing PAR1 magic bytes). "
                        "Fix: check the file, or give it the extension of its real format.")
    check_parquet_size(raw, name, max_bytes)
    try:
        frame = pd.read_parquet(io.BytesIO(raw))
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise DataError(f"{name}: cannot read the Parquet file ({exc}). Fix: re-export it.") from None
    refuse_duplicate_columns(frame.columns, name)
    if frame.empty:
        raise DataError(f"{name}: the Parquet file has columns but no rows. Fix: add rows.")
    return frame


def _drop_index_columns(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Drop pandas' `Unnamed: 0`-style index columns (as in the Davidson hate-speech CSV)."""
    dropped = [str(c) for c in frame.columns if str(c).startswith("Unnamed:")]
    return frame.drop(columns=dropped), dropped


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write `frame` as CSV, TSV, JSONL or Parquet chosen by the file extension."""
    path = Path(path)
    fmt = format_of(path.name, None)
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if fmt == "tsv" else ",")
    return path
