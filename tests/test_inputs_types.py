"""Every Python and numpy type a caller may hand a function is an input like any other:
an answer, a blank or that element's Excel error, never an exception, and the same
answer as for the equivalent plain float (or a documented error)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xlfuncs as xf
from xlfuncs.errors import NUM, VALUE, XlError
from xlfuncs.registry import BY_NAME

EPOCH = dt.date(1899, 12, 30)
WRONG = "not a number"  # a plain input every number or date argument answers #VALUE! for
METRICS = [e for e in BY_NAME.values()
           if e.excel_body is not None and all(p.kind != "range" for p in e.params)]
INT_DTYPES = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
              np.uint64)


def serial(day: dt.date | dt.datetime) -> float:
    """Excel serial worked independently of xlfuncs: days since 1899-12-30."""
    if isinstance(day, dt.datetime):
        return (day - dt.datetime(1899, 12, 30)).total_seconds() / 86400
    return float((day - EPOCH).days)


# ---- the examples of the issue -------------------------------------------------------

def test_a_python_int_beyond_a_double_is_num_not_an_overflow_error() -> None:
    answer = xf.explain(xf.val_ps, 10**400, 2)
    assert isinstance(answer, XlError) and answer.code == NUM
    assert np.isnan(xf.val_ps(10**400, 2))
    assert xf.explain(xf.val_ps, [10**400, 3], 2)[1] == 1.5


def test_pandas_timestamps_and_nat_are_dates_and_blanks() -> None:
    end = dt.date(2025, 6, 30)
    assert xf.burn_months(pd.Timestamp("2022-01-01"), end) == 42.0
    assert xf.explain(xf.val_ps, pd.NaT, 2) is None
    assert xf.explain(xf.burn_months, pd.NaT, end) is None
    days = pd.Series(pd.to_datetime(["2022-01-01", None, "2022-01-15"]))
    assert xf.explain(xf.burn_months, days, end) == [42.0, None, 41.0]


@pytest.mark.parametrize("text", [
    "1,000,000", "12,345.5", "30%", " 7.8 ", ".5", "-1e3", "12", "1,5", "1,0,0", "1_000",
    "10,00", ",100", "0x10", "\u0661\u0662", "nan", "1e999", " ", "2025-06-30"])
def test_text_is_never_a_number_nor_a_date(text: str) -> None:
    # the native formulas answer #VALUE! for any text (ISNUMBER), so the core does too
    assert xf.explain(xf.val_annualize, text, 12) == XlError(VALUE, "amount: expected a number")
    assert xf.explain(xf.val_annualize, 12, np.str_(text)) == XlError(
        VALUE, "months: expected a number")
    assert xf.explain(xf.burn_months, 44562, text) == XlError(VALUE, "end_date: expected a date")
    assert xf.explain(xf.val_annualize, [text, 6], 12) == [
        XlError(VALUE, "amount: expected a number"), 6.0]


def test_only_empty_text_is_blank() -> None:
    assert xf.explain(xf.val_annualize, "", 12) is None
    assert xf.explain(xf.burn_months, "", 45838) is None


# ---- explain when a whole range is in error ------------------------------------------

@pytest.mark.parametrize("shape", [(2,), (3, 1), (1, 3), (2, 2), (2, 3)])
@pytest.mark.parametrize("fill", ["errors", "blanks", "mixed"])
def test_explain_keeps_the_shape_of_any_range(shape: tuple[int, ...], fill: str) -> None:
    size = int(np.prod(shape))
    revenue = {"errors": [0.0, -1.0] * size, "blanks": [None] * size,
               "mixed": [0.0, None, 2.0, -1.0] * size}[fill][:size]
    answer = xf.explain(xf.val_ps, 300, np.array(revenue, dtype=object).reshape(shape))
    grid = np.empty(size, dtype=object)
    for i, r in enumerate(revenue):
        grid[i] = (None if r is None else 300 / r if r > 0
                   else xf.explain(xf.val_ps, 300, r))
    assert answer == grid.reshape(shape).tolist()
    cells = [c for row in answer for c in row] if len(shape) == 2 else answer
    assert len(cells) == size
    if fill == "errors":
        assert all(isinstance(c, XlError) for c in cells)


# ---- the property: any type, any metric ------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)
days = st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 30))


@st.composite
def number_form(draw: st.DrawFn) -> tuple[Any, Any]:
    """(an exotic value, the plain float or input it must answer like)."""
    kind = draw(st.sampled_from([
        "int", "npint", "npfloat", "decimal", "fraction", "text", "missing", "bigint",
        "special_decimal", "wrong", "date"]))
    if kind == "int":
        i = draw(st.integers(-10**18, 10**18))
        return i, float(i)
    if kind == "bigint":
        i = draw(st.integers(10**309, 10**500)) * draw(st.sampled_from([1, -1]))
        return i, float("inf") if i > 0 else float("-inf")
    if kind == "npint":
        dtype = draw(st.sampled_from(INT_DTYPES))
        info = np.iinfo(dtype)
        i = draw(st.integers(int(info.min), int(info.max)))
        return dtype(i), float(i)
    if kind == "npfloat":
        dtype = draw(st.sampled_from([np.float16, np.float32, np.float64]))
        with np.errstate(over="ignore"):
            value = dtype(draw(finite))
        return value, float(value)  # float16 overflows to inf: #NUM! like the float
    if kind == "decimal":
        x = draw(finite)
        return Decimal(x), x
    if kind == "fraction":
        x = draw(finite)
        return Fraction(x), x
    if kind == "text":  # numeric text is text: #VALUE! like any other text
        x = draw(finite)
        return draw(st.sampled_from([repr(x), np.str_(repr(x)), f"{x:,}", f"{x:%}"])), WRONG
    if kind == "missing":
        return draw(st.sampled_from([None, float("nan"), np.float32("nan"), pd.NA, pd.NaT,
                                     np.datetime64("NaT"), Decimal("NaN"),
                                     Decimal("sNaN")])), None
    if kind == "special_decimal":
        sign = draw(st.sampled_from(["", "-"]))
        return Decimal(sign + "Infinity"), float(sign + "inf")
    if kind == "wrong":
        return draw(st.sampled_from([True, np.bool_(False), np.complex128(1 + 0j), 2j,
                                     np.timedelta64(3, "D"), dt.timedelta(days=1),
                                     object(), b"12"])), WRONG
    day = draw(days)  # a date where a number belongs counts as its serial, as in Excel
    form = draw(st.sampled_from(["timestamp", "datetime64", "date"]))
    if form == "timestamp" and not 1678 < day.year < 2262:
        form = "date"  # beyond what a nanosecond Timestamp holds
    exotic = {"timestamp": pd.Timestamp(day), "datetime64": np.datetime64(day, "us"),
              "date": day}[form]
    return exotic, serial(day)


@st.composite
def date_form(draw: st.DrawFn) -> tuple[Any, Any]:
    kind = draw(st.sampled_from(["date", "datetime", "timestamp", "datetime64", "iso",
                                 "number", "far"]))
    if kind == "number":
        return draw(number_form())
    if kind == "far":
        value, equivalent = draw(st.sampled_from([
            (np.datetime64("1800-01-01"), -36524.0), (np.datetime64("20000-01-01", "D"), 6.6e6),
            (np.datetime64("-5000-01-01", "Y"), -2.5e6), (dt.date(1, 1, 1), -693593.0),
            (pd.Timestamp("1677-09-22"), -81000.0)]))
        return value, equivalent
    day = draw(days)
    if kind == "date":
        return day, serial(day)
    moment = dt.datetime.combine(day, dt.time(draw(st.integers(0, 23)), draw(
        st.integers(0, 59))))
    if kind == "datetime":
        return moment, serial(moment)
    if kind == "timestamp" and 1678 < day.year < 2262:
        return pd.Timestamp(moment), serial(moment)
    if kind == "iso":  # a date typed as text is text: #VALUE! like any other text
        return draw(st.sampled_from([day.isoformat(), np.str_(day.isoformat())])), WRONG
    unit = draw(st.sampled_from(["D", "s", "ms", "us", "ns"]))
    if unit == "ns" and not 1678 < day.year < 2262:
        unit = "us"  # nanoseconds only reach 1677-2262
    value = np.datetime64(moment if unit != "D" else day, unit)
    return value, serial(moment if unit != "D" else day)


BASE = {"number": [0.0, -1.0, 1.0, 2.5, 100.0, None, 12.0, 7.8],
        "date": [44562.0, 45838.0, None, 61.0, 46000.0],
        "text": ["USD", "hkd", "RMB", "m", "bn", None]}


def wrap(value: Any, container: str) -> Any:
    if container == "scalar":
        return value
    cells = np.empty(2, dtype=object)
    cells[0], cells[1] = value, 2.0
    if container == "list":
        return [value, 2.0]
    if container == "array":
        return cells
    return pd.Series(cells, dtype=object)


def normalised(answer: Any) -> Any:
    return answer.tolist() if isinstance(answer, np.ndarray) else answer


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_metric_answers_any_type_like_its_plain_float(data: st.DataObject) -> None:
    entry = data.draw(st.sampled_from(METRICS), label="metric")
    slots = [i for i, p in enumerate(entry.params) if p.kind in ("number", "date")]
    position = data.draw(st.sampled_from(slots), label="argument")
    exotic, plain = data.draw(date_form() if entry.params[position].kind == "date"
                              else number_form(), label="form")
    container = data.draw(st.sampled_from(["scalar", "list", "array", "series"]))
    base = [data.draw(st.sampled_from(BASE[p.kind])) for p in entry.params]
    args_exotic, args_plain = list(base), list(base)
    args_exotic[position] = wrap(exotic, container)
    args_plain[position] = wrap(plain, container)
    expected = xf.explain(entry.func, *args_plain)
    assert normalised(xf.explain(entry.func, *args_exotic)) == expected
    if plain is WRONG:
        first = expected[0] if isinstance(expected, list) else expected
        assert first is None or first.code == VALUE


@pytest.mark.parametrize("dtype", [*INT_DTYPES, np.float16, np.float32, np.float64, bool,
                                   np.complex128, "U8", "timedelta64[D]"])
def test_typed_numpy_arrays(dtype: Any) -> None:
    arr = np.array([1, 2, 0], dtype=dtype)
    answer = xf.explain(xf.val_annualize, arr, 12)
    if np.dtype(dtype).kind in "iuf":
        assert answer == [1.0, 2.0, 0.0]
    elif np.dtype(dtype).kind == "U":  # text, even of digits, is not a number
        assert answer == [XlError(VALUE, "amount: expected a number")] * 3
    else:
        assert [a.code for a in answer] == [VALUE] * 3


@pytest.mark.parametrize("unit", ["D", "s", "ms", "us", "ns", "M", "Y"])
def test_datetime64_arrays_of_any_unit_are_dates(unit: str) -> None:
    starts = np.array(["2022-01-01", "NaT"], dtype=f"datetime64[{unit}]")
    end = np.datetime64("2025-06-30", unit)  # a month (M) or year (Y) unit ends on its 1st
    months = 42.0 if unit not in "MY" else {"M": 41.0, "Y": 36.0}[unit]
    assert xf.explain(xf.burn_months, starts, dt.date(2025, 6, 30)) == [42.0, None]
    assert xf.explain(xf.burn_months, starts, end) == [months, None]
    assert xf.explain(xf.burn_months, pd.Series(starts.astype("datetime64[ns]")),
                      dt.date(2025, 6, 30)) == [42.0, None]


@settings(max_examples=100, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_explain_answers_each_element_as_its_own_scalar_call(shape: list[int],
                                                             data: st.DataObject) -> None:
    size = int(np.prod(shape))
    revenue = data.draw(st.lists(st.sampled_from([0.0, -1.0, None, 2.0, "x"]),
                                 min_size=size, max_size=size))
    answer = xf.explain(xf.val_ps, 300, np.array(revenue, dtype=object).reshape(shape))
    flat = np.empty(size, dtype=object)
    for i, cell in enumerate(revenue):
        flat[i] = xf.explain(xf.val_ps, 300, cell)
    assert answer == flat.reshape(shape).tolist()
