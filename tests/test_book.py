"""The workbook writer (xlfuncs/workbook/book.py) on its own: each cell's XML and cached
value, the styles, the package's fixed times and fingerprint, and the atomic save with
its leftovers. Expected values are written out by hand; a tiny book is built, never the
article's, so this runs first against every mutant of book.py."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from xlfuncs.workbook import book as bk
from xlfuncs.workbook.book import (
    FORMULA,
    HEADER,
    INPUT,
    LINK,
    NOTE,
    TEXT,
    TITLE,
    UNIT,
    Book,
    Cell,
    SaveError,
    Style,
    atomic_write,
    cached_values,
    number_text,
    remove_stale_temporaries,
)
from xlfuncs.workbook.fit import fit_sheet

STR, ERR, BOOL = b' t="str"', b' t="e"', b' t="b"'


def test_cached_numbers_keep_twelve_digits_and_typed_ones_all() -> None:
    assert number_text(1 / 3, rounded=True) == b"0.333333333333"
    assert number_text(1 / 3, rounded=False) == b"0.3333333333333333"
    assert number_text(2.5, rounded=True) == b"2.5"


def test_a_float_column_caches_numbers_blanks_errors_and_never_inf() -> None:
    data = np.array([1.5, np.nan, np.inf, -np.inf, 2 / 3, 7.0])
    errors = np.array([None, None, None, None, None, "#N/A"], dtype=object)
    assert cached_values(data, errors) == [(b"", b"1.5"), (STR, b""), (ERR, b"#NUM!"),
                                           (ERR, b"#NUM!"), (b"", b"0.666666666667"),
                                           (ERR, b"#N/A")]
    assert cached_values(np.array([2 / 3]), np.array([None], dtype=object),
                         rounded=False) == [(b"", b"0.6666666666666666")]


def test_an_object_column_caches_text_flags_dates_and_errors() -> None:
    data = np.array(["HKD", None, True, False, "#DIV/0!", dt.date(2025, 1, 1), "a<b", "",
                     float("nan"), "x\x01y"], dtype=object)
    errors = np.array([None] * 9 + [None], dtype=object)
    errors[1] = "#VALUE!"
    assert cached_values(data, errors) == [
        (STR, b"HKD"), (ERR, b"#VALUE!"), (BOOL, b"1"), (BOOL, b"0"), (ERR, b"#DIV/0!"),
        (b"", b"45658.0"),              # Excel's serial of 2025-01-01
        (STR, b"a&lt;b"), (STR, b""), (ERR, b"#NUM!"),
        (STR, "x\N{REPLACEMENT CHARACTER}y".encode())]  # XML 1.0 forbids U+0001


@pytest.fixture
def book() -> Book:
    return Book()


def test_rows_are_numbered_from_one_and_cells_lettered_from_a(book: Book) -> None:
    sheet = book.sheet("S")
    one = Cell(b"", b"<v>1</v>", 0)
    text_style = book.style_id(Style())  # a label's style must be one the book made
    assert sheet.append([one, None, Cell(STR, b"<v>x</v>", text_style)]) == 1
    sheet.blank_rows()
    sheet.blank_rows(2)
    assert sheet.append([one]) == 5
    fit_sheet(sheet)  # the first rows wait for the save, where their labels size them
    assert sheet.xml[0] == (b'<row r="1"><c r="A1" s="0"><v>1</v></c>'
                            b'<c r="C1" s="%d" t="str"><v>x</v></c></row>' % text_style)
    assert sheet.xml[1:4] == [b'<row r="2"></row>', b'<row r="3"></row>', b'<row r="4"></row>']


def test_sheet_titles_page_setup_and_widths(book: Book) -> None:
    assert book.sheet("x" * 31).title == "x" * 31  # Excel's limit
    with pytest.raises(ValueError, match="31 characters"):
        book.sheet("y" * 32)
    sheet = book.sheet("S")
    assert sheet.ws.page_setup.orientation == "landscape"
    sheet.fit_width()
    assert sheet.ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert (sheet.ws.page_setup.fitToWidth, sheet.ws.page_setup.fitToHeight) == (1, 0)
    sheet.widths(10, 20)
    assert [sheet.ws.column_dimensions[c].width for c in "AB"] == [10, 20]


def test_text_that_starts_like_a_formula_gets_the_quote_prefix(book: Book) -> None:
    sheet = book.sheet("S")
    plain = book.style_id(TEXT)
    quoted = book.style_id(Style(quote_prefix=True))
    assert plain != quoted
    for text in ("=1+1", "+1", "-1", "@SUM(A1)"):
        assert sheet.text(text).style == quoted, text
    for text in ("x=1", "1", "a+b", ""):
        assert sheet.text(text).style == plain, text
    assert sheet.text("<b>").inner == b'<is><t xml:space="preserve">&lt;b&gt;</t></is>'
    long = sheet.text("z" * 40_000).inner
    assert long.count(b"z") == 32_767  # Excel's limit for one cell's text
    assert sheet.text("=x", style=Style(quote_prefix=True)).style == quoted


def test_values_and_formulas_as_cells(book: Book) -> None:
    sheet = book.sheet("S")
    styled_blank = sheet.value(None)  # an input cell: kept for its fill, even when blank
    assert styled_blank is not None and (styled_blank.kind, styled_blank.inner) == (b"", b"")
    assert sheet.value(float("nan")) is not None
    assert sheet.value(None, TEXT) is None and sheet.value(float("nan"), FORMULA) is None
    assert sheet.value(1 / 3).inner == b"<v>0.3333333333333333</v>"  # a typed input: exact
    assert sheet.value("=HYPERLINK()").kind == b' t="inlineStr"'
    assert sheet.value(True).kind == BOOL
    cell = sheet.formula("=A1/3", 1 / 3)
    assert (cell.kind, cell.inner) == (b"", b"<f>A1/3</f><v>0.333333333333</v>")
    assert sheet.formula('=IF(A1<0,"x","")', "").inner == (
        b'<f>IF(A1&lt;0,"x","")</f><v></v>')
    with pytest.raises(ValueError, match="not a formula"):
        sheet.formula("A1/3", 1.0)


def test_a_column_of_cells_at_once(book: Book) -> None:
    sheet = book.sheet("S")
    style = book.style_id(FORMULA)
    cached = [(b"", b"2"), (STR, b""), (b"", b"5"), (STR, b""), (STR, b"HKD"), (b"", b"")]
    cells = sheet.column([b"A1*2", None, None, b"B4", None, None], cached, FORMULA)
    assert cells == [Cell(b"", b"<f>A1*2</f><v>2</v>", style), None,
                     Cell(b"", b"<v>5</v>", style), Cell(STR, b"<f>B4</f><v></v>", style),
                     Cell(STR, b"<v>HKD</v>", style),  # only an empty text is no cell
                     Cell(b"", b"<v></v>", style)]
    assert sheet.column(None, [(b"", b"7")], FORMULA) == [Cell(b"", b"<v>7</v>", style)]


def test_names_are_checked_as_excel_checks_them(book: Book) -> None:
    for good in ("USD_HKD", "_x", "ABCD1", "a.b"):
        book.name(good, "S!$A$1")
    for bad in ("A1", "XFD10", "1abc", "a b", ""):
        with pytest.raises(ValueError, match="not a valid Excel name"):
            book.name(bad, "S!$A$1")


def _small_book() -> bytes:
    book = Book()
    sheet = book.sheet("First")
    styles = (INPUT, FORMULA, HEADER, TITLE, NOTE, LINK, UNIT)
    sheet.append([sheet.value(1.0, style) for style in styles])
    sheet.append([sheet.value(2.0, INPUT), sheet.value(2.0, INPUT)])  # the same style again
    second = book.sheet("Second")
    second.append([second.formula("=First!A1*2", 2.0)])
    book.name("Rate", "First!$A$1")
    return book.to_bytes()


@pytest.fixture(scope="module")
def small() -> bytes:
    return _small_book()


def test_the_package_has_fixed_times_and_its_fingerprint(small: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(small)) as archive:
        infos = archive.infolist()
        parts = {info.filename: archive.read(info) for info in infos}
    assert {info.date_time for info in infos} == {(2026, 2, 24, 0, 0, 0)}  # the article's day
    assert {info.external_attr >> 16 for info in infos} == {0o644}
    assert {info.compress_type for info in infos} == {zipfile.ZIP_DEFLATED}
    core = parts["docProps/core.xml"]
    assert core.count(b">2026-02-24T00:00:00Z<") == 2 and b">xlfuncs<" in core
    digest = hashlib.sha256()
    for name in sorted(parts):
        if name != "docProps/custom.xml":
            digest.update(name.encode() + b"\0" + parts[name] + b"\0")
    assert digest.hexdigest().encode() in parts["docProps/custom.xml"]
    assert bk.content_fingerprint(parts) == digest.hexdigest()
    assert b'fullCalcOnLoad="1"' in parts["xl/workbook.xml"]
    assert b"_styles" not in parts["xl/workbook.xml"]
    assert b"<f>First!A1*2</f><v>2</v>" in parts["xl/worksheets/sheet2.xml"]
    assert _small_book() == small  # the same input, the same bytes


def test_the_styles_read_back_as_the_modelling_colours(tmp_path: Path, small: bytes) -> None:
    path = tmp_path / "small.xlsx"
    path.write_bytes(small)
    ws = openpyxl.load_workbook(path)["First"]
    cells = {name: ws.cell(row=1, column=i + 1) for i, name in
             enumerate(("input", "formula", "header", "title", "note", "link", "unit"))}

    def look(cell: openpyxl.cell.Cell) -> tuple:
        return (cell.font.color.rgb, cell.font.b, cell.font.i, cell.font.sz,
                cell.fill.fill_type, cell.fill.fgColor.rgb if cell.fill.fill_type else None,
                cell.number_format, cell.alignment.wrap_text, cell.alignment.vertical,
                cell.quotePrefix)

    assert look(cells["input"]) == ("000000FF", False, False, 11, "solid", "00FFFFCC",
                                    "General", None, None, False)
    assert look(cells["formula"]) == ("00000000", False, False, 11, None, None, "General",
                                      None, None, False)
    assert look(cells["header"]) == ("00000000", True, False, 11, "solid", "00DDEBF7",
                                     "General", True, "top", False)
    assert look(cells["title"])[:4] == ("00000000", True, False, 14)
    assert look(cells["note"])[:4] == ("00808080", False, True, 11)
    assert look(cells["link"])[:4] == ("00008000", False, False, 11)
    assert look(cells["unit"])[:4] == ("00808080", False, True, 11)
    assert ws.cell(row=2, column=2).font.color.rgb == "000000FF"


# ---- saving ----------------------------------------------------------------------------


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporaries_go_by_age_and_by_their_writer(tmp_path: Path) -> None:
    target = tmp_path / "book.xlsx"
    now = time.time()
    live, dead = os.getpid(), _dead_pid()
    ages = {  # name -> (age in seconds, removed?) : an hour for any, ten minutes if dead
        f".book.xlsx.{live}.abcdefgh.tmp": (3600, False),
        f".book.xlsx.{live}.abcdefgi.tmp": (3601, True),
        f".book.xlsx.{live}.abcdefgj.tmp": (601, False),
        f".book.xlsx.{dead}.abcdefgk.tmp": (600, False),
        f".book.xlsx.{dead}.abcdefgl.tmp": (601, True),
        ".book.xlsx.abcdefgm.tmp": (601, True),          # no process id: none runs
        f".other.xlsx.{dead}.abcdefgn.tmp": (9999, False),  # another file's
        f"book.xlsx.{dead}.abcdefgo.tmp": (9999, False),    # not a temporary's name
    }
    for name, (age, _) in ages.items():
        (tmp_path / name).write_bytes(b"")
        os.utime(tmp_path / name, (now - age, now - age))
    removed = remove_stale_temporaries(target, now=now)
    assert sorted(p.name for p in removed) == sorted(n for n, (_, r) in ages.items() if r)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        n for n, (_, r) in ages.items() if not r)


def test_whether_a_writer_still_runs() -> None:
    assert bk._running(str(os.getpid())) is True
    assert bk._running(str(_dead_pid())) is False
    assert bk._running(None) is False
    assert bk._running("9" * 30) is True  # cannot judge: keep the file
    assert bk._running("1") is True       # init: someone else's process


def test_a_new_file_gets_the_umask_mode_and_a_replaced_one_keeps_its_own(
        tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        assert bk.new_file_mode() == 0o644
        os.umask(0)
        assert bk.new_file_mode() == 0o666
        os.umask(0o027)
        assert bk.new_file_mode() == 0o640
        assert os.umask(0o027) == 0o027  # restored
        target = tmp_path / "deep" / "er" / "book.xlsx"
        atomic_write(target, b"one")
        assert target.read_bytes() == b"one" and target.stat().st_mode & 0o777 == 0o640
        target.chmod(0o600)
        atomic_write(target, b"two")
        assert target.read_bytes() == b"two" and target.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(previous)
    assert sorted(p.name for p in target.parent.iterdir()) == ["book.xlsx"]


def test_a_failed_rename_leaves_no_temporary_and_says_what_is_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "book.xlsx"
    seen: list[str] = []

    def refuse(source: str, destination: Path) -> None:
        seen.append(Path(source).name)
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(bk.os, "replace", refuse)
    with pytest.raises(SaveError) as new:
        atomic_write(target, b"data")
    assert str(new.value) == f"{target}: not written (Permission denied)"
    target.write_bytes(b"old")
    with pytest.raises(SaveError) as kept:
        atomic_write(target, b"data")
    assert str(kept.value) == (f"{target}: not written (Permission denied); "
                               "the earlier file is unchanged")
    # each temporary was named so that a later save recognises it, and is gone
    assert all(bk.temporary_pattern("book.xlsx").fullmatch(name) for name in seen)
    assert seen[0].startswith(f".book.xlsx.{os.getpid()}.") and len(seen) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]
    assert target.read_bytes() == b"old"


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="no signal masks here")
def test_signals_are_held_while_the_temporary_is_made() -> None:
    with bk._signals_held():
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    after = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    assert {signal.SIGTERM, signal.SIGINT, signal.SIGHUP} <= blocked
    assert not {signal.SIGTERM, signal.SIGINT, signal.SIGHUP} & after


def test_a_cached_boolean_shows_true_false_unless_its_cell_has_a_format_of_its_own(
        book: Book) -> None:
    sheet = book.sheet("S")
    flag = sheet.formula("=A1>0", True)
    assert book.style_of(flag.style).number_format == bk.BOOLEAN_FORMAT
    percent = Style(number_format="0.0%")
    assert book.style_of(sheet.formula("=A1>0", True, percent).style).number_format == "0.0%"
    assert book.style_of(sheet.formula("=A1*2", 2.0).style).number_format == "General"


def test_the_first_fit_rows_size_their_columns_and_the_rows_below_do_not(book: Book) -> None:
    """Labels size their columns over the first FIT_ROWS (400) rows, row 400 included;
    a table's rows below are left as written."""
    sheet = book.sheet("S")
    long = "a label long enough to widen its column"
    for row in range(1, 402):
        cells = [None, None, None, sheet.value(1.0)]
        if row == 400:
            cells[1] = sheet.text(long)  # B400, with C400 filled: it cannot spill
            cells[2] = sheet.value(1.0)
        if row == 401:
            cells[0] = sheet.text(long)  # A401, with B401 filled
            cells[1] = sheet.value(1.0)
        sheet.append(cells)
    assert bk.FIT_ROWS == 400 and sorted(sheet.pending)[-1] == 400
    fit_sheet(sheet)
    dims = sheet.ws.column_dimensions
    assert dims["B"].width > 30
    assert "A" not in dims or not dims["A"].width
