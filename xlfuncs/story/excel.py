"""The story functions as Excel sees them: a labelled story range in, a grid of cells out
(numbers, text, None for blank, :class:`XlError` per company). ``xlfuncs.udfs`` turns the
grid into what the runtime sends; whole-call problems raise :class:`XlfuncsError`."""

from __future__ import annotations

from typing import Any

from .. import inputs
from ..errors import XlfuncsError
from . import api, chunks, model, table


def single(value: Any) -> Any:
    """A single cell's value from what the runtime hands over (a 1 x 1 range or a value)."""
    arr = inputs.as_object_array(value)
    if arr.size != 1:
        return arr  # left to the callee, which says what it expected
    return arr.ravel()[0]


def _per_company(story: table.Story, value: Any, name: str) -> Any:
    """A scalar, or a range with one cell per company (a row or a column)."""
    arr = inputs.as_object_array(value)
    if arr.size <= 1:
        return single(value)
    if arr.size != story.companies:
        raise XlfuncsError(f"{name}: give one cell, or one per company ({story.companies})")
    return arr.ravel()


def val_story(story: Any, result: Any = None) -> list[list[Any]]:
    """One answer per company of a story range (see :mod:`xlfuncs.story.table`): value per
    share, or the output ``result`` names."""
    parsed = table.parse(story)
    chosen = model.check_output(single(result) if result is not None else None)
    return parsed.shape_out(chunks.value_cells(parsed.given, chosen))


def val_story_table(story: Any) -> list[list[Any]]:
    parsed = table.parse(story)
    if parsed.companies != 1:
        raise XlfuncsError(f"VAL_STORY_TABLE takes one story; the range holds "
                           f"{parsed.companies} companies")
    rows = api.story_cells({k: v[0] for k, v in parsed.given.items()})
    return [["", *api.COLUMNS], *([name, *row] for name, row in zip(api.ROWS, rows,
                                                                     strict=True))]


def val_story_implied(story: Any, target: Any, driver: Any, low: Any = None,
                      high: Any = None) -> list[list[Any]]:
    parsed = table.parse(story)
    name = single(driver)
    if not isinstance(name, str):
        raise XlfuncsError("driver: expected the label of a story input, e.g. growth_2_5")
    cells = chunks.implied_cells(parsed.given, _per_company(parsed, target, "target"), name,
                                 single(low) if low is not None else None,
                                 single(high) if high is not None else None)
    return parsed.shape_out(cells)


def val_story_simulate(story: Any, distributions: Any, draws: Any = None, seed: Any = None,
                       price: Any = None) -> list[list[Any]]:
    """Statistics as rows (companies in columns) or columns (companies in rows)."""
    parsed = table.parse(story)
    names, columns = chunks.simulated_columns(
        parsed.given, distributions, single(draws) if draws is not None else None,
        single(seed) if seed is not None else None,
        single(price) if price is not None else None)
    if parsed.layout == "columns":
        return [[label, *(column[k] for column in columns)] for k, label in enumerate(names)]
    return [names, *columns]


__all__ = ["val_story", "val_story_implied", "val_story_simulate", "val_story_table"]
