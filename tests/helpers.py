"""Calling the Excel functions exactly as Excel's Office.js client does."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import xlwings as xw
from xlwings import server

import xlfuncs.udfs as udfs


def serial(day: dt.date) -> float:
    """What Office.js sends for a date cell: its serial, days since 1899-12-30."""
    return float((day - dt.date(1899, 12, 30)).days)


def as_range(value: Any) -> list[list[Any]]:
    """Office.js sends every argument as a 2-D list; a scalar is a 1 x 1 range, and a
    date cell (``datetime.date`` here) is its serial number."""
    if isinstance(value, list):
        rows = value if value and isinstance(value[0], list) else [[v] for v in value]
        return [[serial(v) if isinstance(v, dt.date) else v for v in row] for row in rows]
    return [[serial(value) if isinstance(value, dt.date) else value]]


def payload(name: str, *args: Any) -> dict[str, Any]:
    """A call of an Excel function as Excel's Office.js client sends it."""
    return {
        "func_name": name.lower(),
        "args": [as_range(a) for a in args],
        "caller_address": "Sheet1!A1",
        "formula_name": name.upper(),
        "version": xw.__version__,
        "runtime": "1.4",
        "culture_info_name": "en-US",
        "date_format": "yyyy-mm-dd",
        "client": "Office.js",
    }


def call(name: str, *args: Any) -> Any:
    """Call an xlfuncs function through xlwings' custom-function runtime."""
    result = asyncio.run(server.custom_functions_call(payload(name, *args), udfs))
    json.dumps(result, allow_nan=False)  # what the server sends must be valid JSON
    return result


def error(kind: str) -> dict[str, str]:
    """The Office.js representation of an Excel error ("Div0", "Num", ...)."""
    return {"type": "Error", "errorType": kind}


def documentation() -> str:
    """README.md and every page of docs/: what the documentation promises, wherever a
    paragraph lives."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    return "\n".join(page.read_text(encoding="utf-8") for page in pages)
