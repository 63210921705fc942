"""Two independent spreadsheet engines, LibreOffice and Gnumeric, recalculate the workbook
and agree with the Python core on every formula cell (the cached values the builder wrote).

Every test here runs once per engine (the ``engine`` fixture of conftest.py). The registry
grid, every native formula over a cross-product of awkward inputs, is in
test_registry_grid.py.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from xlfuncs.sample import write_universe
from xlfuncs.workbook import build
from xlfuncs.workbook.engines import Engine

from .recalc import compare, poison

pytestmark = pytest.mark.engines


def test_the_engine_really_recomputes_poisoned_cached_values(engine: Engine,
                                                             tmp_path: Path) -> None:
    """An engine that kept cached values would make every comparison pass: every formula
    cached as 999 must come back with the core's answer."""
    path = build(out=tmp_path / "article.xlsx").path
    poisoned = tmp_path / "poisoned.xlsx"
    assert poison(path, poisoned) > 300
    assert len(compare(path, poisoned).mismatches) > 300  # the poison itself is seen
    recalculated = engine.recalculate(poisoned, tmp_path / engine.name)
    result = compare(path, recalculated)
    assert result.compared > 300
    assert not result.mismatches, "\n".join(map(str, result.mismatches[:20]))


def test_engine_agrees_with_every_cached_value_of_the_article_workbook(
        engine: Engine, tmp_path: Path) -> None:
    path = build(out=tmp_path / "article.xlsx").path
    recalculated = engine.recalculate(path, tmp_path / engine.name)
    result = compare(path, recalculated)
    assert result.compared > 300 and result.add_in == 0   # every formula, none left out
    assert not result.mismatches, "\n".join(map(str, result.mismatches[:20]))
    theirs = openpyxl.load_workbook(recalculated, data_only=True)
    results = [r[3] for r in theirs["Checks"].iter_rows(min_row=6, values_only=True) if r[0]]
    # LibreOffice has no boolean type: it saves a TRUE/FALSE-formatted check as 1
    assert results and all(r is True or (engine.name == "LibreOffice" and r == 1)
                           for r in results), results


def test_engine_agrees_on_random_hostile_companies(engine: Engine, tmp_path: Path) -> None:
    """Zero and negative revenue, profits instead of losses, blanks, formula-like names:
    the native formulas and the core still agree, errors included."""
    data = write_universe(tmp_path / "random.csv", 150, seed=11, hostile_names=True)
    path = build(data, tmp_path / "random.xlsx").path
    recalculated = engine.recalculate(path, tmp_path / engine.name)
    result = compare(path, recalculated)
    assert result.compared > 5000
    assert not result.mismatches, "\n".join(map(str, result.mismatches[:20]))
    assert {"#DIV/0!", "#NUM!"} <= result.errors  # the edge cases were really exercised
    names = {c.value for c in openpyxl.load_workbook(recalculated)["Facts"]["A"][5:]}
    assert '=HYPERLINK("http://x","y")' in names and "@SUM(1)" in names  # still text


def test_the_shared_workbook_opens_without_name_errors_or_unexplained_ones(
        engine: Engine, tmp_path: Path) -> None:
    """Recalculated in full, as Excel does on open (fullCalcOnLoad): no #NAME? anywhere (no
    add-in function, only functions every engine has), and every error that remains is
    one the core computed and its column's units row names (Burn: loss per unit of
    revenue, #N/A until a loss and a revenue cover the same days)."""
    path = build(out=tmp_path / "article.xlsx").path
    recalculated = engine.recalculate(path, tmp_path / engine.name)
    ours = openpyxl.load_workbook(path, data_only=True)
    theirs = openpyxl.load_workbook(recalculated, data_only=True)
    errors, unexplained = [], []
    for ws in theirs.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type != "e":
                    continue
                where = f"{ws.title}!{cell.coordinate}: {cell.value}"
                errors.append(where)
                units = ws.cell(5, cell.column).value
                if (cell.value == "#NAME?" or ours[ws.title][cell.coordinate].value != cell.value
                        or not isinstance(units, str) or cell.value not in units):
                    unexplained.append(where)
    assert errors and not unexplained, unexplained
