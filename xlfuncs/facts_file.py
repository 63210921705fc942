"""Reading one facts file strictly: every physical line is one row, every cell is what it
says, or the whole file is refused with one line naming file, row and column.

Rules (the README's "Data files" section says the same):

* one line is one row: a quoted field must close on its line (no field holds a line
  break), a quote may not sit inside an unquoted field or after a closing quote;
* a number is plain decimal notation with an optional exponent (``-1.5``, ``2e3``);
  ``1,5``, ``1_000``, ``0x10``, ``inf`` and ``nan`` are not numbers;
* names compare by :func:`name_key` (trimmed, inner whitespace collapsed, case-folded)
  and one file spells each company and each metric one way;
* one company and metric is one fact; only a range's ``low`` and ``high`` rows share
  them, with the same unit, currency and period;
* dates are ISO (``YYYY-MM-DD``) from 1900-03-01; text holds only characters XML 1.0
  (so an .xlsx file) allows.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

from .errors import DataFileError

COLUMNS = ("company", "metric", "value", "unit", "currency", "period_start", "period_end",
           "as_of", "qualifier", "source")
OPTIONAL_COLUMNS = ("combines",)   # company names a combined figure sums, split by "|"
UNITS = ("tn", "bn", "m", "k", "", "%", "x", "price", "years", "months", "count")
CURRENCIES = ("HKD", "USD", "CNY", "")
CURRENCY_ALIASES = {"RMB": "CNY"}
QUALIFIERS = ("=", ">=", "~", "low", "high")
BILLIONS_PER_UNIT = {"tn": 1000.0, "bn": 1.0, "m": 0.001, "k": 0.000001}
MAX_FILE_BYTES = 64 * 1024 * 1024  # a 10,000-company universe is a few MB
MAX_FIELD_CHARS = 32_767           # Excel's limit for one cell's text
FIRST_DATE = dt.date(1900, 3, 1)
COMBINES_SEPARATOR = "|"

_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Characters XML 1.0 forbids: C0 controls but tab, LF and CR; surrogates; U+FFFE, U+FFFF.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def name_key(name: str) -> str:
    """How company and metric names compare everywhere (loader, workbook, DATA_*):
    trimmed, runs of whitespace as one space, case-folded. ``" ACME  corp"`` is
    ``"Acme Corp"``."""
    return " ".join(name.split()).casefold()


def read_bytes(path: Path) -> bytes:
    """The file's bytes: a regular file only (never a directory, FIFO or device), and at
    most :data:`MAX_FILE_BYTES` (read limit + 1 bytes, so a growing file is caught too)."""
    try:
        before = os.stat(path)
    except OSError as exc:
        raise DataFileError(path, None, None, f"cannot be read ({exc.strerror})") from None
    _must_be_regular(path, before.st_mode)
    try:  # O_NONBLOCK: a FIFO swapped in after the check cannot hang the open
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise DataFileError(path, None, None, f"cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        _must_be_regular(path, os.fstat(handle.fileno()).st_mode)
        content = handle.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise DataFileError(path, None, None,
                            f"the file is over {MAX_FILE_BYTES:,} bytes, the limit")
    return content


def _must_be_regular(path: Path, mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise DataFileError(path, None, None, "is a directory, not a facts file")
    if not stat.S_ISREG(mode):
        raise DataFileError(path, None, None, "is not a regular file (a FIFO, device or "
                            "socket); give a CSV file")


def decode(content: bytes, path: Path) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFileError(path, None, None, f"is not UTF-8 text ({exc.reason})") from None


def _column_name(names: list[str], index: int) -> str:
    return names[index] if index < len(names) else str(index + 1)


def split_line(line: str, row: int, path: Path, names: list[str]) -> list[str]:
    """The cells of one physical line (RFC 4180 quoting, but a field never spans lines)."""
    if '"' not in line:
        fields = line.split(",")
    else:
        fields = []
        at, end = 0, len(line)
        while True:
            column = _column_name(names, len(fields))
            if at < end and line[at] == '"':
                parts, start = [], at + 1
                while True:
                    close = line.find('"', start)
                    if close < 0:
                        raise DataFileError(path, row, column, "a quote opens here and does "
                                            "not close on this line (a stray quote, or a "
                                            "field that spans lines: no field may)")
                    if line.startswith('""', close):
                        parts.append(line[start:close + 1])
                        start = close + 2
                        continue
                    parts.append(line[start:close])
                    at = close + 1
                    break
                if at < end and line[at] != ",":
                    raise DataFileError(path, row, column, "text after a closing quote (quote "
                                        "the whole field, doubling quotes inside it)")
                fields.append("".join(parts))
            else:
                comma = line.find(",", at)
                stop = end if comma < 0 else comma
                if '"' in line[at:stop]:
                    raise DataFileError(path, row, column, "a quote inside an unquoted field "
                                        "(quote the whole field, doubling quotes inside it)")
                fields.append(line[at:stop])
                at = stop
            if at >= end:
                break
            at += 1  # the comma
    for index, field in enumerate(fields):
        if len(field) > MAX_FIELD_CHARS:
            raise DataFileError(path, row, _column_name(names, index),
                                f"field too large ({len(field):,} characters; a cell holds "
                                f"at most {MAX_FIELD_CHARS:,})")
        bad = NOT_XML.search(field)
        if bad:
            raise DataFileError(path, row, _column_name(names, index),
                                f"character U+{ord(bad.group()):04X} is not allowed in "
                                "XML 1.0, so no Excel file can hold it")
    return fields


def _header(cells: list[str], row: int, path: Path) -> list[str]:
    names = [c.strip() for c in cells]
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if not name:
            raise DataFileError(path, row, str(index + 1), "a column with no name")
        if name in seen:
            raise DataFileError(path, row, name, f"the header names this column twice "
                                f"(columns {seen[name] + 1} and {index + 1})")
        if name not in COLUMNS + OPTIONAL_COLUMNS:
            raise DataFileError(path, row, name, "unknown column (the header takes: "
                                f"{', '.join(COLUMNS + OPTIONAL_COLUMNS)})")
        seen[name] = index
    missing = [c for c in COLUMNS if c not in seen]
    if missing:
        raise DataFileError(path, row, missing[0],
                            f"missing column (the header needs: {', '.join(COLUMNS)})")
    return names


def number(text: str, path: Path, row: int, column: str = "value") -> float:
    """Plain decimal notation with an optional exponent, finite as a double."""
    if not _NUMBER.fullmatch(text):
        raise DataFileError(path, row, column, f"'{text}' is not a number (plain decimal "
                            "notation only: no thousands separators, no 'inf' or 'nan')")
    value = float(text)
    if not math.isfinite(value):
        raise DataFileError(path, row, column, f"'{text}' does not fit a double")
    return value


def _date(text: str, path: Path, row: int, column: str) -> dt.date | None:
    if not text:
        return None
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise DataFileError(path, row, column,
                            f"'{text}' is not an ISO date (YYYY-MM-DD)") from None
    if day < FIRST_DATE:
        raise DataFileError(path, row, column, f"{day} is before 1900-03-01: Excel shows no date "
                            "before 1900 and counts a 29 February 1900 that never was, so "
                            "earlier serials are a day off (xlfuncs' dates start at serial "
                            "61, 1900-03-01)")
    return day


def _one_of(text: str, allowed: tuple[str, ...], path: Path, row: int, column: str) -> str:
    if text not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        raise DataFileError(path, row, column, f"'{text}' is not one of {shown}")
    return text


def _combines(text: str, path: Path, row: int) -> tuple[str, ...]:
    if not text:
        return ()
    parts = tuple(p.strip() for p in text.split(COMBINES_SEPARATOR))
    keys = [name_key(p) for p in parts]
    if len(parts) < 2 or not all(keys) or len(set(keys)) != len(keys):
        raise DataFileError(path, row, "combines", f"'{text}' is not two or more different "
                            f"company names separated by '{COMBINES_SEPARATOR}'")
    return parts


def parse_row(cells: dict[str, str], path: Path, row: int) -> dict[str, Any]:
    """One row's cells (stripped) as typed values, or the refusal of the first bad cell."""
    for column in ("company", "metric", "source"):
        if not cells[column]:
            raise DataFileError(path, row, column, "must not be empty")
    value = number(cells["value"], path, row)
    unit = _one_of(cells["unit"], UNITS, path, row, "unit")
    if not math.isfinite(value * BILLIONS_PER_UNIT.get(unit, 1.0)):
        raise DataFileError(path, row, "value", f"'{cells['value']}' {unit} does not fit a "
                            "double once scaled to billions")
    currency = CURRENCY_ALIASES.get(cells["currency"].upper(), cells["currency"].upper())
    start = _date(cells["period_start"], path, row, "period_start")
    end = _date(cells["period_end"], path, row, "period_end")
    if (start is None) != (end is None):
        missing = "period_end" if end is None else "period_start"
        raise DataFileError(path, row, missing, "a period needs both its start and its end")
    if start and end and end < start:
        raise DataFileError(path, row, "period_end",
                            f"the period ends ({end}) before it starts ({start})")
    return {
        "company": cells["company"],
        "metric": cells["metric"],
        "value": value,
        "unit": unit,
        "currency": _one_of(currency, CURRENCIES, path, row, "currency"),
        "period_start": start,
        "period_end": end,
        "as_of": _date(cells["as_of"], path, row, "as_of"),
        "qualifier": _one_of(cells["qualifier"], QUALIFIERS, path, row, "qualifier"),
        "source": cells["source"],
        "combines": _combines(cells.get("combines", ""), path, row),
        "row": row,
    }


