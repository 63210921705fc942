"""The DCF and Simulation sheets of the article workbook: the cached value per share of
each story block is the core's ``story_value`` on the same inputs, year 1 of MiniMax is
worked by hand, the market-implied block is worth the market value, Valuation links it."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

import xlfuncs as xf
from xlfuncs.workbook import build
from xlfuncs.workbook.engines import Engine
from xlfuncs.workbook.sheets.valuation import INTRINSIC, UPSIDE

from .test_workbook import row_of

DIGITS = 5e-12  # cached values are written to 12 significant digits (book.CACHED_DIGITS)
PER_SHARE = "Value per share (shares = 1: equity value after options)"
AFTER_OPTIONS = "Equity value after options (intrinsic value)"

MINIMAX_REVENUE = 53.44 / 9 * 12 * 7.8 / 1000   # US$m for 9 months -> HK$ bn a year
MINIMAX_NOL = 1.32 * 7.8                          # US$1.32bn of cumulative losses, HK$ bn
ZHIPU_REVENUE = 191 * 7.8 / 6.91 / 1000          # RMB191m for 2025 -> HK$ bn
ZHIPU_NOL = 6.238 * 7.8 / 6.91


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> tuple[openpyxl.Workbook, ...]:
    path = build(out=tmp_path_factory.mktemp("dcf") / "article.xlsx").path
    return (openpyxl.load_workbook(path, data_only=True), openpyxl.load_workbook(path))


def block(ws: openpyxl.worksheet.worksheet.Worksheet, title: str) -> dict[str, list]:
    """A DCF block's rows by label (column A), from its title row to the next title."""
    rows, inside = {}, False
    for row in ws.iter_rows(min_row=4, values_only=True):
        if isinstance(row[0], str) and ": the " in row[0]:
            inside = row[0].startswith(title)
            continue
        if inside and row[0]:
            rows[row[0]] = list(row)
    return rows


def story(revenue: float, nol: float, **changes: float) -> dict[str, float]:
    return {**dict(revenue=revenue, nol=nol, growth_next=1.0, growth_2_5=0.6,
                   margin_next=-4.0, target_margin=0.25, convergence_year=10,
                   sales_to_capital_1_5=1.5, sales_to_capital_6_10=1.5, riskfree=0.04,
                   cost_of_capital=0.12, mature_cost_of_capital=0.085, stable_growth=0.04,
                   stable_roc=0.085, failure_probability=0.2, distress_fraction=0.5, cash=4.5,
                   debt=0.0), **changes}


@pytest.mark.parametrize("company, revenue, nol", [("MiniMax", MINIMAX_REVENUE, MINIMAX_NOL),
                                                   ("Zhipu", ZHIPU_REVENUE, ZHIPU_NOL)])
def test_value_per_share_is_story_value_on_the_same_inputs(books: tuple, company: str,
                                                           revenue: float, nol: float) -> None:
    rows = block(books[0]["DCF"], f"{company}: the story")
    per_share = rows[PER_SHARE][2]
    assert per_share == pytest.approx(float(xf.story_value(**story(revenue, nol))), rel=DIGITS)
    assert rows["Revenue"][2] == pytest.approx(revenue, rel=DIGITS)
    assert rows["Losses carried forward (NOL), end of year"][2] == pytest.approx(nol, rel=DIGITS)


def test_minimax_year_one_worked_by_hand(books: tuple) -> None:
    r = block(books[0]["DCF"], "MiniMax: the story")
    revenue_1 = MINIMAX_REVENUE * 2                  # growth_next 100%
    ebit_1 = revenue_1 * -4.0                        # margin_next -400%
    reinvestment_1 = (revenue_1 - MINIMAX_REVENUE) / 1.5
    fcff_1 = ebit_1 - 0 - reinvestment_1             # a loss pays no tax
    assert r["Revenue"][3] == pytest.approx(revenue_1, rel=DIGITS)
    assert r["Operating income (EBIT)"][3] == pytest.approx(ebit_1, rel=DIGITS)
    assert r["Losses carried forward (NOL), end of year"][3] == pytest.approx(
        MINIMAX_NOL - ebit_1, rel=DIGITS)
    assert r["Taxes (after the NOL)"][3] == 0
    assert r["Free cash flow to the firm (FCFF)"][3] == pytest.approx(fcff_1, rel=DIGITS)
    assert r["Present value of FCFF"][3] == pytest.approx(fcff_1 / 1.12, rel=DIGITS)


