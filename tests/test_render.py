"""The workbook as a colleague sees it: rendered by LibreOffice headless to PDF, then looked
at as a person would. Every chart draws its data (pixels of each series' colour on the
chart's page, not only grey grid lines) on one printed page, every label prints whole, and
TRUE/FALSE cells read TRUE/FALSE even where LibreOffice keeps the cached values.

Needs LibreOffice and poppler (pdftoppm, pdftotext): skipped without them, failed in CI.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from xlfuncs.workbook import build, libreoffice
from xlfuncs.workbook.book import FIT_ROWS
from xlfuncs.workbook.fit import WIDEST
from xlfuncs.workbook.textfit import text_width

pytestmark = pytest.mark.engines

DPI = 100
MARK_PIXELS = 150   # a drawn series: more pixels of its colour than a legend swatch has
TOLERANCE = 60      # summed RGB distance still counted as the series' colour


@dataclass
class Rendered:
    workbook: Path
    pages: list[str]        # each page's text (pdftotext, reading order)
    pdf: Path


def _render(workbook: Path, out: Path, recalculate: bool) -> Rendered:
    profile = libreoffice.RECALC_ALWAYS
    try:
        if not recalculate:  # LibreOffice's own default: keep the file's cached values
            libreoffice.RECALC_ALWAYS = profile.replace("<value>0</value>",
                                                        "<value>1</value>")
        pdf = libreoffice.to_pdf(workbook, out)
    finally:
        libreoffice.RECALC_ALWAYS = profile
    count = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
        ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout)[1])
    pages = [subprocess.run(["pdftotext", "-f", str(p), "-l", str(p), str(pdf), "-"],
                            capture_output=True, text=True, check=True).stdout
             for p in range(1, count + 1)]
    return Rendered(workbook, pages, pdf)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = [t for t in ("pdftoppm", "pdftotext", "pdfinfo") if not shutil.which(t)]
    if libreoffice.soffice() is None or missing:
        reason = f"rendering needs LibreOffice and poppler-utils (missing: {missing or 'soffice'})"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return build(out=tmp_path_factory.mktemp("render") / "article.xlsx").path


@pytest.fixture(scope="module")
def rendered(built: Path) -> Rendered:
    """As a colleague with LibreOffice's default settings sees it: the cached values."""
    return _render(built, built.parent / "pdf", recalculate=False)


# ---- charts -------------------------------------------------------------------------

@dataclass
class ChartSeries:
    color: str | None
    values: str          # the range of its values (or y values)


def charts_of(workbook: Path) -> list[tuple[str, list[str], list[ChartSeries]]]:
    """Each chart's title, axis titles and series, read from the file's chart parts."""
    out = []
    with zipfile.ZipFile(workbook) as book:
        for name in sorted(n for n in book.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml",
                                                                       n)):
            xml = book.read(name).decode("utf-8")
            titles = ["".join(re.findall(r"<a:t>([^<]*)</a:t>", t))
                      for t in re.findall(r"<(?:c:)?title>(.*?)</(?:c:)?title>", xml, re.S)]
            series = []
            for ser in re.findall(r"<(?:c:)?ser>(.*?)</(?:c:)?ser>", xml, re.S):
                color = re.search(r'<a:srgbClr val="([0-9A-Fa-f]{6})"', ser)
                values = re.search(r"<(?:c:)?(?:val|yVal)>.*?<(?:c:)?f>([^<]*)</", ser, re.S)
                series.append(ChartSeries(color[1] if color else None,
                                          values[1] if values else ""))
            out.append((titles[0], titles[1:], series))
    return out


def has_data(workbook: openpyxl.Workbook, reference: str) -> bool:
    """Whether a series' range holds a non-zero number (a zero bar draws nothing)."""
    sheet, cells = reference.rsplit("!", 1)
    found = workbook[sheet.strip("'")][cells.replace("$", "")]
    flat = [c for row in found for c in row] if isinstance(found, tuple) else [found]
    return any(isinstance(c.value, (int, float)) and c.value != 0 for c in flat)


