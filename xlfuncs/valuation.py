"""Valuation metrics: returns, growth, multiples and reverse valuation.

Rates, shares and returns are decimals (30% is 0.3), as Excel stores percentages.
Each function takes scalars or arrays and answers element by element; see
:mod:`xlfuncs.elementwise` for blanks and errors. Worked examples use the article's
figures (2026-02-24).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from . import inputs
from .elementwise import STATUS_BLANK, STATUS_OK, Guard, Outcome, metric
from .errors import DIV0, ERROR_CODES, NUM, VALUE, XlError
from .formula import count, given, last, npv


def _zero(name: str) -> str:
    return f"{name} is zero: the ratio is undefined"


def _negative(name: str, why: str = "the result is not meaningful") -> str:
    return f"{name} is negative: {why}"


@metric(
    Guard(DIV0, _zero("start"), lambda s, e: s == 0),
    Guard(NUM, _negative("start", "a return needs a positive starting value"), lambda s, e: s < 0),
    Guard(NUM, _negative("end_value", "a price or value cannot be below zero"),
          lambda s, e: e < 0),
    renamed={"end": "end_value"},  # End is a reserved word in VBA (the classic add-in)
)
def val_return(start, end_value):
    """Cumulative return from ``start`` to ``end_value``: end_value / start - 1.

    >>> round(val_return(165, 980.10), 4)  # MiniMax: issue price to the implied price
    4.94
    """
    return end_value / start - 1


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
    Guard(NUM, "start and end_value must both be positive for a compound rate",
          lambda s, e, y: (s < 0) | (e < 0)),
    renamed={"end": "end_value"},  # End is a reserved word in VBA (the classic add-in)
)
def val_cagr(start, end_value, years):
    """Compound annual growth rate: (end_value / start) ^ (1 / years) - 1.

    >>> round(val_cagr(115, 135, 2), 4)  # Alibaba Cloud cap, 2026 to 2028
    0.0835
    """
    # np.power, not **: numpy's ** turns a single-cell exponent of 0.5 or 2 into sqrt or
    # square, whose last bit can differ from pow's, so a range and a cell would disagree
    return np.power(end_value / start, 1 / years) - 1


@metric(Guard(NUM, "months must be greater than zero", lambda a, m: m <= 0))
def val_annualize(amount, months):
    """Twelve-month run-rate of a figure covering ``months`` months: amount x 12 / months.

    >>> round(val_annualize(53.44, 9), 3)  # MiniMax's revenue, first three quarters of 2025
    71.253
    """
    return amount * 12 / months


# A zero divisor comes after a negative one (the two never hold together, so the order
# changes no answer): Excel's own #DIV/0! then answers it where no other check follows.
def _multiple_guards(denominator: str, negative_reason: str) -> tuple[Guard, ...]:
    return (
        Guard(NUM, _negative("market_cap", "a market value cannot be below zero"),
              lambda mc, d: mc < 0),
        Guard(NUM, _negative(denominator, negative_reason), lambda mc, d: d < 0),
        Guard(DIV0, _zero(denominator), lambda mc, d: d == 0, native="division"),
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
    Guard(NUM, _negative("revenue", "EV/revenue is not meaningful"), lambda ev, r: r < 0),
    Guard(DIV0, _zero("revenue"), lambda ev, r: r == 0, native="division"),
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
        Guard(NUM, _negative("revenue", "growing into a multiple needs positive revenue"),
              lambda *a: a[1] < 0),
        Guard(DIV0, _zero("revenue"), lambda *a: a[1] == 0, native="division"),
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
    required = market_cap * np.power(1 + discount_rate, years) / target_multiple
    return np.power(required / revenue, 1 / years) - 1  # np.power: see val_cagr


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
    return _years_to_fall(market_cap / (target_multiple * revenue), growth, discount_rate)


def _years_to_fall(ratio, growth, discount_rate):
    """Years for a multiple ``ratio`` times its target to fall to it: 0 when at or below."""
    return np.where(ratio <= 1, 0.0, np.log(ratio) / np.log((1 + growth) / (1 + discount_rate)))


@metric(
    Guard(NUM, _negative("multiple", "a multiple of a market value cannot be below zero"),
          lambda m, t, g, d: m < 0),
    Guard(NUM, "target_multiple must be greater than zero", lambda m, t, g, d: t <= 0),
    Guard(NUM, "discount_rate must be above -100%", lambda m, t, g, d: d <= -1),
    Guard(NUM, "growth must be above -100%", lambda m, t, g, d: g <= -1),
    Guard(NUM, "growth does not exceed the discount rate: the multiple is never reached",
          lambda m, t, g, d: (g <= d) & (m > t)),
)
def val_years_to_multiple(multiple, target_multiple, growth, discount_rate):
    """:func:`val_years_to_justify` from the multiple itself (P/S): the years until it sits
    at ``target_multiple``, revenue growing at ``growth`` and the market value at
    ``discount_rate``. The workbook's Valuation sheet reads its P/S column so.

    >>> round(val_years_to_multiple(1499.07, 11.5, 1.0, 0.10), 2)  # Zhipu doubling
    8.15
    """
    return _years_to_fall(multiple / target_multiple, growth, discount_rate)


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
    Guard(NUM, _negative("market_size", "a market cannot be below zero"), lambda r, m: m < 0),
    Guard(DIV0, _zero("market_size"), lambda r, m: m == 0, native="division"),
)
def val_market_share(revenue, market_size):
    """Revenue as a share of a market: revenue / market_size (same currency and scale).
    A share only when both figures are for the same year; a revenue of one year against a
    market forecast for another is a yardstick, and must be labelled as one.

    >>> round(val_market_share(0.191, 993), 6)  # Zhipu 2025 against China 2030: a yardstick
    0.000192
    """
    return revenue / market_size


def _cell_error(value: Any) -> XlError | None:
    """The Excel error a cell holds: an :class:`XlError`, or Office.js' error object.
    Errors beyond the four xlfuncs answers with (#REF!, #NAME?...) count as #VALUE!."""
    if isinstance(value, XlError):
        code = value.code
    elif isinstance(value, dict) and value.get("type") == "Error":
        code = str(value.get("basicValue", VALUE))
    else:
        return None
    return XlError(code if code in ERROR_CODES else VALUE, "an input cell holds this error")


def _is_plain_number(value: Any) -> bool:
    # NPV and COUNT skip text, even "12", and booleans in a range: so do we
    return isinstance(value, (int, float, np.integer, np.floating, Decimal, Fraction)) and (
        not isinstance(value, (bool, np.bool_, np.timedelta64)))


def _is_blank_cell(value: Any) -> bool:
    # as Excel's ="" test: an empty cell or empty text; " " is text. NaN, NaT: blanks
    if isinstance(value, str):
        return value == ""
    return bool(inputs.to_numbers(value)[1] == inputs.BLANK)


def _dcf_answer(value: float | None, error: XlError | None = None) -> Outcome:
    if error is not None:
        return Outcome(np.array(np.nan), np.array(2, np.int16), (error,), True)
    if value is None:
        return Outcome(np.array(np.nan), np.array(STATUS_BLANK, np.int16), (), True)
    if not np.isfinite(value):
        return _dcf_answer(None, XlError(NUM, "the result is too large or not a finite number"))
    return Outcome(np.array(value), np.array(STATUS_OK, np.int16), (), True)


def _single_number(value: Any, name: str) -> tuple[float | None, XlError | None]:
    """A rate: (number, None), (None, None) for a blank, or (None, the error)."""
    cells = inputs.as_object_array(value).ravel()
    if cells.size != 1:
        return None, XlError(VALUE, f"{name} must be a single number")
    cell = cells[0]
    error = _cell_error(cell)
    if error is not None:
        return None, error
    if _is_blank_cell(cell):
        return None, None
    number, status = inputs.to_numbers(cell)
    if status != inputs.OK:  # text included: text is never a number
        return None, XlError(VALUE, f"{name} must be a single number")
    return float(number), None


def dcf_outcome(cash_flows: Any, discount_rate: Any, terminal_growth: Any = None) -> Outcome:
    """:func:`val_dcf` with its Excel error, checked in the order the native formula is:
    the rate's own error, a blank rate (blank), the growth's error, a rate or growth that
    is not a single number (#VALUE!), the first error cell among the flows, no flows
    (blank), a blank or text before the last number (#VALUE!), rate <= -100% (#NUM!),
    rate <= growth with a terminal value (#NUM!)."""
    rate_cells = inputs.as_object_array(discount_rate).ravel()
    if rate_cells.size == 1 and _cell_error(rate_cells[0]):
        return _dcf_answer(None, _cell_error(rate_cells[0]))
    if rate_cells.size == 1 and _is_blank_cell(rate_cells[0]):
        return _dcf_answer(None)
    growth_cells = inputs.as_object_array(terminal_growth).ravel()
    if growth_cells.size == 1 and _cell_error(growth_cells[0]):
        return _dcf_answer(None, _cell_error(growth_cells[0]))
    rate, rate_error = _single_number(discount_rate, "discount_rate")
    growth, growth_error = _single_number(terminal_growth, "terminal_growth")
    if rate_error or growth_error:
        return _dcf_answer(None, rate_error or growth_error)
    assert rate is not None
    cells = inputs.as_object_array(cash_flows).ravel()  # row by row, as Excel reads a range
    for cell in cells:
        error = _cell_error(cell)
        if error is not None:
            return _dcf_answer(None, error._replace(reason="cash_flows: a cell holds this "
                                                    "error"))
    blank = np.array([_is_blank_cell(c) for c in cells], dtype=bool)
    filled = np.flatnonzero(~blank)
    if not filled.size:
        return _dcf_answer(None)
    end = int(filled[-1]) + 1  # trailing blanks are ignored: a range taller than the data
    if not all(_is_plain_number(c) and not blank[i] for i, c in enumerate(cells[:end])):
        return _dcf_answer(None, XlError(VALUE, "cash_flows: expected numbers without gaps "
                                         "(a blank or text before the last number; "
                                         "trailing blanks are ignored)"))
    flows, status = inputs.to_numbers(cells[:end])
    if np.any(status != inputs.OK):  # a number too large for a double
        return _dcf_answer(None, XlError(NUM, "cash_flows: not a finite number"))
    args = (flows, np.float64(rate), np.float64(np.nan if growth is None else growth))
    with np.errstate(all="ignore"):
        for guard in DCF_GUARDS:
            if guard.when(*args):
                return _dcf_answer(None, XlError(guard.code, guard.reason))
        return _dcf_answer(float(dcf_value(*args)))


DCF_GUARDS = (
    Guard(NUM, "discount_rate must be above -100%", lambda flows, rate, growth: rate <= -1),
    Guard(NUM, "terminal value needs discount_rate greater than terminal_growth",
          lambda flows, rate, growth: given(growth) & (rate <= growth)),
)


def dcf_value(flows, rate, growth):
    """VAL_DCF's arithmetic, once the flows are numbers without gaps: their NPV plus,
    when a terminal growth is given, the Gordon value of the last flow, discounted with it.
    """
    terminal = last(flows) * (1 + growth) / (rate - growth) / (1 + rate) ** count(flows)
    return npv(rate, flows) + np.where(given(growth), terminal, 0)


def val_dcf(cash_flows: Any, discount_rate: Any, terminal_growth: Any = None) -> float:
    """Present value of yearly cash flows with Excel's NPV convention (the first flow is
    discounted one period), plus, with ``terminal_growth``, a Gordon terminal value on the
    last flow: last x (1 + g) / (r - g), discounted with the last flow. The flows are read
    row by row; trailing blanks are ignored; a blank or text (even "12": NPV skips text)
    before the last number is #VALUE!, where NPV would silently skip it; an error cell is
    that error.

    >>> round(val_dcf([100, 110, 121], 0.10), 4)  # = NPV(10%, 100, 110, 121)
    272.7273
    >>> round(val_dcf([100], 0.10, 0.02), 2)  # 100/1.1 + 100*1.02/0.08/1.1
    1250.0
    """
    return dcf_outcome(cash_flows, discount_rate, terminal_growth).python()


val_dcf.outcome = dcf_outcome  # type: ignore[attr-defined]
