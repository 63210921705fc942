"""What a custom-functions call must look like before xlwings Server runs it.

xlwings Server trusts the body of ``POST /xlwings/custom-functions-call``: a missing key,
an unknown or private function name, a wrong number of arguments or a range nested too
deep reached its code as a ``KeyError``/``AttributeError``/``TypeError`` and came back as
HTTP 500 with no reason (and Excel retries a 500 three times). Here each of those becomes
a :class:`BadRequest` whose reason names the field and says what Excel would have sent.

Pure: no xlwings Server import, so ``xlfuncs serve`` can check its limit before starting.
"""

from __future__ import annotations

import email.message
import json
import math
import os
from collections.abc import Mapping
from itertools import chain
from typing import Any

LIMIT_ENV = "XLFUNCS_MAX_REQUEST_MB"
DEFAULT_LIMIT_MB = 16.0
SECONDS_ENV = "XLFUNCS_MAX_CALL_SECONDS"
# A call running longer is stopped; the largest call the cost limit allows takes ~15 s
DEFAULT_CALL_SECONDS = 60.0
# What a cell of a typical range costs in Office.js' JSON: "[1234.5678]," (12 bytes); a
# full-precision double such as 0.12345678901234568 costs 22. The limit in MB also caps the
# cells at one per 12 bytes: a body of "[1]," cells would otherwise carry 3x as many, and
# memory goes with cells (~300 bytes each while a call runs), not with bytes.
BYTES_PER_CELL = 12
REQUIRED_TEXT = ("version", "runtime", "client")
OPTIONAL_TEXT = ("caller_address", "formula_name", "culture_info_name", "date_format",
                 "session_id", "task_key")
CELL_TYPES = frozenset((str, int, float, bool, type(None)))
SHOWN_CHARACTERS = 40