def parse_rows(text: str, path: Path) -> list[dict[str, Any]]:
    """Every row of a facts file's text, typed and checked (see the module's rules)."""
    rows: list[dict[str, Any]] = []
    names: list[str] | None = None
    for row, line in enumerate(_LINE_BREAK.split(text.removeprefix("\ufeff")), start=1):
        cells = split_line(line, row, path, names or [])
        if not any(c.strip() for c in cells):
            continue  # a blank line
        if names is None:
            names = _header(cells, row, path)
            continue
        if len(cells) > len(names):
            raise DataFileError(path, row, None, "the row has more cells than the header")
        if len(cells) < len(names):
            raise DataFileError(path, row, names[len(cells)], "the row has too few cells")
        by_name = {name: cell.strip() for name, cell in zip(names, cells, strict=True)}
        rows.append(parse_row(by_name, path, row))
    if names is None:
        raise DataFileError(path, None, None, "the file is empty (no header)")
    if not rows:
        raise DataFileError(path, None, None, "the file holds no facts")
    _check_spellings(rows, path)
    _check_facts(rows, path)
    return rows


def _check_spellings(rows: list[dict[str, Any]], path: Path) -> None:
    for column in ("company", "metric"):
        first: dict[str, tuple[str, int]] = {}
        for r in rows:
            spelled, at = first.setdefault(name_key(r[column]), (r[column], r["row"]))
            if spelled != r[column]:
                raise DataFileError(path, r["row"], column, f"'{r[column]}' and '{spelled}' "
                                    f"(row {at}) are one {column} spelled two ways: use one "
                                    "spelling")
    combined: dict[str, tuple[list[str], int]] = {}
    for r in rows:  # a combined figure's label means the same companies on every row
        keys = [name_key(p) for p in r["combines"]]
        parts, at = combined.setdefault(name_key(r["company"]), (keys, r["row"]))
        if parts != keys:
            raise DataFileError(path, r["row"], "combines", f"{r['company']}'s rows "
                                f"disagree on what it combines (see row {at})")


