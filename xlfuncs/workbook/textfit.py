"""How wide a label prints: column widths and wrapped header rows sized from their text.

A column's width is counted in digits of the sheet's font (Excel and LibreOffice both size
a width unit as the digit "0" of the default font). Each character's advance is stored
here in hundredths of that digit, taken from DejaVu Serif and DejaVu Sans (the wider of
the two per character), the fonts LibreOffice falls back to where Calibri is missing;
they are wider than Calibri, so a label sized here also fits in Excel. Stored, not read
from the system's fonts, so the same data gives the same workbook on every machine.
"""

from __future__ import annotations

import math

# hundredths of a digit width, for the characters 32 (space) to 126 (~), at 11 pt
_REGULAR = tuple(int(w) for w in """
50 63 72 132 100 149 140 43 61 61 79 132 50 57 50 53 100 100 100 100 100 100 100 100 100
100 53 53 132 132 132 84 157 114 116 120 126 115 109 126 137 62 63 117 104 161 138 129
106 129 118 108 105 132 114 162 112 104 109 61 53 61 132 79 79 96 101 88 101 97 58 101
101 50 49 95 50 153 101 96 101 101 75 82 63 101 93 135 93 93 83 100 53 100 132
""".split())
_BOLD = tuple(int(w) for w in """
55 72 82 132 109 157 142 48 74 74 82 132 60 65 60 57 109 109 109 109 109 109 109 109 109
109 63 63 132 132 132 92 157 122 133 125 136 120 112 134 149 74 74 137 111 174 144 137
118 137 131 114 117 137 122 177 122 114 115 74 57 74 132 79 79 106 113 96 113 107 68 113
114 60 57 109 60 166 114 108 113 113 83 94 75 114 102 145 101 102 91 112 57 112 132
""".split())
_OTHER = 120       # any other character: wider than most letters
PADDING = 1.5      # digits: the cell's margins on either side
LINE_POINTS = 15.0 # the height of one line of 11 pt text, in points (Excel's default row)


def text_width(text: str, size: float = 11, bold: bool = False) -> float:
    """The printed width of text in column-width units (digits of 11 pt text)."""
    table = _BOLD if bold else _REGULAR
    hundredths = sum(table[code - 32] if 32 <= code < 127 else _OTHER
                     for code in map(ord, text))
    return hundredths / 100 * size / 11


def width_for(texts: list[str] | tuple[str, ...], size: float = 11, bold: bool = False,
              least: float = 8, most: float = 80) -> float:
    """A column width that shows the widest of texts on one line (within bounds)."""
    widest = max((text_width(t, size, bold) for t in texts), default=0.0)
    return round(min(most, max(least, widest + PADDING)), 1)


def lines_needed(text: str, width: float, size: float = 11, bold: bool = False) -> int:
    """How many lines text wraps to in a column width wide (greedy, at spaces)."""
    room = max(width - PADDING, 1.0)
    space = text_width(" ", size, bold)
    lines, used = 1, 0.0
    for word in text.split():
        wide = text_width(word, size, bold)
        if used and used + space + wide > room:
            lines, used = lines + 1, wide
        else:
            used = used + space + wide if used else wide
        lines += max(0, math.ceil(wide / room) - 1)  # a word longer than the column
    return lines


def row_height(lines: int, size: float = 11) -> float:
    """The height in points of a row showing lines lines of size pt text."""
    return round(lines * LINE_POINTS * size / 11 + 2, 1)
