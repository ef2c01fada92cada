"""The data layer: load and validate, clean, de-duplicate, balance, split, report, save versions."""

from core.data.balance import BalanceOptions, balance, drop_labels
from core.data.clean import CleanOptions, clean_dataset, clean_text
from core.data.dedup import DuplicateGroups, drop_duplicates, find_duplicates
from core.data.io import DEFAULT_MAX_BYTES, RawTable, read_table, write_table
from core.data.prepare import (PreparedDataset, PrepareOptions, list_versions, load_version, prepare_dataset,
                               save_version, write_version)
from core.data.report import data_report
from core.data.schema import KINDS, Dataset, DatasetSpec, guess_text_column, interpret, load_dataset
from core.data.split import SplitOptions, split_dataset

__all__ = [
    "BalanceOptions", "CleanOptions", "DEFAULT_MAX_BYTES", "Dataset", "DatasetSpec", "DuplicateGroups", "KINDS",
    "PrepareOptions", "PreparedDataset", "RawTable", "SplitOptions", "balance", "clean_dataset", "clean_text",
    "data_report", "drop_duplicates", "drop_labels", "find_duplicates", "guess_text_column", "interpret",
    "list_versions", "load_dataset", "load_version", "prepare_dataset", "read_table", "save_version", "split_dataset",
    "write_table", "write_version",
]
