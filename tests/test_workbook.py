"""The shared workbook: layout, limits, cached values, safety of saving and reading."""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xlfuncs.cli import main
from xlfuncs.data import bundled_path
from xlfuncs.sample import HOSTILE_NAMES, write_universe
from xlfuncs.workbook import (
    DEFAULT_OUT,
    SHEETS,
    TargetEditedError,
    build,
    workbook_bytes,
)
from xlfuncs.workbook.book import SaveError
from xlfuncs.workbook.model import ASSUMPTIONS
from xlfuncs.workbook.safety import UnsafeWorkbookError, check_zip, edited_since_built

from .helpers import documentation
from .workbook_diff import describe, diff_workbooks

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / DEFAULT_OUT
NOT_PORTABLE = re.compile(r"\b(XLOOKUP|XMATCH|LET|LAMBDA|FILTER|SORT|SORTBY|UNIQUE|SEQUENCE|"
                          r"IFS|SWITCH|MAXIFS|MINIFS|TEXTJOIN|CONCAT|_xlfn|_xlws)\b", re.I)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("book") / "llm_valuation.xlsx"
    build(out=path)
    return path


@pytest.fixture(scope="module")
def formulas(built: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(built)


@pytest.fixture(scope="module")
def cached(built: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(built, data_only=True)


def formula_cells(book: openpyxl.Workbook):
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    yield sheet.title, cell


def row_of(book: openpyxl.Workbook, sheet: str, company: str) -> dict[str, object]:
    """A company's row of a table sheet, keyed by 'header (unit)'."""
    ws = book[sheet]
    headers = [c.value for c in ws[4]]
    units = [c.value for c in ws[5]]
    for row in ws.iter_rows(min_row=6, values_only=True):
        if row[0] == company:
            return {f"{h} ({u})": v for h, u, v in zip(headers, units, row, strict=False)}
    raise KeyError(company)


# ---- the committed file and determinism ---------------------------------------------


def test_committed_workbook_is_the_output_of_the_current_code() -> None:
    """A change detector, not a correctness test: it names what changed, for a person to
    check, and never asks for a blind rebuild (that would commit a bug with the file)."""
    assert COMMITTED.exists(), "run xlfuncs build and commit workbooks/llm_valuation.xlsx"
    committed, current = COMMITTED.read_bytes(), workbook_bytes()
    if committed != current:
        pytest.fail(
            f"{DEFAULT_OUT} differs from what the current code writes.\n"
            f"{describe(diff_workbooks(committed, current))}\n"
            "Check that EACH change above is intended (a changed number may be a bug the "
            "other tests missed); only then rebuild with `xlfuncs build --force` and commit "
            "the file with the change that explains it.", pytrace=False)


def test_same_input_gives_the_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a.xlsx", tmp_path / "b" / "c.xlsx"
    build(out=first)
    build(out=second)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2026, 2, 24, 0, 0, 0)}


# ---- layout and Excel's limits --------------------------------------------------------


def test_sheets_names_tables_and_limits(formulas: openpyxl.Workbook) -> None:
    assert formulas.sheetnames == list(SHEETS)
    assert all(len(title) <= 31 for title in formulas.sheetnames)
    names = set(formulas.defined_names)
    for assumption in ASSUMPTIONS:
        assert assumption.name in names
    assert {"Checks_OK", "Card_Company", "Scenario_Company", "Company_Cash",
            "Grid_Multiples", "Grid_Years", "China_AI_Market_2030"} <= names
    for name in names:
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name)
        assert not re.fullmatch(r"[A-Za-z]{1,3}\d+", name), f"{name} looks like a cell"
    tables = [t for ws in formulas.worksheets for t in ws.tables]
    assert tables == ["FactsTable"] and len(set(tables)) == len(tables)
    facts_table = formulas["Facts"].tables["FactsTable"]
    header = [c.value for c in formulas["Facts"][5]]
    assert [c.name for c in facts_table.tableColumns] == header
    assert all(isinstance(h, str) for h in header)


