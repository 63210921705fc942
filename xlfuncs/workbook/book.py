"""Writing a workbook: styled cells, formulas with cached values, deterministic atomic saves.

openpyxl writes a formula cell with an empty cached value (``<f>..</f><v></v>``), so a
previewer, ``pandas.read_excel`` or ``openpyxl(data_only=True)`` would read blanks. Every
formula we write is computed by the Python core at the same time, and the value is kept
in writing order; after openpyxl has written the file we fill each empty ``<v>`` of our
own output, in the same order, with that value and its XML type (number, ``str``, ``b``
or ``e`` for an Excel error). The file also asks Excel to recalculate fully on load.

Saving is deterministic (fixed document times and zip entry times: same input, same
bytes) and atomic (a temporary file beside the target, then a rename). A fingerprint of
the content, kept as a custom document property, tells a later build whether a person
edited the file since (:func:`edited_since_built`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable
from copy import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.properties import CalcProperties

from ..errors import ERROR_CODES

# Build times are fixed so that the same input gives the same bytes; the article's date.
FIXED_TIME = dt.datetime(2026, 2, 24, 0, 0, 0)
ZIP_TIME = (2026, 2, 24, 0, 0, 0)
FINGERPRINT = "xlfuncs_fingerprint"
_PLACEHOLDER = "0" * 64
MAX_TEXT = 32_767  # Excel's limit for one cell's text
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_FORMULA_TRIGGERS = ("=", "+", "-", "@")

# The modelling-standard colours: inputs blue on pale yellow, formulas black, links green.
BLUE, BLACK, GREEN, GREY = "0000FF", "000000", "008000", "808080"
INPUT_FILL = PatternFill("solid", fgColor="FFFFCC")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
NO_FILL = PatternFill(fill_type=None)


@dataclass(frozen=True)
class Style:
    """What a cell looks like; each distinct one is built once and copied (fast)."""

    color: str = BLACK
    bold: bool = False
    italic: bool = False
    size: float = 11
    fill: str = "none"  # "none", "input" or "header"
    number_format: str = "General"
    wrap: bool = False
    quote_prefix: bool = False


INPUT = Style(color=BLUE, fill="input")
FORMULA = Style()
LINK = Style(color=GREEN)
HEADER = Style(bold=True, fill="header", wrap=True)
UNIT = Style(italic=True, color=GREY)
TITLE = Style(bold=True, size=14)
NOTE = Style(italic=True, color=GREY)
TEXT = Style()


class Sheet:
    """A write-only worksheet, written row by row, remembering each formula's cached value."""

    def __init__(self, book: Book, title: str) -> None:
        if len(title) > 31:
            raise ValueError(f"sheet title '{title}' is over Excel's 31 characters")
        self.book = book
        self.title = title
        self.ws = book.wb.create_sheet(title)
        # print landscape (set now: write-only sheets stream it before the rows)
        self.ws.page_setup.orientation = "landscape"
        self.cached: list[Any] = []  # in document order, as the save step fills them
        self._pending: dict[int, Any] = {}
        self.rows = 0

    def fit_width(self) -> None:
        """Print one page wide (narrow sheets; wide tables repeat their titles instead)."""
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0

    def ref(self, column: int, row: int, absolute: bool = True) -> str:
        """An A1 reference to a cell of this sheet, from another sheet."""
        letter = get_column_letter(column)
        cell = f"${letter}${row}" if absolute else f"{letter}{row}"
        return f"{quote_sheet(self.title)}!{cell}"

    def append(self, cells: Iterable[Any]) -> int:
        """Write the next row; returns its number (1-based)."""
        row = list(cells)
        for cell in row:
            if isinstance(cell, Cell) and cell.data_type == "f":
                self.cached.append(self._pending.pop(id(cell)))
        self.ws.append(row)
        self.rows += 1
        return self.rows

    def blank_rows(self, count: int = 1) -> None:
        for _ in range(count):
            self.append([])

    def text(self, value: Any, style: Style = TEXT) -> WriteOnlyCell:
        """Text exactly as given, never read as a formula (even '=HYPERLINK(...)')."""
        text = _ILLEGAL.sub("\N{REPLACEMENT CHARACTER}", str(value))[:MAX_TEXT]
        if text.startswith(_FORMULA_TRIGGERS) and not style.quote_prefix:
            style = Style(**{**style.__dict__, "quote_prefix": True})
        cell = self._cell(None, style)
        cell._value = text
        cell.data_type = "s"
        return cell

    def value(self, value: Any, style: Style = INPUT) -> WriteOnlyCell | None:
        """A typed number (or date serial); None writes an empty cell."""
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return self._cell(None, style) if style.fill != "none" else None
        if isinstance(value, str):
            return self.text(value, style)
        if isinstance(value, (np.floating, np.integer)):
            value = value.item()
        return self._cell(value, style)

    def formula(self, text: str, cached: Any, style: Style = FORMULA) -> WriteOnlyCell:
        """A native formula and the value the Python core computed for it."""
        if not text.startswith("="):
            raise ValueError(f"not a formula: {text}")
        cell = self._cell(text, style)
        self._pending[id(cell)] = cached
        return cell

    def _cell(self, value: Any, style: Style) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws, value)
        cell._style = copy(self.book.style_array(style))
        return cell

    def widths(self, *widths: float) -> None:
        for index, width in enumerate(widths, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = width


def quote_sheet(title: str) -> str:
    return "'" + title.replace("'", "''") + "'" if not title.isalnum() else title


class Book:
    """An openpyxl write-only workbook plus what the save step needs."""

    def __init__(self) -> None:
        self.wb = Workbook(write_only=True)
        self.sheets: list[Sheet] = []
        self._styles: dict[Style, Any] = {}
        self._probe = self.wb.create_sheet("_styles")  # a scratch sheet to build styles on
        self.wb.calculation = CalcProperties(fullCalcOnLoad=True)
        self.wb.custom_doc_props.append(StringProperty(name=FINGERPRINT, value=_PLACEHOLDER))

    def sheet(self, title: str) -> Sheet:
        sheet = Sheet(self, title)
        self.sheets.append(sheet)
        return sheet

    def style_array(self, style: Style) -> Any:
        array = self._styles.get(style)
        if array is None:
            cell = WriteOnlyCell(self._probe)
            cell.font = Font(color=style.color, bold=style.bold, italic=style.italic,
                             size=style.size)
            cell.fill = {"input": INPUT_FILL, "header": HEADER_FILL}.get(style.fill, NO_FILL)
            cell.number_format = style.number_format
            if style.wrap:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            if style.quote_prefix:
                cell.quotePrefix = True
            array = self._styles[style] = cell._style
        return array

    def name(self, name: str, target: str) -> None:
        """A workbook-level defined name (validated as Excel wants it)."""
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]{0,254}", name) or re.fullmatch(
                r"[A-Za-z]{1,3}[0-9]+", name):
            raise ValueError(f"'{name}' is not a valid Excel name")
        self.wb.defined_names[name] = DefinedName(name, attr_text=target)

    def to_bytes(self) -> bytes:
        """The finished file: cached values filled, fixed times, fingerprint set."""
        self.wb._sheets.remove(self._probe)
        buffer = io.BytesIO()
        self.wb.properties.created = FIXED_TIME
        self.wb.properties.modified = FIXED_TIME
        self.wb.properties.creator = "xlfuncs"
        self.wb.save(buffer)
        with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as raw:
            parts = {info.filename: raw.read(info) for info in raw.infolist()}
        for index, sheet in enumerate(self.sheets, start=1):
            name = f"xl/worksheets/sheet{index}.xml"
            parts[name] = fill_cached_values(parts[name], sheet.cached, sheet.title)
        parts["docProps/core.xml"] = _fixed_core_times(parts["docProps/core.xml"])
        fingerprint = content_fingerprint(parts)
        parts["docProps/custom.xml"] = parts["docProps/custom.xml"].replace(
            _PLACEHOLDER.encode(), fingerprint.encode())
        return _zip(parts)


