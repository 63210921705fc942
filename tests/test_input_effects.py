"""Every cell styled as an input (blue on pale yellow: "a number you may change") changes
something when edited: each is set to values its own validation allows, LibreOffice
recalculates the workbook, and some formula cell must show another value. A cell that
changes nothing must not look like an input (the Simulation's settings are build-time
settings, styled apart; the Facts are data, changed in a data file)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import range_boundaries

from xlfuncs.workbook import build, libreoffice

from .effects import Edit, formula_cells_changed

pytestmark = pytest.mark.engines

# The colour legend's sample of the input style (About): a picture of the style, not an
# input; the only cell so styled that no formula reads.
LEGEND = ("About", "Input")


def is_input(cell: openpyxl.cell.Cell) -> bool:
    font, fill = cell.font.color, cell.fill.fgColor
    return bool(font is not None and font.rgb and str(font.rgb).endswith("0000FF")
                and fill is not None and str(fill.rgb).endswith("FFFFCC"))


def validations(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[tuple[int, int], object]:
    found = {}
    for validation in ws.data_validations.dataValidation:
        for area in validation.sqref.ranges:
            left, top, right, bottom = range_boundaries(str(area))
            for row in range(top, bottom + 1):
                for column in range(left, right + 1):
                    found[(row, column)] = validation
    return found


def serial(value: object) -> float | None:
    if isinstance(value, dt.datetime):
        return float((value - dt.datetime(1899, 12, 30)).days)
    return None if value is None else float(value)  # type: ignore[arg-type]


def candidates(book: openpyxl.Workbook, cell: openpyxl.cell.Cell,
               validation: object) -> list[float | str]:
    """Values the cell's own validation allows, unlike its value: both ends of its range
    (a tolerance matters at 0, a band at its edge) and a step from where it is."""
    kind = validation.type  # type: ignore[attr-defined]
    if kind == "list":
        sheet, area = validation.formula1.lstrip("=").split("!")  # type: ignore[attr-defined]
        listed = [c.value for row in book[sheet][area.replace("$", "")] for c in row]
        return [v for v in listed if v not in (None, cell.value)][:2]
    value = serial(cell.value)
    if kind == "date":
        base = 46_077.0 if value is None else value
        return [base + 31, base - 365]
    low = float(validation.formula1)  # type: ignore[attr-defined]
    high = float(validation.formula2)  # type: ignore[attr-defined]
    step = (low + high) / 2 if value is None else min(max(value * 1.1 + 0.01, low), high)
    found = [v for v in (step, low, high) if v != value]
    return [float(round(v)) for v in found] if kind == "whole" else found


def test_every_input_changes_a_formula_cell(tmp_path: Path) -> None:
    if libreoffice.soffice() is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs LibreOffice: {libreoffice.INSTALL_HINT}", pytrace=False)
        pytest.skip(libreoffice.INSTALL_HINT)
    path = build(out=tmp_path / "book.xlsx").path
    book = openpyxl.load_workbook(path)
    tries: dict[str, list[Edit]] = {}
    unvalidated, legend = [], []
    for ws in book.worksheets:
        rules = validations(ws)
        for row in ws.iter_rows():
            for cell in row:
                if not is_input(cell):
                    continue
                where = f"{ws.title}!{cell.coordinate}"
                beside = ws.cell(cell.row, cell.column + 1).value
                if (ws.title, beside and str(beside).split(":")[0]) == LEGEND:
                    legend.append(where)
                    continue
                validation = rules.get((cell.row, cell.column))
                if validation is None:
                    unvalidated.append(where)
                    continue
                tries[where] = [Edit(ws.title, cell.coordinate, value)
                                for value in candidates(book, cell, validation)]
    assert len(legend) == 1 and not unvalidated, unvalidated
    assert len(tries) > 60
    # the first value of each cell; then, for a cell that moved nothing, its others
    inert = set(tries)
    for attempt in (0, slice(1, None)):
        edits = {e: where for where in inert for e in (
            tries[where][attempt:attempt + 1] if attempt == 0 else tries[where][attempt])}
        if not edits:
            break
        changed = formula_cells_changed(path, list(edits))
        inert -= {where for edit, where in edits.items() if changed[edit]}
    assert not inert, "\n".join(sorted(inert))
