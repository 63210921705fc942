"""Reading a story range from Excel: labels in the first column and one company per further
column, or labels in the first row and one company per further row.

Labels are case-insensitive, in any order; spaces and hyphens count as underscores
("Growth 2-5" is growth_2_5). A label cell left blank, or reading "company", marks a row
(column) that is not an input, e.g. a header of company names. Anything else in the label
line is refused with its place named, as is a required label missing or one given twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .. import inputs
from ..errors import XlfuncsError
from .model import LABELS, REQUIRED

SKIPPED = {"", "company", "companies", "name"}


def normalise(label: Any) -> str | None:
    """The story label a cell names, "" for a skipped cell, None for a non-label."""
    if label is None or (isinstance(label, float) and np.isnan(label)):
        return ""
    if not isinstance(label, str):
        return None
    text = label.strip().lower().replace(" ", "_").replace("-", "_")
    return text if text in LABELS or text in SKIPPED else None


def _labels(line: Any) -> list[str | None]:
    # a number is never a label: skip the call for it (a line can hold 100,000 companies)
    return [None if type(v) is float and v == v else normalise(v) for v in line]


@dataclass(frozen=True)
class Story:
    """The inputs of a table of companies: label -> one raw cell per company."""

    given: dict[str, np.ndarray]
    layout: Literal["columns", "rows"]  # companies in columns, or in rows
    companies: int

    def shape_out(self, values: list[Any]) -> list[list[Any]]:
        """One answer per company, as a row (companies in columns) or a column."""
        return [values] if self.layout == "columns" else [[v] for v in values]


def grid(value: Any) -> np.ndarray:
    arr = inputs.as_object_array(value)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        raise XlfuncsError("story: expected a range of labels and values")
    return arr


def _layout(by_column: list[str | None], by_row: list[str | None]
            ) -> Literal["columns", "rows"] | None:
    """Companies in columns (labels down the first column) or in rows: the line with more
    story labels; None when neither has any."""
    in_column = sum(1 for v in by_column if v and v in LABELS)
    in_row = sum(1 for v in by_row if v and v in LABELS)
    if not in_column and not in_row:
        return None
    return "columns" if in_column >= in_row else "rows"


def companies_in(value: Any) -> int:
    """The companies a story range holds, read from its first row and column alone
    (cheap: it sizes a call before it runs); 0 when neither line holds a label."""
    rows = value if isinstance(value, list) else [[value]]
    rows = rows if rows and isinstance(rows[0], list) else [rows]  # a row, as grid() reads it
    first_column = [row[0] if isinstance(row, list) and row else None for row in rows]
    layout = _layout(_labels(first_column), _labels(rows[0]))
    if layout is None:
        return 0
    return (len(rows[0]) if layout == "columns" else len(rows)) - 1


def parse(value: Any, name: str = "story") -> Story:
    """A :class:`Story` from a range, or a refusal naming what is wrong and where."""
    cells = grid(value)
    by_column, by_row = _labels(cells[:, 0]), _labels(cells[0, :])
    layout = _layout(by_column, by_row)
    if layout is None:
        raise XlfuncsError(f"{name}: no story labels in the first column or the first row "
                           f"(labels like {', '.join(REQUIRED[:3])}, ...)")
    table = cells if layout == "columns" else cells.T
    labels = by_column if layout == "columns" else by_row
    if table.shape[1] < 2:
        raise XlfuncsError(f"{name}: labels but no values (one company per further "
                           f"{'column' if layout == 'columns' else 'row'})")
    given: dict[str, np.ndarray] = {}
    line = "row" if layout == "columns" else "column"
    for index, (label, raw) in enumerate(zip(labels, table[:, 0], strict=True)):
        if label is None:
            raise XlfuncsError(f"{name}: {line} {index + 1} has {raw!r} where a label belongs "
                               f"(known: {', '.join(LABELS)})")
        if label in SKIPPED:
            continue
        if label in given:
            raise XlfuncsError(f"{name}: '{label}' is given twice")
        given[label] = table[index, 1:]
    missing = [label for label in REQUIRED if label not in given]
    if missing:
        raise XlfuncsError(f"{name}: '{missing[0]}' is missing (required: "
                           f"{', '.join(REQUIRED)})")
    return Story(given, layout, table.shape[1] - 1)
