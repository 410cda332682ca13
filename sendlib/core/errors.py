"""Errors that the command line turns into clear messages and exit codes.

Exit codes (documented in README.md):

0  success
1  unexpected internal error (a bug: please report it with the traceback)
2  usage error (bad flag, unknown quarter, bad config or scenario file)
3  input data error (a file cannot be read, or the quality gate failed)
4  a report step failed (for example a notebook raised)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_REPORT = 4


class SendlibError(Exception):
    """Base class: an error with a message meant for the user, and an exit code."""

    exit_code: int = EXIT_INTERNAL


class UsageError(SendlibError, ValueError):
    """A parameter the user gave cannot be understood (quarter, flag, config, scenario)."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """The configuration file is missing, malformed or has an unknown key."""


@dataclass
class DataError(SendlibError):
    """An input table cannot be read or coerced to its canonical schema.

    Names the table, the file, the column, the rule broken, how many rows and a few example row
    numbers (1-based data rows, header excluded). Never carries values of identifying columns.
    """

    table: str
    rule: str
    column: str | None = None
    file: str | None = None
    n_rows: int | None = None
    example_rows: Sequence[int] = field(default_factory=tuple)
    detail: str | None = None

    exit_code = EXIT_DATA

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = [f"table '{self.table}'"]
        if self.file:
            parts.append(f"file {self.file}")
        if self.column:
            parts.append(f"column '{self.column}'")
        text = ", ".join(parts) + f": {self.rule}"
        if self.n_rows is not None:
            text += f" ({self.n_rows} row{'s' if self.n_rows != 1 else ''}"
            if self.example_rows:
                text += ", e.g. row " + ", ".join(str(r) for r in list(self.example_rows)[:5])
            text += ")"
        if self.detail:
            text += f". {self.detail}"
        return text

    def __str__(self) -> str:
        return self.message


class InsufficientData(SendlibError, ValueError):
    """The inputs are valid but hold too little for a calculation (one SEN2 return holds one January
    census; the person-level forecast needs two). A report section raising it is shown as not run,
    with this message, instead of failing the run."""

    exit_code = EXIT_DATA


class ValidationFailed(SendlibError):
    """The data-quality gate found failures; nothing downstream may run."""

    exit_code = EXIT_DATA


class ReportFailed(SendlibError):
    """At least one step of the report run failed."""

    exit_code = EXIT_REPORT