def page_pixels(pdf: Path, page: int) -> np.ndarray:
    """One page as an RGB array (pdftoppm's PPM: a header, then the bytes)."""
    raw = subprocess.run(["pdftoppm", "-r", str(DPI), "-f", str(page), "-l", str(page),
                          str(pdf)], capture_output=True, check=True).stdout
    width, height = map(int, raw.split(maxsplit=4)[1:3])
    return np.frombuffer(raw[-width * height * 3:], np.uint8).reshape(height, width, 3)


def squeeze(text: str) -> str:
    return re.sub(r"[\s\-\u00ad]+", "", text)


def test_every_chart_draws_each_series_on_one_page(rendered: Rendered) -> None:
    charts = charts_of(rendered.workbook)
    assert len(charts) >= 2
    values = openpyxl.load_workbook(rendered.workbook, data_only=True)
    needed: dict[tuple[int, str], int] = {}
    for title, axes, series in charts:
        pages = [i for i, text in enumerate(rendered.pages, 1) if squeeze(title) in squeeze(text)]
        assert len(pages) == 1, f"chart '{title}': on pages {pages}, not one"
        text = squeeze(rendered.pages[pages[0] - 1])
        for axis in axes:  # a page break through the chart would move its axes away
            assert squeeze(axis) in text, f"chart '{title}': axis '{axis}' not on its page"
        for s in series:
            assert s.color is not None, (f"chart '{title}': a series without its own colour "
                                         "(LibreOffice and Excel would each pick one)")
            if has_data(values, s.values):
                key = (pages[0], s.color.upper())
                needed[key] = needed.get(key, 0) + MARK_PIXELS
    for (page, color), least in needed.items():
        rgb = np.array([int(color[i:i + 2], 16) for i in (0, 2, 4)])
        found = int((np.abs(page_pixels(rendered.pdf, page).astype(int) - rgb).sum(axis=2)
                     < TOLERANCE).sum())
        assert found >= least, f"page {page}: {found} pixels of #{color}, a chart needs {least}"


# ---- labels and booleans ------------------------------------------------------------

def test_every_label_prints_whole(rendered: Rendered) -> None:
    """A label with a filled cell beside it (so it cannot spill) or wrapped prints whole:
    its words appear in the PDF's text (LibreOffice clips what does not fit)."""
    book = openpyxl.load_workbook(rendered.workbook)
    words = set(squeeze(" ".join(rendered.pages)).split()) | set(
        w for page in rendered.pages for w in map(squeeze, page.split()))
    joined = squeeze("".join(rendered.pages))
    cut = []
    for ws in book.worksheets:
        for row in ws.iter_rows(max_row=FIT_ROWS):
            filled = {c.column for c in row if c.value not in (None, "")}
            for cell in row:
                text = cell.value
                if not isinstance(text, str) or cell.data_type == "f":
                    continue
                if cell.alignment.wrap_text:
                    if max(map(text_width, text.split())) > WIDEST:
                        continue  # one unbreakable word (an example formula): LibreOffice
                        # clips it where Excel breaks it; no column width can help
                    if not all(squeeze(w) in words or squeeze(w) in joined
                               for w in text.split()):
                        cut.append(f"{ws.title}!{cell.coordinate}: {text[:60]}")
                elif cell.column + 1 in filled and squeeze(text) not in joined:
                    cut.append(f"{ws.title}!{cell.coordinate}: {text[:60]}")
    assert not cut, "labels cut off in print:\n" + "\n".join(cut)




