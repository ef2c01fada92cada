"""Batch scoring of a CSV/TSV/JSONL/Parquet file in chunks, written to a scored CSV or JSONL file.

The input is read a chunk of rows at a time and each scored chunk is appended to the output, so a
100k-row file never sits in memory as tokens or tensors at once. In CSV output every text cell that a
spreadsheet would run as a formula (starting with =, +, -, @, tab or carriage return) is prefixed with
a single quote (OWASP "CSV injection").
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd

from core.data.io import DEFAULT_MAX_BYTES, decode_text, format_of, read_bytes
from core.errors import DataError

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PROB_PREFIX = "p_"


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
    """Prefix a text cell that a spreadsheet would evaluate (`=SUM(...)`, `@cmd`, ...) with `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every text cell neutralised (numbers are left alone)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise_formula)
    out.columns = [neutralise_formula(str(c)) for c in out.columns]
    return out


def read_chunks(raw: bytes, name: str, chunk_rows: int, warnings: list[str]) -> Iterator[pd.DataFrame]:
    """Yield the table's rows `chunk_rows` at a time (strings kept as strings)."""
    fmt = format_of(name, None)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(io.BytesIO(raw)).iter_batches(batch_size=chunk_rows):
            yield batch.to_pandas()
        return
    text, _, decode_warnings = decode_text(raw, name)
    warnings.extend(decode_warnings)
    try:
        if fmt == "jsonl":
            yield from pd.read_json(io.StringIO(text), lines=True, chunksize=chunk_rows, dtype=False)
        else:
            yield from pd.read_csv(io.StringIO(text), sep="\t" if fmt == "tsv" else ",", chunksize=chunk_rows,
                                   dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"{name}: could not read the rows ({exc}). Fix: check the file's format.") from None


def estimate_rows(raw: bytes, name: str) -> int:
    """Rows in a table: exact for parquet, by counting line breaks for text (approximate with multi-line cells)."""
    fmt = format_of(name, None)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(io.BytesIO(raw)).metadata.num_rows
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
    done = flagged = truncated = 0
    as_jsonl = dest.suffix.lower() in (".jsonl", ".ndjson")
    with open(dest, "w", encoding="utf-8", newline="") as out:
        for chunk in read_chunks(raw, name, chunk_rows, warnings):
            if text_col not in chunk.columns:
                raise DataError(f"{name}: no column {text_col!r}; columns are {list(map(str, chunk.columns))}. "
                                "Fix: pick the column that holds the texts.")
            texts = chunk[text_col].fillna("").astype(str).tolist()
            results = scorer.score(texts)
            for label in scorer.labels:
                chunk[PROB_PREFIX + label] = [round(r.probabilities[label], 6) for r in results]
            chunk["flagged"] = [",".join(r.flagged) for r in results]
            chunk["truncated"] = [r.truncated for r in results]
            if as_jsonl:
                for record in chunk.to_dict(orient="records"):
                    out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            else:
                neutralise_frame(chunk).to_csv(out, index=False, header=done == 0)
            done += len(chunk)
            flagged += sum(1 for r in results if r.flagged)
            truncated += sum(1 for r in results if r.truncated)
            if progress:
                progress(done, max(total, done))
    if done == 0:
        raise DataError(f"{name} has no data rows. Fix: choose a file with a header row and data rows.")
    return BatchResult(dest, done, flagged, truncated, time.perf_counter() - started, warnings)
