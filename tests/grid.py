"""The registry grid: every native formula of the registry over a cross-product of awkward
inputs, one sheet a function, each formula cached with the Python core's answer.

Values are chosen per parameter kind (zeros, negatives, blanks, text, numeric text, tiny
and huge magnitudes, values that land between whole months or days, the edges of Excel's
calendar). Each function gets the full product of its parameters' values, or a
deterministic sample of it when that is larger than ``CAP`` rows.
"""

from __future__ import annotations

import itertools
import math
import random
import zlib
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from xlfuncs.registry import CATALOG, WORKBOOK_ONLY, Entry
from xlfuncs.workbook.book import Book
from xlfuncs.workbook.columns import Column, apply

CAP = 300
NUMBERS: list[Any] = [None, "abc", "12", 0.0, -1.0, -0.5, 1e-300, 1e300, -1e300, 1e-9, 0.1,
                      1.0, 3.0, 2.5, 7.8, 100.0, 1000.0]
DATES: list[Any] = [
    None, "abc", "2025-06-30", -1.0, 0.0, 1.0, 59.0, 60.0, 61.0,  # 60: Excel's 1900-02-29
    45322.0,    # 2024-01-31: a month end before a leap February
    45351.0,    # 2024-02-29
    45657.5,    # 2024-12-31 at noon: a fraction of a day
    45838.0,    # 2025-06-30
    2958465.0,  # 9999-12-31, Excel's last day
    2958465.5,  # its noon: still inside the calendar
    2958466.0,  # 10000-01-01, the first moment beyond it: #NUM!
]
TEXTS: list[Any] = [None, "USD", "hkd", "RMB", "CNY", "EUR", " USD", "bn", "m", "k", "tn",
                    "abc", 5.0]
BY_KIND = {"number": NUMBERS, "date": DATES, "text": TEXTS}

# VAL_DCF's cash-flow ranges (four cells a row; "single" is a one-cell range)
FLOWS: dict[str, list[Any]] = {
    "full": [100.0, 110.0, 121.0, 133.1],
    "trailing blanks": [100.0, 110.0, None, None],
    "negative and zero": [-100.0, 0.0, 50.0, None],
    "huge": [1e300, 1e300, 1e300, None],
    "tiny": [1e-300, 1e-300, None, None],
    "all blank": [None, None, None, None],
    "single": [100.0],
    "single blank": [None],
    "leading blank": [None, 100.0, 110.0, 121.0],
    "blank inside": [100.0, None, 121.0, None],
    "blank inside at the end": [100.0, 110.0, None, 121.0],
    "text": [100.0, "x", 121.0, None],
    "numeric text": [100.0, "110", 121.0, None],
}


# What makes a row awkward, in the order a row is labelled by (its first match).
TEXT = "text in a number argument"      # "abc" where a number or date belongs, 5 for a code
NUMERIC_TEXT = "numeric text"            # "12", "2025-06-30": Excel converts these
EARLY_DATE = "date before 1900-03-01"    # serials Excel's 1900 leap-year bug makes ambiguous
PADDED = "padded code"                   # " USD"
CALENDAR_END = "date at 9999-12-31 or after"
EXTREME = "tiny or huge magnitudes"      # 1e-300, 1e300: underflow and overflow
PLAIN = "ordinary numbers, blanks and codes"
FLOW_BLANKS = "blank flows (leading, inside or all)"
FLOW_TEXT = "text in the flows"
FLOW_CASES = {"leading blank": FLOW_BLANKS, "all blank": FLOW_BLANKS,
              "single blank": FLOW_BLANKS, "blank inside": FLOW_BLANKS,
              "blank inside at the end": FLOW_BLANKS, "text": FLOW_TEXT,
              "numeric text": FLOW_TEXT}


def case_of(kinds: list[str], arguments: tuple[Any, ...]) -> str:
    """The class of awkward input a row belongs to (see the constants above)."""
    def has(test: Any) -> bool:
        return any(test(kind, value) for kind, value in zip(kinds, arguments, strict=True))

    if has(lambda k, v: (k != "text" and v in ("abc",)) or (k == "text" and isinstance(
            v, float))):
        return TEXT
    if has(lambda k, v: k != "text" and isinstance(v, str)):
        return NUMERIC_TEXT
    if has(lambda k, v: k == "date" and isinstance(v, float) and v < 61):
        return EARLY_DATE
    if has(lambda k, v: isinstance(v, str) and v != v.strip()):
        return PADDED
    if has(lambda k, v: k == "date" and isinstance(v, float) and v >= 2958465):
        return CALENDAR_END
    if has(lambda k, v: isinstance(v, float) and v != 0 and not 1e-6 < abs(v) < 1e30):
        return EXTREME
    return PLAIN