def test_each_sheet_s_title_and_note_print_whole(rendered: Rendered) -> None:
    """A sheet's title and note (row 1, row 2) are printed, and no printed word anywhere is
    cut: its last third has ink. (The PDF's text keeps what LibreOffice clips, so only the
    picture shows a note that spilled from a repeated column A and was cut at its edge.)"""
    joined = squeeze("".join(rendered.pages))
    book = openpyxl.load_workbook(rendered.workbook)
    missing = [f"{ws.title}!{cell.coordinate}" for ws in book.worksheets for row in (1, 2)
               for cell in ws[row][:2] if isinstance(cell.value, str)
               and cell.data_type != "f" and squeeze(cell.value) not in joined]
    assert not missing, missing
    cut = []
    for page in range(1, len(rendered.pages) + 1):
        ink = page_gray(rendered.pdf, page)
        scale = INK_DPI / 72
        for x0, y0, x1, y1, word in page_words(rendered.pdf, page):
            if sum(ch.isalnum() for ch in word) < 3:
                continue   # a stroke or two: too thin to judge
            last_third = ink[int(y0 * scale):int(np.ceil(y1 * scale)),
                             int((x0 + (x1 - x0) * 2 / 3) * scale):int(np.ceil(x1 * scale))]
            if last_third.size == 0 or last_third.min() >= INK:
                cut.append(f"page {page}: {word}")
    assert not cut, "words printed cut (clipped):\n" + "\n".join(cut[:30])


INK_DPI = 150
INK = 215   # darker than any fill of the workbook (header blue, input yellow, lavender)


def page_words(pdf: Path, page: int) -> list[tuple[float, float, float, float, str]]:
    """Each word of a page and its box, in points (pdftotext -bbox)."""
    found = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf),
                            "-"], capture_output=True, text=True, check=True).stdout
    return [(float(a), float(b), float(c), float(d), html.unescape(w)) for a, b, c, d, w in
            re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                       r'yMax="([\d.]+)">([^<]*)</word>', found)]


def page_gray(pdf: Path, page: int) -> np.ndarray:
    raw = subprocess.run(["pdftoppm", "-r", str(INK_DPI), "-gray", "-f", str(page), "-l",
                          str(page), str(pdf)], capture_output=True, check=True).stdout
    width, height = map(int, raw.split(maxsplit=4)[1:3])
    return np.frombuffer(raw[-width * height:], np.uint8).reshape(height, width)


# ---- every printed page of a table starts with its header rows ----------------------------

def layout_lines(pdf: Path, page: int) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf),
                           "-"], capture_output=True, text=True, check=True).stdout
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_every_printed_page_starts_with_its_sheet_s_title_and_header_rows(
        rendered: Rendered) -> None:
    """Each page: the sheet's title first (repeated by the print titles or column A), then,
    under the title rows, the table's header (Valuation, Burn, Facts: the Company row; DCF:
    a block's title and its Line row; Simulation: the settings or a company's block):
    never a row cut from the table above it, as DCF's 'Present value of FCFF' once was."""
    book = openpyxl.load_workbook(rendered.workbook)
    titles = sorted(((ws["A1"].value, ws) for ws in book.worksheets), key=lambda t: -len(t[0]))
    pages: dict[str, list[list[str]]] = {}
    for page in range(1, len(rendered.pages) + 1):
        lines = layout_lines(rendered.pdf, page)
        ws = next((w for t, w in titles if lines and lines[0].startswith(t)), None)
        assert ws is not None, f"page {page} starts with no sheet's title: {lines[:2]}"
        above = [squeeze(str(c.value))[:40] for row in (2, 3) for c in ws[row][:2]
                 if isinstance(c.value, str)]
        under = [line for line in lines[1:] if squeeze(line)[:40] not in above]
        pages.setdefault(ws.title, []).append(under)
    wrong = []
    for sheet, starts in (("Valuation", ("Company",)), ("Burn", ("Company",)),
                          ("Facts", ("Company",)), ("Simulation", ("Settings", "MiniMax:",
                                                                   "Zhipu:"))):
        wrong += [f"{sheet} page {k}: {under[:1]}" for k, under in enumerate(pages[sheet], 1)
                  if not under or not under[0].startswith(starts)]
    assert len(pages["Valuation"]) > 1 and len(pages["DCF"]) == 4
    for k, under in enumerate(pages["DCF"], 1):   # one block a page, under its header
        if not (len(under) > 1 and ": the " in under[0] and under[1].startswith("Line")):
            wrong.append(f"DCF page {k}: {under[:2]}")
    assert not wrong, wrong

