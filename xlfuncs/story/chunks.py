"""The story functions over a table of companies in bounded slices: the same cells, bit
for bit, and a bounded peak of memory whatever the shape of the call.

The model is element-wise (a company's value depends on its own inputs alone), and the
solver and the simulation treat each company on its own, so valuing the companies a
slice at a time gives every company the answer of one pass over all of them. Only the
memory differs: the model holds ~2-4 KB a valuation while it runs, so 100,000 implied
solves at once (17 grid points each) held 3.5 GB; a slice holds tens of MB.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from ..errors import XlfuncsError
from . import implied, model, simulate

# Valuations held at once by one pass of the model: ~100-200 MB.
VALUATIONS_AT_ONCE = 50_000
# Companies a solve takes at once: the solver values a grid of 17 points a company at
# once (42,500 valuations), then a few points a company at a time.
SOLVER_COMPANIES = 2_500
# Values per share a simulation holds at once (companies x draws of a slice): 16 MB.
SIMULATED_AT_ONCE = 2_000_000


def slices(count: int, size: int) -> Iterator[slice]:
    """[0, count) in consecutive slices of at most ``size`` (at least 1)."""
    size = max(1, size)
    yield from (slice(start, start + size) for start in range(0, count, size))


def companies(given: Mapping[str, Any]) -> int:
    """The companies of a parsed story (every label holds one cell a company)."""
    return max(np.size(cells) for cells in given.values())


def take(value: Any, part: slice, count: int) -> Any:
    """The slice of a per-company value; a value for every company stays as it is."""
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.size == count:
        return value[part]
    return value


def _story_slice(given: Mapping[str, Any], part: slice, count: int) -> dict[str, Any]:
    return {label: take(cells, part, count) for label, cells in given.items()}


def value_cells(given: Mapping[str, Any], output: str) -> list[Any]:
    """:func:`model.value` ``(given).outcome(output).cells()`` a slice at a time."""
    count = companies(given)
    cells: list[Any] = []
    for part in slices(count, VALUATIONS_AT_ONCE):
        cells += model.value(_story_slice(given, part, count)).outcome(output).cells()
    return cells


def implied_cells(given: Mapping[str, Any], target: Any, driver: Any, low: Any = None,
                  high: Any = None) -> list[Any]:
    """:func:`implied.implied` ``(...).cells()`` a slice of companies at a time."""
    count = companies(given)
    cells: list[Any] = []
    for part in slices(count, SOLVER_COMPANIES):
        cells += implied.implied(_story_slice(given, part, count), take(target, part, count),
                                 driver, low, high).cells()
    return cells


def simulated_columns(given: Mapping[str, Any], distributions: Any, draws: Any = None,
                      seed: Any = None, price: Any = None
                      ) -> tuple[list[str], list[list[Any]]]:
    """:func:`simulate.simulate` a slice of companies at a time. Every slice draws the
    same numbers (the same seed, drawn the same way), so each company meets the draws it
    would in one pass."""
    try:
        per_company = simulate.draws_count(draws)
    except XlfuncsError:  # refused by simulate itself, with its own reason
        return simulate.simulate(given, distributions, draws, seed, price)
    count = companies(given)
    names: list[str] = []
    columns: list[list[Any]] = []
    for part in slices(count, SIMULATED_AT_ONCE // per_company):
        names, part_columns = simulate.simulate(_story_slice(given, part, count),
                                                distributions, draws, seed, price)
        columns += part_columns
    return names, columns
