"""Columns and rows sized to their labels, so that no label prints cut off or over another.

Run on every sheet as the workbook is saved, over the first FIT_ROWS rows (titles, headers
and labels; a table's rows below are numbers and names). A label with a filled cell to its
right must fit its column: the column widens to it, up to WIDEST; a label wider than that
wraps. A wrapped label gets a row tall enough for its lines. A label with empty cells to its
right is left to spill into them, as Excel and LibreOffice show it.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import unescape

from openpyxl.utils import get_column_letter

from .book import Book, Cell, Sheet, Style, row_xml
from .textfit import PADDING, lines_needed, row_height, text_width

WIDEST = 60.0        # a column widens to at most this many digits; longer labels wrap
DEFAULT_WIDTH = 8.43  # Excel's width of a column never sized
SPILL_COLUMNS = 30   # how far a label may spill into empty cells


def cell_text(cell: Cell) -> str | None:
    """The text a cell shows, if it is text (a label, or a formula's cached text)."""
    inner = cell.inner
    if cell.kind == b' t="inlineStr"':
        start = inner.index(b">", inner.index(b"<t")) + 1
        return unescape(inner[start:inner.rindex(b"</t>")].decode("utf-8"))
    if cell.kind == b' t="str"' and b"<v>" in inner:
        return unescape(inner[inner.index(b"<v>") + 3:inner.rindex(b"</v>")].decode("utf-8"))
    return None


def fit_sheet(sheet: Sheet) -> None:
    book = sheet.book
    dims = sheet.ws.column_dimensions
    widths: dict[int, float] = {}

    def width(index: int) -> float:
        if index not in widths:
            letter = get_column_letter(index + 1)
            given = dims[letter].width if letter in dims else None
            widths[index] = float(given) if given else DEFAULT_WIDTH
        return widths[index]

    def room(index: int, filled: set[int]) -> float:
        """The column's width plus the empty columns it may spill into."""
        total, next_index = width(index), index + 1
        while next_index not in filled and next_index < index + SPILL_COLUMNS:
            total += width(next_index)
            next_index += 1
        return total

    # each label with its style and the width it needs, measured once
    labels: dict[int, list[tuple[int, str, Style, float]]] = {}
    for row, (cells, _) in sheet.pending.items():
        for index, cell in cells:
            text = cell_text(cell)
            if text:
                style = book.style_of(cell.style)
                need = text_width(text, style.size, style.bold) + PADDING
                labels.setdefault(row, []).append((index, text, style, need))
    # widen: a label that cannot spill (a filled cell beside it) and does not wrap
    changed: set[int] = set()
    for row, found in labels.items():
        filled = {index for index, _ in sheet.pending[row][0]}
        for index, _, style, need in found:
            if not style.wrap and index + 1 in filled and width(index) < need:
                widths[index] = min(WIDEST, math.ceil(need * 10) / 10)
                changed.add(index)
    for index in changed:
        dims[get_column_letter(index + 1)].width = widths[index]
    # wrap what is still too wide; give wrapped rows their height
    for row, (cells, height) in sheet.pending.items():
        filled = {index for index, _ in cells}
        wrapped: dict[int, Cell] = {}
        for index, text, style, need in labels.get(row, []):
            if not style.wrap and need <= room(index, filled):
                continue
            if not style.wrap:
                wrapped[index] = next(c for i, c in cells if i == index)._replace(
                    style=book.style_id(Style(**{**style.__dict__, "wrap": True})))
            lines = lines_needed(text, width(index), style.size, style.bold)
            if lines > 1:
                height = max(height or 0.0, row_height(lines, style.size))
        placed = [(index, wrapped.get(index, cell)) for index, cell in cells]
        if height is not None:  # a tall row: every cell on its top line, as wrapped text is
            placed = [(index, _on_top(book, cell)) for index, cell in placed]
        sheet.xml[row - 1] = row_xml(row, placed, height)


def _on_top(book: Book, cell: Cell) -> Cell:
    style = book.style_of(cell.style)
    if style.wrap or style.top:
        return cell
    return cell._replace(style=book.style_id(Style(**{**style.__dict__, "top": True})))
