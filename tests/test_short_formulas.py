"""Formulas a colleague can audit: short, each input checked once where it is entered.

- Formula length: the median formula at most 60 characters and none over 250, in the
  article workbook and in a 10,000-company one (as openpyxl reads each cell, shared or not).
- The DCF's year lines read like the arithmetic they do (``=C23*(1+D22)``).
- The guards a formula leaves out because its inputs' rules hold them are never needed:
  random stories within the rules, valued by the DCF block's cells (the workbook's form)
  and by the add-in's core (every guard), give the same answers.
- An impossible input (blank, text, outside its rule) turns the check of its group FALSE,
  which names it, and so the master check on every sheet; a blank story input is #N/A in
  the DCF, never a number computed from a zero.
"""

from __future__ import annotations

import statistics
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xlfuncs as xf
from xlfuncs.sample import universe_csv
from xlfuncs.workbook import build
from xlfuncs.workbook.columns import constant
from xlfuncs.workbook.engines import Engine
from xlfuncs.workbook.model import STORY_INPUTS
from xlfuncs.workbook.sheets.dcf import plan_block
from xlfuncs.workbook.sheets.story_inputs import StoryCompany

from .test_workbook_dcf import PER_SHARE, block

MEDIAN, LONGEST = 60, 250


def formula_lengths(path: Path) -> list[int]:
    book = openpyxl.load_workbook(path)
    return [len(cell.value) for ws in book.worksheets for row in ws.iter_rows()
            for cell in row if cell.data_type == "f"]


@pytest.fixture(scope="module")
def article(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(out=tmp_path_factory.mktemp("short") / "article.xlsx").path


@pytest.fixture(scope="module")
def universe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("universe")
    data = folder / "universe.csv"
    data.write_text(universe_csv(10_000, seed=7), encoding="utf-8")
    return build(data=data, article=False, out=folder / "universe.xlsx").path


@pytest.mark.parametrize("which", ["article", "universe"])
def test_formulas_are_short_enough_to_read_at_a_glance(which: str,
                                                       request: pytest.FixtureRequest) -> None:
    lengths = formula_lengths(request.getfixturevalue(which))
    assert len(lengths) > (500_000 if which == "universe" else 1_000)
    assert statistics.median(lengths) <= MEDIAN, statistics.median(lengths)
    assert max(lengths) <= LONGEST, max(lengths)


def test_the_dcf_lines_read_like_their_arithmetic(article: Path) -> None:
    ws = openpyxl.load_workbook(article)["DCF"]
    rows = {row[0].value: row for row in ws.iter_rows(min_row=1, max_row=60)
            if isinstance(row[0].value, str)}
    revenue, growth = rows["Revenue"], rows["Revenue growth"]
    year_2, year_1 = revenue[4].coordinate, revenue[3].coordinate
    assert revenue[4].value == f"={year_1}*(1+{growth[4].coordinate})"
    assert rows["Operating income (EBIT)"][3].value == (
        f"={year_1}*{rows['Operating margin'][3].coordinate}")
    assert year_2 != year_1
    # every year line of the block without a blank test or a repeated check
    for label in ("Revenue", "Operating income (EBIT)", "Taxes (after the NOL)",
                  "Reinvestment", "Free cash flow to the firm (FCFF)", "Discount factor",
                  "Present value of FCFF", "Losses carried forward (NOL), end of year"):
        assert '=""' not in rows[label][5].value and "#NUM!" not in rows[label][5].value


# ---- the guards left out are never needed for stories within the rules -----------------

RULES = {spec.label: spec.rule for spec in STORY_INPUTS}


def _within(label: str) -> st.SearchStrategy[float]:
    low, high = RULES[label].bounds
    if label == "revenue":
        low, high = 0.01, 1000.0
    if label in ("nol", "cash", "debt", "minority", "non_operating", "options"):
        low, high = 0.0, 1000.0
    if label == "shares":
        low, high = 0.5, 1e6
    return st.floats(low, high, allow_nan=False)


STORIES = st.fixed_dictionaries({spec.label: _within(spec.label) for spec in STORY_INPUTS})


def _cell(value: Any) -> Any:
    return value if not isinstance(value, float) or np.isfinite(value) else "#NUM!"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STORIES)