class SheetTables(HTMLParser):
    """LibreOffice's HTML export, as shown on screen: one table a sheet, the cells' text."""

    def __init__(self) -> None:
        super().__init__()
        self.sheets: list[list[list[str]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.sheets.append([])
        elif tag == "tr" and self.sheets:
            self.sheets[-1].append([])
        elif tag == "td" and self.sheets and self.sheets[-1]:
            self.cell = []
            span = int(dict(attrs).get("colspan") or 1)
            self.sheets[-1][-1].extend([""] * (span - 1))  # merged: the text goes last

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None:
            self.sheets[-1][-1].append("".join(self.cell).strip())
            self.cell = None


def test_booleans_read_true_or_false_where_libreoffice_keeps_the_cached_values(
        built: Path, tmp_path: Path) -> None:
    """LibreOffice has no boolean type: a cached FALSE without a TRUE/FALSE number format
    shows as 0 when it opens the file without recalculating (its default for files it
    did not write)."""
    profile = libreoffice.RECALC_ALWAYS
    try:
        libreoffice.RECALC_ALWAYS = profile.replace("<value>0</value>", "<value>1</value>")
        with tempfile.TemporaryDirectory(prefix="xlfuncs-html-") as work:
            libreoffice._run(["--convert-to", "html", "--outdir", str(tmp_path),
                              str(built.resolve())], Path(work), 600)
    finally:
        libreoffice.RECALC_ALWAYS = profile
    parser = SheetTables()
    parser.feed((tmp_path / f"{built.stem}.html").read_text(encoding="utf-8", errors="replace"))
    values = openpyxl.load_workbook(built, data_only=True)
    assert len(parser.sheets) == len(values.worksheets)
    wrong, seen = [], 0
    for ws, shown in zip(values.worksheets, parser.sheets, strict=True):
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, bool):
                    seen += 1
                    text = shown[cell.row - 1][cell.column - 1]
                    if text != str(cell.value).upper():
                        wrong.append(f"{ws.title}!{cell.coordinate}: {text!r}")
    assert seen >= 10 and not wrong, wrong[:10]


# ---- formats as printed ------------------------------------------------------------------

def test_numbers_print_in_one_style(rendered: Rendered) -> None:
    """Thousands separated in percentages as in multiples; the Simulation's drivers as the
    Inputs show them; figures in billions to their digits; bins without '-0'."""
    text = "\n".join(rendered.pages)
    assert "12,753.9%" in text and "1,499.1x" in text     # Zhipu's premium and P/S
    assert "60.0%" in text.split("Settings (build-time")[1].split("Draws")[0]
    assert "1,000 bn" in text and not re.search(r"\d,\d{3}\.0000 bn", text)
    assert not re.search(r"(?<![\d.])-0(\.0+)? to ", text)
    book = openpyxl.load_workbook(rendered.workbook)
    percent = {c.number_format for ws in book.worksheets for row in ws.iter_rows()
               for c in row if "%" in c.number_format}
    assert percent and all(f.startswith("#,##") for f in percent), percent
    assert {int(ws.page_setup.paperSize) for ws in book.worksheets} == {8}   # A3, each sheet


def test_the_cells_of_a_tall_row_share_its_top_line(rendered: Rendered) -> None:
    """A row made tall for wrapped text (Functions, Facts) puts every cell on its top line:
    a short cell left at the bottom reads as part of the row below."""
    book = openpyxl.load_workbook(rendered.workbook)
    low = [f"{ws.title}!{c.coordinate}" for ws in book.worksheets
           for number, dimension in ws.row_dimensions.items() if dimension.customHeight
           for c in ws[number] if c.value is not None and c.alignment.vertical != "top"]
    tall = sum(1 for ws in book.worksheets for d in ws.row_dimensions.values()
               if d.customHeight)
    assert tall > 10 and not low, low[:10]
