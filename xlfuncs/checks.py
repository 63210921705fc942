"""Model checks: comparisons that say TRUE or FALSE, for the workbook's Checks sheet.

They are metrics like any other (one Python body, one native formula in the registry),
so the cached TRUE/FALSE a previewer shows is the one Excel computes.
"""

from __future__ import annotations

import numpy as np

from .elementwise import Guard, metric
from .errors import NUM, VALUE


@metric(returns="bool")
def check_at_least(value, bound):
    """TRUE when value >= bound (e.g. the two market values add up to "beyond" HK$620bn).

    >>> check_at_least(623.2, 620)
    True
    """
    return value >= bound


@metric(returns="bool")
def check_between(value, low, high):
    """TRUE when low <= value <= high (e.g. USD/HKD inside the peg's band).

    >>> check_between(7.8, 7.75, 7.85)
    True
    """
    return (value >= low) & (value <= high)


@metric(
    Guard(NUM, "tolerance must not be negative", lambda v, e, t: t < 0),
    Guard(VALUE, "expected is zero: a relative tolerance is undefined", lambda v, e, t: e == 0),
    returns="bool",
)
def check_close(value, expected, tolerance):
    """TRUE when value is within ``tolerance`` (relative) of ``expected``.

    >>> check_close(369.8, 370, 0.01)  # US$53.44m at 6.92 against the article's RMB 370m
    True
    """
    gap = np.abs(value / expected - 1)
    # a ratio beyond a double is #NUM! in Excel, not FALSE: NaN makes it the overflow error
    return np.where(np.isfinite(gap), gap <= tolerance, np.nan)
