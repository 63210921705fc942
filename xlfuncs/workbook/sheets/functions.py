"""The Functions sheet: the add-in's functions with a live column."""

from __future__ import annotations

from typing import Any

from ...registry import CATALOG, example_value
from ..book import (
    FORMULA,
    HEADER,
    UNIT,
    Book,
)
from .common import FIRST, Plan, header_rows


def write_functions(book: Book, plan: Plan) -> None:
    s = book.sheet("Functions")
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.ws.freeze_panes = f"B{FIRST}"
    s.widths(24, 60, 70, 48, 36, 22)
    header_rows(s, "Functions", "The add-in's Excel functions. The Live column holds real "
                "add-in formulas: they compute where xlfuncs is installed; elsewhere they "
                "show the value saved here.", plan)
    headers = ("Function", "Arguments", "Description", "Example", "Result (documented)",
               "Live (needs the add-in)")
    s.append([s.text(h, HEADER) for h in headers])
    s.append([s.text(h, UNIT) for h in ("", "", "", "formula", "", "value")])
    for item in CATALOG:
        s.append([s.text(item.name), s.text(item.signature), s.text(item.summary),
                  s.text(item.example), s.text(item.example_result),
                  s.formula(item.example, live_value(item), FORMULA)])


def live_value(item: Any) -> Any:
    """The add-in's answer to a catalog example (its first cell), for the cached value."""
    answer = example_value(item)
    return "" if answer is None else answer
