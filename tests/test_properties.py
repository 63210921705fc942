"""Property tests: random and hostile input to every Excel function never crashes it."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from xlwings import XlwingsError

import xlfuncs as xf
from xlfuncs.registry import CATALOG

from .helpers import call

# What a cell can hold, as Office.js sends it, plus what Python callers pass.
cell = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-10**20, max_value=10**20),
    st.none(),
    st.just(""),
    st.text(max_size=12),
    st.sampled_from(["USD", "hkd", "RMB", "Zhipu", "MiniMax", "revenue", "low", "mid",
                     "2025-06-30", "30%", "=1+1", "#N/A", "1e999", " 12 "]),
    st.booleans(),
    st.just({"type": "Error", "errorType": "Div0", "basicValue": "#DIV/0!"}),
)


@st.composite
def ranges(draw: st.DrawFn, rows: int, cols: int) -> list[list[object]]:
    return [[draw(cell) for _ in range(cols)] for _ in range(rows)]


@st.composite
def arguments(draw: st.DrawFn, arity: int) -> tuple[tuple[int, int], list[object]]:
    rows, cols = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    args = []
    for _ in range(arity):
        # each argument a single cell or a range of the shared shape (broadcastable)
        shape = draw(st.sampled_from([(1, 1), (rows, cols), (rows, 1), (1, cols)]))
        args.append(draw(ranges(*shape)))
    return (rows, cols), args


ELEMENTWISE = [e for e in CATALOG if e.returns in ("number", "date", "text")
               and e.name != "VAL_DCF"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_no_function_crashes_on_hostile_ranges(data: st.DataObject) -> None:
    for entry in ELEMENTWISE:
        _, args = data.draw(arguments(len(entry.params)), label=entry.name)
        try:
            result = call(entry.name, *args)
        except XlwingsError as exc:
            assert str(exc)  # a message, never a traceback
            continue
        shapes = [np.shape(a) for a in args]
        expected = np.broadcast_shapes(*shapes)
        if expected == (1, 1):
            assert len(result) == 1 and len(result[0]) == 1
        else:
            assert (len(result), len(result[0])) == expected, entry.name


@settings(max_examples=80, deadline=None)
@given(flows=st.lists(cell, max_size=6), rate=cell, growth=cell)
def test_dcf_never_crashes(flows: list[object], rate: object, growth: object) -> None:
    try:
        result = call("VAL_DCF", [flows] if flows else [[None]], rate, growth)
    except XlwingsError as exc:
        assert str(exc)
        return
    assert len(result) == 1 and len(result[0]) == 1


@settings(max_examples=50, deadline=None)
@given(company=cell, metric=cell)
def test_table_functions_answer_or_explain(company: object, metric: object) -> None:
    for name, args in (("DATA_TABLE", (company,)), ("DATA_COMPANIES", ()),
                       ("DATA_SOURCE", (company, metric))):
        try:
            call(name, *args)
        except XlwingsError as exc:
            assert str(exc)


positive = st.floats(min_value=1e-3, max_value=1e6)


@given(mc=positive, revenue=positive, target=st.floats(1, 100), years=st.floats(0.5, 30),
       rate=st.floats(0, 0.3))
def test_growing_into_the_implied_cagr_lands_on_the_target_multiple(
        mc: float, revenue: float, target: float, years: float, rate: float) -> None:
    cagr = xf.val_implied_cagr(mc, revenue, target, years, rate)
    assume(1 + cagr > 1e-3)  # below that, 1 + cagr itself has lost the digits we compare
    future_revenue = revenue * (1 + cagr) ** years
    future_value = mc * (1 + rate) ** years
    assert math.isclose(future_value / future_revenue, target, rel_tol=1e-9)


@given(mc=positive, revenue=positive, target=st.floats(1, 100), growth=st.floats(0.01, 3),
       rate=st.floats(0, 0.3))
def test_years_to_justify_inverts_the_implied_cagr(
        mc: float, revenue: float, target: float, growth: float, rate: float) -> None:
    assume(growth > rate + 1e-3)
    years = xf.val_years_to_justify(mc, revenue, target, growth, rate)
    if years > 0:
        assert math.isclose(xf.val_implied_cagr(mc, revenue, target, years, rate), growth,
                            rel_tol=1e-9, abs_tol=1e-12)
    else:
        assert mc <= target * revenue


@given(start=positive, end=positive)
def test_return_and_price_from_return_are_inverses(start: float, end: float) -> None:
    # end/start - 1 near -1 cancels digits: the error scales with start / end
    assert math.isclose(xf.val_price_from_return(start, xf.val_return(start, end)), end,
                        rel_tol=1e-13 * max(1.0, start / end))


@given(amount=st.floats(-1e12, 1e12),
       pair=st.tuples(st.sampled_from(["USD", "HKD", "CNY"]), st.sampled_from(["USD", "HKD",
                                                                                  "CNY"])))
def test_converting_there_and_back_returns_the_amount(amount: float,
                                                      pair: tuple[str, str]) -> None:
    there = xf.fx_convert(amount, pair[0], pair[1])
    assert math.isclose(xf.fx_convert(there, pair[1], pair[0]), amount, rel_tol=1e-12,
                        abs_tol=1e-9)


@given(flows=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=10),
       rate=st.floats(-0.5, 1.0))
def test_dcf_is_numpy_financial_npv_shifted_one_period(flows: list[float], rate: float
                                                       ) -> None:
    expected = sum(f / (1 + rate) ** (i + 1) for i, f in enumerate(flows))
    assert math.isclose(xf.val_dcf(flows, rate), expected, rel_tol=1e-9, abs_tol=1e-6)


@given(start=st.integers(44000, 47000), length=st.integers(0, 2000))
def test_months_grow_with_the_period_and_never_exceed_its_length(start: int, length: int
                                                                  ) -> None:
    months = xf.burn_months(start, start + length)
    assert 0 <= months <= (length + 1) / 28
    assert xf.burn_months(start, start + length + 31) >= months + 1