@dataclass
class GridSheet:
    """One function's sheet: which rows hold which case (for VAL_DCF, a flow pattern)."""

    entry: Entry
    cases: dict[int, str] = field(default_factory=dict)   # row -> case label
    arguments: dict[int, tuple[Any, ...]] = field(default_factory=dict)


def entries() -> list[Entry]:
    """Every registry entry with a native formula (the catalog and the workbook-only)."""
    return [e for e in (*CATALOG, *WORKBOOK_ONLY) if e.excel_body is not None]


def _sample(pools: list[list[Any]], count: int, seed: str) -> list[tuple[Any, ...]]:
    """The full product of ``pools``, or ``count`` rows of it drawn deterministically."""
    total = math.prod(len(p) for p in pools)
    if total <= count:
        return list(itertools.product(*pools))
    rng = random.Random(zlib.crc32(seed.encode()))
    rows = []
    for index in sorted(rng.sample(range(total), count)):
        row = []
        for pool in reversed(pools):  # mixed-radix digits of the product's index
            index, digit = divmod(index, len(pool))
            row.append(pool[digit])
        rows.append(tuple(reversed(row)))
    return rows


def _rows(entry: Entry) -> list[tuple[Any, ...]]:
    """Ordinary values crossed with each other (at most CAP rows), then CAP rows of the
    full product, awkward values included (ordinary rows would otherwise be rare)."""
    kinds = [p.kind for p in entry.params]
    plain = [[v for v in BY_KIND[k] if case_of([k], (v,)) == PLAIN] for k in kinds]
    ordinary = _sample(plain, CAP, entry.name + " plain")
    seen = set(ordinary)
    hostile = [r for r in _sample([BY_KIND[k] for k in kinds], CAP, entry.name)
               if r not in seen]
    return ordinary + hostile


def _column(ref: str, items: list[Any]) -> Column:
    return Column(ref, np.array(items, dtype=object), np.full(len(items), None, dtype=object))


def _letter(index: int) -> str:
    return chr(ord("A") + index)


# The workbook's short form leaves the type checks to where inputs are entered: its sheet
# holds only the rows whose every argument has its own type, a date inside the calendar.
WORKBOOK_CASES = (PLAIN, EXTREME)
WORKBOOK = "WB "  # the prefix of a function's workbook-form sheet


def _add_elementwise(book: Book, entry: Entry, workbook_form: bool = False) -> GridSheet:
    sheet = book.sheet((WORKBOOK + entry.name if workbook_form else entry.name)[:31])
    kinds = [p.kind for p in entry.params]
    rows = [r for r in _rows(entry)
            if not workbook_form or case_of(kinds, r) in WORKBOOK_CASES]
    columns = [_column(f"{_letter(k)}§", [r[k] for r in rows]) for k in range(len(rows[0]))]
    result = apply(entry, f"{_letter(len(columns))}§", *columns, addin=not workbook_form)
    grid = GridSheet(entry)
    for i, arguments in enumerate(rows):
        row = sheet.rows + 1
        cells = [sheet.value(v) for v in arguments]
        cells.append(sheet.formula(result.formula(i, row) or "", result.cell(i)))
        sheet.append(cells)
        grid.cases[row] = case_of([p.kind for p in entry.params], arguments)
        grid.arguments[row] = arguments
    return grid


def _cached(outcome: Any) -> Any:
    answer = outcome.cells()
    while isinstance(answer, list):
        answer = answer[0]
    if hasattr(answer, "code"):
        return answer.code
    return "" if answer is None else answer


def _add_dcf(book: Book, entry: Entry) -> GridSheet:
    """Flows in A:D, rate in E, terminal growth in F, the formula in G."""
    sheet = book.sheet(entry.name)
    grid = GridSheet(entry)
    for label, flows in FLOWS.items():
        for rate, growth in itertools.product(NUMBERS, NUMBERS):
            row = sheet.rows + 1
            span = f"A{row}" if len(flows) == 1 else f"A{row}:D{row}"
            formula = entry.excel(span, f"E{row}", f"F{row}")
            cached = _cached(entry.outcome([flows], rate, growth))  # type: ignore[misc]
            cells = [sheet.value(v) for v in flows] + [None] * (4 - len(flows))
            cells += [sheet.value(rate), sheet.value(growth), sheet.formula(formula, cached)]
            sheet.append(cells)
            grid.cases[row] = FLOW_CASES.get(label) or case_of(
                ["number"] * (len(flows) + 2), (*flows, rate, growth))
            grid.arguments[row] = (flows, rate, growth)
    return grid