def test_validations_have_messages_and_short_lists(formulas: openpyxl.Workbook) -> None:
    inputs = formulas["Inputs"]
    validated = set()
    for validation in inputs.data_validations.dataValidation:
        assert validation.prompt and validation.showInputMessage
        assert validation.showErrorMessage and validation.error
        validated |= {str(r) for r in validation.sqref.ranges}
    for row in range(6, 6 + len(ASSUMPTIONS)):
        assert any(re.fullmatch(rf"B{row}", r) for r in validated), row
    for ws in formulas.worksheets:
        for validation in ws.data_validations.dataValidation:
            if validation.type == "list":
                formula = validation.formula1 or ""
                assert formula.startswith("=") or len(formula) <= 255  # Excel's limit
    card = formulas["Company card"].data_validations.dataValidation
    assert card and card[0].type == "list" and card[0].formula1.startswith("=Valuation!$A$6")


def test_inputs_are_blue_formulas_black_links_green(formulas: openpyxl.Workbook) -> None:
    inputs = formulas["Inputs"]
    _, where = named_cell(formulas, "USD_HKD")
    usd_hkd = inputs[where]
    assert inputs[f"G{usd_hkd.row}"].value == "USD_HKD"  # the name is shown beside it
    assert usd_hkd.font.color.rgb.endswith("0000FF") and usd_hkd.fill.fgColor.rgb.endswith(
        "FFFFCC")
    valuation = formulas["Valuation"]
    link, calc = valuation["B6"], valuation["E6"]
    assert link.value.startswith("=Facts!") and link.font.color.rgb.endswith("008000")
    assert calc.value.startswith("=IF(") and calc.font.color.rgb.endswith("000000")
    # everywhere: a green cell brings a value in (a reference, or a story input checked as
    # it comes onto the DCF sheet); one that computes is black, however short (=D23*D24)
    green = re.compile(r"=(?:IF\(ISNUMBER\(\w+\),\w+,NA\(\)\)|IF\([^)]*\)|"
                       r"INDEX\(.*MATCH\(.*\)\)|(?:0\+)?(?:(?:(?:'[^']+'|\w+)!)?\$?[A-Z]{1,3}\$?\d+|[A-Za-z_][\w.]*))")
    for title, cell in formula_cells(formulas):
        if cell.font.color is not None and str(cell.font.color.rgb).endswith("008000"):
            assert green.fullmatch(cell.value), (title, cell.coordinate, cell.value)
        elif re.fullmatch(r"=\$?[A-Z]{1,3}\$?\d+[*/+-]\$?[A-Z]{1,3}\$?\d+", cell.value):
            assert str(cell.font.color.rgb).endswith("000000"), (title, cell.coordinate)


def test_master_check_is_in_every_sheets_frozen_header(formulas: openpyxl.Workbook,
                                                       cached: openpyxl.Workbook) -> None:
    for ws in formulas.worksheets:
        assert ws["C1"].value == "=Checks_OK", ws.title
        assert cached[ws.title]["C1"].value is True, ws.title
        assert ws.freeze_panes and int(re.sub(r"[A-Z]", "", ws.freeze_panes)) > 1, ws.title
    assert cached["About"]["C1"].value is True


def test_units_row_on_every_table_sheet(formulas: openpyxl.Workbook) -> None:
    for title in ("Valuation", "Burn"):
        ws = formulas[title]
        units = [c.value for c in ws[5]]
        assert all(units), (title, units)
        assert ws.print_title_rows.replace("$", "") == "4:5"   # headers and units


# ---- formulas ---------------------------------------------------------------------------


def test_formulas_are_portable(formulas: openpyxl.Workbook) -> None:
    # cached values are checked against both engines (tests/test_engines.py) and by hand
    # (tests/test_workbook_meaning.py); here: nothing Excel-only, and many formulas
    count = 0
    for title, cell in formula_cells(formulas):
        assert not NOT_PORTABLE.search(cell.value), (title, cell.coordinate, cell.value)
        count += 1
    assert count > 300


PORTABLE = {"IF", "OR", "AND", "NOT", "ISNA", "ISNUMBER", "ISTEXT", "ISERROR", "MATCH",
            "CHOOSE", "INDEX", "ROW", "COLUMN", "COLUMNS", "DATEDIF", "TRIM", "LN", "NPV",
            "COUNT", "COUNTIF", "ROWS", "VLOOKUP", "SUM", "SUMPRODUCT", "MAX", "MIN", "INT",
            "ABS", "NA"}  # the list the README promises; every registry formula keeps to it


