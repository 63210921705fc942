"""Valuation metrics: returns, growth, multiples and reverse valuation.

Rates, shares and returns are decimals (30% is 0.3), as Excel stores percentages.
Each function takes scalars or arrays and answers element by element; see
:mod:`xlfuncs.elementwise` for blanks and errors. Worked examples use the article's
figures (2026-02-24).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import inputs
from .elementwise import STATUS_BLANK, STATUS_OK, Guard, Outcome, metric
from .errors import DIV0, NUM, VALUE, XlError


def _zero(name: str) -> str:
    return f"{name} is zero: the ratio is undefined"


def _negative(name: str, why: str = "the result is not meaningful") -> str:
    return f"{name} is negative: {why}"


@metric(
    Guard(DIV0, _zero("start"), lambda s, e: s == 0),
    Guard(NUM, _negative("start", "a return needs a positive starting value"), lambda s, e: s < 0),
    Guard(NUM, _negative("end", "a price or value cannot be below zero"), lambda s, e: e < 0),
)
def val_return(start, end):
    """Cumulative return from ``start`` to ``end``: end / start - 1.

    >>> round(val_return(165, 980.10), 4)  # MiniMax: issue price to the implied price
    4.94
    """
    return end / start - 1


@metric(
    Guard(NUM, _negative("start", "a price cannot be below zero"), lambda s, r: s < 0),
    Guard(NUM, "cumulative_return is below -100%: a price cannot fall below zero",
          lambda s, r: r < -1),
)
def val_price_from_return(start, cumulative_return):
    """Price implied by a cumulative increase: start x (1 + cumulative_return).

    >>> round(val_price_from_return(165, 4.94), 2)  # HK$165 up 494%
    980.1
    """
    return start * (1 + cumulative_return)


@metric(
    Guard(NUM, "years must be greater than zero", lambda s, e, y: y <= 0),
    Guard(DIV0, _zero("start"), lambda s, e, y: s == 0),
    Guard(NUM, "start and end must both be positive for a compound rate",
          lambda s, e, y: (s < 0) | (e < 0)),
)
def val_cagr(start, end, years):
    """Compound annual growth rate: (end / start) ^ (1 / years) - 1.

    >>> round(val_cagr(115, 135, 2), 4)  # Alibaba Cloud cap, 2026 to 2028
    0.0835
    """
    return (end / start) ** (1 / years) - 1


@metric(Guard(NUM, "months must be greater than zero", lambda a, m: m <= 0))
def val_annualize(amount, months):
    """Twelve-month run-rate of a figure covering ``months`` months: amount x 12 / months.

    >>> round(val_annualize(53.44, 9), 3)  # MiniMax's revenue, first three quarters of 2025
    71.253
    """
    return amount * 12 / months


def _multiple_guards(denominator: str, negative_reason: str) -> tuple[Guard, ...]:
    return (
        Guard(NUM, _negative("market_cap", "a market value cannot be below zero"),
              lambda mc, d: mc < 0),
        Guard(DIV0, _zero(denominator), lambda mc, d: d == 0),
        Guard(NUM, _negative(denominator, negative_reason), lambda mc, d: d < 0),
    )


@metric(*_multiple_guards("annual_revenue", "P/S is not meaningful"))
def val_ps(market_cap, annual_revenue):
    """Price-to-sales multiple: market_cap / annual_revenue (same currency and scale).

    >>> round(val_ps(323.2, 0.191 * 7.80 / 6.91), 1)  # Zhipu, HK$bn over 2025 revenue in HK$bn
    1499.1
    """
    return market_cap / annual_revenue


@metric(*_multiple_guards("net_profit", "a loss-maker's P/E is not meaningful"))
def val_pe(market_cap, net_profit):
    """Price-to-earnings multiple: market_cap / net_profit.

    >>> round(val_pe(100, 2), 1)
    50.0
    """
    return market_cap / net_profit


@metric(
    Guard(NUM, _negative("market_cap", "a market value cannot be below zero"),
          lambda mc, d, c: mc < 0),
)
def val_ev(market_cap, debt, cash):
    """Enterprise value: market_cap + debt - cash.

    >>> val_ev(300, 10, 25)
    285.0
    """
    return market_cap + debt - cash


@metric(
    Guard(DIV0, _zero("revenue"), lambda ev, r: r == 0),
    Guard(NUM, _negative("revenue", "EV/revenue is not meaningful"), lambda ev, r: r < 0),
)
def val_ev_revenue(ev, revenue):
    """EV-to-revenue multiple: ev / revenue.

    >>> val_ev_revenue(285, 2.5)
    114.0
    """
    return ev / revenue


@metric(
    Guard(DIV0, _zero("peer_multiple"), lambda m, p: p == 0),
    Guard(NUM, "multiples must not be negative: a premium over a negative multiple is "
          "not meaningful", lambda m, p: (p < 0) | (m < 0)),
)
def val_premium(multiple, peer_multiple):
    """Premium of one multiple over a peer's: multiple / peer_multiple - 1.

    >>> round(val_premium(1499.1, 11.5), 2)  # Zhipu's P/S over a 11.5x software multiple
    129.36
    """
    return multiple / peer_multiple - 1


def _reverse_guards(n: int) -> tuple[Guard, ...]:
    """Guards shared by the two reverse-valuation metrics (n arguments each)."""
    return (
        Guard(NUM, _negative("market_cap", "a market value cannot be below zero"),
              lambda *a: a[0] < 0),
        Guard(DIV0, _zero("revenue"), lambda *a: a[1] == 0),
        Guard(NUM, _negative("revenue", "growing into a multiple needs positive revenue"),
              lambda *a: a[1] < 0),
        Guard(NUM, "target_multiple must be greater than zero", lambda *a: a[2] <= 0),
        Guard(NUM, "discount_rate must be above -100%", lambda *a: a[n - 1] <= -1),
    )


@metric(
    Guard(NUM, "years must be greater than zero", lambda mc, r, t, y, d: y <= 0),
    *_reverse_guards(5),
)
def val_implied_cagr(market_cap, revenue, target_multiple, years, discount_rate):
    """Revenue growth a year needed to grow into a target multiple in ``years`` years.

    Required revenue = market_cap x (1 + discount_rate) ^ years / target_multiple;
    the answer is (required revenue / revenue) ^ (1 / years) - 1. The discount rate (the
    return a holder needs, at which the market value must grow) has no default: 0% would
    mean a holder asks for no return, a hidden assumption that flatters the answer.

    >>> round(val_implied_cagr(323.2, 0.2156, 11.5, 5, 0.10), 4)  # Zhipu, HK$bn, 11.5x, 5y
    1.9135
    >>> round(val_implied_cagr(323.2, 0.2156, 11.5, 5, 0.0), 4)  # a holder wanting nothing
    1.6487
    """
    required = market_cap * (1 + discount_rate) ** years / target_multiple
    return (required / revenue) ** (1 / years) - 1


@metric(
    *_reverse_guards(5),
    Guard(NUM, "growth must be above -100%", lambda mc, r, t, g, d: g <= -1),
    Guard(NUM, "growth does not exceed the discount rate: the multiple is never reached",
          lambda mc, r, t, g, d: (g <= d) & (mc > t * r)),
)
def val_years_to_justify(market_cap, revenue, target_multiple, growth, discount_rate):
    """Years until the valuation sits at the target multiple, revenue growing at ``growth``
    and the market value at ``discount_rate``:
    ln(market_cap / (target_multiple x revenue)) / ln((1 + growth) / (1 + discount_rate)),
    0 when the multiple is already at or below the target. ``discount_rate`` is required,
    as in :func:`val_implied_cagr`.

    >>> round(val_years_to_justify(323.2, 0.2156, 11.5, 1.0, 0.10), 2)  # Zhipu doubling
    8.15
    """
    ratio = market_cap / (target_multiple * revenue)
    return np.where(ratio <= 1, 0.0, np.log(ratio) / np.log((1 + growth) / (1 + discount_rate)))


@metric(
    Guard(NUM, "failure_probability must be between 0 and 1",
          lambda v, p, d: (p < 0) | (p > 1)),
)
def val_failure_adjusted(going_concern_value, failure_probability, distress_proceeds):
    """Value weighted by the chance of failure, kept out of the discount rate:
    going_concern_value x (1 - p) + distress_proceeds x p (Damodaran, young companies).

    >>> val_failure_adjusted(100, 0.2, 30)
    86.0
    """
    return (going_concern_value * (1 - failure_probability)
            + distress_proceeds * failure_probability)


@metric(
    Guard(DIV0, _zero("market_size"), lambda r, m: m == 0),
    Guard(NUM, _negative("market_size", "a market cannot be below zero"), lambda r, m: m < 0),
)
def val_market_share(revenue, market_size):
    """Revenue as a share of a market: revenue / market_size (same currency and scale).
    A share only when both figures are for the same year; a revenue of one year against a
    market forecast for another is a yardstick, and must be labelled as one.

    >>> round(val_market_share(0.191, 993), 6)  # Zhipu 2025 against China 2030: a yardstick
    0.000192
    """
    return revenue / market_size


_DCF_ERRORS = (
    XlError(VALUE, "cash_flows: expected numbers without gaps (trailing blanks are ignored)"),
    XlError(NUM, "discount_rate must be above -100%"),
    XlError(NUM, "terminal value needs discount_rate greater than terminal_growth"),
    XlError(VALUE, "discount_rate and terminal_growth must be single numbers"),
    XlError(NUM, "the result is too large or not a finite number"),
)


def dcf_outcome(cash_flows: Any, discount_rate: Any, terminal_growth: Any = None) -> Outcome:
    """:func:`val_dcf` with its Excel error (one answer for the whole range of flows)."""
    flows, status = (a.ravel() for a in inputs.to_numbers(cash_flows))
    filled = np.flatnonzero(status != inputs.BLANK)
    end = int(filled[-1]) + 1 if filled.size else 0
    flows, status = flows[:end], status[:end]  # a range taller than the data is fine
    rate, rate_status = (a.reshape(()) if a.size == 1 else a
                         for a in inputs.to_numbers(discount_rate))
    growth, growth_status = (a.reshape(()) if a.size == 1 else a
                             for a in inputs.to_numbers(terminal_growth))
    has_terminal = growth.ndim == 0 and growth_status == inputs.OK

    error: int | None = None
    if rate.ndim or growth.ndim or rate_status not in (inputs.OK, inputs.BLANK) or (
            growth_status not in (inputs.OK, inputs.BLANK)):
        error = 3
    elif end == 0 or rate_status == inputs.BLANK:
        return Outcome(np.array(np.nan), np.array(STATUS_BLANK, np.int16), _DCF_ERRORS, True)
    elif np.any(status != inputs.OK):
        error = 0
    elif rate <= -1:
        error = 1
    elif has_terminal and rate <= growth:
        error = 2
    else:
        with np.errstate(all="ignore"):
            discount = (1 + rate) ** np.arange(1, end + 1)
            value = float(np.sum(flows / discount))
            if has_terminal:
                value += float(flows[-1] * (1 + growth) / (rate - growth) / discount[-1])
        if np.isfinite(value):
            return Outcome(np.array(value), np.array(STATUS_OK, np.int16), _DCF_ERRORS, True)
        error = 4
    return Outcome(np.array(np.nan), np.array(2 + error, np.int16), _DCF_ERRORS, True)


def val_dcf(cash_flows: Any, discount_rate: Any, terminal_growth: Any = None) -> float:
    """Present value of yearly cash flows with Excel's NPV convention (the first flow is
    discounted one period), plus, with ``terminal_growth``, a Gordon terminal value on the
    last flow: last x (1 + g) / (r - g), discounted with the last flow. Trailing blanks in
    the range are ignored; a gap inside it is an error (NPV would silently skip it).

    >>> round(val_dcf([100, 110, 121], 0.10), 4)  # = NPV(10%, 100, 110, 121)
    272.7273
    >>> round(val_dcf([100], 0.10, 0.02), 2)  # 100/1.1 + 100*1.02/0.08/1.1
    1250.0
    """
    return dcf_outcome(cash_flows, discount_rate, terminal_growth).python()


val_dcf.outcome = dcf_outcome  # type: ignore[attr-defined]
