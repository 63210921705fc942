"""The Functions sheet: the add-in's functions with an example each; in a workbook built
for a route (``--live``), a Live column that calls them."""

from __future__ import annotations

from typing import Any

from ...registry import CATALOG, example_value
from ..book import (
    FORMULA,
    HEADER,
    UNIT,
    Book,
)
from ..routes import for_route
from .common import FIRST, Plan, header_rows

SHARED_NOTE = ("The add-in's Excel functions, an example each. This workbook holds no "
               "add-in formula, so nothing shows #NAME? where xlfuncs is missing; xlfuncs "
               "build --live server|lite|classic writes a copy whose Live column calls them.")


def write_functions(book: Book, plan: Plan) -> None:
    s = book.sheet("Functions")
    route = plan.live
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.ws.freeze_panes = f"B{FIRST}"
    s.widths(24, 60, 70, 48, 36, *([22] if route else []))
    note = SHARED_NOTE if route is None else (
        f"The add-in's Excel functions. The Live column calls them as the {route.name} route "
        f"names them: it computes with {route.needs}; elsewhere it shows #NAME?.")
    header_rows(s, "Functions", note, plan)
    headers = ["Function", "Arguments", "Description", "Example", "Result (documented)"]
    units = ["", "", "", "formula", ""]
    if route is not None:
        headers.append(f"Live ({route.name} route)")
        units.append("value")
    s.append([s.text(h, HEADER) for h in headers])
    s.append([s.text(h, UNIT) for h in units])
    for item in CATALOG:
        cells = [s.text(item.name), s.text(item.signature), s.text(item.summary),
                 s.text(item.example), s.text(item.example_result)]
        if route is not None:
            cells.append(s.formula(for_route(item.example, route), live_value(item), FORMULA))
        s.append(cells)


def live_value(item: Any) -> Any:
    """The add-in's answer to a catalog example (its first cell), for the cached value."""
    answer = example_value(item)
    return "" if answer is None else answer
