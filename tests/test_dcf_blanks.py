"""VAL_DCF's native formula and the Python core agree for blanks anywhere in the range
(leading, inside, trailing), text, error cells, single cells, rows, columns and blocks:
proved by recalculating a workbook of cases in LibreOffice and in Gnumeric."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xlfuncs as xf
from xlfuncs.errors import DIV0, NA, NUM, VALUE, XlError
from xlfuncs.registry import entry
from xlfuncs.workbook.book import Book
from xlfuncs.workbook.engines import Engine

DCF = entry("VAL_DCF")
# a flow cell: how it is written (value or formula) and what Python is handed for it
# (LibreOffice's SQRT(-1) is #VALUE!, Excel's #NUM!: a constant is the same everywhere)
ERROR_FORMULAS = {DIV0: "=1/0", NA: "=NA()", NUM: "=#NUM!"}


class Flow:
    def __init__(self, kind: str, value: Any = None) -> None:
        self.kind, self.value = kind, value

    def python(self) -> Any:
        if self.kind == "error":
            return XlError(self.value, "")
        if self.kind == "empty_text":
            return ""
        return self.value

    def cell(self, sheet: Any) -> Any:
        if self.kind == "error":
            return sheet.formula(ERROR_FORMULAS[self.value], self.value)
        if self.kind == "empty_text":
            return sheet.formula('=""', "")
        if self.kind == "bool":
            return sheet.formula("=TRUE()" if self.value else "=FALSE()", self.value)
        if self.kind == "text":
            return sheet.text(self.value)
        return sheet.value(self.value)


def number(x: float) -> Flow:
    return Flow("number", x)


BLANK, EMPTY_TEXT = Flow("blank"), Flow("empty_text")
POOL = [number(100.0), number(-50.0), number(0.0), number(121.0), number(2.5), BLANK, BLANK,
        BLANK, EMPTY_TEXT, Flow("text", "x"), Flow("text", "12"), Flow("text", " "),
        Flow("bool", True), Flow("error", DIV0), Flow("error", NA), Flow("error", NUM)]
RATES: list[Any] = [0.1, 0.0, -0.5, -1.0, 0.02, None, "x", Flow("error", DIV0)]
GROWTHS: list[Any] = ["omit", None, 0.02, 0.1, -0.3, "x", Flow("error", NA)]


def worked_cases() -> list[tuple[list[list[Flow]], Any, Any]]:
    """The issue's examples and each kind of blank, as a column, a row and a block."""
    n = number
    flows = [
        [n(100), BLANK, n(121)],            # a gap: #VALUE!, not NPV's silent skip
        [n(100), n(110), n(121), BLANK, BLANK],  # trailing blanks ignored
        [BLANK, n(100), n(121)],            # leading blank
        [n(100), EMPTY_TEXT, n(121)],
        [n(100), n(121), EMPTY_TEXT],
        [n(100), Flow("text", "x"), n(121)],
        [n(100), n(121), Flow("text", "x")],
        [n(100), Flow("error", DIV0), Flow("error", NA)],
        [BLANK, BLANK], [n(100)], [BLANK],
    ]
    cases = []
    for f in flows:
        for growth in ("omit", 0.02):
            cases.append(([[c] for c in f], 0.1, growth))   # a column
            cases.append(([f], 0.1, growth))                # a row
    cases.append(([[n(100), n(110)], [n(121), BLANK]], 0.1, 0.02))  # a block, row by row
    cases.append(([[n(100), BLANK], [n(121), BLANK]], 0.1, 0.02))   # a gap inside a block
    return cases


def random_cases(count: int, seed: int) -> list[tuple[list[list[Flow]], Any, Any]]:
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        rows, cols = rng.choice([(1, 1), (1, 3), (1, 5), (3, 1), (5, 1), (2, 2), (2, 3)])
        weights = [6 if c.kind == "number" else 3 if c.kind == "blank" else 1 for c in POOL]
        flows = [[rng.choices(POOL, weights)[0] for _ in range(cols)] for _ in range(rows)]
        if rng.random() < 0.5:  # a clean prefix of numbers then blanks: the common case
            k = rng.randint(1, rows * cols)
            flat = [number(rng.choice([100.0, -20.0, 55.5, 0.0])) if i < k else BLANK
                    for i in range(rows * cols)]
            flows = [flat[r * cols:(r + 1) * cols] for r in range(rows)]
        cases.append((flows, rng.choice(RATES), rng.choice(GROWTHS)))
    return cases


def python_value(item: Any) -> Any:
    return item.python() if isinstance(item, Flow) else item


def expected(flows: list[list[Flow]], rate: Any, growth: Any) -> Any:
    args = [[[c.python() for c in row] for row in flows], python_value(rate)]
    if growth != "omit":
        args.append(python_value(growth))
    answer = xf.explain(xf.val_dcf, *args)
    return answer.code if isinstance(answer, XlError) else "" if answer is None else answer


def scalar_cell(sheet: Any, item: Any) -> Any:
    if isinstance(item, Flow):
        return item.cell(sheet)
    if isinstance(item, str):
        return sheet.text(item)
    return sheet.value(item)


