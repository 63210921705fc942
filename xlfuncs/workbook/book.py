"""Writing a workbook: styled cells, formulas with cached values, deterministic atomic saves.

openpyxl writes a formula cell with an empty cached value (``<f>..</f><v></v>``), so a
previewer, ``pandas.read_excel`` or ``openpyxl(data_only=True)`` would read blanks. So
openpyxl writes the package (styles, names, validations, tables, charts, sheet frames)
and xlfuncs writes the rows: every formula with the value the Python core computed for
it, typed as Excel types it (number, ``str``, ``b``, or ``e`` for an Excel error). The
file also asks Excel to recalculate fully on load.

Saving is deterministic (fixed document times and zip entry times: same input, same
bytes) and atomic (a temporary file beside the target, then a rename). A fingerprint of
the content, kept as a custom document property, tells a later build whether a person
edited the file since (:func:`edited_since_built`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
import re
import signal
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple
from xml.sax.saxutils import escape

import numpy as np
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.properties import CalcProperties

from ..errors import ERROR_CODES, XlfuncsError

# Build times are fixed so that the same input gives the same bytes; the article's date.
FIXED_TIME = dt.datetime(2026, 2, 24, 0, 0, 0)
ZIP_TIME = (FIXED_TIME.year, FIXED_TIME.month, FIXED_TIME.day,  # the zip entries' time
            FIXED_TIME.hour, FIXED_TIME.minute, FIXED_TIME.second)
FINGERPRINT = "xlfuncs_fingerprint"
_PLACEHOLDER = "0" * 64
MAX_TEXT = 32_767  # Excel's limit for one cell's text
# the format LibreOffice itself gives a boolean: shown TRUE/FALSE in every program
BOOLEAN_FORMAT = '"TRUE";"TRUE";"FALSE"'
FIT_ROWS = 400     # the rows whose labels size their columns (fit.py); tables go on below
PAPER_A3 = 8       # Excel's paperSize code
# A formula's cached value keeps 12 significant digits. numpy's last-bit results differ
# between CPUs and builds; at 15 digits one in twenty of the workbook's values flips its
# last digit under a 1-2 ulp change (measured on the article workbook), at 12 none does,
# so the file's bytes do not depend on the machine. The engines recompute the full double;
# 12 digits is more than any number format here shows. Typed inputs are written exactly.
CACHED_DIGITS = 12
# Every character XML 1.0 forbids (C0 controls but tab/LF/CR, surrogates, U+FFFE, U+FFFF):
# the loader refuses them; any that reach a cell anyway are replaced with U+FFFD.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_FORMULA_TRIGGERS = ("=", "+", "-", "@")

# The modelling-standard colours: inputs blue on pale yellow, formulas black, links green;
# build-time settings (read when the workbook is rebuilt, not by a formula) purple on
# lavender, so that nobody takes them for inputs a formula reads.
BLUE, BLACK, GREEN, GREY = "0000FF", "000000", "008000", "808080"
PURPLE, DARK_ORANGE = "7030A0", "C55A11"
INPUT_FILL = PatternFill("solid", fgColor="FFFFCC")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
SETTING_FILL = PatternFill("solid", fgColor="EDE7F6")
NO_FILL = PatternFill(fill_type=None)
FILLS = {"input": INPUT_FILL, "header": HEADER_FILL, "setting": SETTING_FILL}


@dataclass(frozen=True)
class Style:
    """What a cell looks like; each distinct one is built once and copied (fast)."""

    color: str = BLACK
    bold: bool = False
    italic: bool = False
    size: float = 11
    fill: str = "none"  # "none", "input", "header" or "setting"
    number_format: str = "General"
    wrap: bool = False
    top: bool = False   # on the row's top line (a cell of a tall row; wrapped text always)
    quote_prefix: bool = False


INPUT = Style(color=BLUE, fill="input")
SETTING = Style(color=PURPLE, fill="setting")
DATA = Style()   # a figure from the data files: typed there, not here (Facts)
BANNER = Style(color=DARK_ORANGE, bold=True, size=12)
FORMULA = Style()
LINK = Style(color=GREEN)
HEADER = Style(bold=True, fill="header", wrap=True)
UNIT = Style(italic=True, color=GREY)
TITLE = Style(bold=True, size=14)
NOTE = Style(italic=True, color=GREY)
TEXT = Style()


class Cell(NamedTuple):
    """A cell before it has a place: its XML type, inner XML and style."""

    kind: bytes    # the t= attribute (b"" for numbers)
    inner: bytes   # <v>, <is> or <f>+<v> content
    style: int     # index into the workbook's cell formats


class Sheet:
    """A worksheet whose cells xlfuncs writes itself, row by row.

    openpyxl writes the sheet's frame (columns, panes, validations, tables, charts) and
    the rest of the package; the rows are streamed here as XML, each formula with its
    cached value, because openpyxl's own cell writer costs ~40 us a cell (45 s for a
    10,000-company workbook) and cannot write cached values at all.
    """

    def __init__(self, book: Book, title: str) -> None:
        if len(title) > 31:
            raise ValueError(f"sheet title '{title}' is over Excel's 31 characters")
        self.book = book
        self.title = title
        self.ws = book.wb.create_sheet(title)
        # print landscape, every sheet on one paper size: A3, which the wide tables need
        # (set now: write-only sheets stream it before the rows)
        self.ws.page_setup.orientation = "landscape"
        self.ws.page_setup.paperSize = PAPER_A3
        self.rows = 0
        self.xml: list[bytes] = []
        self.pending: dict[int, tuple[list[tuple[int, Cell]], float | None]] = {}

    def fit_width(self) -> None:
        """Print one page wide (narrow sheets; wide tables repeat their titles instead)."""
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True
        self.ws.page_setup.fitToWidth = 1
        self.ws.page_setup.fitToHeight = 0

    def append(self, cells: Iterable[Cell | None], height: float | None = None) -> int:
        """Write the next row (None: no cell there); returns its number (1-based).
        ``height`` in points. The first FIT_ROWS rows are kept as cells until the save, so
        that :func:`fit.fit_sheet` can size the columns and wrapped rows to their text."""
        self.rows += 1
        placed = [(index, cell) for index, cell in enumerate(cells) if cell is not None]
        if self.rows <= FIT_ROWS:
            self.pending[self.rows] = (placed, height)
            self.xml.append(b"")
        else:
            self.xml.append(row_xml(self.rows, placed, height))
        return self.rows

    def blank_rows(self, count: int = 1) -> None:
        for _ in range(count):
            self.append([])

    def text(self, value: Any, style: Style = TEXT) -> Cell:
        """Text exactly as given, never read as a formula (even '=HYPERLINK(...)')."""
        text = str(value)[:MAX_TEXT]
        if text.startswith(_FORMULA_TRIGGERS) and not style.quote_prefix:
            style = Style(**{**style.__dict__, "quote_prefix": True})
        return Cell(b' t="inlineStr"', b'<is><t xml:space="preserve">' + _escape(text)
                    + b"</t></is>", self.book.style_id(style))

    def value(self, value: Any, style: Style = INPUT) -> Cell | None:
        """A typed number (or date serial); None is an empty cell (kept if it is styled)."""
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return Cell(b"", b"", self.book.style_id(style)) if style.fill != "none" else None
        if isinstance(value, str):
            return self.text(value, style)
        kind, text = _cached_xml(value)
        return Cell(kind, b"<v>" + text + b"</v>", self.book.style_id(style))

    def formula(self, text: str, cached: Any, style: Style = FORMULA) -> Cell:
        """A native formula and the value the Python core computed for it."""
        if not text.startswith("="):
            raise ValueError(f"not a formula: {text}")
        kind, value = _cached_xml(cached, rounded=True)
        style = _shown_as_boolean(style, [kind])
        return Cell(kind, b"<f>" + _escape(text[1:]) + b"</f><v>" + value + b"</v>",
                    self.book.style_id(style))

    def column(self, formulas: list[bytes | None] | None, cached: list[tuple[bytes, bytes]],
               style: Style) -> list[Cell | None]:
        """A whole column of cells at once: escaped formula texts (None: a value cell, or
        nothing when its value is blank) and their cached values, from
        :func:`cached_values` (rounded for formula columns). The fast path for 10,000-row
        tables."""
        style_id = self.book.style_id(_shown_as_boolean(style, [k for k, _ in cached]))
        cells: list[Cell | None] = []
        for index, (kind, value) in enumerate(cached):
            formula = formulas[index] if formulas is not None else None
            if formula is not None:
                cells.append(Cell(kind, b"<f>" + formula + b"</f><v>" + value + b"</v>",
                                  style_id))
            elif kind == b' t="str"' and not value:
                cells.append(None)
            else:
                cells.append(Cell(kind, b"<v>" + value + b"</v>", style_id))
        return cells

    def widths(self, *widths: float) -> None:
        for index, width in enumerate(widths, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = width


def with_thousands(number_format: str) -> str:
    """A percentage format with its thousands separated (12,753.9%, as 1,499.1x is): every
    percentage of the workbook shows so, whoever wrote its format."""
    if number_format.endswith("%") and "," not in number_format:
        return "#,##" + number_format
    return number_format


def _shown_as_boolean(style: Style, kinds: list[bytes]) -> Style:
    """The style with LibreOffice's TRUE/FALSE format when a cached value is a boolean:
    LibreOffice shows a cached boolean as 1/0 unless its format says TRUE/FALSE."""
    if style.number_format == "General" and b' t="b"' in kinds:
        return replace(style, number_format=BOOLEAN_FORMAT)
    return style


def row_xml(row: int, cells: list[tuple[int, Cell]], height: float | None) -> bytes:
    """A row's XML; ``height`` (points) for wrapped text: LibreOffice does not grow a row
    to its wrapped text when it opens an .xlsx, so the text would print over the next."""
    number = str(row).encode()
    tall = b"" if height is None else f'" ht="{height:g}" customHeight="1'.encode()
    parts = [b'<row r="', number, tall, b'">']
    for index, cell in cells:
        parts += [b'<c r="', _LETTERS[index], number, b'" s="', _INTS[cell.style], b'"',
                  cell.kind, b">", cell.inner, b"</c>"]
    parts.append(b"</row>")
    return b"".join(parts)


_LETTERS = [get_column_letter(i).encode() for i in range(1, 1025)]
_INTS = [str(i).encode() for i in range(4096)]


def _escape(text: str) -> bytes:
    return escape(_ILLEGAL.sub("\N{REPLACEMENT CHARACTER}", text)).encode("utf-8")


def number_text(value: float, rounded: bool) -> bytes:
    """A finite number as <v> text: exact (typed inputs) or to CACHED_DIGITS (formulas)."""
    if rounded:
        return format(value, f".{CACHED_DIGITS}g").encode()
    return repr(value).encode()


def cached_values(data: np.ndarray, errors: np.ndarray,
                  rounded: bool = True) -> list[tuple[bytes, bytes]]:
    """(type attribute, <v> text) of every element of a column, in bulk; a value that is
    not a finite number is #NUM!, never 'inf' or 'nan' in the file."""
    if data.dtype.kind == "f":
        out: list[tuple[bytes, bytes]] = []
        blank = (b' t="str"', b"")
        overflow = (b' t="e"', b"#NUM!")
        for value, error in zip(data.tolist(), errors.tolist(), strict=True):
            if error is not None:
                out.append((b' t="e"', error.encode()))
            elif value != value:  # NaN: a blank cell
                out.append(blank)
            elif value in (np.inf, -np.inf):
                out.append(overflow)
            else:
                out.append((b"", number_text(value, rounded)))
        return out
    return [_cached_xml(error if error is not None else value, rounded)
            for value, error in zip(data.tolist(), errors.tolist(), strict=True)]


