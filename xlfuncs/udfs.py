"""The Excel functions: a thin xlwings layer over the core, generated from the catalog.

Put ``xlfuncs.udfs`` in xlwings' "UDF Modules" (classic add-in), or re-export it from an
xlwings Server / xlwings Lite project. Nothing is computed here: each function hands its
arguments to the core function its catalog entry names and adapts the answer:

* ranges in, same shape out: a 10,000-row column spills 10,000 answers;
* one element with no meaningful answer becomes that cell's Excel error (#DIV/0!,
  #NUM!, #N/A), the rest of the range is unaffected;
* a single cell of bad input, or a call that cannot be answered at all (ranges of
  different shapes, a malformed data file), raises ``xlwings.XlwingsError`` whose message
  Excel shows on the #VALUE! cell, and which xlwings Server does not retry.

The Office.js runtimes need ``XLWINGS_ON_SERVER=true`` (and a license setting) in the
environment before xlwings is first imported; otherwise xlwings makes ``xw.func`` a
no-op outside Windows. :data:`DECORATED` says whether the decorators took effect.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable
from itertools import chain
from typing import Any

import numpy as np
import xlwings as xw

from . import inputs
from .elementwise import STATUS_OK, Outcome
from .errors import DIV0, NA, NUM, VALUE, XlError, XlfuncsError
from .registry import CATALOG, Entry

try:  # xlwings >= 0.30 has it at top level; keep a fallback for older releases
    from xlwings import XlwingsError
except ImportError:  # pragma: no cover
    from xlwings.pro import XlwingsError  # type: ignore[no-redef]

CATEGORY = "xlfuncs"
# The Office.js runtimes (xlwings Server, xlwings Lite) rather than classic COM on Windows.
OFFICEJS = os.environ.get("XLWINGS_ON_SERVER") == "true" or sys.platform == "emscripten"
# XLFUNCS_PLAIN_XLWINGS=1 keeps xlwings' own per-cell conversions and its is_jsnull check
# (for benchmarks, and as a way back should a future xlwings change underneath us).
FAST_PATH = os.environ.get("XLFUNCS_PLAIN_XLWINGS") != "1"


def _skip_jsnull_outside_pyodide() -> bool:
    """Avoid xlwings' per-cell ``is_jsnull`` cost outside Pyodide.

    xlwings 0.37 calls ``xlwings.utils.is_jsnull`` on every element of every range
    argument, and each call retries a failing ``from pyodide.ffi import JsNull`` import
    (~0.1 ms): 10 s for a 100,000-row column. Outside Pyodide the answer is always False,
    so we replace the function, the copy ``xlwings.conversion.standard`` imported and the
    alias the Office.js engine calls, with one that says so. Inside Pyodide (xlwings
    Lite) nothing is touched.
    """
    if not FAST_PATH or "pyodide" in sys.modules or sys.platform == "emscripten":
        return False
    try:
        import pyodide.ffi  # type: ignore[import-not-found]  # noqa: F401
        return False
    except ImportError:
        pass
    patched = False
    for module_name, attribute in (("xlwings.utils", "is_jsnull"),
                                   ("xlwings.conversion.standard", "is_jsnull"),
                                   ("xlwings.pro._xlofficejs", "_is_jsnull")):
        module = sys.modules.get(module_name)
        if module is not None and hasattr(module, attribute):
            setattr(module, attribute, _never_jsnull)
            patched = True
    return patched


def _never_jsnull(value: Any) -> bool:
    return False


JSNULL_PATCHED = _skip_jsnull_outside_pyodide()


# Office.js (xlwings Server and Lite) takes typed errors and formatted numbers as JSON.
_OFFICEJS_ERROR = {DIV0: "Div0", NUM: "Num", VALUE: "Value", NA: "NotAvailable"}
DATE_FORMAT = "yyyy-mm-dd"


def _officejs_error(code: str) -> dict[str, str]:
    return {"type": "Error", "errorType": _OFFICEJS_ERROR[code]}


def _officejs_date(serial: float) -> dict[str, Any]:
    return {"type": "FormattedNumber", "basicValue": serial, "numberFormat": DATE_FORMAT}


def _marker(outcome: Outcome, status: int, officejs: bool) -> Any:
    """What a blank or erroneous element shows: "" or the Excel error."""
    error = outcome.error(status)
    if error is None:
        return ""
    return _officejs_error(error.code) if officejs else error.code


def to_excel(outcome: Outcome, officejs: bool = OFFICEJS) -> Any:
    """An :class:`Outcome` as the xlwings runtime hands it to Excel: a 2-D grid for
    Office.js (built with numpy, not cell by cell), Python values for classic xlwings.

    A single cell of bad input (#VALUE!) raises XlwingsError so Excel shows the reason."""
    if outcome.status.size == 1:  # one cell: say why, where Excel can show a message
        error = outcome.error(int(outcome.status.ravel()[0]))
        if error is not None and error.code == VALUE:
            raise XlwingsError(error.reason)
    # Excel's shapes are 2-D. Office.js sends 2-D ranges, but xlwings flattens a one-row
    # range to a 1-D list before we see it: so 1-D means a row.
    status = np.atleast_2d(outcome.status)
    values = outcome.values.reshape(status.shape)
    if outcome.returns == "date":
        grid = np.empty(status.shape, dtype=object)
        for index in zip(*np.nonzero(status == STATUS_OK), strict=True):
            serial = float(values[index])
            grid[index] = (_officejs_date(serial) if officejs
                           else inputs.serial_to_date(serial))
    else:
        grid = values.astype(object) if outcome.has_problems else values
    for code in np.unique(status[status != STATUS_OK]).tolist():
        grid[status == code] = _marker(outcome, code, officejs)
    if not officejs:
        return grid[0, 0] if outcome.scalar else grid
    return grid.tolist()


def spill(grid: list[list[Any]], officejs: bool = OFFICEJS) -> list[list[Any]]:
    """A grid of cells (number, text, None, XlError) as the runtime sends it; a single
    cell of bad input (#VALUE!) raises XlwingsError so Excel shows the reason."""
    if len(grid) == 1 and len(grid[0]) == 1 and isinstance(grid[0][0], XlError) and (
            grid[0][0].code == VALUE):
        raise XlwingsError(grid[0][0].reason)

    cells = list(chain.from_iterable(grid))
    if set(map(type, cells)) == {float} and np.isfinite(np.array(cells, float)).all():
        return grid  # plain finite numbers (the common big answer): nothing to convert

    def cell(value: Any) -> Any:
        if isinstance(value, XlError):
            return _officejs_error(value.code) if officejs else value.code
        if value is None or (isinstance(value, float) and not np.isfinite(value)):
            return ""
        return value

    return [[cell(v) for v in row] for row in grid]


def _answer(entry: Entry, args: tuple[Any, ...]) -> Any:
    try:
        if entry.returns == "spill":
            return spill(entry.func(*args))
        if entry.returns == "table":
            frame = entry.func(*args)
            for column in ("period_start", "period_end", "as_of"):
                frame[column] = [None if v is None or v != v else v.date()
                                 for v in frame[column]]
            return frame
        if entry.returns == "column":  # one company a row
            return [[item] for item in entry.func(*args)]
        assert entry.outcome is not None
        return to_excel(entry.outcome(*args))
    except XlfuncsError as exc:
        raise XlwingsError(str(exc)) from None


# Excel keeps 255 characters of a function's description (the classic add-in's
# MacroOptions; xlwings cuts the rest off mid-word)
MAX_DESCRIPTION = 255


def description(entry: Entry) -> str:
    """What Excel's function wizard shows: the summary, and the example when it fits."""
    full = f"{entry.summary}. Example: {entry.example} gives {entry.example_result}."
    return full if len(full) <= MAX_DESCRIPTION else f"{entry.summary}."


def _make_udf(entry: Entry) -> Callable[..., Any]:
    parameters = [
        inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          default=p.default if p.optional else inspect.Parameter.empty)
        for p in entry.params
    ]

    def udf(*args: Any) -> Any:
        return _answer(entry, args)

    udf.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    udf.__name__ = udf.__qualname__ = entry.python_name
    udf.__module__ = __name__
    udf.__doc__ = description(entry)
    # Office.js: "raw" skips xlwings' per-cell cleaning both ways (the core coerces
    # every input itself and to_excel builds the JSON grid), ~10x faster on big ranges.
    raw_args = OFFICEJS and FAST_PATH  # xlwings' conversion would blank an error cell
    raw = raw_args and entry.returns not in ("table", "column")
    for p in entry.params:
        if raw_args:
            udf = xw.arg(p.name, "raw", doc=p.doc)(udf)
        elif entry.returns in ("table", "column"):
            udf = xw.arg(p.name, doc=p.doc)(udf)
        else:  # xlwings' own conversion: keep a range 2-D so a column stays a column
            udf = xw.arg(p.name, doc=p.doc, ndim=2)(udf)
    if raw:
        udf = xw.ret("raw")(udf)
    elif entry.returns == "table":
        udf = xw.ret(index=False)(udf)
    return xw.func(category=CATEGORY)(udf)


for _entry in CATALOG:
    globals()[_entry.python_name] = _make_udf(_entry)

__all__ = [e.python_name for e in CATALOG]

# True when xlwings registered the functions (Windows, or XLWINGS_ON_SERVER=true set
# before xlwings was imported); tests fail loudly when it is not.
DECORATED = all(hasattr(globals()[name], "__xlfunc__") for name in __all__)
