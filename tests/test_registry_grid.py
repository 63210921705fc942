"""Every native formula of the registry against the Python core, in both engines, over a
cross-product of awkward inputs (tests/grid.py builds the workbook).

Each test is one function, one class of awkward input and one engine, so a known
disagreement is an exact, strict xfail: it fails the suite the day it is fixed, and every
other class of the same function is still checked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from xlfuncs.workbook.engines import Engine

from . import grid
from .grid import (
    CALENDAR_END,
    EARLY_DATE,
    EXTREME,
    FLOW_BLANKS,
    FLOW_TEXT,
    NUMERIC_TEXT,
    PADDED,
    PLAIN,
    TEXT,
)
from .recalc import Comparison, compare

pytestmark = pytest.mark.engines

LO, GN = "LibreOffice", "Gnumeric"
BOTH = (LO, GN)

# ---- known disagreements: (case, engines, functions, reason) ------------------------------
# "ENGINE:" one engine departs from Excel (docs/testing.md, "Spreadsheet engines"); a "BUG:"
# row would be the core and its native formula disagreeing (none left).
GUARDED = ("BURN_ANNUAL", "BURN_CASH_ZERO_DATE", "BURN_LOSS_TO_REVENUE", "BURN_MONTHLY",
           "BURN_MONTHS", "BURN_MULTIPLE", "BURN_RUNWAY", "CHECK_AT_LEAST", "CHECK_BETWEEN",
           "CHECK_CLOSE", "DATA_IN_BILLIONS", "FX_CONVERT", "FX_RATE", "VAL_ANNUALIZE",
           "VAL_CAGR", "VAL_DCF", "VAL_EV", "VAL_EV_REVENUE", "VAL_FAILURE_ADJUSTED",
           "VAL_IMPLIED_CAGR", "VAL_MARKET_SHARE", "VAL_PE", "VAL_PREMIUM",
           "VAL_PRICE_FROM_RETURN", "VAL_PS", "VAL_RETURN", "VAL_YEARS_TO_JUSTIFY")
DATES = ("BURN_ANNUAL", "BURN_CASH_ZERO_DATE", "BURN_MONTHLY", "BURN_MONTHS")
OVERFLOWING = ("BURN_MULTIPLE", "BURN_RUNWAY", "FX_IMPLIED_RATE", "VAL_ANNUALIZE",
               "VAL_EV_REVENUE", "VAL_MARKET_SHARE", "VAL_PE", "VAL_PREMIUM",
               "VAL_PRICE_FROM_RETURN", "VAL_PS", "VAL_RETURN")
KNOWN: tuple[tuple[str, tuple[str, ...], tuple[str, ...], str], ...] = (
    (CALENDAR_END, (GN,), ("BURN_ANNUAL", "BURN_MONTHLY", "BURN_MONTHS"),
     "ENGINE: Gnumeric's DATEDIF refuses an end past 9999-12-31 (end + 1) with #VALUE!"),
    (EXTREME, (GN,), OVERFLOWING,
     "ENGINE: Gnumeric saves an overflowing result as inf, where Excel and LibreOffice "
     "give #NUM!"),
    (EXTREME, (LO,), ("VAL_CAGR", "VAL_IMPLIED_CAGR"),
     "ENGINE: LibreOffice answers #NUM! when a power underflows to 0 (the core, like "
     "Excel, gives 0)"),
    (EXTREME, (GN,), ("CHECK_CLOSE", "VAL_IMPLIED_CAGR", "VAL_YEARS_TO_JUSTIFY"),
     "ENGINE: Gnumeric computes in extended precision (long double): 1e-300 x 1e-9 does not "
     "underflow and 1001^1000 or 1e300 / 1e-9 does not overflow, where Excel's doubles do"),
    (PLAIN, (GN,), ("VAL_IMPLIED_CAGR",),
     "ENGINE: Gnumeric's extended precision: (1 + 1000)^1000 fits a long double, so it "
     "answers where Excel, LibreOffice and the core overflow to #NUM!"),
    (EXTREME, BOTH, ("VAL_YEARS_TO_MULTIPLE",),
     "ENGINE: growth of 1e-9 or 1e-300 against a 0% rate: (1+g)/(1+d) is within 1e-9 of 1, "
     "where the engines' LN keeps fewer digits (8e-8 apart) or, at 1 exactly, Excel's "
     "division by LN(1) is #DIV/0! where the core's overflow is #NUM!"),
    (EXTREME, BOTH, ("VAL_DCF",),
     "ENGINE: LibreOffice's NPV answers #NUM! on underflow; Gnumeric's INDEX on a row"),
)


def known(function: str, case: str, engine: str) -> str | None:
    for known_case, engines, functions, reason in KNOWN:
        if case == known_case and engine in engines and function in functions:
            return reason
    return None


_BUILT: dict[str, object] = {}


def _grid(tmp: Path) -> tuple[Path, dict[str, grid.GridSheet]]:
    if "path" not in _BUILT:
        content, sheets = grid.build_grid()
        path = tmp / "registry_grid.xlsx"
        path.write_bytes(content)
        _BUILT.update(path=path, sheets=sheets)
    return _BUILT["path"], _BUILT["sheets"]  # type: ignore[return-value]


@pytest.fixture(scope="module")
def grid_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("grid")


def _compared(engine: Engine, directory: Path) -> Comparison:
    key = f"compared {engine.name}"
    if key not in _BUILT:
        path, _ = _grid(directory)
        _BUILT[key] = compare(path, engine.recalculate(path, directory / engine.name))
    return _BUILT[key]  # type: ignore[return-value]


CASES = [(e.name, case) for e in grid.entries() for case in grid.cases_of(e)]
# the workbook's short form (no type checks, native guards left to Excel) on well-typed rows
WORKBOOK_CASES = [(grid.WORKBOOK + e.name, case) for e in grid.entries()
                  for case in grid.cases_of(e, workbook_form=True)]
WORKBOOK_CASES += [(grid.TABLES + e.name, case) for e in grid.entries()
                   for case in grid.tabled_cases(e)]


def test_the_grid_covers_every_native_formula_and_every_kind_of_awkward_input() -> None:
    _, sheets = grid.build_grid()
    names = {e.name for e in grid.entries()}
    assert {"VAL_DCF", "CHECK_CLOSE", "DATA_IN_BILLIONS", "BURN_CASH_ZERO_DATE"} <= names
    assert set(sheets) == (names | {f"{grid.WORKBOOK}{n}"[:31] for n in names - {"VAL_DCF"}}
                           | {f"{grid.TABLES}{n}"[:31] for n in grid.TABLED})
    for name, sheet in sheets.items():
        assert (10 if name.startswith((grid.WORKBOOK, grid.TABLES)) else 100) <= len(
            sheet.cases) <= 4000, name
        assert PLAIN in sheet.cases.values(), name
    seen = {case for sheet in sheets.values() for case in sheet.cases.values()}
    assert {TEXT, NUMERIC_TEXT, EARLY_DATE, PADDED, CALENDAR_END, EXTREME, PLAIN,
            FLOW_BLANKS, FLOW_TEXT} <= seen
    # non-whole months for the cash-zero date: cash / burn = 1/3, 2.5/7.8, ...
    zero = sheets["BURN_CASH_ZERO_DATE"].arguments.values()
    assert any(isinstance(c, float) and isinstance(b, float) and b and (c / b) % 1
               for c, b, _ in zero)


@pytest.mark.parametrize(("function", "case"), CASES + WORKBOOK_CASES,
                         ids=[f"{f}-{c}" for f, c in CASES + WORKBOOK_CASES])
def test_native_formula_agrees_with_the_core(engine: Engine, grid_dir: Path, function: str,
                                             case: str, request: pytest.FixtureRequest
                                             ) -> None:
    _, sheets = _grid(grid_dir)
    title = function[:31]
    sheet = sheets[title]
    rows = {row for row, label in sheet.cases.items() if label == case}
    result = _compared(engine, grid_dir)
    assert result.compared >= 10_000
    reason = known(function.removeprefix(grid.WORKBOOK).removeprefix(grid.TABLES), case,
                   engine.name)
    if reason is not None:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    problems = [f"{m} <- arguments {sheet.arguments[m.row]}" for m in result.mismatches
                if m.sheet == title and m.row in rows]
    assert not problems, f"{len(problems)} of {len(rows)} rows:\n" + "\n".join(problems[:12])
