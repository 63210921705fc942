"""The story DCF as the workbook will write it: the step formulas of the registry, years
as columns, cached values from the Python model. LibreOffice and Gnumeric recompute every
cell and agree with Python (rel 1e-9), so a story's value is the composition of the
workbook's row formulas."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from xlfuncs.elementwise import Outcome
from xlfuncs.registry import entry
from xlfuncs.story import model
from xlfuncs.workbook.book import CACHED_DIGITS, Book
from xlfuncs.workbook.engines import Engine

from .story_reference import DEFAULTS
from .test_story import STORY_A, STORY_B

STORIES = {
    "A": STORY_A,
    "B": STORY_B,
    "C": {**STORY_B, "nol": 30.0, "margin_next": -0.4, "convergence_year": 7.5,
          "failure_probability": 0.3, "cash": 5.0},
    "D": {**STORY_A, "mature_cost_of_capital": 0.03},  # #NUM!: not above stable growth
    "E": {**STORY_B, "shares": 0.0},                   # #NUM!: no shares
}
YEAR_ROW = 27
COLUMNS = "CDEFGHIJKL"  # years 1..10


def resolved(story: dict[str, float]) -> dict[str, float]:
    """Every input filled in, as the workbook's Inputs sheet will hold them."""
    s = {**DEFAULTS, **story}
    s.setdefault("mature_cost_of_capital", s["riskfree"] + model.MATURE_PREMIUM)
    s.setdefault("stable_growth", s["riskfree"])
    s.setdefault("stable_roc", s["mature_cost_of_capital"])
    return s


def cached(m: model.Model, cells: model.Cells) -> Any:
    value = Outcome(cells.values, cells.status, tuple(m.trace.errors), True).cells()
    return value.code if hasattr(value, "code") else value


def write_story(book: Book, title: str, story: dict[str, float]) -> None:
    s = resolved(story)
    m = model.value(s)
    sheet = book.sheet(title)
    ref = {}
    for label in model.LABELS:
        row = sheet.append([sheet.text(label), sheet.value(s[label])])
        ref[label] = f"$B${row}"
    sheet.blank_rows(YEAR_ROW - sheet.rows - 1)
    sheet.append([sheet.text("year"), sheet.value(0.0),
                  *(sheet.value(float(t)) for t in range(1, 11))])
    rows: dict[str, int] = {}

    def line(name: str, function: str, args: Any, values: model.Cells,
             base: Any = None) -> None:
        """One formula per row, the same across the year columns."""
        row = sheet.rows + 1
        rows[name] = row
        cells = [sheet.text(name), base]
        for t, column in enumerate(COLUMNS, start=1):
            previous = "B" if t == 1 else COLUMNS[t - 2]
            refs = [a(column, previous) if callable(a) else a for a in args]
            formula = entry(function).excel(*refs, blank_takes_default=False)
            cells.append(sheet.formula(formula, cached(m, values.year(t))))
        sheet.append(cells)

    year = lambda c, p: f"{c}${YEAR_ROW}"  # noqa: E731
    at = lambda name: lambda c, p: f"{c}{rows[name]}"  # noqa: E731
    before = lambda name: lambda c, p: f"{p}{rows[name]}"  # noqa: E731
    line("growth", "STORY_GROWTH", [year, ref["growth_next"], ref["growth_2_5"],
                                    ref["stable_growth"]], m.growth)
    rows["revenue"] = sheet.rows + 1
    line("revenue", "STORY_REVENUE", [before("revenue"), at("growth")], m.revenue,
         sheet.formula(f"={ref['revenue']}", s["revenue"]))
    line("margin", "STORY_MARGIN", [year, ref["margin_next"], ref["target_margin"],
                                    ref["convergence_year"]], m.margin)
    line("ebit", "STORY_EBIT", [at("revenue"), at("margin")], m.ebit)
    line("tax rate", "STORY_TAX_RATE", [year, ref["effective_tax"], ref["marginal_tax"]],
         m.tax_rate)
    rows["nol"] = sheet.rows + 2  # the taxes row reads the NOL row below it
    line("taxes", "STORY_TAXES", [at("ebit"), before("nol"), at("tax rate")], m.taxes)
    line("nol", "STORY_NOL", [at("ebit"), before("nol")], m.nol,
         sheet.formula(f"={ref['nol']}", s["nol"]))
    line("sales to capital", "STORY_SALES_TO_CAPITAL",
         [year, ref["sales_to_capital_1_5"], ref["sales_to_capital_6_10"]], m.sales_to_capital)
    line("reinvestment", "STORY_REINVESTMENT",
         [at("revenue"), before("revenue"), at("sales to capital")], m.reinvestment)
    line("fcff", "STORY_FCFF", [at("ebit"), at("taxes"), at("reinvestment")], m.fcff)
    line("cost of capital", "STORY_COST_OF_CAPITAL",
         [year, ref["cost_of_capital"], ref["mature_cost_of_capital"]], m.cost_of_capital)
    rows["discount factor"] = sheet.rows + 1
    line("discount factor", "STORY_DISCOUNT_FACTOR",
         [before("discount factor"), at("cost of capital")], m.discount_factor,
         sheet.value(1.0))
    line("pv", "STORY_PRESENT_VALUE", [at("fcff"), at("discount factor")], m.pv_fcff)

    def single(name: str, function: str, refs: list[str], value: model.Cells) -> str:
        formula = entry(function).excel(*refs, blank_takes_default=False)
        row = sheet.append([sheet.text(name), sheet.formula(formula, cached(m, value))])
        return f"B{row}"

    tv = single("terminal value", "STORY_TERMINAL_VALUE",
                [f"L{rows['revenue']}", ref["stable_growth"], ref["target_margin"],
                 ref["marginal_tax"], ref["stable_roc"], ref["mature_cost_of_capital"]],
                m.terminal_value)
    pv_tv = single("pv terminal", "STORY_PRESENT_VALUE", [tv, f"L{rows['discount factor']}"],
                   m.pv_terminal)
    going = single("going concern", "STORY_GOING_CONCERN",
                   [f"SUM(C{rows['pv']}:L{rows['pv']})", pv_tv], m.going_concern)
    operating = single("operating", "STORY_OPERATING_VALUE",
                       [going, ref["failure_probability"], ref["distress_fraction"]],
                       m.operating)
    equity = single("equity", "STORY_EQUITY", [operating, ref["cash"], ref["debt"],
                                                ref["minority"], ref["non_operating"]],
                    m.equity)
    single("per share", "STORY_PER_SHARE", [equity, ref["options"], ref["shares"]],
           m.per_share)


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    book = Book()
    for title, story in STORIES.items():
        write_story(book, f"Story {title}", story)
    path = tmp_path_factory.mktemp("story") / "story.xlsx"
    path.write_bytes(book.to_bytes())
    return path