def test_stories_within_the_rules_need_no_guard_the_workbook_leaves_out(
        story: dict[str, float]) -> None:
    company = StoryCompany("Acme", 0, "Acme", {
        label: constant(f"DCF_Acme_{label}", value) for label, value in story.items()})
    growth = constant("C0", story["growth_2_5"])
    market = constant("Valuation!$E$6", 300.0)
    workbook = plan_block(company, "Acme: the story", 6, growth, market)
    cell = workbook.cell["per_share"].cell(0)
    core = xf.explain(xf.story_value, **story)
    expected = core.code if hasattr(core, "code") else core
    if isinstance(cell, float) and isinstance(expected, float):
        assert cell == pytest.approx(expected, rel=1e-12, abs=1e-300)
    else:
        assert cell == expected, (cell, core)


# ---- impossible inputs: the check of their group says FALSE, and which ----------------

def _recalculated(engine: Engine, path: Path, folder: Path, edits: dict[tuple[str, str], Any]
                  ) -> openpyxl.Workbook:
    book = openpyxl.load_workbook(path)
    for (sheet, where), value in edits.items():
        book[sheet][where] = value
    edited = folder / "edited.xlsx"
    book.save(edited)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(engine.recalculate(edited, folder / "out"),
                                      data_only=True)


def _named(book: openpyxl.Workbook, name: str) -> tuple[str, str]:
    sheet, where = book.defined_names[name].attr_text.split("!")
    return sheet, where.replace("$", "")


def _check_row(book: openpyxl.Workbook, what: str) -> tuple[Any, Any]:
    for row in book["Checks"].iter_rows(min_row=6, values_only=True):
        if isinstance(row[0], str) and row[0].startswith(what):
            return row[3], row[4]
    raise AssertionError(f"no check '{what}'")


CASES = [
    ("USD_HKD", None, "Assumptions", "USD_HKD"),                # emptied
    ("Discount_Rate", "10%", "Assumptions", "Discount_Rate"),   # text where a number belongs
    ("Years", 0.0, "Assumptions", "Years"),                     # outside its rule (0.5 to 50)
    ("DCF_MiniMax_convergence_year", 11.0, "Story inputs (DCF)", "convergence_year"),
    ("DCF_MiniMax_growth_2_5", -1.5, "Story inputs (DCF)", "growth_2_5"),
]


@pytest.mark.engines
@pytest.mark.parametrize(("name", "value", "group", "named"), CASES,
                         ids=[f"{n}={v!r}" for n, v, _, _ in CASES])
def test_an_impossible_input_turns_its_check_false_and_names_it(
        engine: Engine, article: Path, tmp_path: Path, name: str, value: Any, group: str,
        named: str) -> None:
    original = openpyxl.load_workbook(article)
    book = _recalculated(engine, article, tmp_path, {_named(original, name): value})
    result, which = _check_row(book, group)
    assert result in (False, 0), (result, which)
    assert which == f"first outside its rule: {named}"
    sheet, where = _named(original, "Checks_OK")
    assert book[sheet][where].value in (False, 0)
    # and the first sheet's header shows it
    assert book["About"]["C1"].value in (False, 0) or book["Inputs"]["C1"].value in (False, 0)


@pytest.mark.engines
def test_the_article_workbook_passes_every_input_check(engine: Engine, article: Path,
                                                       tmp_path: Path) -> None:
    book = _recalculated(engine, article, tmp_path, {})
    for group in ("Assumptions", "Scenario grid axes", "Story inputs (DCF)"):
        result, which = _check_row(book, group)
        assert result in (True, 1) and which in (None, ""), (group, result, which)


@pytest.mark.engines
def test_a_blank_story_input_is_not_a_number_from_zero(engine: Engine, article: Path,
                                                       tmp_path: Path) -> None:
    original = openpyxl.load_workbook(article)
    book = _recalculated(engine, article, tmp_path,
                         {_named(original, "DCF_MiniMax_target_margin"): None})
    rows = block(book["DCF"], "MiniMax: the story")
    assert rows[PER_SHARE][2] == "#N/A"
    assert rows["Operating margin"][12] == "#N/A"          # year 10 reads the target
