"""The story functions in bounded slices (xlfuncs/story/chunks.py): every company gets
the cells one pass over the whole table gives, bit for bit (the unsliced engine is the
reference), errors and their reasons included; and no pass of the model holds more than
VALUATIONS_AT_ONCE valuations, whatever the shape of the call."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlfuncs.errors import XlError, XlfuncsError
from xlfuncs.story import chunks, excel, implied, model, simulate, table

from .story_reference import reference
from .test_story import STORY_A

LABELS = ("revenue", "growth_next", "growth_2_5", "margin_next", "target_margin",
          "convergence_year", "sales_to_capital_1_5", "sales_to_capital_6_10", "riskfree",
          "cost_of_capital")
DISTRIBUTIONS = [["growth_2_5", "normal", 0.2, 0.1, None], ["target_margin", "triangular", 0.05,
                                                       0.2, 0.3]]


def stories(count: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Random stories as table.parse gives them (one raw cell a company), some broken:
    a text revenue, a blank growth, a negative revenue, a cost of capital below growth."""
    rng = np.random.default_rng(seed)
    given: dict[str, np.ndarray] = {
        "revenue": rng.uniform(1, 100, count), "growth_next": rng.uniform(0, 1, count),
        "growth_2_5": rng.uniform(0, 0.5, count), "margin_next": rng.uniform(-1, 0.1, count),
        "target_margin": rng.uniform(0.1, 0.3, count),
        "convergence_year": rng.integers(1, 11, count).astype(float),
        "sales_to_capital_1_5": rng.uniform(1, 3, count),
        "sales_to_capital_6_10": rng.uniform(1, 3, count),
        "riskfree": rng.uniform(0.02, 0.05, count), "cost_of_capital": rng.uniform(0.08, 0.14,
                                                                                   count)}
    cells = {label: values.astype(object) for label, values in given.items()}
    for index, (label, bad) in enumerate((("revenue", "n/a"), ("growth_2_5", None),
                                          ("revenue", -5.0), ("cost_of_capital", 0.001))):
        if index * 3 < count:
            cells[label][index * 3] = bad
    return cells


def same_cells(ours: list[Any], reference: list[Any]) -> None:
    """Bit for bit: floats by their hex, errors by code and reason, blanks as None."""
    def key(cell: Any) -> Any:
        return cell.hex() if isinstance(cell, float) else cell

    assert [key(c) for c in ours] == [key(c) for c in reference]


def test_slices_cover_every_index_once_in_order() -> None:
    assert [(s.start, s.stop) for s in chunks.slices(7, 3)] == [(0, 3), (3, 6), (6, 9)]
    assert [(s.start, s.stop) for s in chunks.slices(6, 3)] == [(0, 3), (3, 6)]
    assert [(s.start, s.stop) for s in chunks.slices(1, 3)] == [(0, 3)]
    assert [(s.start, s.stop) for s in chunks.slices(2, 0)] == [(0, 1), (1, 2)]
    assert list(chunks.slices(0, 3)) == []


@pytest.mark.parametrize("at_once", [1, 4, 50])
def test_value_in_slices_is_one_pass_bit_for_bit(monkeypatch: pytest.MonkeyPatch,
                                                 at_once: int) -> None:
    given = stories(23)
    reference = model.value(given).outcome("equity").cells()
    monkeypatch.setattr(chunks, "VALUATIONS_AT_ONCE", at_once)
    ours = chunks.value_cells(given, "equity")
    same_cells(ours, reference)
    assert isinstance(ours[0], XlError) and isinstance(ours[6], XlError)  # broken ones
    assert ours[3] is None  # a blank required input: a blank, sliced or not


@pytest.mark.parametrize("at_once", [1, 4, 50])
@pytest.mark.parametrize("per_company_target", [False, True])
def test_implied_in_slices_is_one_pass_bit_for_bit(monkeypatch: pytest.MonkeyPatch,
                                                   at_once: int,
                                                   per_company_target: bool) -> None:
    given = stories(19, seed=3)
    target: Any = 30.0
    if per_company_target:
        target = np.array([5.0 + 3 * k for k in range(19)], dtype=object)
        target[4], target[5] = "x", 1e12  # not a number; no root in the bracket
    reference = implied.implied(given, target, "growth_2_5").cells()
    monkeypatch.setattr(chunks, "SOLVER_COMPANIES", at_once)
    ours = chunks.implied_cells(given, target, "growth_2_5")
    same_cells(ours, reference)
    assert sum(isinstance(c, float) for c in ours) >= 5  # roots found, not only errors
    assert sum(isinstance(c, XlError) for c in ours) >= 2 + 2 * per_company_target