# The functions the workbook writes with its lookup tables (FX_Rates, Units on Inputs): their
# workbook form over the named rates, as the Valuation sheet calls them, on a sheet each
TABLED = {"FX_CONVERT": ("USD_HKD", "USD_CNY"), "FX_RATE": ("USD_HKD", "USD_CNY"),
          "DATA_IN_BILLIONS": ()}
TABLES = "TB "   # the prefix of those sheets
RATES = {"USD_HKD": 7.8, "USD_CNY": 6.91, "USD_HKD_Flows": 7.75, "USD_CNY_Flows": 7.1}


def _add_tables(book: Book) -> None:
    """The workbook's lookup tables and the named rates they read, on a sheet of their own."""
    from types import SimpleNamespace

    from xlfuncs.workbook.sheets.inputs import write_lookup_tables

    sheet = book.sheet("Tables")
    for name, rate in RATES.items():
        row = sheet.append([sheet.text(name), sheet.value(rate)])
        book.name(name, f"Tables!$B${row}")
    write_lookup_tables(book, sheet, SimpleNamespace(assumptions=RATES))  # type: ignore[arg-type]


def _add_tabled(book: Book, entry: Entry) -> GridSheet:
    """The workbook form of a tabled function: its other arguments from the grid's rows
    (well-typed), the rates the named, checked inputs."""
    from xlfuncs.formula import lookup_tables
    from xlfuncs.workbook.sheets.inputs import workbook_tables

    rates = TABLED[entry.name]
    sheet = book.sheet((TABLES + entry.name)[:31])
    kinds = [p.kind for p in entry.params][:len(entry.params) - len(rates)]
    rows = list(dict.fromkeys(r[:len(kinds)] for r in _rows(entry)
                              if case_of(kinds, r[:len(kinds)]) in WORKBOOK_CASES))
    columns = [_column(f"{_letter(k)}§", [r[k] for r in rows]) for k in range(len(kinds))]
    named = [replace(_column(n, [RATES[n]] * len(rows)), ref=n, rule=(1.0, 20.0))
             for n in rates]
    with lookup_tables(workbook_tables()):
        result = apply(entry, f"{_letter(len(columns))}§", *columns, *named)
    grid = GridSheet(entry)
    for i, arguments in enumerate(rows):
        row = sheet.rows + 1
        sheet.append([*(sheet.value(v) for v in arguments),
                      sheet.formula(result.formula(i, row) or "", result.cell(i))])
        grid.cases[row] = case_of(kinds, arguments)
        grid.arguments[row] = arguments
    return grid


def build_grid() -> tuple[bytes, dict[str, GridSheet]]:
    """The grid workbook's bytes and, by sheet title, what each row holds."""
    book = Book()
    _add_tables(book)
    sheets: dict[str, GridSheet] = {}
    for entry in entries():
        if any(p.kind == "range" for p in entry.params):
            sheets[entry.name] = _add_dcf(book, entry)
        else:
            sheets[entry.name[:31]] = _add_elementwise(book, entry)
            sheets[(WORKBOOK + entry.name)[:31]] = _add_elementwise(book, entry, True)
        if entry.name in TABLED:
            sheets[(TABLES + entry.name)[:31]] = _add_tabled(book, entry)
    return book.to_bytes(), sheets


def cases_of(entry: Entry, workbook_form: bool = False) -> list[str]:
    """The classes of awkward input that a function's sheet holds, in a stable order."""
    _, sheets = _cached_grid()
    title = (WORKBOOK + entry.name if workbook_form else entry.name)[:31]
    return sorted(set(sheets[title].cases.values())) if title in sheets else []


def tabled_cases(entry: Entry) -> list[str]:
    _, sheets = _cached_grid()
    title = (TABLES + entry.name)[:31]
    return sorted(set(sheets[title].cases.values())) if title in sheets else []


_GRID: list[tuple[bytes, dict[str, GridSheet]]] = []


def _cached_grid() -> tuple[bytes, dict[str, GridSheet]]:
    if not _GRID:
        _GRID.append(build_grid())
    return _GRID[0]
