"""Where the add-in's own formulas go: only into a workbook built for one route to Excel.

The shared workbook asks Excel for a full recalculation on open, so a cell calling an
add-in function shows #NAME? wherever that add-in is missing (and under another route's
names). So it holds none: every formula there is native. ``xlfuncs build --live ROUTE``
adds the Live cells (Functions, Simulation), written with the names that route registers:
xlwings Server namespaces its custom functions (``=XLFUNCS.VAL_PS(...)``); xlwings Lite and
the classic COM add-in register them plain (``=VAL_PS(...)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from ..registry import CATALOG


@dataclass(frozen=True)
class Route:
    name: str      # as --live takes it
    prefix: str    # what the route writes before a function's name
    needs: str     # what a person needs for the Live cells to compute


ROUTES = {route.name: route for route in (
    Route("server", "XLFUNCS.", "xlwings Server (xlfuncs serve; docs/server.md)"),
    Route("lite", "", "xlwings Lite with main.py from xlfuncs lite (docs/lite.md)"),
    Route("classic", "", "the classic xlwings add-in, UDF Modules xlfuncs.udfs "
          "(docs/classic.md)"),
)}


@cache
def _calls() -> re.Pattern[str]:
    names = sorted((e.name for e in CATALOG), key=len, reverse=True)
    return re.compile(rf"(?<![A-Za-z0-9_.])({'|'.join(names)})\(")


def calls_add_in(formula: str) -> bool:
    """Whether a formula calls one of the add-in's functions (under any route's name)."""
    return _calls().search(formula.replace("XLFUNCS.", "")) is not None


def for_route(formula: str, route: Route) -> str:
    """A formula calling the add-in's functions, with the names ``route`` registers."""
    return _calls().sub(lambda m: f"{route.prefix}{m[1]}(", formula)
