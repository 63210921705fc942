"""The story DCF (issue 10): values worked by hand, an independent implementation, the
edges, the implied driver and the simulation. Expected values never come from the code
under test."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xlfuncs as xf
from xlfuncs.errors import NUM, VALUE, XlError
from xlfuncs.registry import STORY_STEPS

from .story_reference import reference

# Story A: losses carried forward and a chance of failure.
STORY_A = dict(revenue=100.0, growth_next=0.5, growth_2_5=0.3, margin_next=-0.2,
               target_margin=0.2, convergence_year=5, sales_to_capital_1_5=1.5,
               sales_to_capital_6_10=2.5, riskfree=0.04, cost_of_capital=0.12,
               mature_cost_of_capital=0.085, stable_growth=0.04, stable_roc=0.15,
               effective_tax=0.15, marginal_tax=0.25, nol=50.0, failure_probability=0.2,
               distress_fraction=0.5, cash=30.0, debt=20.0, minority=5.0, non_operating=10.0,
               options=15.0, shares=10.0)


def worked_a() -> float:
    # growth: 50% in year 1, 30% in years 2-5, then 30% - 26% x (t-5)/5 down to 4%
    growth = [0.5, 0.3, 0.3, 0.3, 0.3, 0.248, 0.196, 0.144, 0.092, 0.04]
    # margin: -20% in year 1, +10 points a year to the 20% target in year 5 (c = 5)
    margin = [-0.2, -0.1, 0.0, 0.1, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2]
    # tax: 15% in years 1-5, then +2 points a year to 25% in year 10
    tax = [0.15] * 5 + [0.17, 0.19, 0.21, 0.23, 0.25]
    # cost of capital: 12% in years 1-5, then -0.7 points a year to 8.5% in year 10
    cost = [0.12] * 5 + [0.113, 0.106, 0.099, 0.092, 0.085]
    s2c = [1.5] * 5 + [2.5] * 5
    revenue, nol, factor, pv = 100.0, 50.0, 1.0, 0.0
    ebits, nols, taxes_paid = [], [], []
    for t in range(10):
        before, revenue = revenue, revenue * (1 + growth[t])
        ebit = revenue * margin[t]
        taxes = max(ebit - nol, 0) * tax[t]
        nol = max(nol - ebit, 0)
        factor /= 1 + cost[t]
        pv += (ebit - taxes - (revenue - before) / s2c[t]) * factor
        ebits.append(ebit), nols.append(nol), taxes_paid.append(taxes)
    # year 1: revenue 150, EBIT -30, NOL 50 + 30 = 80; year 2: 195, EBIT -19.5, NOL 99.5;
    # year 3: 253.5, EBIT 0; year 4: 329.55, EBIT 32.955, NOL 66.545, no tax;
    # year 5: 428.415, EBIT 85.683, taxed on 85.683 - 66.545 = 19.138 at 15% = 2.8707
    assert [round(e, 3) for e in ebits[:5]] == [-30.0, -19.5, 0.0, 32.955, 85.683]
    assert [round(n, 3) for n in nols[:5]] == [80.0, 99.5, 99.5, 66.545, 0.0]
    assert taxes_paid[:4] == [0, 0, 0, 0] and round(taxes_paid[4], 4) == 2.8707
    # terminal: year 11 income = revenue_10 x 1.04 x 20% x 75%, reinvests 4%/15% of it,
    # the rest over 8.5% - 4%, discounted with year 10's factor
    income = revenue * 1.04 * 0.2 * 0.75
    terminal = (income - 0.04 / 0.15 * income) / (0.085 - 0.04)
    going = pv + terminal * factor
    operating = going * 0.8 + 0.2 * 0.5 * going  # 20% failure, 50% of value recovered
    equity = operating - 20 - 5 + 30 + 10
    return (equity - 15) / 10


# Story B: the margin at its target from year 1 (convergence_year 1), every default taken.
STORY_B = dict(revenue=50.0, growth_next=0.1, growth_2_5=0.1, margin_next=0.05,
               target_margin=0.15, convergence_year=1, sales_to_capital_1_5=2.0,
               sales_to_capital_6_10=2.0, riskfree=0.03, cost_of_capital=0.08)


def worked_b() -> float:
    # defaults: mature cost 3% + 4.5% = 7.5%, stable growth 3%, stable ROC 7.5%, tax 25%
    growth = [0.1] * 5 + [0.086, 0.072, 0.058, 0.044, 0.03]  # 10% - 7% x (t-5)/5
    cost = [0.08] * 5 + [0.079, 0.078, 0.077, 0.076, 0.075]  # 8% - 0.5% x (t-5)/5
    revenue, factor, pv = 50.0, 1.0, 0.0
    for t in range(10):
        before, revenue = revenue, revenue * (1 + growth[t])
        ebit = revenue * 0.15  # margin_next is ignored: the target from year 1
        factor /= 1 + cost[t]
        pv += (ebit * 0.75 - (revenue - before) / 2.0) * factor
    # year 1: revenue 55, EBIT 8.25, taxes 2.0625, reinvestment 2.5, FCFF 3.6875, /1.08
    income = revenue * 1.03 * 0.15 * 0.75
    terminal = (income - 0.03 / 0.075 * income) / (0.075 - 0.03)
    return pv + terminal * factor  # no failure, cash, debt or options; one share


def test_story_a_worked_by_hand_nol_and_failure() -> None:
    assert xf.story_value(**STORY_A) == pytest.approx(worked_a(), rel=1e-12)
    year_1 = 3.6875 / 1.08  # story B's first discounted cash flow, by hand
    table = xf.story_table(STORY_B)
    assert table.loc["PV of FCFF", 1] == pytest.approx(year_1, rel=1e-12)


def test_story_b_worked_by_hand_convergence_year_1_and_defaults() -> None:
    assert xf.story_value(**STORY_B) == pytest.approx(worked_b(), rel=1e-12)
    assert xf.story_value(**STORY_B, output="equity") == pytest.approx(worked_b(), rel=1e-12)


def test_the_independent_implementation_agrees_on_the_worked_stories() -> None:
    assert reference(STORY_A)["per_share"] == pytest.approx(worked_a(), rel=1e-12)
    assert reference(STORY_B)["per_share"] == pytest.approx(worked_b(), rel=1e-12)


rate = st.floats(-0.5, 1.5)
STORIES = st.fixed_dictionaries(
    {"revenue": st.floats(0.01, 1e4), "growth_next": rate, "growth_2_5": rate,
     "margin_next": st.floats(-3, 0.6), "target_margin": st.floats(-0.5, 0.6),
     "convergence_year": st.one_of(st.integers(1, 10), st.floats(1, 10)),
     "sales_to_capital_1_5": st.floats(0.1, 10), "sales_to_capital_6_10": st.floats(0.1, 10),
     "riskfree": st.floats(0.0, 0.08), "cost_of_capital": st.floats(0.05, 0.4)},
    optional={"mature_cost_of_capital": st.floats(0.1, 0.2),
              "stable_growth": st.floats(-0.02, 0.05), "stable_roc": st.floats(0.02, 0.5),
              "effective_tax": st.floats(0, 1), "marginal_tax": st.floats(0, 1),
              "nol": st.floats(0, 1e4), "failure_probability": st.floats(0, 1),
              "distress_fraction": st.floats(0, 1), "cash": st.floats(-100, 1e4),
              "debt": st.floats(0, 1e4), "minority": st.floats(0, 100),
              "non_operating": st.floats(0, 100), "options": st.floats(0, 100),
              "shares": st.floats(0.1, 1e3)})


@settings(max_examples=300, deadline=None)
@given(stories=st.lists(STORIES, min_size=1, max_size=6), output=st.sampled_from(
    ["per_share", "equity", "operating", "going_concern", "pv_terminal"]))
def test_a_table_of_stories_agrees_with_the_independent_implementation(
        stories: list[dict[str, float]], output: str) -> None:
    labels = sorted({k for s in stories for k in s})
    columns = {k: [s.get(k) for s in stories] for k in labels}  # None: the default
    ours = xf.story_value(**columns, output=output)
    for value, story in zip(ours, stories, strict=True):
        expected = reference(story)[output]
        if math.isnan(expected):
            assert math.isnan(value)
            continue
        assert value == pytest.approx(expected, rel=1e-9, abs=1e-9 * (1 + abs(
            reference(story)["going_concern"])))


def explain(**changes: object) -> object:
    return xf.explain(xf.story_value, **{**STORY_A, **changes})


@pytest.mark.parametrize(("changes", "code", "reason"), [
    ({"growth_2_5": "fast"}, VALUE, "growth_2_5: expected a number"),
    ({"shares": "many"}, VALUE, "shares: expected a number"),
    ({"sales_to_capital_1_5": 0}, NUM, "sales_to_capital must be greater than zero"),
    ({"sales_to_capital_6_10": -1}, NUM, "sales_to_capital must be greater than zero"),
    ({"convergence_year": 0}, NUM, "convergence_year must be between 1 and 10"),
    ({"convergence_year": 11}, NUM, "convergence_year must be between 1 and 10"),
    ({"failure_probability": 1.2}, NUM, "failure_probability must be between 0 and 1"),
    ({"distress_fraction": -0.1}, NUM, "distress_fraction must be between 0 and 1"),
    ({"shares": 0}, NUM, "shares must be greater than zero"),
    ({"revenue": 0}, NUM, "revenue must be greater than zero"),
    ({"revenue": -5}, NUM, "revenue must be greater than zero"),
    ({"mature_cost_of_capital": 0.04}, NUM,
     "mature_cost_of_capital must be greater than stable_growth"),
    ({"stable_roc": 0}, NUM, "stable_roc must be greater than zero"),
    ({"marginal_tax": 1.5}, NUM, "marginal_tax must be between 0 and 1"),
    ({"nol": -1}, NUM, "nol must not be negative"),
    ({"growth_next": -1}, NUM, "revenue growth must be above -100%"),
    ({"cost_of_capital": -1}, NUM, "cost_of_capital must be above -100%"),
])
def test_every_edge_has_one_documented_answer(changes: dict[str, object], code: str,
                                              reason: str) -> None:
    assert explain(**changes) == XlError(code, reason)
    assert math.isnan(xf.story_value(**{**STORY_A, **changes}))


def test_a_blank_required_input_gives_a_blank_and_a_blank_optional_its_default() -> None:
    assert explain(growth_2_5=None) is None
    assert xf.story_value(**{**STORY_B, "shares": None, "nol": ""}) == pytest.approx(
        worked_b(), rel=1e-12)
    with pytest.raises(xf.XlfuncsError, match="unknown story input 'growht'"):
        xf.story_value(**STORY_B, growht=0.1)
    with pytest.raises(xf.XlfuncsError, match="output 'value' is not one of"):
        xf.story_value(**STORY_B, output="value")


def test_one_bad_company_spoils_only_itself() -> None:
    values = xf.story_value(**{**STORY_B, "revenue": [50, 0, 50], "shares": [1, 1, -1]})
    assert values[0] == pytest.approx(worked_b()) and np.isnan(values[1:]).all()


GUARD_CASES = {  # a violating argument list per step guard, in the guards' order
    "STORY_GROWTH": [(0, 0.1, 0.1, 0.1)],
    "STORY_REVENUE": [(0, 0.1), (1, -1)],
    "STORY_MARGIN": [(11, 0.1, 0.2, 5), (3, 0.1, 0.2, 0.5)],
    "STORY_TAX_RATE": [(0.5, 0.2, 0.2), (3, 1.1, 0.2), (3, 0.2, -0.1)],
    "STORY_TAXES": [(10, -1, 0.2)],
    "STORY_NOL": [(10, -1)],
    "STORY_SALES_TO_CAPITAL": [(10.5, 1, 2)],
    "STORY_REINVESTMENT": [(110, 100, 0)],
    "STORY_COST_OF_CAPITAL": [(12, 0.1, 0.1), (3, -1, 0.1)],
    "STORY_DISCOUNT_FACTOR": [(1, -1)],
    "STORY_TERMINAL_VALUE": [(100, 0.02, 0.2, 0.25, 0, 0.08), (100, 0.02, 0.2, 2, 0.1, 0.08),
                             (100, 0.08, 0.2, 0.25, 0.1, 0.08)],
    "STORY_OPERATING_VALUE": [(100, -0.1, 0.5), (100, 0.1, 1.5)],
    "STORY_PER_SHARE": [(100, 0, 0)],
    "STORY_UPSIDE": [(-30, 0)],
}


def test_every_guard_of_every_step_answers_with_its_error() -> None:
    for entry in STORY_STEPS:
        guards = entry.func.guards
        cases = GUARD_CASES.get(entry.name, [])
        assert len(cases) == len(guards), entry.name
        for args, guard in zip(cases, guards, strict=True):
            assert xf.explain(entry.func, *args) == XlError(guard.code, guard.reason)
        assert xf.explain(entry.func, *([None] * len(entry.params))) is None
        assert xf.explain(entry.func, *(["x"] + [1] * (len(entry.params) - 1))).code == VALUE