def test_the_readme_promises_exactly_the_portable_functions() -> None:
    text = " ".join(documentation().split())
    listed = re.search(r"only functions Sheets documents: ([A-Z, ]+) and ([A-Z]+)\.", text)
    assert listed is not None
    assert {*listed.group(1).split(", "), listed.group(2)} == PORTABLE


def test_formulas_use_only_functions_every_engine_has(formulas: openpyxl.Workbook) -> None:
    """The shared workbook calls no add-in function (it would be #NAME? without it): only
    a build for a route has those (tests/test_workbook_routes.py)."""
    used = set()
    for _, cell in formula_cells(formulas):
        used |= set(re.findall(r"([A-Z][A-Z0-9.]*)\(", cell.value))
    assert used and used <= PORTABLE, used - PORTABLE


def test_one_formula_per_column_the_same_down_the_rows(formulas: openpyxl.Workbook) -> None:
    companies = sum(1 for c in formulas["Valuation"]["A"][5:] if c.value)
    for title in ("Valuation", "Burn"):
        ws = formulas[title]
        for column in ws.iter_cols(min_row=6, max_row=5 + companies):
            # relative rows as offsets from the cell's own row (Excel's R1C1 view)
            templates = {re.sub(r"(?<=[A-Z])(\d+)\b", lambda m, r=c.row: f"R[{int(m[1]) - r}]",
                                c.value)
                         for c in column if isinstance(c.value, str) and c.value.startswith(
                             "=IF(")}
            assert len(templates) <= 1, (title, column[0].column_letter, templates)


def test_no_input_values_typed_inside_formulas(formulas: openpyxl.Workbook) -> None:
    typed = {"7.8", "6.91", "11.5", "7.75", "7.85", "0.2", "0.5", "0.01"}
    for title, cell in formula_cells(formulas):
        if title == "Functions":
            continue  # the live examples are typed by design
        numbers = set(re.findall(r"(?<![A-Z$\d.])\d+\.\d+", cell.value))
        assert not numbers & typed, (title, cell.coordinate, cell.value)


def test_hand_worked_figures_in_the_workbook(cached: openpyxl.Workbook) -> None:
    zhipu = row_of(cached, "Valuation", "Zhipu")
    revenue_hkd = 0.191 * 7.8 / 6.91
    assert zhipu["Annualised revenue (HK$ bn)"] == pytest.approx(revenue_hkd)
    assert zhipu["Price to sales (x)"] == pytest.approx(323.2 / revenue_hkd)
    assert zhipu["Market value (US$ bn)"] == pytest.approx(323.2 / 7.8)
    assert zhipu["Months in period (months)"] == 12
    minimax = row_of(cached, "Valuation", "MiniMax")
    assert minimax["Implied share price (HK$ a share)"] == pytest.approx(980.10)
    assert minimax["Months in period (months)"] == 9
    assert minimax["Annualised revenue (bn, reported currency)"] == pytest.approx(
        0.05344 * 12 / 9)
    openai = row_of(cached, "Valuation", "OpenAI")
    assert openai["Market value (HK$ bn)"] == pytest.approx(850 * 7.8)
    assert openai["Price to sales (x)"] is None  # no revenue in the article: blank, not 0
    cambricon = row_of(cached, "Valuation", "Cambricon")
    assert cambricon["Net profit (reported, mid) (bn)"] == pytest.approx(2.0)
    burn = row_of(cached, "Burn", "Zhipu")
    assert burn["Months in period (months)"] == 42
    assert burn["Monthly burn, loss-based (bn a month, reported currency)"] == pytest.approx(
        6.238 / 42)
    assert burn["Runway (months)"] == pytest.approx(4.5 / (6.238 / 42 * 7.8 / 6.91))
    caps = {r[0]: r[1:4] for r in cached["Burn"].iter_rows(values_only=True) if r[0]}
    assert caps["Amount (USD m)"] == (115, 125, 135)
    assert caps["Growth on the year before (%)"][1:] == pytest.approx((10 / 115, 10 / 125))
    assert caps["Growth a year, 2026 to 2028 (%)"][0] == pytest.approx((135 / 115) ** 0.5 - 1)
    checks = cached["Checks"]
    results = [r[3] for r in checks.iter_rows(min_row=6, values_only=True) if r[0]]
    assert results and all(r is True for r in results)
    about = {r[0]: r[1] for r in cached["About"].iter_rows(values_only=True) if r[0]}
    sha = hashlib.sha256(bundled_path().read_bytes()).hexdigest()
    assert about["Data layer 1"] == f"xlfuncs/data/facts.csv (SHA-256 {sha})"


