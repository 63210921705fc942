"""Definitions an analyst would dispute are fixed or made explicit: ratios over one period,
like-with-like multiples, no hidden discount rate, a market yardstick labelled as such."""

from __future__ import annotations

import datetime as dt
import inspect
import math
from pathlib import Path

import openpyxl
import pytest

import xlfuncs as xf
from xlfuncs.errors import NA, NUM, XlError
from xlfuncs.registry import entry
from xlfuncs.workbook import build

from .helpers import documentation

D = dt.date

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(scope="module")
def article(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    path = build(out=tmp_path_factory.mktemp("wb") / "article.xlsx").path
    return openpyxl.load_workbook(path, data_only=True)


def table(book: openpyxl.Workbook, sheet: str) -> dict[tuple[str, str], dict[str, object]]:
    """{(header, unit): {company: cached value}} of a table sheet."""
    rows = list(book[sheet].iter_rows(min_row=4, values_only=True))
    headers, units = rows[0], rows[1]
    out: dict[tuple[str, str], dict[str, object]] = {}
    for j, (header, unit) in enumerate(zip(headers, units, strict=True)):
        if j and header:
            out[(header, unit)] = {r[0]: r[j] for r in rows[2:] if r[0]}
    return out


# ---- a. loss and revenue over the same period ---------------------------------------

def test_loss_to_revenue_needs_both_figures_over_the_same_days() -> None:
    same = (D(2025, 1, 1), D(2025, 9, 30))
    assert xf.burn_loss_to_revenue(300, *same, 120, *same) == 2.5
    # the README's old example: a 45-month loss over 9 months of revenue
    answer = xf.explain(xf.burn_loss_to_revenue, 1320, D(2022, 1, 1), D(2025, 9, 30), 53.44,
                        D(2025, 1, 1), D(2025, 9, 30))
    assert isinstance(answer, XlError) and answer.code == NA
    assert "different periods" in answer.reason
    shifted_end = xf.explain(xf.burn_loss_to_revenue, 300, *same, 120, D(2025, 1, 1),
                             D(2025, 12, 31))
    assert shifted_end.code == NA
    backwards = xf.explain(xf.burn_loss_to_revenue, 300, D(2025, 9, 30), D(2025, 1, 1), 120,
                           D(2025, 9, 30), D(2025, 1, 1))
    assert backwards.code == NUM


def test_the_burn_sheet_shows_no_ratio_over_mismatched_periods(
        article: openpyxl.Workbook) -> None:
    columns = table(article, "Burn")
    assert not any(h == "Loss per unit of revenue" for h, _ in columns)
    ratio = columns[("Loss per unit of revenue, same period only", "x (#N/A: periods differ)")]
    assert ratio["MiniMax"] == "#N/A" and ratio["Zhipu"] == "#N/A"
    note = article["Burn"]["B2"].value   # beside column A, which every page repeats
    assert "same days" in note and "#N/A" in note
    text = documentation()
    assert "BURN_LOSS_TO_REVENUE(1320, 53.44)" not in text


# ---- b. revenue against a market of another year --------------------------------------

def test_revenue_against_the_2030_market_is_not_called_a_share(
        article: openpyxl.Workbook) -> None:
    headers = [h for h, _ in table(article, "Valuation")]
    assert "Share of China's 2030 AI market" not in headers
    assert "Revenue run-rate against China's 2030 AI market" in headers
    assert "share of China's 2030 AI market" not in documentation()


# ---- c. EV/Sales against the peer EV/Sales ------------------------------------------

def test_the_premium_compares_ev_to_sales_with_the_peer_ev_to_sales(
        article: openpyxl.Workbook) -> None:
    v = table(article, "Valuation")
    premium = v[("EV/Sales premium over peer EV/Sales", "%")]
    mv, rev = v[("Market value", "HK$ bn")], v[("Annualised revenue", "HK$ bn")]
    cash, debt = v[("Cash (Inputs)", "HK$ bn")], v[("Debt (Inputs; assumed 0)", "HK$ bn")]
    for company in ("MiniMax", "Zhipu"):
        assert debt[company] == 0 and cash[company] == 4.5
        ev_sales = (mv[company] + 0 - 4.5) / rev[company]  # EV = market value + debt - cash
        assert math.isclose(premium[company], ev_sales / 11.5 - 1, rel_tol=1e-9)
        # the old figure compared P/S with the peer EV/Sales
        assert not math.isclose(premium[company], mv[company] / rev[company] / 11.5 - 1,
                                rel_tol=1e-6)
    inputs = [r for r in article["Inputs"].iter_rows(values_only=True) if r[0] == "Company"]
    assert any("Debt" in str(c) and "assumed 0" in str(c) for c in inputs[0])


# ---- d. no hidden 0% discount rate -------------------------------------------------

@pytest.mark.parametrize("name", ["VAL_IMPLIED_CAGR", "VAL_YEARS_TO_JUSTIFY"])
def test_the_discount_rate_is_a_required_argument(name: str) -> None:
    item = entry(name)
    discount = item.params[-1]
    assert discount.name == "discount_rate" and not discount.optional
    parameter = inspect.signature(item.func).parameters["discount_rate"]
    assert parameter.default is inspect.Parameter.empty
    with pytest.raises(TypeError):
        item.func(323.2, 0.2156, 11.5, 5)
    # a blank rate is a blank answer, never a silent 0%
    assert item.outcome(323.2, 0.2156, 11.5, 5, None).cells() is None
    assert f"{name}(market_cap, revenue, target_multiple" in documentation()
    assert "[discount_rate]" not in documentation()


def test_the_examples_use_the_workbook_rate() -> None:
    # (323.2 x 1.1^5 / 11.5 / 0.2156)^(1/5) - 1 and ln(130.36) / ln(2 / 1.1), by hand
    assert xf.val_implied_cagr(323.2, 0.2156, 11.5, 5, 0.10) == pytest.approx(1.91352, abs=1e-5)
    assert xf.val_years_to_justify(323.2, 0.2156, 11.5, 1.0, 0.10) == pytest.approx(
        8.14646, abs=1e-5)