def test_the_market_implied_block_is_worth_the_market_value(books: tuple) -> None:
    values = books[0]
    checks = [r for r in values["Checks"].iter_rows(min_row=6, values_only=True)
              if r[0] and "market-implied story" in r[0]]
    assert len(checks) == 2 and all(r[3] is True for r in checks)
    for company, market in (("MiniMax", 300.0), ("Zhipu", 323.2)):
        rows = block(values["DCF"], f"{company}: the market-implied story")
        growth = next(v for k, v in rows.items() if k.startswith("Revenue growth, years 2-5"))[2]
        assert rows[PER_SHARE][2] == pytest.approx(
            market, rel=1e-9)
        assert float(xf.story_value(**story(
            MINIMAX_REVENUE if company == "MiniMax" else ZHIPU_REVENUE,
            MINIMAX_NOL if company == "MiniMax" else ZHIPU_NOL, growth_2_5=growth))) == \
            pytest.approx(market, rel=1e-9)
        assert len(repr(growth).replace("0.", "").rstrip("0")) <= 13   # 12 digits written


def test_valuation_and_card_show_intrinsic_value(books: tuple) -> None:
    values = books[0]
    ws = values["Valuation"]
    headers = [c.value for c in ws[4]]
    intrinsic = headers.index(INTRINSIC)
    assert "Failure-adjusted value" not in headers
    dcf = block(values["DCF"], "MiniMax: the story")
    assert ws.cell(6, intrinsic + 1).value == pytest.approx(dcf[AFTER_OPTIONS][2], rel=DIGITS)
    card = {r[0]: r[1] for r in values["Company card"].iter_rows(min_row=6, values_only=True)}
    zhipu = block(values["DCF"], "Zhipu: the story")
    assert card[INTRINSIC] == pytest.approx(zhipu[AFTER_OPTIONS][2], rel=DIGITS)


@pytest.mark.engines
def test_one_definition_of_intrinsic_value_and_upside_after_options(
        tmp_path: Path, engine: Engine) -> None:
    """With employee options, the DCF, Valuation and the Company card show one intrinsic
    value (the equity value less the options) and one upside, recomputed by an engine."""
    path = build(out=tmp_path / "options.xlsx").path
    book = openpyxl.load_workbook(path)
    for name, value in (("DCF_MiniMax_options", 5.0), ("Card_Company", "MiniMax")):
        ((sheet, cell),) = book.defined_names[name].destinations
        book[sheet][cell.replace("$", "")] = value
    book.save(path)
    values = openpyxl.load_workbook(engine.recalculate(path, tmp_path / engine.name),
                                    data_only=True)
    dcf = block(values["DCF"], "MiniMax: the story")
    equity, market = dcf["Equity value"][2], dcf["Market value (Valuation)"][2]
    intrinsic, upside = equity - 5, (equity - 5) / market - 1   # by hand, from the engine
    assert dcf[AFTER_OPTIONS][2] == pytest.approx(intrinsic, rel=1e-9)
    assert dcf["Upside (+) / downside (-) against the market value"][2] == pytest.approx(
        upside, rel=1e-9)
    minimax = row_of(values, "Valuation", "MiniMax")
    assert minimax[f"{INTRINSIC} (HK$ bn)"] == pytest.approx(intrinsic, rel=1e-9)
    assert minimax[f"{UPSIDE} (%)"] == pytest.approx(upside, rel=1e-9)
    card = {r[0]: r[1] for r in values["Company card"].iter_rows(min_row=6, values_only=True)}
    assert card[INTRINSIC] == pytest.approx(intrinsic, rel=1e-9)
    assert card[UPSIDE] == pytest.approx(upside, rel=1e-9)


def test_simulation_sheet_states_seed_and_draws(books: tuple) -> None:
    values, formulas = books
    ws = formulas["Simulation"]
    live = [c.value for row in ws.iter_rows() for c in row
            if isinstance(c.value, str) and "VAL_STORY_SIMULATE(" in c.value]
    assert live == []   # the add-in's cells are in a build for a route only
    rows = {r[0]: r for r in values["Simulation"].iter_rows(values_only=True) if r[0]}
    assert rows["Seed"][1] == 2026 and rows["Draws"][1] == 10_000
    assert len(ws._charts) == 2
