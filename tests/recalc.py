"""Comparing the values the Python core cached in a workbook with an engine's answers."""

from __future__ import annotations

import math
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl

from xlfuncs.errors import ERROR_CODES
from xlfuncs.workbook.routes import calls_add_in


def agree(ours: object, theirs: object) -> bool:
    """Same number (relative 1e-9), both blank, same bool (1/0 for LibreOffice), or the same
    text/error code."""
    if ours in (None, "") and theirs in (None, ""):
        return True
    if isinstance(ours, bool) and not isinstance(theirs, bool) and theirs in (0, 1):
        # LibreOffice has no boolean type: a TRUE/FALSE-formatted 1/0 is its boolean
        return int(ours) == theirs
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return ours is theirs
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)):
        return math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-12)
    return ours == theirs


@dataclass(frozen=True)
class Mismatch:
    sheet: str
    cell: str
    row: int
    ours: object
    theirs: object
    formula: str

    def __str__(self) -> str:
        return (f"{self.sheet}!{self.cell}: python {self.ours!r}, engine {self.theirs!r}: "
                f"{self.formula[:160]}")


@dataclass
class Comparison:
    compared: int
    mismatches: list[Mismatch]
    errors: set[str]
    add_in: int = 0   # formulas calling the add-in: only Excel with it computes them


def compare(workbook: Path, recalculated: Path) -> Comparison:
    """Every formula cell of ``workbook`` but those calling the add-in (counted, in a build
    for a route): its cached value against the value the engine saved in ``recalculated``."""
    formulas = openpyxl.load_workbook(workbook)
    ours = openpyxl.load_workbook(workbook, data_only=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Gnumeric's files have no default cell style
        theirs = openpyxl.load_workbook(recalculated, data_only=True)
    result = Comparison(0, [], set())
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type != "f":
                    continue
                if calls_add_in(cell.value):
                    result.add_in += 1
                    continue
                result.compared += 1
                mine = ours[ws.title][cell.coordinate].value
                other = theirs[ws.title][cell.coordinate].value
                if mine in ERROR_CODES:
                    result.errors.add(mine)
                if not agree(mine, other):
                    result.mismatches.append(Mismatch(ws.title, cell.coordinate, cell.row,
                                                      mine, other, cell.value))
    return result


def poison(workbook: Path, out: Path, value: str = "999") -> int:
    """A copy of ``workbook`` whose every cached formula value is ``value``: an engine that
    only re-saves cached values, without computing, then shows it everywhere."""
    with zipfile.ZipFile(workbook) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    poisoned = 0
    for name, xml in parts.items():
        if name.startswith("xl/worksheets/sheet"):
            parts[name], count = re.subn(
                rb'(<c [^>]*?)(?: t="[a-z]+")?>(<f>[^<]*</f>)<v>[^<]*</v>',
                rb"\1>\2<v>" + value.encode() + rb"</v>", xml)
            poisoned += count
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return poisoned
