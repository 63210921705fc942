"""The guards' edges, worked by hand in tests/test_boundaries.py, through the native
formulas in both engines: mutation testing found that the registry grid never reached
some edges (0 and 1 next to a guard, the same loss and revenue period, the last day of
Excel's calendar), so a wrong constant in a formula string went unseen."""

from __future__ import annotations

import datetime as dt
import math
import warnings
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from xlfuncs.inputs import date_to_serial
from xlfuncs.registry import BY_NAME
from xlfuncs.workbook.book import Book
from xlfuncs.workbook.engines import Engine

from .test_boundaries import VALUES

# BURN_CASH_ZERO_DATE one day before the calendar's end: 9999-12-01 + 1.0183 x 30.4375
# days = + 30.995 days, serial 2958465 (9999-12-31); a 365.35/12-day month would refuse it
CASES: list[tuple[str, tuple[Any, ...], float]] = [
    *[(n, a, e) for n, a, e in VALUES if BY_NAME.get(n.upper()) is not None
      and BY_NAME[n.upper()].excel_body is not None],
    ("burn_cash_zero_date", (1.0183, 1.0, dt.date(9999, 12, 1)), 2958465.0),
    # 0.99999 x 30.4375 = 30.43720 days after serial 2958435.5625: 2958465.9997, still
    # 9999-12-31; a 365.26/12-day month (30.43833) would cross into 10000-01-01
    ("burn_cash_zero_date", (0.99999, 1.0, 2958435.5625), 2958465.0),
]


def cell(value: Any) -> Any:
    return date_to_serial(value) if isinstance(value, dt.date) else value


@pytest.fixture(scope="module")
def recalculated() -> dict[str, dict[int, Any]]:
    return {}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("edges")


def answers(engine: Engine, store: dict[str, dict[int, Any]], folder: Path) -> dict[int, Any]:
    """Every case's answer from one recalculation per engine."""
    if engine.name not in store:
        book = Book()
        sheet = book.sheet("Edges")
        for name, args, expected in CASES:
            row = sheet.rows + 1
            refs = [f"{chr(65 + k)}{row}" for k in range(len(args))]
            formula = BY_NAME[name.upper()].excel(*refs)
            sheet.append([*[sheet.value(cell(a)) for a in args], *[None] * (6 - len(args)),
                          sheet.formula(formula, expected)])
        path = folder / "edges.xlsx"
        path.write_bytes(book.to_bytes())
        out = engine.recalculate(path, folder / engine.name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = openpyxl.load_workbook(out, data_only=True)["Edges"]
        store[engine.name] = {i: values[f"G{i + 1}"].value for i in range(len(CASES))}
    return store[engine.name]


@pytest.mark.engines
@pytest.mark.parametrize("index", range(len(CASES)),
                         ids=[f"{n}{a}" for n, a, _ in CASES])
def test_the_native_formula_gives_the_hand_worked_value_at_the_edge(
        engine: Engine, recalculated: dict[str, dict[int, Any]], folder: Path,
        index: int) -> None:
    got = answers(engine, recalculated, folder)[index]
    name, args, expected = CASES[index]
    assert isinstance(got, (int, float)) and not isinstance(got, bool), (name, args, got)
    assert math.isclose(got, expected, rel_tol=1e-12, abs_tol=1e-15), (name, args, got)


# VAL_DCF over a range of two rows (read row by row, as Excel's NPV reads it) and at the
# rate guard's edge. Worked by hand: 100, 110, 121, 133.1 at 10% are each worth
# 100 / 1.1 today; the terminal value 133.1 x 1.02 / (0.10 - 0.02) / 1.1^4 is
# 100 / 1.1 x 12.75; so 100 / 1.1 x 16.75 = 1522.7272...; with 121 the last flow,
# 100 / 1.1 x 3 + 121 x 1.02 / 0.08 / 1.1^3 = 1431.8181...
DCF_BLOCKS: list[tuple[list[list[Any]], float, float | None, float | str]] = [
    ([[100.0, 110.0], [121.0, 133.1]], 0.1, 0.02, 100 / 1.1 * 16.75),
    ([[100.0, 110.0], [121.0, 133.1]], 0.1, None, 100 / 1.1 * 4),
    ([[100.0, 110.0], [121.0, None]], 0.1, 0.02, 100 / 1.1 * 3 + 121 * 1.02 / 0.08 / 1.1**3),
    ([[100.0, None], [121.0, 133.1]], 0.1, 0.02, "#VALUE!"),  # a gap, then more flows
    ([[100.0, None], [None, None]], -1.0, None, "#NUM!"),  # a rate of exactly -100%
    ([[100.0, None], [None, None]], -1.5, None, "#NUM!"),
]


def dcf_block_rows(flows: list[list[Any]], rate: float, growth: float | None, row: int
                   ) -> tuple[list[Any], list[Any], str]:
    """A block's two rows (flows in A:B of both, rate in E, growth in F) and its formula."""
    formula = BY_NAME["VAL_DCF"].excel(f"A{row}:B{row + 1}", f"E{row}", f"F{row}")
    return [*flows[0], None, None, rate, growth], [*flows[1]], formula


@pytest.mark.engines
def test_val_dcf_reads_a_two_row_range_row_by_row_in_both_engines(
        engine: Engine, folder: Path) -> None:
    book = Book()
    sheet = book.sheet("DCF")
    for flows, rate, growth, expected in DCF_BLOCKS:
        first, second, formula = dcf_block_rows(flows, rate, growth, sheet.rows + 1)
        sheet.append([*map(sheet.value, first), sheet.formula(formula, expected)])
        sheet.append(list(map(sheet.value, second)))
    path = folder / "dcf_blocks.xlsx"
    path.write_bytes(book.to_bytes())
    out = engine.recalculate(path, folder / f"dcf-{engine.name}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = openpyxl.load_workbook(out, data_only=True)["DCF"]
    for index, (flows, rate, growth, expected) in enumerate(DCF_BLOCKS):
        got = values[f"G{2 * index + 1}"].value
        if isinstance(expected, str):
            assert got == expected, (flows, rate, growth, got)
        else:
            assert isinstance(got, float) and math.isclose(got, expected, rel_tol=1e-12), (
                flows, rate, growth, got)


@pytest.mark.parametrize("index", range(len(DCF_BLOCKS)))
def test_val_dcf_in_python_gives_the_same_hand_worked_answers(index: int) -> None:
    import xlfuncs as xf

    flows, rate, growth, expected = DCF_BLOCKS[index]
    got = xf.explain(xf.val_dcf, flows, rate, growth)
    if isinstance(expected, str):
        assert got.code == expected
    else:
        assert math.isclose(got, expected, rel_tol=1e-12)
