"""Error types of the core package.

Every error a user can cause is a `CoreError`: its message says what is wrong, shows the offending value
and says how to fix it. The UI catches `CoreError` at the page boundary and shows it; the CLI prints it
as one line and exits with code 2. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class CoreError(Exception):
    """Base class for errors caused by input, configuration or environment (not bugs)."""


class DataError(CoreError):
    """A dataset file or its columns/labels cannot be used as asked."""


class MissingColumn(DataError):
    """A column the reader was told to use is not in the file (`column`, and the file's `columns`), so that a
    caller that chose the column itself (e.g. a run's labels) can say so in its own words."""

    def __init__(self, message: str, column: str, columns: list[str]):
        super().__init__(message)
        self.column, self.columns = column, list(columns)


class ConfigError(CoreError):
    """A configuration value is missing, unknown or out of range."""


class ModelNotAvailable(CoreError):
    """A base model or run cannot be found or downloaded here."""


class JobError(CoreError):
    """A background job cannot be launched, stopped or resumed."""


class RewriteError(CoreError):
    """A rewrite backend failed (blocked prompt, quota, auth, empty answer)."""