@pytest.mark.parametrize("at_once", [1, 2_500, 10**9])
def test_a_simulation_in_slices_is_one_pass_bit_for_bit(monkeypatch: pytest.MonkeyPatch,
                                                        at_once: int) -> None:
    given = stories(7, seed=5)
    reference = simulate.simulate(given, DISTRIBUTIONS, 1_000, 11, 40.0)
    monkeypatch.setattr(chunks, "SIMULATED_AT_ONCE", at_once)  # 1 to 7 companies a slice
    held: list[int] = []
    whole = simulate.simulate

    def recorded(story: dict[str, Any], *args: Any) -> Any:
        held.append(chunks.companies(story) * 1_000)
        return whole(story, *args)

    monkeypatch.setattr(simulate, "simulate", recorded)
    names, columns = chunks.simulated_columns(given, DISTRIBUTIONS, 1_000, 11, 40.0)
    assert sum(held) == 7_000 and max(held) == min(max(at_once // 1_000, 1), 7) * 1_000
    assert names == reference[0]
    for ours, theirs in zip(columns, reference[1], strict=True):
        same_cells(ours, theirs)
    assert isinstance(columns[0][0], XlError) and isinstance(columns[1][0], float)


@pytest.mark.parametrize("chunk", [997, 50_000, 200_000])
def test_the_simulations_draws_in_slices_give_the_same_statistics(
        monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """simulate.CHUNK went from 200,000 to 50,000 valuations a pass: answers unchanged."""
    given = stories(3, seed=9)
    monkeypatch.setattr(simulate, "CHUNK", 200_000)
    reference = simulate.simulated_values(given, DISTRIBUTIONS, 5_000, 4)
    monkeypatch.setattr(simulate, "CHUNK", chunk)
    values, first = simulate.simulated_values(given, DISTRIBUTIONS, 5_000, 4)
    assert values.tobytes() == reference[0].tobytes()
    assert first == reference[1]


def test_refusals_are_the_engines_own() -> None:
    given = stories(4)
    with pytest.raises(XlfuncsError, match="draws must be a whole number"):
        chunks.simulated_columns(given, DISTRIBUTIONS, 0)
    with pytest.raises(XlfuncsError, match="price must be a single number"):
        chunks.simulated_columns(given, DISTRIBUTIONS, 0, None, "abc")  # price checked first
    with pytest.raises(XlfuncsError, match="not a story input"):
        chunks.implied_cells(given, 30.0, "moat")


def passes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The valuations each pass of the model holds, recorded."""
    sizes: list[int] = []
    value = model.value

    def recorded(given: Any) -> model.Model:
        valued = value(given)
        sizes.append(int(valued.per_share.values.size))
        return valued

    monkeypatch.setattr(model, "value", recorded)
    return sizes


def story_grid(count: int) -> list[list[Any]]:
    """A story range as Excel sends it: labels in the first row, a company a row."""
    given = stories(count, seed=1)
    return [list(LABELS), *([given[label][k] for label in LABELS] for k in range(count))]


@pytest.mark.parametrize("call", ["story", "implied", "simulate"])
def test_no_pass_of_the_model_holds_more_than_the_bound(monkeypatch: pytest.MonkeyPatch,
                                                        call: str) -> None:
    """Shapes past the bound in every direction: 60,000 companies; 6,000 solves of 17
    grid points; 2 companies x 60,000 draws."""
    sizes = passes(monkeypatch)
    if call == "story":
        answers = excel.val_story(story_grid(60_000))
    elif call == "implied":
        answers = excel.val_story_implied(story_grid(6_000), 30, "growth_2_5")
    else:
        answers = excel.val_story_simulate(story_grid(2), DISTRIBUTIONS, 60_000)
    assert len(answers) == {"story": 60_000, "implied": 6_000, "simulate": 3}[call]
    assert sum(sizes) >= 60_000 and max(sizes) <= 50_000 == chunks.VALUATIONS_AT_ONCE


NAMES = st.one_of(st.none(), st.floats(-10, 10), st.sampled_from(
    ["Zhipu", "revenue", "Growth 2-5", "company", "", "riskfree"]))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(1, 5), st.booleans(), st.booleans(), st.data())
def test_companies_in_a_range_agree_with_the_parser(companies: int, transposed: bool,
                                                    header: bool, data: st.DataObject) -> None:
    """The count the server sizes a call with, from the label lines alone, is the one
    table.parse finds: labels down a column (or along a row), a header line of company
    names (which may read like labels) or none."""
    labels = data.draw(st.permutations(list(LABELS)))
    grid: list[list[Any]] = [[label, *(data.draw(st.floats(-1, 1)) for _ in range(companies))]
                             for label in labels]
    if header:
        grid.insert(0, ["company", *(data.draw(NAMES) for _ in range(companies))])
    if transposed:
        grid = [list(line) for line in zip(*grid, strict=True)]
    value = grid[0] if len(grid) == 1 else grid
    assert table.companies_in(value) == table.parse(value).companies


def test_a_range_without_labels_holds_no_companies() -> None:
    for value in ([[1.0, 2.0], [3.0, 4.0]], [["moat", 1.0]], 5.0, "revenue "):
        with pytest.raises(XlfuncsError, match=r"no story labels|labels but no values"):
            table.parse(value)
    assert [table.companies_in(v) for v in ([[1.0, 2.0]], [["moat", 1.0]], 5.0)] == [0, 0, 0]
    assert table.companies_in("revenue") == 0  # labels but no values: refused by parse


def test_a_simulation_that_draws_every_input_answers_every_company() -> None:
    """Every input drawn, without spread: the companies' own cells are all replaced, so
    each gets the drawn story's value (the independent implementation's) in every
    statistic. The engine answered one company and then failed (an IndexError: a 500)."""
    drawn = STORY_A  # every input given
    assert set(drawn) == set(model.LABELS)
    distributions = [[label, "uniform", value, value] for label, value in drawn.items()]
    answers = excel.val_story_simulate(story_grid(3), distributions, 50)
    expected = reference(drawn)["per_share"]
    names, *companies_stats = answers
    assert names[-1] == "draws valued" and len(companies_stats) == 3
    for stats in companies_stats:
        assert stats[:-1] == pytest.approx([expected] * (len(names) - 1), rel=1e-12)
        assert stats[-1] == 50.0