def test_readers_that_do_not_calculate_see_numbers(built: Path) -> None:
    frame = pd.read_excel(built, sheet_name="Valuation", header=3, skiprows=[4],
                          engine="openpyxl")
    zhipu = frame[frame["Company"] == "Zhipu"].iloc[0]
    assert zhipu["Price to sales"] == pytest.approx(1499.07, abs=0.01)
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(str(built)).get_sheet_by_name("Burn").to_python()
    zhipu_row = next(r for r in sheet if r and r[0] == "Zhipu")
    assert 42 in zhipu_row


def test_text_from_data_is_never_a_formula(tmp_path: Path) -> None:
    data = write_universe(tmp_path / "hostile.csv", 20, seed=3, hostile_names=True)
    out = build(data, tmp_path / "hostile.xlsx").path
    book = openpyxl.load_workbook(out)
    facts = [c.value for c in book["Facts"]["A"][5:]]
    for name in HOSTILE_NAMES:
        if "\t" in name:
            continue
        assert name in facts, name
    for cell in book["Facts"]["A"][5:]:
        assert cell.data_type == "s", (cell.coordinate, cell.value)
    valuation_names = [c for c in book["Valuation"]["A"][5:]]
    assert all(c.data_type == "s" for c in valuation_names)


# ---- saving and reading safely --------------------------------------------------------


