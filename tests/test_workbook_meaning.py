"""What the workbook's numbers mean, checked with figures worked by hand from the article:
the Scenarios grid and path, the company card, which columns move with the spot and which
with the period FX rates, and the quote prefix that keeps text from becoming a formula."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from pathlib import Path

import openpyxl
import pytest

from xlfuncs.sample import universe_csv
from xlfuncs.workbook import build
from xlfuncs.workbook.engines import Engine

from .recalc import compare

TRIGGERS = ("=", "+", "-", "@")

# The article's figures for Zhipu: market value HK$323.2bn; revenue RMB 191m over 2025 (12
# months); cumulative loss RMB 6,238m over 2022-01-01..2025-06-30 (42 months). Default
# inputs: USD/HKD 7.80, USD/CNY 6.91, so HK$ per RMB = 7.80/6.91 = 1.128799; cash HK$4.5bn.
# Zhipu revenue in HK$ bn: 0.191 x 1.128799 = 0.2156006.


@pytest.fixture(scope="module")
def cached(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    path = tmp_path_factory.mktemp("meaning") / "book.xlsx"
    build(out=path)
    return openpyxl.load_workbook(path, data_only=True)


def rows_by_label(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in ws.iter_rows(values_only=True) if isinstance(r[0], str)}


def table(book: openpyxl.Workbook, sheet: str) -> dict[str, dict[str, object]]:
    """Company -> {'header (unit)': value} of a table sheet (headers row 4, units row 5)."""
    ws = book[sheet]
    keys = [f"{h.value} ({u.value})" for h, u in zip(ws[4], ws[5], strict=True)]
    return {r[0]: dict(zip(keys, r, strict=False))
            for r in ws.iter_rows(min_row=6, values_only=True) if r[0]}


def test_scenarios_grid_cells_worked_by_hand(cached: openpyxl.Workbook) -> None:
    rows = rows_by_label(cached["Scenarios"])
    assert rows["Company"][0] == "Zhipu"
    assert rows["Target multiple \\ years"][:5] == (3, 5, 7, 10, 15)
    grid = {multiple: values for multiple, *values in cached["Scenarios"].iter_rows(
        values_only=True) if isinstance(multiple, (int, float))}
    assert sorted(grid) == [5, 8, 11.5, 15, 20, 30]
    # 11.5x in 5 years at 10%: market value then 323.2 x 1.1^5 = 323.2 x 1.61051 = 520.517;
    # revenue needed 520.517 / 11.5 = 45.262, i.e. 45.262 / 0.2156006 = 209.936 times
    # today's; a year: 209.936^(1/5) = e^(5.34680/5) = 2.91352, growth 191.35% a year.
    assert grid[11.5][1] == pytest.approx(1.91352, abs=1e-5)
    # 5x in 3 years: 323.2 x 1.331 / 5 = 86.036; / 0.2156006 = 399.05; cube root 7.3622
    assert grid[5][0] == pytest.approx(6.3622, abs=1e-4)
    # 30x in 15 years: 323.2 x 1.1^15 (4.177248) / 30 = 45.003; / 0.2156006 = 208.73;
    # 208.733^(1/15) = e^(5.341054/15) = e^0.3560703 = 1.427708
    assert grid[30][4] == pytest.approx(0.427708, abs=1e-5)
    # a longer horizon or a higher target needs less growth: every row and column falls
    for values in grid.values():
        assert all(a > b for a, b in itertools.pairwise(values[:5]))


def test_scenario_path_and_company_card_worked_by_hand(cached: openpyxl.Workbook) -> None:
    rows = rows_by_label(cached["Scenarios"])
    revenue = rows["Revenue (HK$ bn), growing at the Inputs' revenue growth a year"]
    market = rows["Market value (HK$ bn), growing at the Inputs' discount rate"]
    # year 1: revenue 0.2156006 x 1.5 = 0.3234009; market value 323.2 x 1.1 = 355.52;
    # P/S 355.52 / 0.3234009 = 1099.32; year 10: 323.2 x 1.1^10 (2.593742) = 838.298
    assert revenue[1] == pytest.approx(0.3234009, rel=1e-6)
    assert market[1] == pytest.approx(355.52) and market[10] == pytest.approx(838.298, abs=1e-3)
    assert rows["Price to sales (x)"][1] == pytest.approx(1099.32, abs=0.01)
    assert rows["At or below the target multiple (TRUE/FALSE)"][10] is False  # 67x > 11.5x
    card = {label: value for label, value, _ in cached["Company card"].iter_rows(
        min_row=6, values_only=True) if label}
    assert card["Company"] == "Zhipu"
    # years to 11.5x at 50% growth, 10% discount: ln(323.2 / (11.5 x 0.2156006)) /
    # ln(1.5 / 1.1) = ln(130.354) / ln(1.363636) = 4.87024 / 0.310155 = 15.7027
    assert card["Years to reach target multiple"] == pytest.approx(15.7027, abs=1e-4)
    # failure now adjusts the intrinsic (DCF) value, not the market value; its upside
    # against the market value is intrinsic / 323.2 - 1 (the DCF itself: test_workbook_dcf)
    intrinsic = card["Intrinsic equity value after options (DCF, failure-adjusted)"]
    assert intrinsic < 0  # the illustrative story is worth less than nothing
    assert card["Upside (+) / downside (-) of intrinsic value against the market value"] == \
        pytest.approx(intrinsic / 323.2 - 1, rel=1e-9)
    # runway: 4.5 / (6.238 / 42 x 1.128799) = 4.5 / 0.1676535 = 26.841 months; cash runs
    # out 26.841 x 30.4375 = 816.98 days after 2026-02-24: day 816 is 2028-05-20
    assert card["Runway"] == pytest.approx(26.841, abs=1e-3)
    assert card["Cash runs out"] == dt.datetime(2028, 5, 20)


# ---- spot rates for market values, period rates for flows ---------------------------------

SPOT = {"USD_HKD": 7.7, "USD_CNY": 7.0}
FLOWS = {"USD_HKD_Flows": 7.85, "USD_CNY_Flows": 7.2}
MARKET_VALUE = {"Valuation": ("Market value (HK$ bn)", "Market value (US$ bn)",
                              "Market value (RMB bn)")}
FLOW_COLUMNS = {"Valuation": ("Annualised revenue (HK$ bn)", "Annualised revenue (RMB bn)",
                              "Net profit (HK$ bn)"),
                "Burn": ("Monthly burn, loss-based (HK$ bn a month)",
                         "Annual burn, loss-based (HK$ bn a year)", "Compute spend (HK$ bn)")}


def built_with(directory: Path, rates: dict[str, float]) -> Path:
    """The article workbook (base.xlsx in ``directory``) with some FX inputs changed by
    hand, then rebuilt with --keep-inputs as a person would."""
    edited = directory / f"edited-{'-'.join(rates)}.xlsx"
    book = openpyxl.load_workbook(directory / "base.xlsx")
    for name, value in rates.items():
        ((sheet, ref),) = book.defined_names[name].destinations
        book[sheet][ref.replace("$", "")] = value
    book.save(edited)
    out = directory / f"{'-'.join(rates)}.xlsx"
    report = build(out=out, keep_inputs=edited)
    assert len(report.carried) == len(rates), report.carried
    return out


@pytest.fixture(scope="module")
def fx_books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("fx")
    base = build(out=directory / "base.xlsx").path
    return {"base": base, "spot": built_with(directory, SPOT),
            "flows": built_with(directory, FLOWS)}


def changed_columns(before: Path, after: Path) -> set[tuple[str, str]]:
    old = openpyxl.load_workbook(before, data_only=True)
    new = openpyxl.load_workbook(after, data_only=True)
    changed = set()
    for sheet in ("Valuation", "Burn"):
        a, b = table(old, sheet), table(new, sheet)
        for company, row in a.items():
            changed |= {(sheet, key) for key, value in row.items()
                        if b[company][key] != value}
    return changed


def test_market_values_move_with_spot_rates_only(fx_books: dict[str, Path]) -> None:
    changed = changed_columns(fx_books["base"], fx_books["spot"])
    for sheet, columns in MARKET_VALUE.items():
        assert {(sheet, c) for c in columns} <= changed
    for sheet, columns in FLOW_COLUMNS.items():
        assert not {(sheet, c) for c in columns} & changed, changed
    book = openpyxl.load_workbook(fx_books["spot"], data_only=True)
    zhipu, openai = table(book, "Valuation")["Zhipu"], table(book, "Valuation")["OpenAI"]
    assert zhipu["Market value (US$ bn)"] == pytest.approx(323.2 / 7.7)  # 41.974
    assert zhipu["Market value (RMB bn)"] == pytest.approx(293.8182, rel=1e-6)  # x 7.0/7.7
    assert openai["Market value (HK$ bn)"] == pytest.approx(6545)  # 850 x 7.7
    assert zhipu["Annualised revenue (HK$ bn)"] == pytest.approx(0.2156006, rel=1e-6)


def test_revenue_burn_and_profit_move_with_period_rates_only(fx_books: dict[str, Path]
                                                             ) -> None:
    changed = changed_columns(fx_books["base"], fx_books["flows"])
    for sheet, columns in FLOW_COLUMNS.items():
        assert {(sheet, c) for c in columns} <= changed, changed
    for sheet, columns in MARKET_VALUE.items():
        assert not {(sheet, c) for c in columns} & changed, changed
    book = openpyxl.load_workbook(fx_books["flows"], data_only=True)
    valuation, burn = table(book, "Valuation"), table(book, "Burn")
    # HK$ per RMB for flows: 7.85 / 7.2 = 1.0902778
    assert valuation["Zhipu"]["Annualised revenue (HK$ bn)"] == pytest.approx(
        0.2082431, rel=1e-6)  # 0.191 x 1.0902778
    assert valuation["Cambricon"]["Net profit (HK$ bn)"] == pytest.approx(
        2.1805556, rel=1e-6)  # mid of RMB 1.85-2.15bn = 2.0, x 1.0902778
    assert burn["Zhipu"]["Monthly burn, loss-based (HK$ bn a month)"] == pytest.approx(
        0.1619321, rel=1e-6)  # 6.238 / 42 = 0.1485238, x 1.0902778
    assert valuation["Zhipu"]["Market value (US$ bn)"] == pytest.approx(323.2 / 7.8)


@pytest.mark.engines
def test_an_engine_agrees_when_spot_and_period_rates_differ(
        engine: Engine, fx_books: dict[str, Path], tmp_path: Path) -> None:
    # the article workbook has equal spot and period rates, so a formula that names the
    # wrong one is invisible there; here the two differ
    book = fx_books["flows"]
    for path in (fx_books["spot"], book):
        result = compare(path, engine.recalculate(path, tmp_path / path.stem))
        assert result.compared > 300
        assert not result.mismatches, "\n".join(map(str, result.mismatches[:12]))


# ---- text that looks like a formula ----------------------------------------------------------


def hostile_facts(path: Path) -> Path:
    """Twelve generated companies, the first named =HYPERLINK(..), +1, -1, @SUM(1), ...;
    every source starts with =, +, - or @ in turn."""
    rows = list(csv.reader(io.StringIO(universe_csv(12, seed=5, hostile_names=True))))
    header, body = rows[0], rows[1:]
    source = header.index("source")
    for i, row in enumerate(body):
        row[source] = TRIGGERS[i % 4] + row[source]
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out, lineterminator="\n").writerows([header, *body])
    return path


def test_every_text_that_starts_like_a_formula_has_the_quote_prefix(tmp_path: Path) -> None:
    out = build(hostile_facts(tmp_path / "facts.csv"), tmp_path / "hostile.xlsx").path
    book = openpyxl.load_workbook(out)
    checked: dict[str, int] = dict.fromkeys(TRIGGERS, 0)
    sheets = set()
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "s" and str(cell.value).startswith(TRIGGERS):
                    assert cell.quotePrefix, (ws.title, cell.coordinate, cell.value)
                    checked[str(cell.value)[0]] += 1
                    sheets.add(ws.title)
    # names on Facts, Valuation, Burn, Inputs; sources on Facts
    assert min(checked.values()) >= 4, checked
    assert {"Facts", "Valuation", "Burn", "Inputs"} <= sheets, sheets
    facts = [c.value for c in book["Facts"]["A"]]
    assert {"+1", "-1", "@SUM(1)", "=1+1"} <= set(facts)
