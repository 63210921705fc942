"""The change detector's diff helper (tests/workbook_diff.py) on workbooks that differ in
cells we changed ourselves, by editing the XML inside the zip."""

from __future__ import annotations

import html
import io
import re
import zipfile

import pytest

from xlfuncs.workbook import SHEETS, workbook_bytes

from .workbook_diff import CellChange, describe, diff_workbooks


@pytest.fixture(scope="module")
def original() -> bytes:
    return workbook_bytes()


def edited(content: bytes, edits: dict[str, list[tuple[bytes, bytes]]]) -> bytes:
    """A copy of the zip with exact byte replacements in some parts (each must match once)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    for part, replacements in edits.items():
        for old, new in replacements:
            assert parts[part].count(old) == 1, (part, old)
            parts[part] = parts[part].replace(old, new)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)
    return buffer.getvalue()


def part(title: str) -> str:
    """The zip part of a sheet: sheets are written in SHEETS order, sheet1.xml first."""
    return f"xl/worksheets/sheet{SHEETS.index(title) + 1}.xml"


def cell_xml(content: bytes, part: str, ref: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = archive.read(part)
    (found,) = re.findall(rb'<c r="' + ref.encode() + rb'"[^>]*>.*?</c>', xml)
    return found


def test_identical_workbooks_have_no_difference(original: bytes) -> None:
    diff = diff_workbooks(original, edited(original, {}))  # same parts, zipped again
    assert not diff and describe(diff) == ""


def test_a_changed_cached_value_a_formula_and_a_text_are_each_named(original: bytes) -> None:
    # E6 of Valuation is MiniMax's HK$ value
    value_cell = cell_xml(original, part("Valuation"), "E6")
    assert value_cell.endswith(b"<v>300</v></c>")
    formula_cell = cell_xml(original, part("Checks"), "D6")
    formula = re.search(rb"<f>(.*?)</f>", formula_cell).group(1)  # type: ignore[union-attr]
    title = cell_xml(original, part("Inputs"), "A1")
    assert b">Inputs<" in title
    changed = edited(original, {
        part("Valuation"): [(value_cell, value_cell.replace(b"<v>300<", b"<v>301<"))],
        part("Checks"): [(formula_cell, formula_cell.replace(
            b"<f>" + formula, b"<f>" + formula + b"+0"))],
        part("Inputs"): [(title, title.replace(b">Inputs<", b">Inputz<"))],
    })
    diff = diff_workbooks(original, changed)
    assert [(c.sheet, c.ref) for c in diff.cells] == [
        ("Inputs", "A1"), ("Valuation", "E6"), ("Checks", "D6")]
    by_ref = {c.ref: c for c in diff.cells}
    assert by_ref["E6"].old[1] == "300" and by_ref["E6"].new[1] == "301"  # type: ignore[index]
    assert by_ref["E6"].old[0] == by_ref["E6"].new[0]  # type: ignore[index]
    assert by_ref["D6"].new[0] == by_ref["D6"].old[0] + "+0"  # type: ignore[index,operator]
    assert by_ref["A1"].old == (None, "Inputs") and by_ref["A1"].new == (None, "Inputz")
    assert not diff.other_parts and diff.changed_sheets == ["Inputs", "Valuation", "Checks"]
    message = describe(diff)
    assert "3 cells changed" in message and "Valuation (1)" in message
    assert "Valuation!E6: value '300' -> '301' (formula =IF(" in message
    assert "Inputs!A1: value 'Inputs' -> 'Inputz'" in message
    check = html.unescape(formula.decode())  # as written in the file, XML entities read
    assert check == 'IF(OR(B6="",C6=""),"",B6>=C6)'
    assert (f"Checks!D6: formula ={check}, value '1' -> formula ={check}+0, value '1'"
            in message)


def test_the_message_lists_at_most_the_limit_and_counts_the_rest(original: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(original)) as archive:
        burn = archive.read(part("Burn"))
    numbers = re.findall(rb'<c r="[A-Z]+\d+"[^>]*><f>[^<]*</f><v>[0-9.]+</v></c>', burn)[:25]
    assert len(numbers) == 25
    changed = edited(original, {part("Burn"): [
        (cell, cell.replace(b"</v>", b"1</v>")) for cell in numbers]})
    diff = diff_workbooks(original, changed)
    assert len(diff.cells) == 25 and {c.sheet for c in diff.cells} == {"Burn"}
    message = describe(diff, limit=20)
    assert message.count("\n  Burn!") == 20 and "... and 5 more cells" in message


def test_a_removed_cell_a_new_sheet_and_other_parts_are_reported(original: bytes) -> None:
    value_cell = cell_xml(original, part("Valuation"), "E6")
    changed = edited(original, {
        part("Valuation"): [(value_cell, b"")],
        "xl/styles.xml": [(b"<cellXfs", b"<!-- x --><cellXfs")]})
    diff = diff_workbooks(original, changed)
    assert diff.cells == [CellChange("Valuation", "E6", diff.cells[0].old, None)]
    assert diff.other_parts == ["xl/styles.xml"]
    assert "Valuation!E6: formula =IF(" in describe(diff)
    assert "value '300' -> (no cell)" in describe(diff) and "xl/styles.xml" in describe(diff)
