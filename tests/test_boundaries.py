"""Every guard at its edge, and every reason naming what to fix.

Mutation testing (scripts/mutation.py) showed that the suite tested most guards only
far from their edge: ``market_cap < 0`` could become ``market_cap <= 0`` or
``market_cap < 1`` and nothing failed. Here each guard meets the values on both sides
of its edge: exactly at it (0 where a zero is allowed, -100% where a fall to nothing is
allowed) and just inside (0.5, where a constant moved by one would refuse it). The
expected numbers are worked by hand, the arithmetic beside each.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import pytest

import xlfuncs as xf
from xlfuncs import fx
from xlfuncs.errors import DIV0, NUM
from xlfuncs.registry import BY_NAME
from xlfuncs.story.model import LABELS

VALUES: list[tuple[str, tuple[Any, ...], float]] = [
    # BURN_MONTHS counts whole months from the start to the day after the end: January to
    # 29 June is five (June is one day short), to 30 June six
    ("burn_months", (dt.date(2025, 1, 1), dt.date(2025, 6, 29)), 5.0),
    ("burn_months", (dt.date(2025, 1, 1), dt.date(2025, 6, 30)), 6.0),
    # VAL_RETURN(start, end_value) = end_value / start - 1
    ("val_return", (0.5, 0.0), -1.0),        # end 0 is a total loss, not an error
    ("val_return", (1.0, 2.0), 1.0),         # start 1: 2/1 - 1
    ("val_return", (2.0, 0.5), -0.75),       # 0.5/2 - 1
    # VAL_PRICE_FROM_RETURN(start, r) = start x (1 + r)
    ("val_price_from_return", (0.0, 1.0), 0.0),
    ("val_price_from_return", (0.5, 1.0), 1.0),
    ("val_price_from_return", (10.0, -1.0), 0.0),   # -100%: the price falls to nothing
    ("val_price_from_return", (10.0, -0.5), 5.0),
    # VAL_CAGR(start, end_value, years) = (end_value / start)^(1 / years) - 1
    ("val_cagr", (1.0, 4.0, 0.5), 15.0),     # 4^2 - 1
    ("val_cagr", (1.0, 4.0, 2.0), 1.0),      # 4^0.5 - 1
    ("val_cagr", (1.0, 0.0, 2.0), -1.0),     # end 0: -100%
    ("val_cagr", (0.5, 2.0, 2.0), 1.0),      # 4^0.5 - 1
    ("val_cagr", (2.0, 0.5, 2.0), -0.5),     # 0.25^0.5 - 1
    # VAL_ANNUALIZE(amount, months) = amount x 12 / months
    ("val_annualize", (6.0, 0.5), 144.0),
    ("val_annualize", (6.0, 1.0), 72.0),
    # VAL_PS / VAL_PE(market_cap, x) = market_cap / x
    ("val_ps", (0.0, 2.0), 0.0), ("val_ps", (0.5, 2.0), 0.25), ("val_ps", (2.0, 0.5), 4.0),
    ("val_ps", (2.0, 1.0), 2.0),
    ("val_pe", (0.0, 2.0), 0.0), ("val_pe", (0.5, 2.0), 0.25), ("val_pe", (3.0, 0.5), 6.0),
    ("val_pe", (3.0, 1.0), 3.0),
    # VAL_EV(market_cap, debt, cash) = market_cap + debt - cash
    ("val_ev", (0.0, 1.0, 2.0), -1.0), ("val_ev", (0.5, 0.0, 0.0), 0.5),
    # VAL_EV_REVENUE(ev, revenue) = ev / revenue (a negative EV is allowed)
    ("val_ev_revenue", (3.0, 0.5), 6.0), ("val_ev_revenue", (3.0, 1.0), 3.0),
    ("val_ev_revenue", (-3.0, 2.0), -1.5),
    # VAL_PREMIUM(multiple, peer) = multiple / peer - 1
    ("val_premium", (0.0, 2.0), -1.0), ("val_premium", (0.5, 1.0), -0.5),
    ("val_premium", (3.0, 0.5), 5.0), ("val_premium", (2.0, 1.0), 1.0),
    # VAL_IMPLIED_CAGR(mc, revenue, target, years, rate) = (mc (1+rate)^years / target /
    # revenue)^(1/years) - 1
    ("val_implied_cagr", (0.0, 1.0, 1.0, 1.0, 0.0), -1.0),
    ("val_implied_cagr", (0.5, 1.0, 1.0, 1.0, 0.0), -0.5),
    ("val_implied_cagr", (4.0, 1.0, 1.0, 0.5, 0.0), 15.0),      # 4^2 - 1
    ("val_implied_cagr", (1.0, 0.5, 1.0, 1.0, 0.0), 1.0),       # 1/0.5 - 1
    ("val_implied_cagr", (2.0, 1.0, 1.0, 1.0, 0.0), 1.0),
    ("val_implied_cagr", (1.0, 1.0, 0.5, 1.0, 0.0), 1.0),       # 1/0.5 - 1
    ("val_implied_cagr", (1.0, 1.0, 1.0, 1.0, -0.5), -0.5),     # 0.5 - 1
    # VAL_YEARS_TO_JUSTIFY(mc, revenue, target, growth, rate): 0 at or below the target,
    # else ln(mc / (target revenue)) / ln((1 + growth) / (1 + rate))
    ("val_years_to_justify", (4.0, 1.0, 1.0, 1.0, 0.0), 2.0),   # ln 4 / ln 2
    ("val_years_to_justify", (8.0, 1.0, 1.0, 1.0, 0.0), 3.0),   # ln 8 / ln 2
    ("val_years_to_justify", (4.0, 1.0, 1.0, 1.0, -0.5), 1.0),  # ln 4 / ln 4
    ("val_years_to_justify", (4.0, 1.0, 1.0, -0.5, -0.75), 2.0),  # ln 4 / ln(0.5/0.25)
    ("val_years_to_justify", (4.0, 0.5, 2.0, 1.0, 0.0), 2.0),   # ratio 4/(2 x 0.5) = 4
    ("val_years_to_justify", (0.5, 1.0, 1.0, 0.1, 0.2), 0.0),   # already below the target
    ("val_years_to_justify", (1.0, 1.0, 1.0, 0.1, 0.2), 0.0),   # exactly at the target
    ("val_years_to_justify", (1.5, 1.0, 1.0, 0.5, 0.0), 1.0),   # ln 1.5 / ln 1.5
    # VAL_FAILURE_ADJUSTED(value, p, distress) = value (1 - p) + distress p
    ("val_failure_adjusted", (100.0, 0.0, 30.0), 100.0),
    ("val_failure_adjusted", (100.0, 1.0, 30.0), 30.0),
    ("val_failure_adjusted", (100.0, 0.5, 30.0), 65.0),
    # VAL_MARKET_SHARE(revenue, market) = revenue / market
    ("val_market_share", (1.0, 0.5), 2.0), ("val_market_share", (1.0, 1.0), 1.0),
    ("val_market_share", (0.0, 2.0), 0.0),
    # FX_RATE / FX_CONVERT with rates below 1 (a rate is any positive number)
    ("fx_rate", ("USD", "HKD", 0.5, 6.91), 0.5),
    ("fx_rate", ("USD", "CNY", 7.8, 0.5), 0.5),
    ("fx_rate", ("HKD", "CNY", 1.0, 1.0), 1.0),
    ("fx_convert", (10.0, "CNY", "HKD", 0.5, 0.25), 20.0),   # 10 / 0.25 x 0.5
    # FX_IMPLIED_RATE(quote, base) = quote / base
    ("fx_implied_rate", (0.0, 5.0), 0.0), ("fx_implied_rate", (0.5, 1.0), 0.5),
    ("fx_implied_rate", (2.0, 0.5), 4.0), ("fx_implied_rate", (3.0, 1.0), 3.0),
]

JAN1, JAN30, JAN31, DEC31 = (dt.date(2025, 1, 1), dt.date(2025, 1, 30), dt.date(2025, 1, 31),
                             dt.date(2025, 12, 31))
VALUES += [
    # BURN_MONTHS: a one-day period has 0 whole months, not an error
    ("burn_months", (JAN1, JAN1), 0.0), ("burn_months", (JAN1, JAN31), 1.0),
    # BURN_MONTHLY(loss, start, end) = loss / whole months; BURN_ANNUAL = that x 12
    ("burn_monthly", (100.0, JAN1, JAN31), 100.0),
    ("burn_annual", (100.0, JAN1, DEC31), 100.0),       # 100 / 12 months x 12
    ("burn_annual", (100.0, JAN1, JAN31), 1200.0),      # 100 / 1 month x 12
    # BURN_RUNWAY(cash, burn) = cash / burn
    ("burn_runway", (0.0, 10.0), 0.0), ("burn_runway", (0.5, 1.0), 0.5),
    ("burn_runway", (10.0, 0.5), 20.0), ("burn_runway", (10.0, 1.0), 10.0),
    # BURN_MULTIPLE(net_burn, new_revenue) = net_burn / new_revenue
    ("burn_multiple", (0.0, 1.0), 0.0), ("burn_multiple", (0.5, 1.0), 0.5),
    ("burn_multiple", (3.0, 0.5), 6.0), ("burn_multiple", (2.0, 1.0), 2.0),
    # BURN_LOSS_TO_REVENUE over one period = loss / revenue
    ("burn_loss_to_revenue", (300.0, JAN1, JAN31, 120.0, JAN1, JAN31), 2.5),
    ("burn_loss_to_revenue", (0.5, JAN1, JAN31, 1.0, JAN1, JAN31), 0.5),
    ("burn_loss_to_revenue", (3.0, JAN1, JAN31, 0.5, JAN1, JAN31), 6.0),
    ("burn_loss_to_revenue", (1.0, JAN1, JAN1, 2.0, JAN1, JAN1), 0.5),   # a one-day period
]

ERRORS: list[tuple[str, tuple[Any, ...], str]] = [
    ("val_return", (0.0, 1.0), DIV0), ("val_return", (-1.0, 1.0), NUM),
    ("val_return", (1.0, -1.0), NUM),
    ("val_price_from_return", (-1.0, 1.0), NUM), ("val_price_from_return", (1.0, -1.5), NUM),
    ("val_cagr", (1.0, 4.0, 0.0), NUM), ("val_cagr", (0.0, 4.0, 1.0), DIV0),
    ("val_cagr", (-1.0, 4.0, 1.0), NUM), ("val_cagr", (1.0, -4.0, 1.0), NUM),
    ("val_annualize", (6.0, 0.0), NUM),
    ("val_ps", (-1.0, 2.0), NUM), ("val_ps", (1.0, 0.0), DIV0), ("val_ps", (1.0, -2.0), NUM),
    ("val_ev", (-1.0, 0.0, 0.0), NUM),
    ("val_ev_revenue", (1.0, 0.0), DIV0), ("val_ev_revenue", (1.0, -1.0), NUM),
    ("val_premium", (1.0, 0.0), DIV0), ("val_premium", (-1.0, 1.0), NUM),
    ("val_premium", (1.0, -1.0), NUM),
    ("val_implied_cagr", (1.0, 1.0, 1.0, 0.0, 0.0), NUM),
    ("val_implied_cagr", (1.0, 1.0, 0.0, 1.0, 0.0), NUM),
    ("val_implied_cagr", (1.0, 1.0, 1.0, 1.0, -1.0), NUM),
    ("val_years_to_justify", (2.0, 1.0, 1.0, 0.5, 0.5), NUM),    # growth = rate: never
    ("val_years_to_justify", (2.0, 1.0, 1.0, -1.0, 0.0), NUM),
    ("val_failure_adjusted", (100.0, -0.1, 30.0), NUM),
    ("val_failure_adjusted", (100.0, 1.1, 30.0), NUM),
    ("val_market_share", (1.0, 0.0), DIV0), ("val_market_share", (1.0, -1.0), NUM),
    ("fx_rate", ("USD", "HKD", 0.0, 6.91), NUM), ("fx_rate", ("USD", "CNY", 7.8, 0.0), NUM),
    ("fx_implied_rate", (1.0, 0.0), DIV0), ("fx_implied_rate", (-1.0, 1.0), NUM),
    ("fx_implied_rate", (1.0, -1.0), NUM),
    ("burn_months", (JAN31, JAN1), NUM),
    ("burn_monthly", (100.0, JAN1, JAN30), DIV0),     # 29 days: no whole month
    ("burn_runway", (-1.0, 1.0), NUM), ("burn_runway", (1.0, 0.0), NUM),
    ("burn_multiple", (1.0, 0.0), DIV0), ("burn_multiple", (-1.0, 1.0), NUM),
    ("burn_multiple", (1.0, -1.0), NUM),
    ("burn_loss_to_revenue", (1.0, JAN1, JAN31, 1.0, JAN1, DEC31), "#N/A"),
    ("burn_loss_to_revenue", (1.0, JAN1, JAN31, 0.0, JAN1, JAN31), DIV0),
    ("burn_loss_to_revenue", (1.0, JAN31, JAN1, 1.0, JAN31, JAN1), NUM),
    ("burn_cash_zero_date", (1.05, 1.0, dt.date(9999, 12, 1)), NUM),
    # as_of + 1 month of 30.4375 days lands exactly on serial 2958466, 10000-01-01
    ("burn_cash_zero_date", (1.0, 1.0, 2958435.5625), NUM),
    ("burn_monthly", (100.0, JAN1, JAN1), DIV0),        # one day: no whole month
]


def test_a_date_argument_is_checked_against_excels_calendar() -> None:
    loss_to_revenue = [(1.0, *(50.0 if i == k else d for i, d in enumerate((JAN1, JAN31))),
                        1.0, JAN1, JAN31) for k in (0, 1)] + [
        (1.0, JAN1, JAN31, 1.0, *(50.0 if i == k else d for i, d in enumerate((JAN1, JAN31))))
        for k in (0, 1)]
    for answer in (xf.explain(xf.burn_months, JAN1, 50.0),
                   xf.explain(xf.burn_months, 50.0, JAN1),
                   xf.explain(xf.burn_cash_zero_date, 1.0, 1.0, 50.0),
                   *(xf.explain(xf.burn_loss_to_revenue, *a) for a in loss_to_revenue)):
        assert answer.code == NUM and "calendar" in answer.reason, answer


def test_the_calendar_ends_with_the_last_moment_of_9999_12_31() -> None:
    # serial 2958465 is 9999-12-31 (Excel's last day); 2958466 is 10000-01-01, which
    # Excel cannot show: its DATE() refuses the year 10000
    # the whole of 9999, both ends counted (as 2022-01-01 to 2025-06-30 is 42 months)
    assert xf.burn_months(dt.date(9999, 1, 1), 2958465.99) == 12.0
    for beyond in (2958466.0, 2958466.5):
        answer = xf.explain(xf.burn_months, dt.date(9999, 1, 1), beyond)
        assert answer.code == NUM and "calendar" in answer.reason, answer


def test_the_cash_zero_date_at_the_end_of_excels_calendar() -> None:
    # 9999-12-01 + 1.0183 months x 30.4375 days = + 30.995 days: 9999-12-31, the last day
    # Excel has; with a month of 365.35/12 = 30.4458 days it would be 31.003: past the end
    assert xf.burn_cash_zero_date(1.0183, 1.0, dt.date(9999, 12, 1)) == dt.date(9999, 12, 31)
    # 2958435.5625 + 0.99999 x 30.4375 = 2958465.9997: the last day's last moments
    assert xf.burn_cash_zero_date(0.99999, 1.0, 2958435.5625) == dt.date(9999, 12, 31)
    assert xf.burn_cash_zero_date(0.0, 10.0, dt.date(2026, 2, 24)) == dt.date(2026, 2, 24)


def function(name: str) -> Any:
    return getattr(xf, name, None) or getattr(fx, name)  # FX_IMPLIED_RATE is workbook-only


@pytest.mark.parametrize(("name", "args", "expected"), VALUES,
                         ids=[f"{n}{a}" for n, a, _ in VALUES])
def test_a_guard_lets_through_what_is_at_its_edge(name: str, args: tuple[Any, ...],
                                                  expected: float) -> None:
    answer = function(name)(*args)
    assert math.isclose(answer, expected, rel_tol=1e-12, abs_tol=1e-15), (answer, expected)


@pytest.mark.parametrize(("name", "args", "code"), ERRORS,
                         ids=[f"{n}{a}" for n, a, _ in ERRORS])
def test_a_guard_refuses_what_is_past_its_edge(name: str, args: tuple[Any, ...],
                                               code: str) -> None:
    answer = xf.explain(function(name), *args)
    # the guard's own error, not the overflow check that would catch some of these later
    assert answer.code == code and "too large" not in answer.reason, answer


def test_every_reason_names_the_argument_to_fix() -> None:
    """A reason says which argument is wrong, by the name Excel shows for it (or, for a
    story step, the story's label), so that a person knows which cell to change."""
    for item in BY_NAME.values():
        guards = getattr(item.func, "guards", ())
        names = [p.name for p in item.params] + (
            list(LABELS) if item.name.startswith("STORY_") else [])
        for guard in guards:
            assert any(re.search(rf"\b{re.escape(n)}\b", guard.reason) for n in names), (
                item.name, guard.reason)


def test_val_dcf_answers_one_value_for_a_whole_range() -> None:
    """VAL_DCF answers one cell for its whole range: a float, NaN with the reason in
    explain, never an array."""
    from xlfuncs.errors import VALUE, XlError

    gap = xf.val_dcf([[100.0], [None], [121.0]], 0.1)
    assert isinstance(gap, float) and math.isnan(gap)
    assert xf.explain(xf.val_dcf, [[100.0], [None], [121.0]], 0.1).code == VALUE
    assert xf.explain(xf.val_dcf, [100.0, 121.0], [0.1, 0.2]) == XlError(
        VALUE, "discount_rate must be a single number")
    assert xf.explain(xf.val_dcf, [100.0], XlError(DIV0, "x")).code == DIV0  # its error
    assert xf.explain(xf.val_dcf, [100.0], [[XlError(NUM, "x")]]).code == NUM
    blank = xf.val_dcf([100.0], None)  # no rate: a blank answer, NaN like any other
    assert isinstance(blank, float) and math.isnan(blank)
    assert xf.explain(xf.val_dcf, [100.0], [XlError(DIV0, "x"), 0.1]) == XlError(
        VALUE, "discount_rate must be a single number")  # two cells, whatever they hold
    # the terminal growth alike: its own error as one cell, refused as two
    assert xf.explain(xf.val_dcf, [100.0], 0.1, [[XlError(DIV0, "x")]]).code == DIV0
    assert xf.explain(xf.val_dcf, [100.0], 0.1, [XlError(DIV0, "x"), 0.02]) == XlError(
        VALUE, "terminal_growth must be a single number")
    # 100 / 1.1 = 90.909...: a single flow, a one-cell rate range
    assert math.isclose(xf.val_dcf([100.0], [[0.1]]), 100 / 1.1, rel_tol=1e-12)


# Each guard's reason starts with the argument to fix, the one whose value tripped it (an
# argument named anywhere in the reason would let "revenue" become any other word).
FIRST_NAMED: list[tuple[str, tuple[Any, ...], str, str]] = [
    ("val_return", (0.0, 1.0), DIV0, "start"), ("val_return", (-1.0, 1.0), NUM, "start"),
    ("val_return", (1.0, -1.0), NUM, "end_value"),
    ("val_price_from_return", (-1.0, 1.0), NUM, "start"),
    ("val_price_from_return", (1.0, -1.5), NUM, "cumulative_return"),
    ("val_cagr", (1.0, 4.0, 0.0), NUM, "years"), ("val_cagr", (0.0, 4.0, 1.0), DIV0, "start"),
    ("val_cagr", (1.0, -4.0, 1.0), NUM, "start and end_value"),
    ("val_annualize", (6.0, 0.0), NUM, "months"),
    ("val_ps", (-1.0, 2.0), NUM, "market_cap"), ("val_ps", (1.0, 0.0), DIV0, "annual_revenue"),
    ("val_ps", (1.0, -2.0), NUM, "annual_revenue"),
    ("val_pe", (1.0, 0.0), DIV0, "net_profit"), ("val_pe", (1.0, -2.0), NUM, "net_profit"),
    ("val_ev", (-1.0, 0.0, 0.0), NUM, "market_cap"),
    ("val_ev_revenue", (1.0, 0.0), DIV0, "revenue"),
    ("val_ev_revenue", (1.0, -1.0), NUM, "revenue"),
    ("val_premium", (1.0, 0.0), DIV0, "peer_multiple"),
    ("val_premium", (-1.0, 1.0), NUM, "multiples"),
    ("val_implied_cagr", (1.0, 1.0, 1.0, 0.0, 0.1), NUM, "years"),
    ("val_implied_cagr", (-1.0, 1.0, 1.0, 1.0, 0.1), NUM, "market_cap"),
    ("val_implied_cagr", (1.0, 0.0, 1.0, 1.0, 0.1), DIV0, "revenue"),
    ("val_implied_cagr", (1.0, -1.0, 1.0, 1.0, 0.1), NUM, "revenue"),
    ("val_implied_cagr", (1.0, 1.0, 0.0, 1.0, 0.1), NUM, "target_multiple"),
    ("val_implied_cagr", (1.0, 1.0, 1.0, 1.0, -1.0), NUM, "discount_rate"),
    ("val_years_to_justify", (-1.0, 1.0, 1.0, 0.5, 0.1), NUM, "market_cap"),
    ("val_years_to_justify", (2.0, 0.0, 1.0, 0.5, 0.1), DIV0, "revenue"),
    ("val_years_to_justify", (2.0, -1.0, 1.0, 0.5, 0.1), NUM, "revenue"),
    ("val_years_to_justify", (2.0, 1.0, 0.0, 0.5, 0.1), NUM, "target_multiple"),
    ("val_years_to_justify", (2.0, 1.0, 1.0, 0.5, -1.0), NUM, "discount_rate"),
    ("val_years_to_justify", (2.0, 1.0, 1.0, -1.0, 0.1), NUM, "growth"),
    ("val_years_to_justify", (2.0, 1.0, 1.0, 0.1, 0.1), NUM, "growth"),
    ("val_failure_adjusted", (100.0, 1.1, 30.0), NUM, "failure_probability"),
    ("val_market_share", (1.0, 0.0), DIV0, "market_size"),
    ("val_market_share", (1.0, -1.0), NUM, "market_size"),
]


@pytest.mark.parametrize(("name", "args", "code", "argument"), FIRST_NAMED,
                         ids=[f"{n}{a}" for n, a, _, _ in FIRST_NAMED])
def test_a_reason_begins_with_the_argument_that_tripped_it(
        name: str, args: tuple[Any, ...], code: str, argument: str) -> None:
    answer = xf.explain(function(name), *args)
    assert answer.code == code and re.match(rf"{re.escape(argument)}[ :]", answer.reason), answer