def _check_facts(rows: list[dict[str, Any]], path: Path) -> None:
    """One company and metric is one fact: a single row, or a range's low and high."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        group = groups.setdefault((name_key(r["company"]), name_key(r["metric"])), [])
        if group:
            first = group[0]
            pair = {first["qualifier"], r["qualifier"]} == {"low", "high"}
            if not pair or len(group) > 1:
                raise DataFileError(path, r["row"], "metric", f"{r['company']} / {r['metric']}"
                                    f" is already on row {first['row']}: one company and "
                                    "metric is one fact (only a range's 'low' and 'high' "
                                    "rows share them)")
        group.append(r)
    for group in groups.values():
        last = group[-1]
        if len(group) == 1:
            if last["qualifier"] in ("low", "high"):
                missing = "high" if last["qualifier"] == "low" else "low"
                raise DataFileError(path, last["row"], "qualifier",
                                    f"a range needs both a 'low' and a 'high' row; '{missing}' "
                                    f"is missing for {last['company']} / {last['metric']}")
            continue
        low, high = sorted(group, key=lambda r: r["qualifier"] != "low")
        for column in ("unit", "currency", "period_start", "period_end"):
            if low[column] != high[column]:
                raise DataFileError(path, last["row"], column, f"a range's two ends must "
                                    f"share the {column.replace('_', ' ')} (row {group[0]['row']}"
                                    f" has '{group[0][column] or ''}')")
        if low["value"] > high["value"]:
            raise DataFileError(path, last["row"], "value",
                                "the range's 'low' value is above its 'high' value")
        if not math.isfinite(low["value"] + high["value"]):  # DATA_MIDPOINT: (low+high)/2
            raise DataFileError(path, last["row"], "value",
                                "the range's midpoint does not fit a double")
