"""LibreOffice, an independent spreadsheet engine, recalculates the workbook and agrees with
the Python core on every formula cell (the cached values the builder wrote)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import openpyxl
import pytest

from xlfuncs.errors import ERROR_CODES
from xlfuncs.sample import write_universe
from xlfuncs.workbook import build
from xlfuncs.workbook.libreoffice import INSTALL_HINT, recalculate, soffice

pytestmark = pytest.mark.libreoffice

if soffice() is None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs LibreOffice for the recalculation tests: {INSTALL_HINT}",
                    pytrace=False)
    pytest.skip(INSTALL_HINT, allow_module_level=True)

LIVE_COLUMN = ("Functions", "F")  # add-in formulas: only Excel with the add-in computes them


def agree(ours: object, theirs: object) -> bool:
    if ours in (None, "") and theirs in (None, ""):
        return True
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return ours is theirs
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)):
        return math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-12)
    return ours == theirs


def compare(workbook: Path, out_dir: Path) -> tuple[int, list[str], set[str]]:
    """(formula cells compared, disagreements, error codes seen) after LibreOffice's pass."""
    recalculated = recalculate(workbook, out_dir)
    formulas = openpyxl.load_workbook(workbook)
    ours = openpyxl.load_workbook(workbook, data_only=True)
    theirs = openpyxl.load_workbook(recalculated, data_only=True)
    compared, problems, errors = 0, [], set()
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type != "f" or (ws.title, cell.column_letter) == LIVE_COLUMN:
                    continue
                compared += 1
                mine = ours[ws.title][cell.coordinate].value
                lo = theirs[ws.title][cell.coordinate].value
                if mine in ERROR_CODES:
                    errors.add(mine)
                if not agree(mine, lo):
                    problems.append(f"{ws.title}!{cell.coordinate}: python {mine!r}, "
                                    f"LibreOffice {lo!r}: {cell.value[:160]}")
    return compared, problems, errors


def test_libreoffice_agrees_with_every_cached_value_of_the_article_workbook(
        tmp_path: Path) -> None:
    path = build(out=tmp_path / "article.xlsx").path
    compared, problems, _ = compare(path, tmp_path / "lo")
    assert compared > 300
    assert not problems, "\n".join(problems[:20])
    theirs = openpyxl.load_workbook(recalculate(path, tmp_path / "lo2"), data_only=True)
    results = [r[3] for r in theirs["Checks"].iter_rows(min_row=6, values_only=True) if r[0]]
    assert results and all(r is True for r in results), results


def test_libreoffice_agrees_on_random_hostile_companies(tmp_path: Path) -> None:
    """Zero and negative revenue, profits instead of losses, blanks, formula-like names:
    the native formulas and the core still agree, errors included."""
    data = write_universe(tmp_path / "random.csv", 150, seed=11, hostile_names=True)
    path = build(data, tmp_path / "random.xlsx").path
    compared, problems, errors = compare(path, tmp_path / "lo")
    assert compared > 5000
    assert not problems, "\n".join(problems[:20])
    assert {"#DIV/0!", "#NUM!"} <= errors  # the edge cases were really exercised
    recalculated = openpyxl.load_workbook(tmp_path / "lo" / "random.xlsx")
    names = {c.value for c in recalculated["Facts"]["A"][5:]}
    assert '=HYPERLINK("http://x","y")' in names and "@SUM(1)" in names  # still text


def test_registry_formulas_agree_with_the_core_beyond_the_workbook(tmp_path: Path) -> None:
    """Every metric's native formula on a grid of awkward inputs, one sheet a metric."""
    from xlfuncs.registry import BY_NAME
    from xlfuncs.workbook.book import Book
    from xlfuncs.workbook.columns import apply, values

    numbers = [0.0, -1.0, 1.0, 2.5, -0.5, 100.0, None, 1e-9, 12.0, 7.8]
    dates = [44562.0, 45838.0, 45657.0, 46000.0, None, 44600.0, 45000.0, 45838.0, 44562.0,
             61.0]
    texts = ["USD", "hkd", "RMB", "CNY", "EUR", None, "HKD", "usd", "bn", "m"]
    book = Book()
    sheets = 0
    for name, item in BY_NAME.items():
        if item.excel_body is None or any(p.kind == "range" for p in item.params):
            continue
        sheet = book.sheet(name[:31])
        n = len(numbers)
        columns = []
        for k, param in enumerate(item.params):
            pool = {"number": numbers, "date": dates, "text": texts}[param.kind]
            # shift each argument's pool so rows mix values differently
            items = [pool[(i * (k + 1) + k) % n] for i in range(n * 3)]
            columns.append(values(f"{chr(65 + k)}§", items, text=param.kind == "text"))
        result = apply(item, f"{chr(65 + len(columns))}§", *columns,
                       blank_takes_default=True)
        for i in range(n * 3):
            row = sheet.rows + 1
            cells = [sheet.value(c.cell(i)) if c.cell(i) != "" else None for c in columns]
            cells.append(sheet.formula(result.formula(i, row) or "", result.cell(i)))
            sheet.append(cells)
        sheets += 1
    path = tmp_path / "registry.xlsx"
    path.write_bytes(book.to_bytes())
    compared, problems, _ = compare(path, tmp_path / "lo")
    assert sheets >= 28 and compared >= sheets * 30
    assert not problems, "\n".join(problems[:20])
