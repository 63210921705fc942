"""Excel error values and the exceptions xlfuncs raises.

An element that has no meaningful answer (zero revenue, a loss-maker's P/E) is not an
exception: it becomes an :class:`XlError` in that element only, so one bad row of a
10,000-row range spoils only its own cell. Exceptions are for whole-call problems
(ranges of different shapes, a malformed data file).
"""

from __future__ import annotations

from typing import NamedTuple

DIV0 = "#DIV/0!"
NUM = "#NUM!"
VALUE = "#VALUE!"
NA = "#N/A"

ERROR_CODES = (DIV0, NUM, VALUE, NA)


class XlError(NamedTuple):
    """An Excel error value with the reason a person reads."""

    code: str
    reason: str

    def __str__(self) -> str:
        return f"{self.code} {self.reason}"


class XlfuncsError(ValueError):
    """A whole call cannot be answered (e.g. ranges of different shapes)."""


class DataFileError(XlfuncsError):
    """A facts file is malformed; the message names the file, row and column."""

    def __init__(self, path: object, row: int | None, column: str | None, problem: str) -> None:
        where = f"{path}"
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.row = row
        self.column = column
        self.problem = problem