class Book:
    """An openpyxl write-only workbook plus what the save step needs."""

    def __init__(self) -> None:
        self.wb = Workbook(write_only=True)
        self.sheets: list[Sheet] = []
        self._styles: dict[Style, Any] = {}
        self._style_ids: dict[Style, int] = {}
        self._style_by_id: dict[int, tuple[Style, int]] = {}
        self._probe = self.wb.create_sheet("_styles")  # a scratch sheet to build styles on
        self.wb.calculation = CalcProperties(fullCalcOnLoad=True)
        self.wb.custom_doc_props.append(StringProperty(name=FINGERPRINT, value=_PLACEHOLDER))
        self._names: dict[str, str] = {}   # casefolded name -> the name as defined

    def sheet(self, title: str) -> Sheet:
        sheet = Sheet(self, title)
        self.sheets.append(sheet)
        return sheet

    def style_id(self, style: Style) -> int:
        """The index of a cell format in the workbook's styles, made on first use."""
        by_identity = self._style_by_id.get(id(style))
        if by_identity is not None:
            seen, known = by_identity
            if seen is style:
                return known  # hot path: the same Style object again, no hashing
        found = self._style_ids.get(style)
        if found is None:
            found = self._style_ids[style] = self.wb._cell_styles.add(self.style_array(style))
        self._style_by_id[id(style)] = (style, found)
        return found

    def style_of(self, style_id: int) -> Style:
        """The Style of a cell format made by :meth:`style_id`."""
        return next(style for style, found in self._style_ids.items() if found == style_id)

    def style_array(self, style: Style) -> Any:
        array = self._styles.get(style)
        if array is None:
            cell = WriteOnlyCell(self._probe)
            cell.font = Font(color=style.color, bold=style.bold, italic=style.italic,
                             size=style.size)
            cell.fill = FILLS.get(style.fill, NO_FILL)
            cell.number_format = with_thousands(style.number_format)
            if style.wrap or style.top:
                cell.alignment = Alignment(wrap_text=style.wrap or None, vertical="top")
            if style.quote_prefix:
                cell.quotePrefix = True
            array = self._styles[style] = cell._style
        return array

    def name(self, name: str, target: str) -> None:
        """A workbook-level defined name (validated as Excel wants it)."""
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]{0,254}", name) or re.fullmatch(
                r"[A-Za-z]{1,3}[0-9]+", name):
            raise ValueError(f"'{name}' is not a valid Excel name")
        # Excel reads names without case: a second definition would silently repoint the
        # first one's formulas, so it is a bug of the caller, refused
        earlier = self._names.get(name.casefold())
        if earlier is not None:
            raise ValueError(f"'{name}' is already defined (as '{earlier}'); Excel reads "
                             "names without case")
        self._names[name.casefold()] = name
        self.wb.defined_names[name] = DefinedName(name, attr_text=target)

    def to_bytes(self) -> bytes:
        """The finished file: cached values filled, fixed times, fingerprint set."""
        from .fit import fit_sheet  # it builds on this module's cells and styles

        for sheet in self.sheets:
            fit_sheet(sheet)
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
            frame = parts[name]
            if frame.count(b"<sheetData></sheetData>") != 1:
                raise RuntimeError(f"sheet '{sheet.title}': unexpected frame from openpyxl")
            parts[name] = frame.replace(b"<sheetData></sheetData>",
                                        b"<sheetData>" + b"".join(sheet.xml) + b"</sheetData>")
        parts["docProps/core.xml"] = _fixed_core_times(parts["docProps/core.xml"])
        fingerprint = content_fingerprint(parts)
        parts["docProps/custom.xml"] = parts["docProps/custom.xml"].replace(
            _PLACEHOLDER.encode(), fingerprint.encode())
        return _zip(parts)