def write_cases(path: Path, cases: list[tuple[list[list[Flow]], Any, Any]]) -> list[
        tuple[str, Any, str]]:
    """One case a block of rows: A rate, B growth, C the formula, flows from D."""
    book = Book()
    sheet = book.sheet("DCF")
    written = []
    for flows, rate, growth in cases:
        top = sheet.rows + 1
        rows, cols = len(flows), len(flows[0])
        last_col = chr(ord("D") + cols - 1)
        refs = [f"D{top}:{last_col}{top + rows - 1}", f"A{top}"]
        if growth != "omit":
            refs.append(f"B{top}")
        formula = DCF.excel(*refs)
        answer = expected(flows, rate, growth)
        for r, row in enumerate(flows):
            head = ([scalar_cell(sheet, rate),
                     None if growth == "omit" else scalar_cell(sheet, growth),
                     sheet.formula(formula, answer)] if r == 0 else [None, None, None])
            sheet.append([*head, *[c.cell(sheet) for c in row]])
        written.append((f"C{top}", answer, formula))
    path.write_bytes(book.to_bytes())
    return written


def agree(ours: Any, theirs: Any) -> bool:
    if ours == "" and theirs in (None, ""):
        return True
    if isinstance(ours, float) and isinstance(theirs, (int, float)):
        return math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-9)
    return ours == theirs


def disagreements(written: list[tuple[str, Any, str]], recalculated: Path) -> list[str]:
    theirs = openpyxl.load_workbook(recalculated, data_only=True)["DCF"]
    return [f"{ref}: python {ours!r}, engine {theirs[ref].value!r}: {formula}"
            for ref, ours, formula in written if not agree(ours, theirs[ref].value)]


CASES = worked_cases() + random_cases(160, seed=8)


def test_the_worked_examples() -> None:
    assert expected([[number(100), BLANK, number(121)]], 0.1, "omit") == VALUE
    # 100/1.1 + 121/1.21 + 121 x 1.02 / 0.08 / 1.21, by hand: 90.909 + 100 + 1275
    trailing = expected([[number(100)], [number(121)], [BLANK]], 0.1, 0.02)
    assert trailing == pytest.approx(100 / 1.1 + 100 + 1275)
    assert expected([[number(100), Flow("error", NA), Flow("error", DIV0)]], 0.1, "omit") == NA
    assert expected([[number(100), Flow("text", "12")]], 0.1, "omit") == VALUE
    assert expected([[number(100)]], Flow("error", DIV0), 0.02) == DIV0
    kinds = {type(expected(*c)).__name__ for c in CASES} | {expected(*c) for c in CASES
                                                              if isinstance(expected(*c), str)}
    assert {"float", "", VALUE, NUM, DIV0, NA} <= kinds  # every branch is exercised


@pytest.mark.engines
def test_each_engine_agrees_on_every_dcf_case(tmp_path: Path, engine: Engine) -> None:
    written = write_cases(tmp_path / "dcf.xlsx", CASES)
    problems = disagreements(written, engine.recalculate(tmp_path / "dcf.xlsx", tmp_path / "out"))
    assert not problems, "\n".join(problems[:10])


def test_the_excel_function_answers_like_the_formula() -> None:
    from .helpers import call, error

    div0 = {"type": "Error", "errorType": "Div0", "basicValue": "#DIV/0!"}
    assert call("VAL_DCF", [[100, div0]], 0.1) == [[error("Div0")]]
    assert call("VAL_DCF", [[100], [121], [None]], 0.1, 0.02)[0][0] == pytest.approx(
        100 / 1.1 + 100 + 1275)


# ---- Python against an oracle written from the rules, on random ranges ---------------

def oracle(cells: list[Any], rate: float, growth: float | None) -> Any:
    """The documented rules, written independently of xlfuncs."""
    for c in cells:
        if isinstance(c, XlError):
            return c.code
    filled = [i for i, c in enumerate(cells) if c is not None and c != ""]
    if not filled:
        return None
    end = filled[-1] + 1
    if any(isinstance(c, (str, bool)) or c is None for c in cells[:end]):
        return VALUE
    if rate <= -1 or (growth is not None and rate <= growth):
        return NUM
    try:
        value = sum(c / (1 + rate) ** (i + 1) for i, c in enumerate(cells[:end]))
        if growth is not None:
            value += cells[end - 1] * (1 + growth) / (rate - growth) / (1 + rate) ** end
    except (ZeroDivisionError, OverflowError):  # (1 + rate) ** n underflowed to 0
        return NUM
    return value if math.isfinite(value) else NUM


flow_cell = st.one_of(st.floats(-1e6, 1e6), st.none(), st.just(""), st.sampled_from(
    ["x", "12", " ", True]), st.sampled_from([XlError(DIV0, ""), XlError(NA, "")]))


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(flow_cell, min_size=1, max_size=8), rate=st.floats(-1.5, 1),
       growth=st.one_of(st.none(), st.floats(-0.5, 0.5)), column=st.booleans())
def test_python_follows_the_rules_for_any_range(cells: list[Any], rate: float,
                                                growth: float | None, column: bool) -> None:
    shaped = [[c] for c in cells] if column else [cells]
    answer = xf.explain(xf.val_dcf, shaped, rate, growth)
    want = oracle(cells, rate, growth)
    if isinstance(want, float):
        assert answer == pytest.approx(want, rel=1e-9, abs=1e-9)
    else:
        assert (answer.code if isinstance(answer, XlError) else answer) == want
