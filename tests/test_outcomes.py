"""The element-wise machinery's answers, exactly: which error, with which reason, in which
order; defaults for empty optional cells; the Python type of each kind of answer; and
the checks at their edges. Found missing by mutation testing (scripts/mutation.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import xlfuncs as xf
from xlfuncs import XlError, XlfuncsError
from xlfuncs.checks import check_at_least, check_between, check_close
from xlfuncs.errors import NUM, VALUE

JAN1, JAN31 = dt.date(2025, 1, 1), dt.date(2025, 1, 31)
CALENDAR = "date outside Excel's calendar (1900-03-01 to 9999-12-31)"
TOO_LARGE = "not a finite number (or too large for a double)"


@pytest.mark.parametrize(("args", "expected"), [
    (("abc", JAN31), XlError(VALUE, "start_date: expected a date")),
    ((JAN1, "abc"), XlError(VALUE, "end_date: expected a date")),
    ((50.0, JAN31), XlError(NUM, f"start_date: {CALENDAR}")),
    ((JAN1, 50.0), XlError(NUM, f"end_date: {CALENDAR}")),
    ((50.0, "abc"), XlError(NUM, f"start_date: {CALENDAR}")),    # the first argument first
    (("abc", 50.0), XlError(VALUE, "start_date: expected a date")),
    ((None, "abc"), None),                                       # a blank before any error
])
def test_each_argument_has_its_own_error_in_argument_order(args: tuple[object, ...],
                                                           expected: object) -> None:
    assert xf.explain(xf.burn_months, *args) == expected


@pytest.mark.parametrize(("args", "expected"), [
    ((10**400, 2.0), XlError(NUM, f"market_cap: {TOO_LARGE}")),
    ((2.0, 10**400), XlError(NUM, f"annual_revenue: {TOO_LARGE}")),
    (("x", 2.0), XlError(VALUE, "market_cap: expected a number")),
    ((2.0, "x"), XlError(VALUE, "annual_revenue: expected a number")),
    ((10**400, "x"), XlError(NUM, f"market_cap: {TOO_LARGE}")),
    (("x", 10**400), XlError(VALUE, "market_cap: expected a number")),
    ((2.0, None), None),
])
def test_numbers_have_their_own_errors_too(args: tuple[object, ...], expected: object) -> None:
    assert xf.explain(xf.val_ps, *args) == expected


def test_an_empty_optional_cell_takes_the_default_alone_or_in_a_range() -> None:
    assert xf.fx_rate("USD", "HKD", None) == 7.8
    assert xf.fx_rate("USD", "HKD", "") == 7.8
    rates = xf.fx_rate(["USD", "USD"], "HKD", [None, 7.9])
    assert rates.tolist() == [7.8, 7.9]
    assert xf.fx_rate("USD", "CNY", 7.7, None) == 6.91


def test_each_kind_of_answer_has_its_python_type() -> None:
    # dates: a date for one cell, datetime64 for a range, NaT where there is none
    assert xf.burn_cash_zero_date(1200, 100, dt.date(2026, 2, 24)) == dt.date(2027, 2, 24)
    days = xf.burn_cash_zero_date([1200, -1], 100, dt.date(2026, 2, 24))
    assert days.dtype.kind == "M" and str(days[0]) == "2027-02-24" and np.isnat(days[1])
    assert xf.burn_cash_zero_date(-1, 100, dt.date(2026, 2, 24)) is None
    # booleans: True/False for one cell, None where there is no answer
    assert check_at_least(2, 1) is True and check_at_least(1, 2) is False
    assert check_at_least([2, 1, None], 1.5).tolist() == [True, False, None]
    # numbers: NaN where there is none
    ps = xf.val_ps([300, 300], [0, 2])
    assert np.isnan(ps[0]) and ps[1] == 150.0
    # cells(): the error itself, a date, a bool, in the range's shape
    assert xf.explain(xf.burn_cash_zero_date, [[1200], [-1]], 100, dt.date(2026, 2, 24)) == [
        [dt.date(2027, 2, 24)], [XlError(NUM, "cash is negative: the company is already out "
                                         "of cash")]]
    assert xf.explain(check_close, [369.8, 1], 370, 0.01) == [True, False]


def test_ranges_that_cannot_be_combined_are_refused_naming_their_shapes() -> None:
    with pytest.raises(XlfuncsError, match=r"market_cap 3, annual_revenue 2\)"):
        xf.val_ps([1, 2, 3], [1, 2])
    with pytest.raises(XlfuncsError, match=r"market_cap 2x2, annual_revenue 3"):
        xf.val_ps([[1, 2], [3, 4]], [1, 2, 3])


def test_the_checks_at_their_edges() -> None:
    assert check_at_least(620, 620) is True                 # "at least": equal passes
    assert check_between(7.75, 7.75, 7.85) is True          # both ends are inside
    assert check_between(7.85, 7.75, 7.85) is True
    assert check_between(7.7, 7.75, 7.85) is False
    assert check_between(7.9, 7.75, 7.85) is False
    assert check_close(1, 1, 0) is True                     # a zero tolerance is allowed
    assert check_close(1.5, 1, 0.5) is True                 # |1.5/1 - 1| = 0.5, exactly
    assert check_close(1.5, 1, 0.25) is False
    assert xf.explain(check_close, 1, 1, -0.5).code == NUM


def test_ranges_with_error_cells_keep_their_shape_and_ragged_ranges_are_refused() -> None:
    from xlfuncs.errors import DIV0

    wrong = XlError(VALUE, "market_cap: expected a number")
    assert xf.explain(xf.val_ps, [[XlError(DIV0, "x")], [4.0]], 2) == [[wrong], [2.0]]
    assert xf.explain(xf.val_ps, [XlError(DIV0, "x"), XlError(NUM, "y")], 2) == [wrong, wrong]
    assert xf.explain(xf.val_ps, [[XlError(DIV0, "x"), 4.0]], 2) == [[wrong, 2.0]]
    for ragged in ([[1.0, 2.0], [3.0]], [[XlError(DIV0, "x"), 1.0], [2.0]],
                   [[1.0, [2.0, 3.0]]], [[XlError(DIV0, "x")], [[1.0]]]):
        with pytest.raises(XlfuncsError, match="ragged range"):
            xf.val_ps(ragged, 1)


def test_pandas_missing_values_are_blanks() -> None:
    import pandas as pd

    assert xf.explain(xf.val_ps, pd.NA, 2) is None
    assert xf.explain(xf.val_ps, 2, pd.NaT) is None
    assert xf.explain(xf.burn_months, pd.NaT, JAN31) is None


def test_a_datetimes_time_of_day_is_the_fraction_of_its_serial() -> None:
    from xlfuncs.inputs import to_serials

    # 2025-01-01 is Excel's serial 45658; 18:00 is 0.75 of a day
    assert to_serials(dt.datetime(2025, 1, 1, 18, 0))[0][()] == 45658.75
    # 06:30:36.5 is 6 x 3600 + 30 x 60 + 36.5 = 23436.5 seconds of 86400
    serial = to_serials(dt.datetime(2025, 1, 1, 6, 30, 36, 500000))[0][()]
    assert serial == pytest.approx(45658 + 23436.5 / 86400, abs=1e-12)


def test_an_outcome_names_the_error_behind_each_status_code() -> None:
    from xlfuncs.elementwise import STATUS_BLANK, STATUS_OK

    answer = xf.val_ps.outcome(["x", 300, 300, None], [2, 0, 4, 2])
    # status codes: 0 a number, 1 a blank, then the errors in table order from 2
    assert answer.error(STATUS_OK) is None and answer.error(STATUS_BLANK) is None
    assert answer.error(2) == XlError(VALUE, "market_cap: expected a number")
    assert answer.error(int(answer.status[0])) == XlError(VALUE, "market_cap: expected a number")
    assert answer.error(int(answer.status[1])) == XlError(
        "#DIV/0!", "annual_revenue is zero: the ratio is undefined")
    assert answer.has_problems is True
    assert xf.val_ps.outcome([300, 300], [2, 4]).has_problems is False


def test_text_answers_are_text_or_none() -> None:
    from xlfuncs.data import data_qualifier

    # MiniMax's market value is stated as a lower bound (">=" in the article's facts)
    assert data_qualifier("MiniMax", "market_value") == ">="
    assert data_qualifier("NoSuchCo", "market_value") is None
    assert data_qualifier(["MiniMax", "NoSuchCo", None], "market_value").tolist() == [
        ">=", None, None]


def test_a_blank_number_from_the_dataset_is_nan_not_zero() -> None:
    from xlfuncs.data import data_fact

    # Zhipu's 2025 revenue is RMB 191m (the article); a blank company is no answer
    assert np.isnan(data_fact(None, "revenue"))
    facts = data_fact([None, "Zhipu", None], "revenue")
    assert np.isnan(facts[0]) and facts[1] == 191.0 and np.isnan(facts[2])


def test_two_errors_in_one_range_keep_their_own_reasons() -> None:
    from xlfuncs.data import data_fact_outcome

    cells = data_fact_outcome(["NoSuchCo", "Zhipu", "Zhipu"], ["revenue", "nosuch", "revenue"]
                              ).cells()
    assert "NoSuchCo" in cells[0].reason and "nosuch" in cells[1].reason and cells[2] == 191.0


def test_a_check_answers_true_and_false_not_one_and_zero() -> None:
    cells = xf.explain(check_close, [369.8, 1], 370, 0.01)
    assert [type(c) for c in cells] == [bool, bool] and cells == [True, False]
    assert type(xf.explain(check_close, 369.8, 370, 0.01)) is bool


def test_a_single_cell_is_named_as_a_cell_when_ranges_clash() -> None:
    with pytest.raises(XlfuncsError, match=r"\(market_cap 3, debt 2, cash cell\)"):
        xf.val_ev([1, 2, 3], [1, 2], 5)


def test_guards_and_outcomes_cannot_be_changed_after_the_fact() -> None:
    # one tuple of guards serves several metrics (the FX rate checks): none may alter it
    from dataclasses import FrozenInstanceError

    guard = xf.val_ps.guards[0]
    with pytest.raises(FrozenInstanceError):
        guard.code = VALUE  # type: ignore[misc]
    answer = xf.val_ps.outcome(1, 2)
    with pytest.raises(FrozenInstanceError):
        answer.scalar = False  # type: ignore[misc]


def test_a_text_argument_of_the_wrong_type_says_text_is_expected() -> None:
    assert xf.explain(xf.fx_rate, 1.0, "HKD") == XlError(VALUE, "from_currency: expected text")
    assert xf.explain(xf.fx_rate, "USD", 2.0) == XlError(VALUE, "to_currency: expected text")


def test_a_result_beyond_a_double_has_its_own_reason() -> None:
    # 1e300 / 1e-300 = 1e600, beyond a double: not a guard's error, the overflow's
    assert xf.explain(xf.val_ps, 1e300, 1e-300) == XlError(
        NUM, "the result is too large or not a finite number")
    assert xf.explain(xf.val_ps, [1e300, 3.0], [1e-300, 2.0])[1] == 1.5


def test_a_metric_of_one_argument() -> None:
    from xlfuncs.elementwise import Guard, metric

    @metric(Guard(NUM, "x is negative", lambda x: x < 0))
    def double(x):  # type: ignore[no-untyped-def]
        return 2 * x

    assert double(3) == 6.0
    assert xf.explain(double, [1.5, -1, None, "a"]) == [
        3.0, XlError(NUM, "x is negative"), None, XlError(VALUE, "x: expected a number")]


def test_an_outcome_of_an_unknown_kind_is_refused_not_read_as_a_number() -> None:
    from xlfuncs.elementwise import Outcome

    for kind in ("number", "date", "text", "bool"):
        assert Outcome(np.array(1.0), np.array(0, np.int16), (), True, kind).returns == kind
    assert Outcome(np.array(1.0), np.array(0, np.int16), (), True).python() == 1.0
    with pytest.raises(ValueError, match="unknown return kind 'numbers'"):
        Outcome(np.array(1.0), np.array(0, np.int16), (), True, "numbers")  # type: ignore[arg-type]


def test_a_body_that_ignores_the_widest_input_still_answers_in_the_inputs_shape() -> None:
    from xlfuncs.elementwise import metric

    @metric()
    def first(a, b):  # b only sets the shape, as a range beside a cell does
        return a * 2

    got = first(1.5, [[1.0, 2.0, 3.0]])
    assert got.shape == (1, 3) and got.tolist() == [[3.0, 3.0, 3.0]]
    got[0, 0] = 0.0  # its own array, not a read-only view
    assert first.outcome(1.5, [None, 2.0]).cells() == [None, 3.0]