def test_an_interrupted_save_leaves_the_old_file(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "book.xlsx"
    build(out=target)
    before = target.read_bytes()

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(SaveError, match=r"disk full.*the earlier file is unchanged"):
        build(out=target, force=True)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["book.xlsx"]  # no temporary left


def named_cell(book: openpyxl.Workbook, name: str) -> tuple[str, str]:
    """(sheet, cell) of a single-cell defined name."""
    ((sheet, ref),) = book.defined_names[name].destinations
    return sheet, ref.replace("$", "")


def edit(path: Path, changes: dict[tuple[str, str] | str, object]) -> None:
    """Change cells (by (sheet, cell) or by defined name) as a colleague would."""
    book = openpyxl.load_workbook(path)
    for where, value in changes.items():
        sheet, cell = named_cell(book, where) if isinstance(where, str) else where
        book[sheet][cell] = value
    book.save(path)


def test_an_edited_workbook_is_not_overwritten_and_its_inputs_carry_over(
        tmp_path: Path) -> None:
    target = tmp_path / "book.xlsx"
    build(out=target)
    assert not edited_since_built(target)
    first_company_row = 6 + len(ASSUMPTIONS) + 1 + 3  # assumptions, a link, 3 header rows
    edit(target, {"USD_HKD": 7.82, ("Inputs", f"B{first_company_row}"): 9.0,
                  "Card_Company": "OpenAI"})
    assert edited_since_built(target)
    with pytest.raises(TargetEditedError, match="--keep-inputs"):
        build(out=target)
    report = build(out=tmp_path / "rebuilt.xlsx", keep_inputs=target)
    assert any(line.startswith("USD_HKD: 7.8 -> 7.82") for line in report.carried)
    assert any(line.startswith("MiniMax cash: 4.5 -> 9") for line in report.carried)
    assert any(line.startswith("Card_Company: Zhipu -> OpenAI") for line in report.carried)
    rebuilt = openpyxl.load_workbook(report.path, data_only=True)
    sheet, where = named_cell(rebuilt, "USD_HKD")
    assert rebuilt[sheet][where].value == 7.82
    assert row_of(rebuilt, "Valuation", "OpenAI")["Market value (HK$ bn)"] == pytest.approx(
        850 * 7.82)
    assert rebuilt["Company card"]["B6"].value == "OpenAI"
    assert rebuilt["Company card"]["B7"].value == pytest.approx(850 * 7.82)
    build(out=target, force=True)
    assert not edited_since_built(target)


def test_untrusted_files_are_checked_before_parsing(tmp_path: Path) -> None:
    text = tmp_path / "notes.xlsx"
    text.write_text("not a workbook")
    with pytest.raises(UnsafeWorkbookError, match="not an Excel workbook"):
        check_zip(text)
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<x/>")
        archive.writestr("xl/workbook.xml", b"\0" * (40 * 1024 * 1024))
    with pytest.raises(UnsafeWorkbookError, match="zip bomb"):
        check_zip(bomb)
    other = tmp_path / "other.xlsx"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(UnsafeWorkbookError, match="not an Excel workbook"):
        check_zip(other)
    with pytest.raises(UnsafeWorkbookError):
        build(out=tmp_path / "new.xlsx", keep_inputs=bomb)
    assert not (tmp_path / "new.xlsx").exists()
    # a file at the target that is not a workbook is someone's: not overwritten either
    with pytest.raises(TargetEditedError):
        build(out=text)
    assert text.read_text() == "not a workbook"


def test_defusedxml_guards_openpyxl() -> None:
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML


# ---- scale and the command line -----------------------------------------------------


def test_ten_thousand_companies_build_with_progress(tmp_path: Path) -> None:
    data = write_universe(tmp_path / "universe.csv", 10_000)
    messages: list[str] = []
    report = build(data, tmp_path / "universe.xlsx", progress=messages.append)
    assert report.companies > 9_900 and report.facts > 40_000
    assert any("Valuation" in m for m in messages) and messages[-1] == "saving"
    with zipfile.ZipFile(report.path) as archive:
        assert archive.testzip() is None


def test_command_line_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.xlsx"
    assert main(["build", "--out", str(out)]) == 0
    assert "checks pass" in capsys.readouterr().out
    edit(out, {"Peer_Multiple": 15})
    assert main(["build", "--out", str(out)]) == 2
    assert "was changed since xlfuncs built it" in capsys.readouterr().err
    assert main(["build", "--out", str(tmp_path / "kept.xlsx"), "--keep-inputs",
                 str(out)]) == 0
    assert "kept input Peer_Multiple: 11.5 -> 15" in capsys.readouterr().out
    assert main(["build", "--out", str(out), "--force"]) == 0


def test_script_wrapper(tmp_path: Path) -> None:
    out = tmp_path / "script.xlsx"
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_workbook.py"),
                             "--out", str(out)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert out.exists() and io.BytesIO(out.read_bytes()).read(2) == b"PK"


def test_charts_scenarios_card_and_functions(built: Path, formulas: openpyxl.Workbook,
                                             cached: openpyxl.Workbook) -> None:
    with zipfile.ZipFile(built) as archive:
        charts = [archive.read(n).decode() for n in archive.namelist()
                  if n.startswith("xl/charts/chart")]
        workbook_xml = archive.read("xl/workbook.xml").decode()
    assert len(charts) == 4  # Charts: 2; Simulation: a histogram per story company
    assert any("<scatterChart>" in c and "'Valuation'!$N$6" in c for c in charts)
    assert any("<barChart>" in c and "'Burn'!$H$6" in c for c in charts)
    assert 'fullCalcOnLoad="1"' in workbook_xml  # Excel recalculates on open anyway
    scenarios = formulas["Scenarios"]
    rules = [r for cf in scenarios.conditional_formatting for r in cf.rules]
    assert any(r.type == "colorScale" for r in rules)
    # the grid's values are worked by hand in tests/test_workbook_meaning.py
    functions = cached["Functions"]
    rows = list(functions.iter_rows(min_row=6, values_only=True))
    from xlfuncs.registry import CATALOG

    assert [r[0] for r in rows] == [e.name for e in CATALOG]
    assert {len(r) for r in rows} == {5}   # no Live column: tests/test_workbook_routes.py


def test_row_labels_are_words_never_a_range_name(tmp_path: Path) -> None:
    """A reader sees 'growing at the Inputs' discount rate', not 'growing at Discount_Rate'
    (the Inputs sheet's own Name column lists the names on purpose, in column D)."""
    book = openpyxl.load_workbook(build(out=tmp_path / "book.xlsx").path)
    names = [n for n in book.defined_names if "_" in n]
    assert len(names) > 20
    found = [f"{ws.title}!{cell.coordinate}: {cell.value}" for ws in book.worksheets
             for cell in ws["A"] if isinstance(cell.value, str) and cell.data_type != "f"
             and any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", cell.value) for n in names)]
    assert not found, found
