"""The story DCF's steps: one small element-wise metric per line of the year-by-year model.

Each step is the definition of its line. The story engine (:mod:`xlfuncs.story.model`)
composes these functions over years 1-10 and a table of companies; the registry gives
each step its native Excel formula (``STORY_*`` entries), which the workbook writes one
formula per row across the year columns. So a story's value IS the composition of the
workbook's row formulas, guards included.

Rates are decimals. ``year`` is 1..10 (the workbook's column header).
"""

from __future__ import annotations

import numpy as np

from ..elementwise import Guard, metric
from ..errors import NUM

YEAR_GUARD = Guard(NUM, "year must be between 1 and 10", lambda year, *rest: (year < 1)
                   | (year > 10))


def _outside_0_1(name: str, position: int) -> Guard:
    return Guard(NUM, f"{name} must be between 0 and 1",
                 lambda *a: (a[position] < 0) | (a[position] > 1))


@metric(YEAR_GUARD)
def story_growth(year, growth_next, growth_2_5, stable_growth):
    """Revenue growth of a year: growth_next in year 1, growth_2_5 in years 2-5, then
    linearly down to stable_growth in year 10.

    >>> round(story_growth(8, 0.5, 0.3, 0.05), 4)  # 0.3 - 0.25 x 3/5
    0.15
    """
    return np.where(year == 1, growth_next, np.where(
        year <= 5, growth_2_5, growth_2_5 - (growth_2_5 - stable_growth) * (year - 5) / 5))


@metric(
    Guard(NUM, "revenue must be greater than zero", lambda before, g: before <= 0),
    Guard(NUM, "revenue growth must be above -100%", lambda before, g: g <= -1),
)
def story_revenue(revenue_before, growth):
    """Revenue of a year: the year before x (1 + growth).

    >>> story_revenue(100, 0.5)
    150.0
    """
    return revenue_before * (1 + growth)


@metric(YEAR_GUARD,
        Guard(NUM, "convergence_year must be between 1 and 10",
              lambda year, mn, mt, c: (c < 1) | (c > 10)))
def story_margin(year, margin_next, target_margin, convergence_year):
    """Operating margin of a year: margin_next in year 1, linearly to target_margin in the
    convergence year, the target from then on (convergence year 1: the target throughout).

    >>> round(story_margin(3, -0.5, 0.25, 6), 4)  # -0.5 + 0.75 x 2/5
    -0.2
    """
    return np.where(year >= convergence_year, target_margin,
                    margin_next + (target_margin - margin_next) * (year - 1)
                    / (convergence_year - 1))


@metric()
def story_ebit(revenue, margin):
    """Operating income (EBIT): revenue x operating margin.

    >>> story_ebit(200, -0.25)
    -50.0
    """
    return revenue * margin


@metric(YEAR_GUARD, _outside_0_1("effective_tax", 1), _outside_0_1("marginal_tax", 2))
def story_tax_rate(year, effective_tax, marginal_tax):
    """Tax rate of a year: effective_tax in years 1-5, then linearly to marginal_tax in 10.

    >>> round(story_tax_rate(7, 0.15, 0.25), 4)  # 0.15 + 0.1 x 2/5
    0.19
    """
    return np.where(year <= 5, effective_tax,
                    effective_tax + (marginal_tax - effective_tax) * (year - 5) / 5)


_NOL_GUARD = Guard(NUM, "nol must not be negative", lambda ebit, nol, *rest: nol < 0)


@metric(_NOL_GUARD)
def story_taxes(ebit, nol_before, tax_rate):
    """Taxes of a year: a loss pays none; a profit first uses up the losses carried
    forward, tax is paid on what remains: max(EBIT - NOL before, 0) x tax rate.

    >>> story_taxes(100, 30, 0.25)
    17.5
    """
    return np.maximum(ebit - nol_before, 0) * tax_rate


@metric(_NOL_GUARD)
def story_nol(ebit, nol_before):
    """Losses carried forward after a year: max(NOL before - EBIT, 0) (a loss adds to it).

    >>> story_nol(-40, 30), story_nol(100, 30)
    (70.0, 0.0)
    """
    return np.maximum(nol_before - ebit, 0)


@metric(YEAR_GUARD)
def story_sales_to_capital(year, sales_to_capital_1_5, sales_to_capital_6_10):
    """Sales-to-capital ratio of a year: the years 1-5 ratio, then the years 6-10 one.

    >>> story_sales_to_capital(6, 1.5, 2.5)
    2.5
    """
    return np.where(year <= 5, sales_to_capital_1_5, sales_to_capital_6_10)


@metric(Guard(NUM, "sales_to_capital must be greater than zero",
              lambda revenue, before, s: s <= 0))
