"""The core functions against figures worked by hand from the article, and every edge case."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

import xlfuncs as xf
from xlfuncs.checks import check_at_least
from xlfuncs.data import data_fact
from xlfuncs.errors import DIV0, NA, NUM, VALUE, XlError, XlfuncsError
from xlfuncs.registry import CATALOG

D = dt.date

# ---- the article, worked by hand -----------------------------------------------------


def test_minimax_price_implied_by_494_percent_over_issue_price() -> None:
    # HK$165 x (1 + 4.94) = HK$980.10
    assert xf.val_price_from_return(165, 4.94) == pytest.approx(980.10, abs=1e-9)
    assert xf.val_return(165, 980.10) == pytest.approx(4.94, abs=1e-12)


def test_zhipu_monthly_burn_over_42_months() -> None:
    # 2022-01-01 .. 2025-06-30 is 42 whole months; RMB 6,238m / 42 = RMB 148.5m a month
    assert xf.burn_months(D(2022, 1, 1), D(2025, 6, 30)) == 42
    assert xf.burn_monthly(6238, D(2022, 1, 1), D(2025, 6, 30)) == pytest.approx(148.5238095, 1e-9)
    assert xf.burn_annual(6238, D(2022, 1, 1), D(2025, 6, 30)) == pytest.approx(6238 / 3.5)


def test_minimax_burn_over_45_months() -> None:
    # 2022-01-01 .. 2025-09-30 is 45 months; US$1,320m / 45 = US$29.33m a month, 352 a year
    assert xf.burn_months(dt.date(2022, 1, 1), dt.date(2025, 9, 30)) == 45
    assert xf.burn_monthly(1320, D(2022, 1, 1), D(2025, 9, 30)) == pytest.approx(29.3333333333)
    assert xf.burn_annual(1320, D(2022, 1, 1), D(2025, 9, 30)) == pytest.approx(352.0)


def test_months_accept_excel_serials_and_python_dates_alike_but_not_text() -> None:
    # 44562 is 2022-01-01 and 45838 is 2025-06-30 in Excel's 1900 date system
    assert xf.burn_months(44562, 45838) == xf.burn_months(D(2022, 1, 1), dt.date(2025, 6, 30))
    assert xf.burn_months(np.datetime64("2022-01-01"), D(2025, 6, 30)) == 42
    # a date typed as text is text, however it is written: #VALUE! naming the argument
    for text in ("2022-01-01", "44562", " 2022-01-01"):
        assert xf.explain(xf.burn_months, text, 45838) == XlError(
            VALUE, "start_date: expected a date")


def test_months_follow_datedif_at_month_ends() -> None:
    # DATEDIF(start, end + 1, "m") counts a month only when the day of month is reached
    # (values checked against LibreOffice's DATEDIF)
    assert xf.burn_months(D(2025, 1, 31), D(2025, 2, 27)) == 0   # end+1 = Feb 28: no month yet
    assert xf.burn_months(D(2025, 1, 31), D(2025, 2, 28)) == 1   # end+1 = Mar 1: Feb counted
    assert xf.burn_months(D(2025, 1, 31), D(2025, 3, 30)) == 2
    assert xf.burn_months(D(2025, 1, 1), D(2025, 1, 31)) == 1
    assert xf.burn_months(D(2024, 2, 29), D(2025, 2, 27)) == 11
    assert xf.burn_months(D(2024, 2, 29), D(2025, 2, 28)) == 12  # end+1 = Mar 1 >= day 29


def test_article_currency_conversions_imply_usd_cny_near_the_default() -> None:
    # US$53.44m ~ RMB 370m and US$1.32bn ~ RMB 9.1bn imply 6.924 and 6.894
    assert 370 / 53.44 == pytest.approx(xf.fx_rate("USD", "CNY"), rel=0.005)
    assert 9.1 / 1.32 == pytest.approx(xf.fx_rate("USD", "RMB"), rel=0.005)
    # 53.44 x 6.91 = 374.08 - 4.8096 = 369.2704 (RMB m), the article's "RMB 370m"
    assert xf.fx_convert(53.44, "USD", "CNY") == pytest.approx(369.2704)


def test_fx_rates_are_consistent_both_ways() -> None:
    assert xf.fx_rate("USD", "HKD") == 7.8
    assert xf.fx_rate("hkd", "usd") == pytest.approx(1 / 7.8)
    assert xf.fx_rate("CNY", "HKD") == pytest.approx(7.8 / 6.91)
    assert xf.fx_rate("RMB", "CNY") == 1.0
    assert xf.fx_convert(300, "HKD", "USD") == pytest.approx(38.461538461538)


def test_combined_market_value_is_beyond_620bn() -> None:
    # the dataset's two market values: HK$300bn (MiniMax) + HK$323.2bn (Zhipu) = 623.2bn,
    # which the article calls "more than HK$620bn"
    combined = data_fact("MiniMax", "market_value") + data_fact("Zhipu", "market_value")
    assert combined == pytest.approx(623.2)
    assert check_at_least(combined, 620) and not check_at_least(619.9, 620)


def test_zhipu_price_to_sales_in_one_currency() -> None:
    # HK$323.2bn over 2025 revenue of RMB 0.191bn converted at 7.80 / 6.91 HKD per CNY
    revenue_hkd = xf.fx_convert(0.191, "CNY", "HKD")
    # 0.191 x 7.8 = 1.4898; / 6.91 = 0.215600579 HK$bn; 323.2 / 0.215600579 = 1499.07
    assert revenue_hkd == pytest.approx(0.215600579, rel=1e-8)
    assert xf.val_ps(323.2, revenue_hkd) == pytest.approx(1499.07, abs=0.005)
    assert round(xf.val_ps(323.2, revenue_hkd)) == 1499


def test_minimax_revenue_run_rate_from_nine_months() -> None:
    assert xf.val_annualize(53.44, 9) == pytest.approx(71.2533333)


def test_alibaba_cloud_cap_growth() -> None:
    # US$115m (2026) to US$135m (2028): sqrt(135/115) - 1 = 8.35% a year
    # 135 / 115 = 1.1739130; its square root is 1.0834727
    assert xf.val_cagr(115, 135, 2) == pytest.approx(0.0834727, abs=1e-7)
    assert xf.val_cagr(115, 125, 1) == pytest.approx(10 / 115)


def test_reverse_valuation_of_zhipu() -> None:
    # Required revenue = 323.2 / 11.5 = 28.10; growing from 0.2156 in 5 years
    expected = (323.2 / 11.5 / 0.2156) ** (1 / 5) - 1
    assert xf.val_implied_cagr(323.2, 0.2156, 11.5, 5, 0) == pytest.approx(expected)
    assert xf.val_implied_cagr(323.2, 0.2156, 11.5, 5, 0) == pytest.approx(1.6487, abs=1e-4)
    with_rate = (323.2 * 1.1**5 / 11.5 / 0.2156) ** (1 / 5) - 1
    assert xf.val_implied_cagr(323.2, 0.2156, 11.5, 5, 0.1) == pytest.approx(with_rate)
    # doubling revenue every year takes log2(130.36) = 7.03 years
    assert xf.val_years_to_justify(323.2, 0.2156, 11.5, 1.0, 0) == pytest.approx(
        math.log(323.2 / 11.5 / 0.2156) / math.log(2))
    assert xf.val_years_to_justify(100, 10, 11.5, 0.5, 0.1) == 0.0  # 10x is below 11.5x
    assert xf.val_years_to_justify(100, 10, 11.5, 0.0, 0.1) == 0.0  # already there


def test_dcf_matches_excel_npv_and_gordon_terminal_value() -> None:
    assert xf.val_dcf([100, 110, 121], 0.1) == pytest.approx(272.7272727272727)
    terminal = 121 * 1.02 / 0.08 / 1.1**3
    assert xf.val_dcf([[100], [110], [121]], 0.1, 0.02) == pytest.approx(272.72727 + terminal)
    assert xf.val_dcf([100, 110, 121, None, None], 0.1) == pytest.approx(272.7272727)


def test_failure_adjusted_value_and_market_share() -> None:
    assert xf.val_failure_adjusted(100, 0.2, 30) == pytest.approx(86.0)
    assert xf.val_failure_adjusted(100, 0, 30) == 100
    assert xf.val_failure_adjusted(100, 1, 30) == 30
    assert xf.val_market_share(0.191, 993) == pytest.approx(0.191 / 993)


def test_runway_and_cash_zero_date() -> None:
    assert xf.burn_runway(3000, 148.5) == pytest.approx(20.2020202)
    assert xf.burn_runway(0, 10) == 0
    # 12 months of 365.25/12 days is 365.25 days: 2026-02-24 + 365 days
    assert xf.burn_cash_zero_date(1200, 100, D(2026, 2, 24)) == dt.date(2027, 2, 24)
    # 48 months: 48 x 30.4375 = 1461 days = 2026-02-24 to 2030-02-24 (4 x 365 + 29 Feb 2028);
    # a 365/12-day month would give 1460 days (02-23), a 30-day month 1440 (2030-02-03)
    assert xf.burn_cash_zero_date(4800, 100, D(2026, 2, 24)) == dt.date(2030, 2, 24)
    assert xf.burn_cash_zero_date(0, 100, dt.date(2026, 2, 24)) == dt.date(2026, 2, 24)


def test_other_burn_measures() -> None:
    assert xf.burn_net(150, 20) == 130
    assert xf.burn_net(20, 150) == -130  # generates cash
    assert xf.burn_multiple(150, 50) == 3
    nine_months = (D(2025, 1, 1), D(2025, 9, 30))
    assert xf.burn_loss_to_revenue(1320, *nine_months, 53.44, *nine_months) == pytest.approx(
        24.7005988)
    assert xf.burn_rule_of_40(0.6, -0.3) == pytest.approx(0.3)
    assert xf.val_ev(300, 10, 25) == 285
    assert xf.val_ev_revenue(285, 2.5) == 114
    assert xf.val_pe(100, 2) == 50
    assert xf.val_premium(23, 11.5) == pytest.approx(1.0)


# ---- shapes ---------------------------------------------------------------------------


def test_arrays_broadcast_and_keep_their_shape() -> None:
    column = xf.val_ps(np.array([[300.0], [323.2]]), 2.0)
    assert column.shape == (2, 1)
    assert column[:, 0].tolist() == [150.0, 161.6]
    row = xf.val_ps([[300, 600]], [[2, 3]])
    assert row.shape == (1, 2) and row.tolist() == [[150.0, 200.0]]
    assert isinstance(xf.val_ps(300, 2), float)


def test_ranges_of_different_shapes_are_refused_with_a_clear_message() -> None:
    with pytest.raises(XlfuncsError, match="different shapes"):
        xf.val_ps([1, 2, 3], [1, 2])


def test_one_bad_element_spoils_only_its_own_cell() -> None:
    cells = xf.explain(xf.val_ps, [[300], [300], [300], [None]], [[2], [0], ["x"], [2]])
    assert cells[0] == [150.0]
    assert cells[1][0].code == DIV0
    assert cells[2][0].code == VALUE
    assert cells[3] == [None]


# ---- edge cases: one documented answer each -----------------------------------------

EDGE_CASES = [
    # (function, args, expected Excel error or None for blank)
    ("val_ps", (300, 0), DIV0),                     # zero revenue
    ("val_ps", (300, -5), NUM),                     # negative revenue
    ("val_ps", (-1, 5), NUM),                       # negative market value
    ("val_ps", (None, 5), None),                    # blank
    ("val_ps", ("abc", 5), VALUE),                  # text where a number belongs
    ("val_ps", (True, 5), VALUE),                   # a boolean is not a number here
    ("val_ps", (math.inf, 5), NUM),                 # infinity
    ("val_ps", (1e308, 1e-308), NUM),               # overflow
    ("val_pe", (300, 0), DIV0),
    ("val_pe", (300, -2), NUM),                     # a loss-maker's P/E is not meaningful
    ("val_pe", (-300, 2), NUM),
    ("val_return", (0, 10), DIV0),
    ("val_return", (-1, 10), NUM),
    ("val_return", (1, -10), NUM),
    ("val_price_from_return", (-165, 1), NUM),
    ("val_price_from_return", (165, -1.5), NUM),
    ("val_cagr", (1, 2, 0), NUM),                   # years <= 0
    ("val_cagr", (1, 2, -1), NUM),
    ("val_cagr", (0, 2, 1), DIV0),
    ("val_cagr", (-1, 2, 1), NUM),
    ("val_annualize", (10, 0), NUM),
    ("val_ev", (-1, 0, 0), NUM),
    ("val_ev_revenue", (10, 0), DIV0),
    ("val_ev_revenue", (10, -1), NUM),
    ("val_premium", (10, 0), DIV0),
    ("val_premium", (10, -1), NUM),
    ("val_premium", (-10, 1), NUM),
    ("val_implied_cagr", (100, 1, 10, 0, 0.1), NUM),     # years <= 0
    ("val_implied_cagr", (-100, 1, 10, 5, 0.1), NUM),
    ("val_implied_cagr", (100, 0, 10, 5, 0.1), DIV0),    # zero revenue
    ("val_implied_cagr", (100, -1, 10, 5, 0.1), NUM),
    ("val_implied_cagr", (100, 1, 0, 5, 0.1), NUM),
    ("val_implied_cagr", (100, 1, 10, 5, -1), NUM),
    ("val_years_to_justify", (-100, 1, 10, 0.5, 0.1), NUM),
    ("val_years_to_justify", (100, 0, 10, 0.5, 0.1), DIV0),
    ("val_years_to_justify", (100, -1, 10, 0.5, 0.1), NUM),
    ("val_years_to_justify", (100, 1, -10, 0.5, 0.1), NUM),
    ("val_years_to_justify", (100, 1, 10, 0.5, -2), NUM),
    ("val_years_to_justify", (100, 1, 10, -1, 0.1), NUM),
    ("val_years_to_justify", (100, 1, 10, 0.1, 0.1), NUM),  # growth <= rate: never
    ("val_failure_adjusted", (100, 1.5, 30), NUM),
    ("val_failure_adjusted", (100, -0.1, 30), NUM),
    ("val_market_share", (1, 0), DIV0),
    ("val_market_share", (1, -1), NUM),
    ("burn_months", (D(2025, 6, 30), D(2022, 1, 1)), NUM),     # start after end
    ("burn_months", ("not a date", D(2022, 1, 1)), VALUE),
    ("burn_months", (10, 45000), NUM),              # before Excel's calendar
    ("burn_monthly", (100, D(2025, 6, 30), D(2022, 1, 1)), NUM),
    ("burn_monthly", (100, D(2025, 1, 1), D(2025, 1, 15)), DIV0),  # less than a month
    ("burn_annual", (100, D(2025, 6, 30), D(2022, 1, 1)), NUM),
    ("burn_annual", (100, D(2025, 1, 1), D(2025, 1, 15)), DIV0),
    ("burn_runway", (-1, 10), NUM),                 # already out of cash
    ("burn_runway", (100, 0), NUM),                 # burn <= 0: runway not finite
    ("burn_runway", (100, -5), NUM),
    ("burn_cash_zero_date", (-1, 10, D(2026, 1, 1)), NUM),
    ("burn_cash_zero_date", (100, 0, D(2026, 1, 1)), NUM),
    ("burn_cash_zero_date", (100, 1e-9, D(2026, 1, 1)), NUM),  # beyond 9999-12-31
    ("burn_multiple", (-10, 5), NUM),
    ("burn_multiple", (10, 0), DIV0),
    ("burn_multiple", (10, -5), NUM),
    ("burn_loss_to_revenue", (10, 45658, 45930, 0, 45658, 45930), DIV0),
    ("burn_loss_to_revenue", (10, 45658, 45930, -5, 45658, 45930), NUM),
    ("burn_loss_to_revenue", (10, 45930, 45658, 5, 45930, 45658), NUM),  # start after end
    ("burn_loss_to_revenue", (10, 44562, 45930, 5, 45658, 45930), NA),  # other periods
    ("burn_net", (None, 5), None),
    ("burn_rule_of_40", ("x", 5), VALUE),
    ("fx_rate", ("EUR", "USD"), NA),
    ("fx_rate", ("USD", "GBP"), NA),
    ("fx_rate", ("USD", "HKD", 0), NUM),
    ("fx_rate", ("USD", "HKD", 7.8, -1), NUM),
    ("fx_rate", (5, "HKD"), VALUE),
    ("fx_convert", (1, "XXX", "USD"), NA),
    ("fx_convert", (1, "USD", "XXX"), NA),
    ("fx_convert", (1, "USD", "HKD", -7.8), NUM),
    ("fx_convert", (1, "USD", "CNY", 7.8, 0), NUM),
]


@pytest.mark.parametrize(("name", "args", "expected"), EDGE_CASES,
                         ids=[f"{c[0]}{c[1]}" for c in EDGE_CASES])
def test_edge_case_has_its_documented_answer(name: str, args: tuple, expected: str | None
                                             ) -> None:
    func = getattr(xf, name)
    cell = xf.explain(func, *args)
    if expected is None:
        assert cell is None
    else:
        assert isinstance(cell, XlError) and cell.code == expected, cell
        assert cell.reason  # a reason a person can read
    plain = func(*args)
    assert plain is None or (isinstance(plain, float) and math.isnan(plain))


def test_every_guard_of_every_metric_is_exercised_by_an_edge_case() -> None:
    hit: set[tuple[str, str]] = set()
    for name, args, _ in EDGE_CASES:
        cell = xf.explain(getattr(xf, name), *args)
        if isinstance(cell, XlError):
            hit.add((name, cell.reason))
    for entry in CATALOG:
        for guard in getattr(entry.func, "guards", ()):
            assert (entry.python_name, guard.reason) in hit, (entry.name, guard.reason)


def test_dcf_edge_cases() -> None:
    assert xf.explain(xf.val_dcf, [100], -1).code == NUM
    assert xf.explain(xf.val_dcf, [100], 0.05, 0.05).code == NUM   # r <= g
    assert xf.explain(xf.val_dcf, [100, None, 100], 0.1).code == VALUE  # a gap
    assert xf.explain(xf.val_dcf, [100, "x"], 0.1).code == VALUE
    assert xf.explain(xf.val_dcf, [100], [0.1, 0.2]).code == VALUE
    assert xf.explain(xf.val_dcf, [None, None], 0.1) is None
    assert xf.explain(xf.val_dcf, [100], None) is None


def test_optional_arguments_take_their_default_when_blank() -> None:
    assert xf.fx_rate("USD", "HKD", None, None) == 7.8


def test_numeric_text_is_text_not_a_number() -> None:
    # Excel would convert "300" in arithmetic but rank it above every number in a guard;
    # text is #VALUE! in the add-in and in the native formulas alike
    assert xf.explain(xf.val_ps, "300", 2) == XlError(VALUE, "market_cap: expected a number")
    assert xf.explain(xf.val_ps, 300, "2") == XlError(VALUE, "annual_revenue: expected a number")
    assert xf.explain(xf.val_price_from_return, 100, "50%") == XlError(
        VALUE, "cumulative_return: expected a number")
    assert xf.val_ps(300, 2) == 150 and xf.val_price_from_return(100, 0.5) == 150
