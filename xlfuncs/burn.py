"""Cash-burn metrics: months in a period, burn rates, runway.

The article reports cumulative *net losses*, not cash flows, so burn here is a loss-based
proxy: a net loss includes non-cash items (share-based pay, fair-value changes of
preferred shares), which can make it far larger than the cash a company spends. Where a
cash-flow figure is known, pass it instead. Dates are Excel serials or ``date`` objects
(text is never a date); burns and losses are positive numbers (a negative loss is a profit).
"""

from __future__ import annotations

import numpy as np

from . import inputs
from .elementwise import Guard, metric
from .errors import DIV0, NA, NUM
from .formula import whole_months

MONTHS_PER_YEAR = 12
# A month of runway in days, for cash-zero dates: the mean Gregorian month.
DAYS_PER_MONTH = 365.25 / 12

_DATES = {"start_date": "date", "end_date": "date"}
_START_AFTER_END = "start_date is after end_date"


def _whole_months(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Excel's DATEDIF(start, end + 1, "m"): whole months from start to the day after end."""
    return whole_months(start, end + 1)


@metric(Guard(NUM, _START_AFTER_END, lambda s, e: s > e), kinds=_DATES)
def burn_months(start_date, end_date):
    """Whole months in a reporting period, counted to the day after its last day.

    >>> from datetime import date
    >>> burn_months(date(2022, 1, 1), date(2025, 6, 30))  # Zhipu's loss period
    42.0
    >>> burn_months(date(2022, 1, 1), date(2025, 9, 30))  # MiniMax's loss period
    45.0
    """
    return _whole_months(start_date, end_date)


_PERIOD_GUARDS = (
    Guard(NUM, _START_AFTER_END, lambda x, s, e: s > e),
    Guard(DIV0, "start_date to end_date is shorter than one whole month", lambda x, s, e:
          _whole_months(s, e) == 0, native="division"),
)


@metric(*_PERIOD_GUARDS, kinds=_DATES)
def burn_monthly(cumulative_loss, start_date, end_date):
    """Average monthly burn over a period (loss-based proxy): loss / whole months.

    >>> from datetime import date
    >>> round(burn_monthly(6238, date(2022, 1, 1), date(2025, 6, 30)), 1)  # Zhipu, RMB m/month
    148.5
    """
    return cumulative_loss / _whole_months(start_date, end_date)


@metric(*_PERIOD_GUARDS, kinds=_DATES)
def burn_annual(cumulative_loss, start_date, end_date):
    """Average yearly burn over a period (loss-based proxy): monthly burn x 12.

    >>> from datetime import date
    >>> round(burn_annual(1320, date(2022, 1, 1), date(2025, 9, 30)), 1)  # MiniMax, US$m/year
    352.0
    """
    return burn_monthly.__wrapped__(cumulative_loss, start_date, end_date) * MONTHS_PER_YEAR


@metric()
def burn_net(gross_burn, cash_revenue):
    """Net burn: gross_burn - cash_revenue; negative means the company generates cash.

    >>> burn_net(150, 20)
    130.0
    """
    return gross_burn - cash_revenue


_RUNWAY_GUARDS = (
    Guard(NUM, "cash is negative: the company is already out of cash", lambda c, b, *a: c < 0),
    Guard(NUM, "monthly_burn is zero or negative: not burning cash, so the runway is not "
          "finite", lambda c, b, *a: b <= 0),
)


@metric(*_RUNWAY_GUARDS)
def burn_runway(cash, monthly_burn):
    """Months of cash left: cash / monthly_burn.

    >>> round(burn_runway(3000, 148.5), 1)
    20.2
    """
    return cash / monthly_burn


@metric(
    *_RUNWAY_GUARDS,
    Guard(NUM, "the cash lasts beyond 9999-12-31, the end of Excel's calendar",
          lambda c, b, a: a + c / b * DAYS_PER_MONTH >= inputs.MAX_SERIAL + 1),
    kinds={"as_of": "date"}, returns="date")
def burn_cash_zero_date(cash, monthly_burn, as_of):
    """The day the cash runs out: as_of + runway, a month being 365.25 / 12 days.

    >>> from datetime import date
    >>> burn_cash_zero_date(1200, 100, date(2026, 2, 24))  # 12 months of runway
    datetime.date(2027, 2, 24)
    """
    return np.floor(as_of + cash / monthly_burn * DAYS_PER_MONTH)


@metric(
    Guard(NUM, "net_burn is negative: the company generates cash, a burn multiple is not "
          "meaningful", lambda b, r: b < 0),
    Guard(NUM, "net_new_revenue is negative: revenue shrank, a burn multiple is not "
          "meaningful", lambda b, r: r < 0),
    Guard(DIV0, "net_new_revenue is zero: the multiple is undefined", lambda b, r: r == 0,
          native="division"),
)
def burn_multiple(net_burn, net_new_revenue):
    """Burn multiple: net_burn / net_new_revenue (cash burned per unit of new revenue).

    >>> burn_multiple(150, 50)
    3.0
    """
    return net_burn / net_new_revenue


def _day(serial: np.ndarray) -> np.ndarray:
    return np.floor(serial)


@metric(
    Guard(NUM, "loss_start is after loss_end", lambda x, ls, le, r, rs, re: ls > le),
    Guard(NA, "the loss and the revenue cover different periods: a ratio needs both over "
          "the same one", lambda x, ls, le, r, rs, re:
          (_day(ls) != _day(rs)) | (_day(le) != _day(re))),
    Guard(NUM, "revenue is negative: the ratio is not meaningful",
          lambda x, ls, le, r, rs, re: r < 0),
    Guard(DIV0, "revenue is zero: the ratio is undefined", lambda x, ls, le, r, rs, re: r == 0,
          native="division"),
    kinds={"loss_start": "date", "loss_end": "date", "revenue_start": "date",
           "revenue_end": "date"},
)
def burn_loss_to_revenue(loss, loss_start, loss_end, revenue, revenue_start, revenue_end):
    """Loss per unit of revenue over one period: loss / revenue, both in the same currency
    and scale. Each figure comes with its period; unless the two periods are the same
    days, the answer is #N/A (a 45-month loss over 9 months of revenue is no ratio).

    >>> from datetime import date
    >>> nine_months = (date(2025, 1, 1), date(2025, 9, 30))
    >>> burn_loss_to_revenue(300, *nine_months, 120, *nine_months)
    2.5
    >>> from xlfuncs import explain
    >>> explain(burn_loss_to_revenue, 1320, date(2022, 1, 1), date(2025, 9, 30), 53.44,
    ...         *nine_months).code  # MiniMax: cumulative loss since 2022, 2025 revenue
    '#N/A'
    """
    return loss / revenue


@metric()
def burn_rule_of_40(revenue_growth, margin):
    """Rule-of-40 score: revenue_growth + margin (decimals); 0.4 or more passes the bar.

    >>> round(burn_rule_of_40(0.6, -0.3), 2)
    0.3
    """
    return revenue_growth + margin