def _cached_xml(value: Any, rounded: bool = False) -> tuple[bytes, bytes]:
    """(type attribute, <v> text) for a cell's value; ``rounded`` for a formula's cache."""
    if isinstance(value, (bool, np.bool_)):
        return b' t="b"', b"1" if value else b"0"
    if value is None:
        return b' t="str"', b""
    if isinstance(value, str):
        if value in ERROR_CODES:
            return b' t="e"', value.encode()
        return b' t="str"', _escape(value)
    if isinstance(value, dt.date):
        from ..inputs import date_to_serial

        return b"", repr(date_to_serial(value)).encode()
    number = float(value)
    if not np.isfinite(number):
        return b' t="e"', b"#NUM!"
    return b"", number_text(number, rounded)


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
    # deflate at zlib's default level (6): a ZipInfo entry ignores the ZipFile's level
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            out.writestr(info, data)
    return buffer.getvalue()


class SaveError(XlfuncsError):
    """The workbook could not be written where asked (a read-only folder, a full disk...)."""


# Temporary files of a save are named ".NAME.PID.XXXXXXXX.tmp" (the writer's process id and
# mkstemp's 8 random characters), so a later save can recognise its own leftovers.
STALE_AFTER = 3600        # seconds: no save takes an hour; older is a leftover whoever wrote it
STALE_DEAD_AFTER = 600    # seconds: ...or older than this and its writer has gone (this host)
PAUSE_SAVE = "XLFUNCS_TEST_PAUSE_SAVE"  # test only: seconds to sleep before the rename


