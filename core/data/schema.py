"""Dataset kinds, column inference and validation.

A loaded file is turned into a `Dataset`: a frame with canonical column names plus a `DatasetSpec`
recording which original columns they came from, so every later step (cleaning, splits, training)
works on one layout:

| kind       | canonical columns                               |
|------------|-------------------------------------------------|
| multilabel | text, <label 1>, ..., <label N> (0/1 ints)      |
| multiclass | text, label (int class index; names in spec),  |
|            | [votes:<class 1>, ..., votes:<class K>]         |
| pairs      | sentence1, sentence2, [label or score]          |
| triplets   | anchor, positive, negative                      |
| qa         | question, answer, [context]                     |

An optional `id` column is kept when the file has one. A multiclass file with one annotator-count column per
class, named like the class (Davidson's `hate_speech`, `offensive_language`, `neither`), keeps those counts as
`votes:<class>` columns: the soft labels a run may train on (`TrainConfig.soft_labels`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.data.io import DEFAULT_MAX_BYTES, RawTable, read_table
from core.errors import DataError, MissingColumn

KINDS = ("multilabel", "multiclass", "pairs", "triplets", "qa")
JIGSAW_LABELS = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
DAVIDSON_COLUMNS = {"count", "hate_speech", "offensive_language", "neither", "class", "tweet"}
DAVIDSON_CLASSES = ["hate_speech", "offensive_language", "neither"]
TEXT_CANDIDATES = ["comment_text", "text", "tweet", "comment", "sentence", "content", "message", "body", "post"]
CLASS_CANDIDATES = ["label", "class", "category", "labels", "target"]
ROLE_CANDIDATES = {
    "pairs": {"sentence1": ["sentence1", "text1", "sentence_a", "premise", "query", "anchor"],
              "sentence2": ["sentence2", "text2", "sentence_b", "hypothesis", "document", "positive"]},
    "triplets": {"anchor": ["anchor", "query"], "positive": ["positive", "pos"], "negative": ["negative", "neg"]},
    "qa": {"question": ["question", "query", "q"], "answer": ["answer", "response", "a"]},
}
OPTIONAL_ROLES = {"pairs": {"label": ["label"], "score": ["score", "similarity"]}, "qa": {"context": ["context"]}}
_MAX_ROWS_SHOWN = 5
VOTE_PREFIX = "votes:"  # canonical annotator-count columns of multiclass data (see the module docstring)


@dataclass
class DatasetSpec:
    """Which columns of the source file play which role, and the label names."""

    kind: str
    text_col: str | None = None
    label_cols: list[str] = field(default_factory=list)
    label_col: str | None = None
    class_names: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    id_col: str | None = None
    vote_cols: list[str] = field(default_factory=list)  # multiclass: annotator counts per class, in class order

    @property
    def labels(self) -> list[str]:
        """Label names: the binary labels (multilabel) or the class names (multiclass)."""
        return list(self.label_cols) if self.kind == "multilabel" else list(self.class_names)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "DatasetSpec":
        return cls(**data)


@dataclass
class Dataset:
    """A validated dataset in canonical layout (see the module docstring)."""

    frame: pd.DataFrame
    spec: DatasetSpec
    name: str = "dataset"
    inference: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def labels(self) -> list[str]:
        return self.spec.labels

    def text_columns(self) -> list[str]:
        """Canonical columns holding text (those that cleaning and de-duplication look at)."""
        return text_columns(self.kind, self.frame.columns)

    def label_matrix(self) -> np.ndarray:
        """Multilabel: (rows, labels) 0/1 array; multiclass: (rows,) class indices; else empty."""
        if self.kind == "multilabel":
            return self.frame[self.spec.label_cols].to_numpy(dtype=np.int8)
        if self.kind == "multiclass":
            return self.frame["label"].to_numpy(dtype=np.int64)
        return np.zeros((len(self.frame), 0), dtype=np.int8)

    def vote_shares(self) -> np.ndarray | None:
        """Multiclass data with annotator counts: (rows, classes) shares of the annotators who chose each class;
        a row without counts (0 in total, or added later, e.g. by augmentation) gets its hard label one-hot.
        None without vote columns."""
        columns = [VOTE_PREFIX + name for name in self.labels]
        if self.kind != "multiclass" or not self.spec.vote_cols or not set(columns) <= set(self.frame.columns):
            return None
        votes = self.frame[columns].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy(dtype=np.float64)
        totals = votes.sum(axis=1, keepdims=True)
        hard = np.eye(len(columns))[self.label_matrix()]
        return np.where(totals > 0, votes / np.maximum(totals, 1e-12), hard).astype(np.float32)

    def with_frame(self, frame: pd.DataFrame) -> "Dataset":
        """A copy holding `frame` (same spec), for cleaning/dedup/split steps."""
        return Dataset(frame.reset_index(drop=True), self.spec, self.name, list(self.inference),
                       list(self.warnings), dict(self.dropped))


def text_columns(kind: str, columns) -> list[str]:
    """The canonical text columns of a dataset kind that are present in `columns`."""
    wanted = {"multilabel": ["text"], "multiclass": ["text"], "pairs": ["sentence1", "sentence2"],
              "triplets": ["anchor", "positive", "negative"], "qa": ["question", "answer", "context"]}[kind]
    return [c for c in wanted if c in columns]


def load_dataset(
    source: str | Path | bytes,
    *,
    kind: str | None = None,
    text_col: str | None = None,
    label_cols: list[str] | None = None,
    label_col: str | None = None,
    class_names: list[str] | None = None,
    columns: dict[str, str] | None = None,
    drop_empty: bool = False,
    name: str | None = None,
    fmt: str | None = None,
    delimiter: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    for_evaluation: bool = False,
) -> Dataset:
    """Read a file and interpret it as a validated `Dataset`.

    Columns not given are inferred (the Jigsaw and Davidson layouts are recognised); how each was
    chosen is recorded in `Dataset.inference`.

    Args:
        source: path or uploaded bytes.
        kind: one of `KINDS`; inferred when omitted.
        text_col: the text column (multilabel/multiclass).
        label_cols: the binary label columns (multilabel).
        label_col: the class column (multiclass).
        class_names: names of integer classes 0..K-1 (multiclass).
        columns: role -> column for pairs/triplets/qa (e.g. {"question": "q", "answer": "a"}).
        drop_empty: drop rows with empty texts instead of failing.
        name, fmt, delimiter, max_bytes: passed to `read_table`.
        for_evaluation: a label without positive (or negative) rows is a warning, not an error: a small test
            file may lack a rare label, and its metrics are then simply undefined.

    Raises:
        DataError: the file or its columns/labels cannot be used (the message says how to fix it).
    """
    raw = read_table(source, name=name, fmt=fmt, delimiter=delimiter, max_bytes=max_bytes)
    return interpret(raw, kind=kind, text_col=text_col, label_cols=label_cols, label_col=label_col,
                     class_names=class_names, columns=columns, drop_empty=drop_empty, for_evaluation=for_evaluation)


def interpret(raw: RawTable, *, kind: str | None = None, text_col: str | None = None,
              label_cols: list[str] | None = None, label_col: str | None = None,
              class_names: list[str] | None = None, columns: dict[str, str] | None = None,
              drop_empty: bool = False, for_evaluation: bool = False) -> Dataset:
    """Turn a `RawTable` into a validated `Dataset` (see `load_dataset` for the arguments)."""
    frame = raw.frame
    frame.columns = [str(c) for c in frame.columns]
    if kind is not None and kind not in KINDS:
        raise DataError(f"Unknown dataset kind {kind!r}. Fix: use one of {', '.join(KINDS)}.")
    inference: list[str] = []
    spec = _infer_spec(raw, kind, text_col, label_cols, label_col, class_names, columns or {}, inference)
    dataset = Dataset(frame, spec, raw.name, inference, list(raw.warnings), {})
    return _validate(dataset, raw.name, drop_empty, for_evaluation)


# ----------------------------------------------------------------------------------------------- inference

def _find(columns: list[str], candidates: list[str]) -> str | None:
    lowered = {c.lower(): c for c in columns}
    return next((lowered[c] for c in candidates if c in lowered), None)


def _require(name: str, column: str, columns: list[str], option: str) -> None:
    if column not in columns:
        raise MissingColumn(f"{name}: column {column!r} not found. Columns in the file: {columns}. "
                            f"Fix: pass {option} with one of them.", column, columns)


def _infer_spec(raw, kind, text_col, label_cols, label_col, class_names, roles, inference) -> DatasetSpec:
    name, cols = raw.name, list(raw.frame.columns)
    id_col = _find(cols, ["id"])
    if kind is None:
        kind = _infer_kind(raw.frame, label_cols, label_col, roles, inference)
    if kind in ROLE_CANDIDATES:
        return DatasetSpec(kind, columns=_infer_roles(name, cols, kind, roles, inference), id_col=id_col)

    if text_col is None:
        text_col = _infer_text_col(raw.frame, inference, {id_col, *(label_cols or []), label_col})
    _require(name, text_col, cols, "--text-col")
    if kind == "multilabel":
        if label_cols is None:
            label_cols = _infer_label_cols(raw.frame, {text_col, id_col}, inference)
            raw.warnings.extend(_unused_columns(raw.frame, name, {text_col, id_col, *label_cols}))
        for col in label_cols:
            _require(name, col, cols, "--label-cols")
        if not label_cols:
            raise DataError(f"{name}: no label columns for a multilabel dataset. Columns: {cols}. "
                            "Fix: pass --label-cols with the 0/1 label columns.")
        return DatasetSpec(kind, text_col=text_col, label_cols=list(label_cols), id_col=id_col)

    if label_col is None:
        label_col = _find(cols, CLASS_CANDIDATES)
        if label_col is None:
            raise DataError(f"{name}: no class column found (looked for {CLASS_CANDIDATES}). Columns: {cols}. "
                            "Fix: pass --label-col with the class column.")
        inference.append(f"class column: {label_col!r} (by name)")
    _require(name, label_col, cols, "--label-col")
    if class_names is None and DAVIDSON_COLUMNS <= set(cols) and label_col == "class":
        class_names = list(DAVIDSON_CLASSES)
        inference.append("class names: Davidson layout (0=hate_speech, 1=offensive_language, 2=neither)")
    return DatasetSpec(kind, text_col=text_col, label_col=label_col, class_names=list(class_names or []),
                       id_col=id_col)


def _infer_kind(frame, label_cols, label_col, roles, inference) -> str:
    cols = list(frame.columns)
    if label_cols:
        return "multilabel"
    if label_col:
        return "multiclass"
    for kind in ("qa", "triplets", "pairs"):
        if all(roles.get(role) or _find(cols, cands) for role, cands in ROLE_CANDIDATES[kind].items()):
            inference.append(f"kind: {kind} (columns for {', '.join(ROLE_CANDIDATES[kind])} found)")
            return kind
    if DAVIDSON_COLUMNS <= set(cols):
        inference.append("kind: multiclass (Davidson hate-speech layout recognised)")
        return "multiclass"
    if all(_find(cols, [label]) for label in JIGSAW_LABELS):
        inference.append("kind: multilabel (Jigsaw layout recognised)")
        return "multilabel"
    if _find(cols, CLASS_CANDIDATES):
        inference.append(f"kind: multiclass (class column {_find(cols, CLASS_CANDIDATES)!r} found)")
        return "multiclass"
    if _binary_columns(frame):
        inference.append("kind: multilabel (0/1 columns found)")
        return "multilabel"
    raise DataError(f"Cannot tell the dataset kind from the columns {cols}. "
                    f"Fix: pass --kind (one of {', '.join(KINDS)}) and the column options.")


def _infer_roles(name, cols, kind, roles, inference) -> dict[str, str]:
    mapping = {}
    for role, candidates in ROLE_CANDIDATES[kind].items():
        column = roles.get(role) or _find(cols, candidates)
        if column is None:
            raise DataError(f"{name}: no column for {role!r} of a {kind} dataset (looked for {candidates}). "
                            f"Columns: {cols}. Fix: name the column with --columns {role}=COLUMN.")
        _require(name, column, cols, f"--columns {role}=COLUMN")
        if role not in roles:
            inference.append(f"{role}: {column!r} (by name)")
        mapping[role] = column
    for role, candidates in OPTIONAL_ROLES.get(kind, {}).items():
        column = roles.get(role) or _find(cols, candidates)
        if column is not None:
            _require(name, column, cols, f"--columns {role}=COLUMN")
            mapping[role] = column
    if "label" in mapping and "score" in mapping:
        del mapping["score"]  # one target per pair: the binary label wins
    return mapping


def guess_text_column(columns, extra: tuple[str, ...] = ()) -> str | None:
    """The column that holds the texts, by name (`comment_text`, `text`, `tweet`, ... and `extra` first), else None.

    The one place the app guesses a text column by its name (the Data, Score and Search pages use it too).
    """
    return _find([str(c) for c in columns], [*extra, *TEXT_CANDIDATES])


def _infer_text_col(frame: pd.DataFrame, inference: list[str], exclude: set) -> str:
    column = guess_text_column(frame.columns)
    if column is not None:
        inference.append(f"text column: {column!r} (by name)")
        return column
    strings = [c for c in frame.columns if c not in exclude and c.lower() not in JIGSAW_LABELS
               and (frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c]))]
    if not strings:
        raise DataError(f"No text column found among {list(frame.columns)} (an id or label column is not text). "
                        "Fix: add a text column, or pass --text-col.")
    column = max(strings, key=lambda c: frame[c].astype(str).str.len().mean())
    inference.append(f"text column: {column!r} (longest strings on average)")
    return column


def _binary_columns(frame: pd.DataFrame, exclude: set | None = None) -> list[str]:
    found = []
    for column in frame.columns:
        if column in (exclude or set()) or not pd.api.types.is_numeric_dtype(frame[column]):
            continue
        values = set(pd.unique(frame[column].dropna()))
        if values and values <= {0, 1, -1} and values & {0, 1}:
            found.append(column)
    return found


def _unused_columns(frame: pd.DataFrame, name: str, used: set) -> list[str]:
    """Warnings for columns left out of a multilabel dataset; an error for one named like a label.

    Raises:
        DataError: a column named like a Jigsaw label (`toxic`) whose values are not 0/1 (`yes`, `2`): left out
            silently, the model would lose that label without a word.
    """
    warnings = []
    for column in frame.columns:
        if column in used:
            continue
        values = [str(v) for v in pd.unique(frame[column].dropna())[:4]]
        if column.lower() in JIGSAW_LABELS:
            raise DataError(f"{name}: column {column!r} is named like a label but holds values such as {values}, "
                            "not only 0/1. Fix: write it as 0/1, or pass --label-cols without it.")
        warnings.append(f"{name}: column {column!r} is not used (not the text, and not 0/1 labels; values such as "
                        f"{values}). Pass --label-cols to choose the labels yourself.")
    return warnings


def _infer_label_cols(frame, exclude, inference) -> list[str]:
    jigsaw = [_find(list(frame.columns), [label]) for label in JIGSAW_LABELS]
    if all(jigsaw):
        inference.append(f"label columns: the six Jigsaw labels {jigsaw}")
        return jigsaw
    found = _binary_columns(frame, exclude)
    inference.append(f"label columns: {found} (columns holding only 0/1)")
    return found


# ---------------------------------------------------------------------------------------------- validation

def _rows(mask) -> str:
    """1-based data-row numbers (header excluded) of the first offending rows."""
    index = np.flatnonzero(np.asarray(mask))
    shown = ", ".join(str(i + 1) for i in index[:_MAX_ROWS_SHOWN])
    more = f" and {len(index) - _MAX_ROWS_SHOWN} more" if len(index) > _MAX_ROWS_SHOWN else ""
    return f"data rows {shown}{more}"


def _empty_text_mask(series: pd.Series) -> np.ndarray:
    return (series.isna() | series.astype(str).str.strip().eq("")).to_numpy()


def _validate(dataset: Dataset, name: str, drop_empty: bool, for_evaluation: bool = False) -> Dataset:
    spec, frame = dataset.spec, dataset.frame
    source_cols = ([spec.text_col] if spec.text_col else []) + [
        col for role, col in spec.columns.items() if role not in ("label", "score")]
    for column in source_cols:
        mask = _empty_text_mask(frame[column])
        if mask.any():
            if not drop_empty:
                raise DataError(f"{name}: column {column!r} has {mask.sum()} empty or missing texts ({_rows(mask)}). "
                                "Fix: fill or remove those rows, or enable 'drop empty texts' (--drop-empty).")
            frame = frame.loc[~mask].reset_index(drop=True)
            dataset.dropped["empty text"] = dataset.dropped.get("empty text", 0) + int(mask.sum())
    if spec.id_col:
        _check_ids(frame[spec.id_col], name, spec.id_col)
    if spec.kind == "multilabel":
        frame = _multilabel_frame(dataset, frame, name, for_evaluation)
    elif spec.kind == "multiclass":
        frame = _multiclass_frame(dataset, frame, name)
    else:
        frame = _role_frame(spec, frame, name)
    if frame.empty:
        raise DataError(f"{name}: no rows are left after dropping {dataset.dropped}. Fix: check the labels.")
    return dataset.with_frame(frame)


def _check_ids(ids: pd.Series, name: str, column: str) -> None:
    present = ids[ids.notna() & ids.astype(str).str.strip().ne("")].astype(str)
    dupes = present[present.duplicated(keep=False)]
    if len(dupes):
        values = list(dict.fromkeys(dupes.tolist()))
        raise DataError(f"{name}: column {column!r} has {len(values)} duplicated ids, e.g. {values[:_MAX_ROWS_SHOWN]} "
                        f"({_rows(ids.astype(str).isin(values))}). Fix: make ids unique or drop the id column.")


def _with_id(spec: DatasetSpec, frame: pd.DataFrame, out: dict) -> pd.DataFrame:
    if spec.id_col:
        out = {"id": frame[spec.id_col].astype("string").fillna(""), **out}
    return pd.DataFrame(out)


def _multilabel_frame(dataset: Dataset, frame: pd.DataFrame, name: str, for_evaluation: bool) -> pd.DataFrame:
    spec = dataset.spec
    labels = frame[spec.label_cols].apply(pd.to_numeric, errors="coerce")
    for column in spec.label_cols:
        bad = labels[column].isna() & frame[column].notna()
        if bad.any():
            examples = frame.loc[bad, column].astype(str).unique()[:3].tolist()
            raise DataError(f"{name}: label column {column!r} holds non-numeric values {examples} ({_rows(bad)}). "
                            "Fix: labels must be 0 or 1.")
        missing = labels[column].isna()
        if missing.any():
            raise DataError(f"{name}: label column {column!r} has missing values ({_rows(missing)}). "
                            "Fix: fill them with 0 or 1, or remove those rows.")
    # Jigsaw's test labels use -1 for "not scored": such rows are unlabelled, so drop them (with a count).
    unlabelled = (labels == -1).any(axis=1).to_numpy()
    if unlabelled.any():
        dataset.dropped["unlabelled (-1)"] = int(unlabelled.sum())
        frame, labels = frame.loc[~unlabelled], labels.loc[~unlabelled]
    for column in spec.label_cols:
        bad = ~labels[column].isin([0, 1])
        if bad.any():
            values = sorted(set(labels.loc[bad, column].tolist()))[:5]
            raise DataError(f"{name}: label column {column!r} has values {values} outside {{0, 1}} ({_rows(bad)}). "
                            "Fix: labels must be 0 or 1 (-1 marks unlabelled rows, which are dropped).")
    if not len(frame):
        return pd.DataFrame()
    for column in spec.label_cols:
        positives = int(labels[column].sum())
        if 0 < positives < len(frame):
            continue
        which = "no positive rows (all {n} are 0)" if positives == 0 else "no negative rows (all {n} are 1)"
        message = f"{name}: label {column!r} has {which.format(n=len(frame))}"
        if for_evaluation:
            dataset.warnings.append(f"{message}; its ROC-AUC and PR-AUC are undefined on this file.")
            continue
        raise DataError(f"{message}, so there is nothing to learn for it. "
                        f"Fix: add rows of the other value, or drop the label (--drop-labels {column}).")
    out = {"text": frame[spec.text_col].astype(str).to_numpy()}
    out.update({column: labels[column].astype(np.int8).to_numpy() for column in spec.label_cols})
    return _with_id(spec, frame, out).reset_index(drop=True)


def _multiclass_frame(dataset: Dataset, frame: pd.DataFrame, name: str) -> pd.DataFrame:
    spec = dataset.spec
    values = frame[spec.label_col]
    missing = values.isna()
    if missing.any():
        raise DataError(f"{name}: class column {spec.label_col!r} has missing values ({_rows(missing)}). "
                        "Fix: fill or remove those rows.")
    if pd.api.types.is_numeric_dtype(values):
        if not np.all(np.mod(values, 1) == 0):
            raise DataError(f"{name}: class column {spec.label_col!r} holds fractional values, e.g. "
                            f"{values[np.mod(values, 1) != 0].tolist()[:3]}. Fix: use integer or string classes.")
        codes, observed = values.astype(np.int64), sorted(set(values.astype(np.int64)))
        if spec.class_names:
            bad = ~codes.isin(range(len(spec.class_names)))
            if bad.any():
                raise DataError(f"{name}: class values {sorted(set(codes[bad]))[:5]} have no name in "
                                f"{spec.class_names} ({_rows(bad)}). Fix: give one name per class 0..K-1.")
        elif observed == list(range(len(observed))):
            spec.class_names = [str(v) for v in observed]
        else:  # e.g. classes 1, 2, 5: renumber 0..K-1, keeping the original values as names
            spec.class_names = [str(v) for v in observed]
            codes = codes.map({v: i for i, v in enumerate(observed)})
    else:
        strings = values.astype(str).str.strip()
        names = spec.class_names or sorted(strings.unique())
        lookup = {n: i for i, n in enumerate(names)}
        bad = ~strings.isin(lookup)
        if bad.any():
            raise DataError(f"{name}: class values {sorted(strings[bad].unique())[:5]} are not in {names} "
                            f"({_rows(bad)}). Fix: correct them or pass the full class list.")
        spec.class_names, codes = list(names), strings.map(lookup)
    if codes.nunique() < 2:
        raise DataError(f"{name}: class column {spec.label_col!r} has a single class "
                        f"({spec.class_names[int(codes.iloc[0])]!r}); a classifier needs at least two. "
                        "Fix: add rows of other classes, or choose another label column.")
    out = {"text": frame[spec.text_col].astype(str).to_numpy(), "label": codes.astype(np.int64).to_numpy()}
    spec.vote_cols = _vote_columns(frame, spec)
    if spec.vote_cols:
        dataset.inference.append(f"annotator counts per class: {spec.vote_cols} (soft labels can be trained on)")
    for name, column in zip(spec.class_names, spec.vote_cols):
        out[VOTE_PREFIX + name] = pd.to_numeric(frame[column]).to_numpy(dtype=np.float64)
    return _with_id(spec, frame, out).reset_index(drop=True)


def _vote_columns(frame: pd.DataFrame, spec: DatasetSpec) -> list[str]:
    """The columns named like the classes, in class order, when every class has one holding non-negative numbers
    (annotator counts); else none. Counts that are not numbers mean the columns are something else, not an
    error."""
    columns = []
    for name in spec.class_names:
        if name not in frame.columns or name in (spec.text_col, spec.label_col, spec.id_col):
            return []
        values = pd.to_numeric(frame[name], errors="coerce")
        if values.isna().any() or (values < 0).any():
            return []
        columns.append(name)
    return columns


def _role_frame(spec: DatasetSpec, frame: pd.DataFrame, name: str) -> pd.DataFrame:
    out = {}
    for role, column in spec.columns.items():
        if role in ("label", "score"):
            numeric = pd.to_numeric(frame[column], errors="coerce")
            bad = numeric.isna()
            if bad.any():
                raise DataError(f"{name}: {role} column {column!r} has missing or non-numeric values "
                                f"({_rows(bad)}). Fix: use numbers ({'0/1' if role == 'label' else '0..1'}).")
            out[role] = numeric.astype(np.int64 if role == "label" else np.float32).to_numpy()
        else:
            out[role] = frame[column].fillna("").astype(str).to_numpy()
    return _with_id(spec, frame, out).reset_index(drop=True)
