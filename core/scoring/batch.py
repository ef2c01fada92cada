"""Batch scoring of a CSV/TSV/JSONL/Parquet file in chunks, written to a scored CSV or JSONL file.

The input is read a chunk of rows at a time and each scored chunk is appended to the output, so a
100k-row file never sits in memory as tokens or tensors at once. In CSV output every text cell that a
spreadsheet would run as a formula (starting with =, +, -, @, tab or carriage return) is prefixed with
a single quote (OWASP "CSV injection").
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd

from core.data.io import (DEFAULT_MAX_BYTES, check_parquet_size, decode_text, explain_parser_error, format_of,
                          header_names, read_bytes, refuse_duplicate_columns)
from core.errors import DataError
from core.fileio import atomic_writer

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PROB_PREFIX = "p_"
# A line break inside a cell starts a new row in some spreadsheets (a bare \r in Excel): each line of a cell
# is neutralised, not only the first.
_LINE_START_RE = re.compile(r"([\r\n])(?=[=+\-@\t])")


@dataclass
class BatchResult:
    """What a batch scoring produced."""

    path: Path
    rows: int
    flagged_rows: int
    truncated_rows: int
    seconds: float
    warnings: list[str] = field(default_factory=list)


def neutralise_formula(value):
    """Prefix a text cell, and every line inside it, that a spreadsheet would evaluate (`=SUM(...)`) with `'`."""
    if not isinstance(value, str):
        return value
    value = _LINE_START_RE.sub(r"\1'", value)
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every text cell neutralised (numbers are left alone)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise_formula)
    out.columns = [neutralise_formula(str(c)) for c in out.columns]
    return out


def read_chunks(raw: bytes, name: str, chunk_rows: int, warnings: list[str],
                max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[pd.DataFrame]:
    """Yield the table's non-empty row chunks, `chunk_rows` at a time (strings kept as strings).

    Raises:
        DataError: the rows cannot be parsed (a truncated Parquet file, a broken CSV or JSON line), or a
            Parquet file decodes to more than `max_bytes`.
    """
    fmt = format_of(name, None)
    if fmt == "parquet":
        check_parquet_size(raw, name, max_bytes)
    else:
        text, _, decode_warnings = decode_text(raw, name)
        warnings.extend(decode_warnings)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            chunks = (batch.to_pandas() for batch in pq.ParquetFile(io.BytesIO(raw)).iter_batches(chunk_rows))
        elif fmt == "jsonl":
            chunks = pd.read_json(io.StringIO(text), lines=True, chunksize=chunk_rows, dtype=False)
        else:
            sep = "\t" if fmt == "tsv" else ","
            refuse_duplicate_columns(header_names(text, sep), name)
            chunks = pd.read_csv(io.StringIO(text), sep=sep, chunksize=chunk_rows, dtype=str, keep_default_na=False)
        for chunk in chunks:
            if len(chunk):
                yield chunk
    except DataError:
        raise
    except pd.errors.ParserError as exc:
        raise DataError(explain_parser_error(name, str(exc), "\t" if fmt == "tsv" else ",")) from None
    except (ValueError, OSError) as exc:  # pyarrow's errors derive from these
        reason = " ".join(str(exc).split())[:200]
        raise DataError(f"{name}: could not read the rows ({type(exc).__name__}: {reason}). "
                        "Fix: check the file's format, or re-export it.") from None


def estimate_rows(raw: bytes, name: str) -> int:
    """Rows in a table: exact for parquet, by counting line breaks for text (approximate with multi-line cells)."""
    fmt = format_of(name, None)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(io.BytesIO(raw)).metadata.num_rows
        except Exception as exc:  # a truncated file has no readable footer; pyarrow raises several types
            raise DataError(f"{name}: not a readable Parquet file ({str(exc)[:200]}). Fix: re-export it.") from None
    lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
    return max(lines - (0 if fmt == "jsonl" else 1), 0)


def score_file(scorer, source: str | Path | bytes, name: str, text_col: str, dest: str | Path,
               chunk_rows: int = 2000, progress: Callable[[int, int | None], None] | None = None,
               max_bytes: int = DEFAULT_MAX_BYTES) -> BatchResult:
    """Score column `text_col` of a table and write it with `p_<label>`, `flagged` and `truncated` columns.

    Args:
        source: a path or the uploaded bytes; name: file name (its suffix gives the format).
        dest: output path; `.jsonl` writes JSON lines, anything else CSV (formula cells neutralised).
        progress: called as progress(rows_done, rows_estimated) after every chunk.

    Raises:
        DataError: unreadable file, missing text column, oversize.
    """
    import time

    started, warnings = time.perf_counter(), []
    raw, name = read_bytes(source, name, max_bytes)  # read once: the row estimate and the chunks share it
    dest = Path(dest)
    total = estimate_rows(raw, name)
    chunks = read_chunks(raw, name, chunk_rows, warnings, max_bytes)
    # renamed into place on success only: a failure never leaves partial rows or an empty file behind
    with atomic_writer(dest, "w", encoding="utf-8", newline="") as out:
        counts = _score_chunks(scorer, chunks, name, text_col, out, dest.suffix.lower() in (".jsonl", ".ndjson"),
                               total, progress)
        if counts[0] == 0:
            raise DataError(f"{name} has no data rows. Fix: choose a file with a header row and data rows.")
    return BatchResult(dest, *counts, time.perf_counter() - started, warnings)


def _score_chunks(scorer, chunks, name: str, text_col: str, out, as_jsonl: bool, total: int,
                  progress) -> tuple[int, int, int]:
    """Score and write every chunk; (rows, flagged rows, truncated rows)."""
    done = flagged = truncated = 0
    for chunk in chunks:
        if text_col not in chunk.columns:
            raise DataError(f"{name}: no column {text_col!r}; columns are {list(map(str, chunk.columns))}. "
                            "Fix: pick the column that holds the texts (--text-col).")
        texts = chunk[text_col].fillna("").astype(str).tolist()
        results = scorer.score(texts)
        for label in scorer.labels:
            chunk[PROB_PREFIX + label] = [round(r.probabilities[label], 6) for r in results]
        chunk["flagged"] = [",".join(r.flagged) for r in results]
        if results and results[0].predicted is not None:  # multiclass: the class its decision rule picks
            chunk["predicted"] = [r.predicted for r in results]
        chunk["truncated"] = [r.truncated for r in results]
        if as_jsonl:
            for record in chunk.to_dict(orient="records"):
                out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        else:
            # CRLF rows (RFC 4180): the csv writer then quotes every cell holding a bare \r as well as \n (with
            # "\n" rows it left "ok\r@SUM(..)" unquoted, and a spreadsheet started a row inside the cell)
            neutralise_frame(chunk).to_csv(out, index=False, header=done == 0, lineterminator="\r\n")
        done += len(chunk)
        flagged += sum(1 for r in results if r.flagged)
        truncated += sum(1 for r in results if r.truncated)
        if progress:
            progress(done, max(total, done))
    return done, flagged, truncated