def story_reinvestment(revenue, revenue_before, sales_to_capital):
    """Reinvestment a year's growth needs: (revenue - revenue before) / sales-to-capital.

    >>> story_reinvestment(150, 100, 2.5)
    20.0
    """
    return (revenue - revenue_before) / sales_to_capital


@metric()
def story_fcff(ebit, taxes, reinvestment):
    """Free cash flow to the firm: EBIT - taxes - reinvestment.

    >>> story_fcff(100, 17.5, 20)
    62.5
    """
    return ebit - taxes - reinvestment


@metric(YEAR_GUARD,
        Guard(NUM, "cost_of_capital must be above -100%",
              lambda year, c, m: (c <= -1) | (m <= -1)))
def story_cost_of_capital(year, cost_of_capital, mature_cost_of_capital):
    """Cost of capital of a year: cost_of_capital in years 1-5, then linearly to
    mature_cost_of_capital in year 10.

    >>> round(story_cost_of_capital(10, 0.12, 0.085), 4)
    0.085
    """
    return np.where(year <= 5, cost_of_capital,
                    cost_of_capital + (mature_cost_of_capital - cost_of_capital)
                    * (year - 5) / 5)


@metric(Guard(NUM, "cost_of_capital must be above -100%", lambda f, c: c <= -1))
def story_discount_factor(factor_before, cost_of_capital):
    """Discount factor of a year: the year before's / (1 + cost of capital); year 0's is 1.

    >>> round(story_discount_factor(1, 0.25), 4)
    0.8
    """
    return factor_before / (1 + cost_of_capital)


@metric()
def story_present_value(amount, discount_factor):
    """Present value: amount x discount factor.

    >>> story_present_value(62.5, 0.8)
    50.0
    """
    return amount * discount_factor


@metric(
    Guard(NUM, "stable_roc must be greater than zero", lambda r, g, m, t, roc, c: roc <= 0),
    _outside_0_1("marginal_tax", 3),
    Guard(NUM, "mature_cost_of_capital must be greater than stable_growth",
          lambda r, g, m, t, roc, c: c <= g),
)
def story_terminal_value(revenue_10, stable_growth, target_margin, marginal_tax, stable_roc,
                         mature_cost_of_capital):
    """Terminal value at the end of year 10. Year 11's after-tax operating income is
    revenue_10 x (1 + g) x target_margin x (1 - marginal_tax); it reinvests g / stable_roc
    of it; the rest grows at g forever: (income - reinvestment) / (mature cost - g).

    >>> round(story_terminal_value(1000, 0.04, 0.2, 0.25, 0.1, 0.09), 2)  # 156 x 0.6 / 0.05
    1872.0
    """
    income = revenue_10 * (1 + stable_growth) * target_margin * (1 - marginal_tax)
    return (income - stable_growth / stable_roc * income) / (
        mature_cost_of_capital - stable_growth)


@metric()
def story_going_concern(sum_pv_fcff, pv_terminal):
    """Going-concern value: the discounted cash flows of years 1-10 plus the discounted
    terminal value.

    >>> story_going_concern(120, 880)
    1000.0
    """
    return sum_pv_fcff + pv_terminal


@metric(_outside_0_1("failure_probability", 1), _outside_0_1("distress_fraction", 2))
def story_operating_value(going_concern, failure_probability, distress_fraction):
    """Operating value with failure kept out of the discount rate: going concern x (1 - p)
    + p x distress_fraction x max(going concern, 0) (a failed company yields no less
    than nothing).

    >>> story_operating_value(1000, 0.2, 0.5)
    900.0
    """
    return (going_concern * (1 - failure_probability)
            + failure_probability * distress_fraction * np.maximum(going_concern, 0))


@metric()
def story_equity(operating_value, cash, debt, minority, non_operating):
    """Equity value: operating value - debt - minority interests + cash + non-operating
    assets.

    >>> story_equity(900, 50, 100, 10, 5)
    845.0
    """
    return operating_value - debt - minority + cash + non_operating


@metric()
def story_equity_after_options(equity, options):
    """Equity value left to the shareholders: equity value - value of employee options.
    Value per share divides it by the shares; the market value is compared with it.

    >>> story_equity_after_options(845, 45)
    800.0
    """
    return equity - options


@metric(Guard(NUM, "shares must be greater than zero", lambda e, o, s: s <= 0))
def story_per_share(equity, options, shares):
    """Value per share: (equity - value of options) / shares.

    >>> story_per_share(845, 45, 100)
    8.0
    """
    return (equity - options) / shares


@metric(Guard(NUM, "market value must be greater than zero", lambda v, m: m <= 0))
def story_upside(value, market_value):
    """Upside (+) or downside (-) of an intrinsic value against the market's: value /
    market value - 1. The value may be negative (a story worth less than nothing).

    >>> story_upside(-30, 300)
    -1.1
    """
    return value / market_value - 1
