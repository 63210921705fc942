"""The story functions: the implied driver, the simulation, and every Excel function
through xlwings' custom-function runtime (as Office.js calls them)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xlwings import XlwingsError

import xlfuncs as xf
from xlfuncs.errors import NUM
from xlfuncs.story import implied, simulate

from .helpers import call, error
from .story_reference import reference
from .test_story import STORY_A, STORY_B, worked_a, worked_b

LABELS_A = list(STORY_A)


def story_range(*stories: dict[str, float]) -> list[list[object]]:
    """Labels in the first column, a company per further column."""
    labels = list(dict.fromkeys(k for s in stories for k in s))
    return [[label, *(s.get(label) for s in stories)] for label in labels]


# --- the implied driver ------------------------------------------------------------------

@pytest.mark.parametrize("driver", ["growth_2_5", "target_margin", "sales_to_capital_1_5",
                                    "cost_of_capital", "failure_probability"])
def test_the_implied_driver_put_back_gives_the_target(driver: str) -> None:
    target = reference(STORY_A)["per_share"] * 1.1 if driver != "cost_of_capital" else (
        reference(STORY_A)["per_share"] * 0.9)
    if driver == "failure_probability":
        target = reference(STORY_A)["per_share"] * 0.95
    found = xf.story_implied(STORY_A, target, driver)
    assert not math.isnan(found)
    assert reference({**STORY_A, driver: found})["per_share"] == pytest.approx(target,
                                                                                rel=1e-9)


def test_implied_is_vectorised_over_companies_and_targets() -> None:
    stories = {k: [STORY_A.get(k), STORY_B.get(k)] for k in STORY_A}
    targets = [reference(STORY_A)["per_share"] * 2, reference(STORY_B)["per_share"] * 2]
    found = xf.story_implied(stories, targets, "growth_2_5")
    for story, target, value in zip((STORY_A, STORY_B), targets, found, strict=True):
        full = {**{k: v for k, v in story.items() if v is not None}, "growth_2_5": value}
        assert reference(full)["per_share"] == pytest.approx(target, rel=1e-9)


def test_implied_returns_the_smallest_root_of_a_non_monotonic_value() -> None:
    # Deep early losses and capital-hungry growth: value first falls with growth in
    # years 2-5 (losses and reinvestment grow) and then rises (the terminal value wins).
    story = {**STORY_B, "margin_next": -2.0, "target_margin": 0.35, "convergence_year": 5,
             "sales_to_capital_1_5": 0.3, "sales_to_capital_6_10": 2.25,
             "cost_of_capital": 0.14}
    grid = np.linspace(-0.5, 2, 2501)
    values = [reference({**story, "growth_2_5": g})["per_share"] for g in grid]
    low = int(np.argmin(values))
    assert 0 < low < 2500 and values[0] > values[low] < values[-1]  # not monotonic
    target = (values[low] + values[0]) / 2
    roots = [g for g, a, b in zip(grid, values, values[1:], strict=False)
             if (a - target) * (b - target) < 0]
    assert len(roots) == 2
    found = xf.story_implied(story, target, "growth_2_5", -0.5, 2)
    assert roots[0] <= found <= roots[0] + 0.001
    assert reference({**story, "growth_2_5": found})["per_share"] == pytest.approx(
        target, rel=1e-9)


def test_no_root_is_num_with_a_reason() -> None:
    answer = xf.explain(xf.story_implied, STORY_B, 1e12, "growth_2_5")
    assert answer.code == NUM and "no growth_2_5 in [-0.9, 5]" in answer.reason
    assert xf.explain(xf.story_implied, {**STORY_B, "revenue": "x"}, 100,
                      "growth_2_5").reason == "revenue: expected a number"
    with pytest.raises(xf.XlfuncsError, match="driver 'growht' is not a story input"):
        xf.story_implied(STORY_B, 100, "growht")
    with pytest.raises(xf.XlfuncsError, match="driver 'cash' has no default bracket"):
        xf.story_implied(STORY_B, 100, "cash")
    assert set(implied.BRACKETS) >= {"growth_2_5", "target_margin", "sales_to_capital_1_5",
                                     "cost_of_capital"}


# --- the simulation ------------------------------------------------------------------------

def test_degenerate_distributions_give_exactly_the_deterministic_value() -> None:
    exact = xf.story_value(**STORY_A)
    for spec in (("uniform", 0.3, 0.3), ("normal", 0.3, 0), ("lognormal", 0.3, 0),
                 ("triangular", 0.3, 0.3, 0.3)):
        stats = xf.story_simulate(STORY_A, {"growth_2_5": spec}, draws=500)
        assert (stats.iloc[:-1, 0] == exact).all(), spec  # mean and percentiles, exactly


def test_the_same_seed_gives_the_same_answer_and_another_seed_another() -> None:
    spec = {"growth_2_5": ("normal", 0.3, 0.05), "target_margin": ("uniform", 0.1, 0.3)}
    first = xf.story_simulate(STORY_A, spec, draws=2000, seed=7)
    assert first.equals(xf.story_simulate(STORY_A, spec, draws=2000, seed=7))
    assert not first.equals(xf.story_simulate(STORY_A, spec, draws=2000, seed=8))


def test_percentiles_of_a_linear_case_match_the_analytic_answer() -> None:
    # Value per share is linear in cash: with cash ~ U(0, 1000) and 100 shares the value is
    # base + cash/100, so its p-th percentile is base + 10 p / 100 and the mean base + 5.
    base = reference(STORY_B)["per_share"]
    stats = xf.story_simulate({**STORY_B, "shares": 100}, {"cash": ("uniform", 0, 1000)},
                              draws=100_000, price=base / 100 + 9)
    base /= 100
    assert stats.loc["mean", 0] == pytest.approx(base + 5, abs=0.05)
    for p in (5, 25, 50, 75, 95):
        assert stats.loc[f"p{p}", 0] == pytest.approx(base + p / 10, abs=0.05)
    assert stats.loc["P(value >= price)", 0] == pytest.approx(0.1, abs=0.005)


def test_lognormal_mean_and_sd_are_those_of_the_variable() -> None:
    draws = simulate.Distribution("cash", "lognormal", (50.0, 20.0)).draw(
        np.random.default_rng(1), 400_000)
    assert draws.mean() == pytest.approx(50, rel=0.005)
    assert draws.std() == pytest.approx(20, rel=0.01)


@pytest.mark.parametrize(("spec", "message"), [
    ({"growht": ("uniform", 0, 1)}, "'growht' is not a story input"),
    ({"cash": ("beta", 0, 1)}, "cash: 'beta' is not one of"),
    ({"cash": ("uniform", 1, 0)}, "cash: uniform low must not exceed high"),
    ({"cash": ("normal", 1, -1)}, "cash: normal sd must not be negative"),
    ({"cash": ("lognormal", 0, 1)}, "cash: lognormal mean must be greater than zero"),
    ({"cash": ("triangular", 0, 2, 1)}, "cash: triangular needs low <= mode <= high"),
    ({"cash": ("uniform", 0)}, "cash: uniform needs 2 numbers"),
])
def test_bad_distributions_are_refused_naming_the_driver(spec: dict[str, tuple[object, ...]],
                                                         message: str) -> None:
    with pytest.raises(xf.XlfuncsError, match=message.replace("(", r"\(")):
        xf.story_simulate(STORY_B, spec)


def test_draws_are_bounded() -> None:
    with pytest.raises(xf.XlfuncsError, match="draws must be a whole number from 1 to"):
        xf.story_simulate(STORY_B, {"cash": ("uniform", 0, 1)}, draws=1_000_001)


# --- the Excel functions through xlwings' runtime ------------------------------------------

def test_val_story_spills_one_answer_per_company_in_either_layout() -> None:
    columns = story_range(STORY_A, STORY_B)
    result = call("VAL_STORY", columns)
    assert len(result) == 1 and result[0] == [pytest.approx(worked_a(), rel=1e-12),
                                              pytest.approx(worked_b(), rel=1e-12)]
    rows = [list(r) for r in zip(*columns, strict=True)]
    shuffled = [rows[0][::-1], *(r[::-1] for r in rows[1:])]  # labels in any order
    result = call("VAL_STORY", shuffled, "going_concern")
    assert [r[0] for r in result] == [pytest.approx(reference(STORY_A)["going_concern"]),
                                      pytest.approx(reference(STORY_B)["going_concern"])]


def test_val_story_labels_are_case_insensitive_and_headers_are_skipped() -> None:
    story = [["", "Mini", "Zhi"], *story_range(STORY_B, {**STORY_B, "revenue": 0})]
    story[1][0] = "Revenue"
    story[3][0] = "Growth 2-5"
    assert call("VAL_STORY", story) == [[pytest.approx(worked_b()), error("Num")]]


@pytest.mark.parametrize(("story", "message"), [
    ([["price", 1]], "no story labels in the first column or the first row"),
    (story_range(STORY_B)[1:], "'revenue' is missing"),
    ([*story_range(STORY_B), ["revenue", 2]], "'revenue' is given twice"),
    ([*story_range(STORY_B), ["moat", 2]], "row 11 has 'moat' where a label belongs"),
])
def test_val_story_refuses_a_bad_story_range_in_one_line(story: list[list[object]],
                                                         message: str) -> None:
    with pytest.raises(XlwingsError, match=message):
        call("VAL_STORY", story)


def test_val_story_single_company_errors_say_why() -> None:
    with pytest.raises(XlwingsError, match="growth_2_5: expected a number"):
        call("VAL_STORY", story_range({**STORY_B, "growth_2_5": "fast"}))
    assert call("VAL_STORY", story_range({**STORY_B, "shares": -1})) == [[error("Num")]]
    with pytest.raises(XlwingsError, match="output 'price' is not one of"):
        call("VAL_STORY", story_range(STORY_B), "price")


def test_val_story_table_spills_the_year_by_year_model() -> None:
    result = call("VAL_STORY_TABLE", story_range(STORY_B))
    assert result[0] == ["", "base year", *range(1, 11), "terminal"]
    lines = {row[0]: row[1:] for row in result[1:]}
    assert lines["revenue"][:2] == [50.0, pytest.approx(55.0)]
    assert lines["EBIT"][1] == pytest.approx(8.25) and lines["taxes"][1] == pytest.approx(
        2.0625)
    assert lines["PV of FCFF"][1] == pytest.approx(3.6875 / 1.08)
    assert sum(v for v in lines["PV of FCFF"] if v != "") == pytest.approx(worked_b())
    with pytest.raises(XlwingsError, match="takes one story"):
        call("VAL_STORY_TABLE", story_range(STORY_A, STORY_B))


def test_val_story_implied_and_simulate_through_the_runtime() -> None:
    story = story_range(STORY_A, STORY_B)
    targets = [[reference(STORY_A)["per_share"] * 1.5, reference(STORY_B)["per_share"] * 1.5]]
    found = call("VAL_STORY_IMPLIED", story, targets, "growth_2_5")[0]
    assert reference({**STORY_A, "growth_2_5": found[0]})["per_share"] == pytest.approx(
        targets[0][0], rel=1e-9)
    assert call("VAL_STORY_IMPLIED", story, 1e15, "growth_2_5") == [[error("Num")] * 2]
    stats = call("VAL_STORY_SIMULATE", story, [["growth_2_5", "normal", 0.3, 0]], 100, None,
                 worked_a())
    assert [row[0] for row in stats] == ["mean", "p5", "p25", "p50", "p75", "p95",
                                         "P(value >= price)", "draws valued"]
    assert stats[0][1] == xf.story_value(**STORY_A) and stats[6][1] in (0.0, 1.0)
    with pytest.raises(XlwingsError, match="draws must be a whole number"):
        call("VAL_STORY_SIMULATE", story, [["cash", "uniform", 0, 1]], 2_000_000)


HOSTILE = st.one_of(st.none(), st.just(""), st.booleans(), st.floats(allow_nan=True),
                    st.text(max_size=4), st.sampled_from([*LABELS_A, "Revenue", "company"]))


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(st.lists(HOSTILE, min_size=2, max_size=4), min_size=1, max_size=6)
       .filter(lambda rows: len({len(r) for r in rows}) == 1),
       extra=st.lists(st.sampled_from(LABELS_A), max_size=3))
def test_no_story_function_crashes_on_hostile_ranges(cells: list[list[object]],
                                                     extra: list[str]) -> None:
    story = story_range(STORY_B)
    width = len(cells[0])
    story = [row + [row[1]] * (width - 2) for row in story] + cells  # a story plus noise
    for name, args in (("VAL_STORY", (story,)), ("VAL_STORY_TABLE", (story,)),
                       ("VAL_STORY_IMPLIED", (story, 100, "growth_2_5")),
                       ("VAL_STORY_SIMULATE", (story, [["cash", "uniform", 0, 1]], 50))):
        try:
            result = call(name, *args)
        except XlwingsError as exc:
            assert str(exc) and "Traceback" not in str(exc)
            continue
        assert isinstance(result, list) and all(isinstance(r, list) for r in result)
