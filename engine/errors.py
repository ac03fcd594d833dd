"""User-facing error types: each carries a one-line message a planner can act on (never a traceback)."""
from __future__ import annotations


class DataError(ValueError):
    """A data file that cannot be used. `str(err)` names the file and, where known, row, column and value.

    `row` is the 1-based line number in the file (the header is line 1).
    """

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 column: str | None = None, value: object = None) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.value = value
        self.detail = message
        parts = []
        if file is not None:
            parts.append(f"file {file!s}")
        if row is not None:
            parts.append(f"row {row}")
        if column is not None:
            parts.append(f"column {column}")
        prefix = ", ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class FractionalDemandError(DataError):
    """A series asked to sell in whole units (load_csv's `whole_demand`) holds a fraction: its own type, so a caller
    that needs whole units (the exact model) adds its reason without reading the wording."""


class ConfigError(ValueError):
    """A simulation setting that is missing, unknown or out of range; the message names the field and value."""

    def __init__(self, message: str, *, field: str | None = None, value: object = None) -> None:
        self.field = field
        self.value = value
        super().__init__(message)