def temporary_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(name)}\.(?:(\d+)\.)?[a-z0-9_]{{8}}\.tmp")


def remove_stale_temporaries(path: Path, now: float | None = None) -> list[Path]:
    """Remove what a killed save (SIGKILL, a power cut) left beside ``path``: files named as
    :func:`atomic_write` names them, over STALE_AFTER seconds old, or over STALE_DEAD_AFTER
    seconds old when the process id in their name no longer runs here. (Age, not only the
    process id, because a folder shared between machines sees other hosts' saves.)"""
    now = time.time() if now is None else now
    pattern = temporary_pattern(path.name)
    removed = []
    try:
        candidates = [p for p in path.parent.iterdir() if pattern.fullmatch(p.name)]
    except OSError:
        return removed
    for candidate in candidates:
        try:
            age = now - candidate.lstat().st_mtime
            pid = pattern.fullmatch(candidate.name).group(1)  # type: ignore[union-attr]
            if age > STALE_AFTER or (age > STALE_DEAD_AFTER and not _running(pid)):
                candidate.unlink()
                removed.append(candidate)
        except OSError:
            continue
    return removed


def _running(pid: str | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process, or a number we cannot judge: keep the file
    return True


def new_file_mode() -> int:
    """The mode a new file gets from open(): 0o666 less the umask."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGTERM, SIGHUP and SIGINT for a moment, so that a handler that raises cannot
    run between creating the temporary file and remembering its name."""
    held = {signal.SIGTERM, signal.SIGINT} | ({signal.SIGHUP} if hasattr(signal, "SIGHUP")
                                               else set())
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def atomic_write(path: Path, data: bytes) -> None:
    """Write beside the target, flush to disk, then rename over it: all or nothing.

    A new file gets the mode the umask gives; a replaced file keeps its mode. Any exception,
    including one a signal handler raises (the CLI turns SIGTERM and SIGHUP into one), removes
    the temporary file; leftovers of killed saves are removed by later saves. OSError becomes
    :class:`SaveError`, naming the target.
    """
    existed = path.exists()
    try:
        mode = path.stat().st_mode & 0o777 if existed else new_file_mode()
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path)
    except OSError as exc:
        raise _save_error(path, exc, existed) from None
    temporary: str | None = None
    try:
        with _signals_held():
            handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.",
                                                 suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "wb") as out:
            os.fchmod(out.fileno(), mode)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        pause = os.environ.get(PAUSE_SAVE)
        if pause:
            time.sleep(float(pause))
        os.replace(temporary, path)
    except BaseException as exc:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _save_error(path, exc, existed) from None
        raise


def _save_error(path: Path, exc: OSError, existed: bool) -> SaveError:
    reason = exc.strerror or str(exc)
    kept = "; the earlier file is unchanged" if existed else ""
    return SaveError(f"{path}: not written ({reason}){kept}")