_FORMULA_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"((?: s="[0-9]+")?)><f>([^<]*)</f><v></v></c>')


def _cached_xml(value: Any) -> tuple[bytes, bytes]:
    """(type attribute, <v> text) for a cached value."""
    if isinstance(value, (bool, np.bool_)):
        return b' t="b"', b"1" if value else b"0"
    if value is None or value == "":
        return b' t="str"', b""
    if isinstance(value, str):
        if value in ERROR_CODES:
            return b' t="e"', value.encode()
        return b' t="str"', escape(value).encode("utf-8")
    if isinstance(value, dt.date):
        from ..inputs import date_to_serial

        return b"", repr(date_to_serial(value)).encode()
    number = float(value)
    if not np.isfinite(number):
        return b' t="e"', b"#NUM!"
    return b"", repr(number).encode()


def fill_cached_values(xml: bytes, cached: list[Any], title: str) -> bytes:
    """Give each formula cell of our own sheet XML its cached value, in writing order."""
    values = iter(cached)
    count = 0

    def fill(match: re.Match[bytes]) -> bytes:
        nonlocal count
        count += 1
        kind, text = _cached_xml(next(values))
        return (b'<c r="' + match.group(1) + b'"' + match.group(2) + kind + b"><f>"
                + match.group(3) + b"</f><v>" + text + b"</v></c>")

    filled = _FORMULA_CELL.sub(fill, xml)
    if count != len(cached):
        raise RuntimeError(f"sheet '{title}': {count} formula cells but {len(cached)} values")
    return filled


def _fixed_core_times(core: bytes) -> bytes:
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    return re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp, core)


def content_fingerprint(parts: dict[str, bytes]) -> str:
    """SHA-256 of every part but the one that stores it."""
    digest = hashlib.sha256()
    for name in sorted(parts):
        if name != "docProps/custom.xml":
            digest.update(name.encode() + b"\0" + parts[name] + b"\0")
    return digest.hexdigest()


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as out:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            out.writestr(info, data, compresslevel=6)
    return buffer.getvalue()


def atomic_write(path: Path, data: bytes) -> None:
    """Write beside the target, flush to disk, then rename over it: all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
