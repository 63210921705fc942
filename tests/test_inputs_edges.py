"""The input layer at its edges: Excel's calendar on every path a date can take, empty and
ragged ranges, blanks and trimming in text arguments. Found missing by mutation testing
(scripts/mutation.py on xlfuncs/inputs.py).

Excel's calendar, from Excel's documentation: serial 61 is 1900-03-01 (earlier serials
carry the 1900 leap-year bug), 2958465 is 9999-12-31, its last day; a time of that day is
2958465.x, and 2958466 is already 10000-01-01, outside.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
import pytest

import xlfuncs as xf
from xlfuncs import XlfuncsError
from xlfuncs.errors import NUM, VALUE, XlError
from xlfuncs.inputs import (
    BLANK,
    OK,
    OUT_OF_RANGE,
    WRONG_TYPE,
    date_to_serial,
    serials_to_datetime64,
    to_numbers,
    to_serials,
    to_texts,
)

FIRST, LAST = 61.0, 2958465.0   # 1900-03-01 and 9999-12-31
CALENDAR = XlError(NUM, "start_date: date outside Excel's calendar (1900-03-01 to 9999-12-31)")


def one(value: Any) -> tuple[float, int]:
    values, status = to_serials(value)
    return float(values[()]), int(status[()])


@pytest.mark.parametrize(("value", "status"), [
    # plain floats (numpy's fast path)
    (61.0, OK), (60.5, OUT_OF_RANGE), (60.0, OUT_OF_RANGE),
    (2958465.0, OK), (2958465.75, OK), (2958466.0, OUT_OF_RANGE), (2958466.5, OUT_OF_RANGE),
    # dates, datetimes, exact numbers and datetime64 (one element at a time)
    (dt.date(1900, 3, 1), OK), (dt.date(1900, 2, 28), OUT_OF_RANGE),
    (dt.date(9999, 12, 31), OK), (dt.datetime(9999, 12, 31, 18, 0), OK),
    (Fraction(121, 2), OUT_OF_RANGE), (Decimal("61"), OK),
    (Decimal("2958466"), OUT_OF_RANGE), (Decimal("2958466.5"), OUT_OF_RANGE),
    (np.datetime64("1900-03-01"), OK), (np.datetime64("1900-02-28T12:00"), OUT_OF_RANGE),
    (np.datetime64("9999-12-31T23:59"), OK), (np.datetime64("10000-01-01", "D"), OUT_OF_RANGE),
    (np.datetime64("10000-01-01T12:00"), OUT_OF_RANGE),
    (np.datetime64("-5000", "Y"), OUT_OF_RANGE), (np.datetime64("20000-01-01"), OUT_OF_RANGE),
])
def test_excels_calendar_holds_on_every_path_a_date_takes(value: Any, status: int) -> None:
    assert one(value)[1] == status
    # beside text, a float takes the element-by-element path too
    assert int(to_serials([value, "x"])[1][0]) == status


def test_the_calendars_edges_are_their_serials() -> None:
    assert one(dt.date(1900, 3, 1)) == (FIRST, OK)
    assert one(dt.date(9999, 12, 31)) == (LAST, OK)
    assert one(np.datetime64("9999-12-31")) == (LAST, OK)
    assert one(np.datetime64("9999-12-31T18:00")) == (LAST + 0.75, OK)
    assert date_to_serial(dt.date(1900, 3, 1)) == FIRST
    assert date_to_serial(dt.date(2025, 1, 1)) == 45658.0   # Excel's DATE(2025, 1, 1)


def test_a_range_of_floats_is_checked_element_by_element_at_the_edges() -> None:
    values, status = to_serials(np.array([60.0, 61.0, LAST, LAST + 1, np.nan]))
    assert status.tolist() == [OUT_OF_RANGE, OK, OK, OUT_OF_RANGE, BLANK]
    assert values[1:3].tolist() == [FIRST, LAST]
    # the first and last days through a metric: 9999-12-31 less 1900-03-01 is 8099 years
    # and 10 months = 97198 whole months (DATEDIF counts to the day after the end)
    assert xf.burn_months(dt.date(1900, 3, 1), dt.date(9999, 12, 31)) == 97198.0
    assert xf.explain(xf.burn_months, LAST + 1, LAST + 1) == CALENDAR


def test_an_empty_range_answers_an_empty_range() -> None:
    assert xf.explain(xf.val_ps, [], 2) == []
    assert xf.explain(xf.val_ps, [[]], 2) == [[]]
    assert xf.val_ps([], 2).tolist() == []


def test_a_range_with_an_empty_row_is_ragged() -> None:
    for ragged in ([[], [1.0]], [[], [XlError(NUM, "x")]], [[1.0], []]):
        with pytest.raises(XlfuncsError, match="ragged range"):
            xf.val_ps(ragged, 1)


def test_every_kind_of_missing_value_is_a_blank_text() -> None:
    missing = [None, pd.NA, pd.NaT, float("nan"), np.float32("nan"), Decimal("NaN"),
               np.datetime64("NaT"), ""]
    texts, status = to_texts(missing)
    assert status.tolist() == [BLANK] * len(missing)
    assert texts.tolist() == [""] * len(missing)
    for cell in missing:
        assert int(to_texts(cell)[1][()]) == BLANK, cell
        assert xf.explain(xf.fx_rate, cell, "HKD") is None
    # a number, even a whole one, is not text
    texts, status = to_texts([1.0, 0, Decimal("2")])
    assert status.tolist() == [WRONG_TYPE] * 3 and texts.tolist() == [""] * 3
    assert xf.explain(xf.fx_rate, 1.0, "HKD") == XlError(VALUE, "from_currency: expected text")


def test_text_is_trimmed_of_spaces_only() -> None:
    # ISO codes that begin or end with X (gold, the SDR) keep their letters
    texts, status = to_texts([" XAU ", "XDR", "MAX", "  HKD", "\tUSD"])
    assert texts.tolist() == ["XAU", "XDR", "MAX", "HKD", "\tUSD"]
    assert status.tolist() == [OK] * 5
    assert xf.fx_rate(" usd ", "HKD ") == 7.8


def test_a_two_dimensional_range_of_error_cells_keeps_its_shape() -> None:
    # numpy would unpack each XlError (a tuple) into a new axis: read cell by cell instead
    wrong = XlError(VALUE, "market_cap: expected a number")
    error = XlError(NUM, "x")
    assert xf.explain(xf.val_ps, [[error, error]], 2) == [[wrong, wrong]]
    assert xf.explain(xf.val_ps, [[error, error], [error, 4.0]], 2) == [[wrong, wrong],
                                                                         [wrong, 2.0]]


@pytest.mark.parametrize("unit", ["ps", "fs", "as"])
def test_a_datetime64_finer_than_nanoseconds_is_a_date_too(unit: str) -> None:
    # these units only reach days around 1970-01-01, Excel's serial 25569
    assert one(np.datetime64(7, unit)) == (25569.0, OK)
    assert one(np.datetime64(-7, unit))[1] == OK
    assert xf.burn_months(np.datetime64(7, unit), dt.date(1970, 1, 31)) == 1.0


def test_a_range_of_floats_is_read_without_a_copy() -> None:
    # 100,000 cells from Excel: the common case must not copy them (values, not a promise)
    cells = np.linspace(1.0, 2.0, 1000)
    values, status = to_numbers(cells)
    assert np.shares_memory(values, cells) and values.tolist() == cells.tolist()
    assert status.tolist() == [OK] * 1000


def test_serials_become_whole_days_and_non_numbers_nat() -> None:
    # 45658 is 2025-01-01; 45658.99 is still that day; 61 is 1900-03-01
    days = serials_to_datetime64(np.array([45658.0, 45658.99, 61.0, np.nan, np.inf]))
    assert [str(d) for d in days] == ["2025-01-01", "2025-01-01", "1900-03-01", "NaT", "NaT"]
    assert str(serials_to_datetime64(np.array(45658.5))[()]) == "2025-01-01"