def agree(ours: object, theirs: object) -> bool:
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)):
        return math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-9)
    return ours == theirs


def compare(original: Path, recalculated: Path) -> tuple[int, list[str]]:
    formulas = openpyxl.load_workbook(original)
    ours = openpyxl.load_workbook(original, data_only=True)
    theirs = openpyxl.load_workbook(recalculated, data_only=True)
    compared, problems = 0, []
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type != "f":
                    continue
                compared += 1
                mine = ours[ws.title][cell.coordinate].value
                other = theirs[ws.title][cell.coordinate].value
                if not agree(mine, other):
                    problems.append(f"{ws.title}!{cell.coordinate}: python {mine!r}, "
                                    f"engine {other!r}: {cell.value[:120]}")
    return compared, problems


def test_the_model_rows_end_in_the_value_story_value_gives(workbook: Path) -> None:
    values = openpyxl.load_workbook(workbook, data_only=True)
    for title, story in STORIES.items():
        last = [r for r in values[f"Story {title}"].iter_rows(values_only=True) if r[0]][-1]
        assert last[0] == "per share"
        expected = model.value(resolved(story)).per_share
        if title in ("D", "E"):
            assert last[1] == "#NUM!"
        else:
            # a formula's cached value keeps CACHED_DIGITS significant digits (book.py)
            rounded = float(format(float(expected.values), f".{CACHED_DIGITS}g"))
            assert last[1] == rounded and rounded == pytest.approx(float(expected.values))


@pytest.mark.engines
def test_each_engine_recomputes_every_step_formula(workbook: Path, tmp_path: Path,
                                                   engine: Engine) -> None:
    compared, problems = compare(workbook, engine.recalculate(workbook, tmp_path / "out"))
    assert compared >= 5 * 130
    assert not problems, "\n".join(problems[:20])