class BadRequest(Exception):
    """A request refused with its HTTP status and a reason a person can act on."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def setting(name: str, default: float, unit: str,
            environ: Mapping[str, str] | None = None) -> float:
    """A positive limit from the environment variable ``name``, else ``default``; a
    ValueError that names the variable and the unit otherwise."""
    text = (os.environ if environ is None else environ).get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}={text!r}: expected a number of {unit}, e.g. "
                         f"{default:.15g}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}={text!r}: expected a positive number of {unit}")
    return value


def limit_mb(environ: Mapping[str, str] | None = None) -> float:
    """The request-size limit in MB (10**6 bytes): ``$XLFUNCS_MAX_REQUEST_MB`` or 16."""
    return setting(LIMIT_ENV, DEFAULT_LIMIT_MB, "MB", environ)


def call_seconds(environ: Mapping[str, str] | None = None) -> float:
    """The time limit of a call: ``$XLFUNCS_MAX_CALL_SECONDS`` or 60 seconds."""
    return setting(SECONDS_ENV, DEFAULT_CALL_SECONDS, "seconds", environ)


def max_cells(limit_bytes: int) -> int:
    return limit_bytes // BYTES_PER_CELL


def too_large(size: int | None, limit_bytes: int, cells: int | None = None) -> BadRequest:
    said = (f"about {cells:,} cells" if cells is not None
            else f"{size / 1e6:.1f} MB" if size is not None else "more than that")
    return BadRequest(
        f"request too large ({said}): the limit is {limit_bytes / 1e6:g} MB and "
        f"{max_cells(limit_bytes):,} cells; split the range, or raise the limit with "
        f"xlfuncs serve --max-request-mb or {LIMIT_ENV}", status=413)


def content_type_refusal(value: bytes | None) -> BadRequest | None:
    """415 unless the body is declared JSON as xlwings Server reads it (application/json
    or application/*+json, any parameters); FastAPI answered anything else with a 422 that
    echoed the whole body back."""
    message = email.message.Message()
    message["content-type"] = value.decode("latin-1") if value else ""
    subtype = message.get_content_subtype()
    if value and message.get_content_maintype() == "application" and (
            subtype == "json" or subtype.endswith("+json")):
        return None
    said = f"Content-Type {shown(value.decode('latin-1'))}" if value else "no Content-Type"
    return BadRequest(f"{said}: a call is JSON, sent with Content-Type: application/json "
                      "(as Excel's add-in sends it)", status=415)


def shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN_CHARACTERS else text[:SHOWN_CHARACTERS] + "..."


def _float_beyond_int_digits(text: str) -> float:
    # Python refuses to parse an int of more than 4,300 digits; as a float it is +-inf,
    # which the core answers with #NUM! for that cell alone
    return float(text)


def parse(body: bytes, limit_bytes: int) -> tuple[Any, bytes]:
    """The JSON body and the bytes to hand on (re-encoded only when an integer too long
    for Python's parser became a float). Refuses more cells than the limit allows before
    parsing: every cell but the last is followed by a comma."""
    if not body.strip():
        raise BadRequest("empty body: expected a JSON object with func_name and args, as "
                         "Excel's add-in sends")
    cells = body.count(b",") + 1
    if cells > max_cells(limit_bytes):
        raise too_large(len(body), limit_bytes, cells)
    try:
        return json.loads(body), body
    except RecursionError:
        raise BadRequest("the JSON is nested too deeply: a range is a list of rows") from None
    except ValueError as exc:
        if "integer string conversion" not in str(exc):
            raise BadRequest(f"the body is not valid JSON: {exc}") from None
    try:
        data = json.loads(body, parse_int=lambda t: (
            int(t) if len(t) <= 4000 else _float_beyond_int_digits(t)))
    except (RecursionError, ValueError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    return data, json.dumps(data).encode()


def functions_of(module: object) -> dict[str, dict[str, Any]]:
    """The callable custom functions of a module: public names carrying ``__xlfunc__``."""
    return {name: value.__xlfunc__ for name, value in vars(module).items()
            if not name.startswith("_") and hasattr(value, "__xlfunc__")}


def _argument_count(name: str, specs: list[dict[str, Any]], given: int) -> None:
    if any(spec["vararg"] for spec in specs):
        low, high = sum(1 for s in specs if not s["vararg"] and "optional" not in s), None
    else:
        low, high = sum(1 for s in specs if "optional" not in s), len(specs)
    if given >= low and (high is None or given <= high):
        return
    takes = (f"{low}" if low == high else f"{low} to {high}" if high is not None
             else f"at least {low}")
    names = ", ".join(s["name"] + ("" if "optional" not in s else "?") for s in specs)
    raise BadRequest(f"{name.upper()} takes {takes} argument{'s' * (high != 1)} ({names}), "
                     f"got {given}")


def _check_range(value: Any, where: str) -> None:
    """A cell, a row of cells or a list of equally long rows of cells: what Excel sends."""
    if type(value) in CELL_TYPES:
        return
    if type(value) is not list:
        raise BadRequest(f"{where}: a cell must be a number, text, true/false or empty, "
                         f"not a JSON {_json_kind(value)}")
    if not value:
        raise BadRequest(f"{where}: an empty range; Excel sends at least one cell")
    rows = value if type(value[0]) is list else [value]
    # sets of types and lengths: a few ms for 100,000 cells; the loops below only name
    # the first offender
    if {type(row) for row in rows} != {list}:
        raise BadRequest(f"{where}: mixes cells and rows; a range is a list of rows")
    width = len(rows[0])
    if {len(row) for row in rows} != {width} or not width:
        r, row = next((r, row) for r, row in enumerate(rows, start=1)
                      if len(row) != width or not row)
        raise BadRequest(f"{where}: row {r} has {len(row)} cells, row 1 has {width}; "
                         "a range is rectangular with at least one cell a row")
    if {type(cell) for cell in chain.from_iterable(rows)} <= CELL_TYPES:
        return
    for r, row in enumerate(rows, start=1):
        for c, cell in enumerate(row, start=1):
            if type(cell) not in CELL_TYPES:
                deeper = " (a range nested too deep)" if type(cell) is list else ""
                raise BadRequest(f"{where}: row {r}, column {c} is a JSON {_json_kind(cell)}"
                                 f"{deeper}; a cell is a number, text, true/false or empty")


def _json_kind(value: Any) -> str:
    return {list: "array", dict: "object"}.get(type(value), type(value).__name__)


def check_call(data: Any, functions: Mapping[str, dict[str, Any]]) -> None:
    """Raise :class:`BadRequest` unless ``data`` is a call xlwings Server can run."""
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object with func_name and args, not a "
                         f"JSON {_json_kind(data)}")
    name = data.get("func_name")
    if not isinstance(name, str) or not name:
        raise BadRequest(f"func_name: expected a function name as text, e.g. \"val_ps\", "
                         f"got {shown(name)}")
    info = functions.get(name)
    if info is None:
        hint = (f" (did you mean {name.lower()!r}?)" if name.lower() in functions
                else "; `xlfuncs functions` lists them, and /xlwings/custom-functions-meta")
        raise BadRequest(f"func_name: no function named {shown(name)}{hint}")
    args = data.get("args")
    if not isinstance(args, list):
        raise BadRequest(f"args: expected a list with one entry per argument of "
                         f"{name.upper()}, got {shown(args)}")
    specs = info["args"]
    _argument_count(name, specs, len(args))
    for index, arg in enumerate(args):
        spec = specs[min(index, len(specs) - 1)]
        where = f"{name.upper()} argument {index + 1} ({spec['name']})"
        if spec["vararg"]:
            if not isinstance(arg, list):
                raise BadRequest(f"{where}: expected a list of ranges")
            for item in arg:
                _check_range(item, where)
        else:
            _check_range(arg, where)
    for key in REQUIRED_TEXT:
        if not isinstance(data.get(key), str):
            raise BadRequest(f"{key}: expected text (Excel's add-in sends it), got "
                             f"{shown(data.get(key))}")
    for key in OPTIONAL_TEXT:
        if not isinstance(data.get(key), (str, type(None))):
            raise BadRequest(f"{key}: expected text or nothing, got {shown(data.get(key))}")


def summary(data: Any) -> str:
    """The call in a few words for a log line: function and argument shapes."""
    if not isinstance(data, dict):
        return "a malformed call"
    shapes = []
    for arg in data.get("args") or []:
        if isinstance(arg, list) and arg and isinstance(arg[0], list):
            shapes.append(f"{len(arg)}x{len(arg[0])}")
        else:
            shapes.append(f"{len(arg)}" if isinstance(arg, list) else "1")
    return f"{shown(data.get('func_name'))}({', '.join(shapes)}) from " \
           f"{shown(data.get('caller_address'))}"
