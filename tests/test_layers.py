"""Layered data (the article plus a person's corrections), combined figures marked
explicitly, names compared one way, and DATA_FACT's qualifiers."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from xlfuncs import data
from xlfuncs.cli import main
from xlfuncs.data import COLUMNS, bundled_path, load_facts
from xlfuncs.elementwise import explain
from xlfuncs.errors import NA, VALUE, DataFileError
from xlfuncs.workbook import build
from xlfuncs.workbook.book import Book

from .test_workbook import row_of

HEADER = ",".join(COLUMNS)
ZHIPU_FILING = "Zhipu,revenue,312.4,m,RMB,2025-01-01,2025-12-31,2026-03-30,=,annual report 2025"


def write(path: Path, *rows: str, header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


# ---- layers ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def filing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("layer") / "filing.csv", ZHIPU_FILING)


@pytest.fixture(scope="module")
def layered_book(filing: Path) -> openpyxl.Workbook:
    out = filing.parent / "layered.xlsx"
    build([filing], out)
    return openpyxl.load_workbook(out, data_only=True)


def test_a_later_file_overrides_a_fact_and_every_dependent_number_follows(
        layered_book: openpyxl.Workbook) -> None:
    zhipu = row_of(layered_book, "Valuation", "Zhipu")
    # by hand: RMB 312.4m over twelve months, at the Inputs flow rates 7.8 HKD and 6.91 CNY
    revenue_hkd = 0.3124 * 7.8 / 6.91
    assert zhipu["Annualised revenue (HK$ bn)"] == pytest.approx(revenue_hkd)
    assert zhipu["Price to sales (x)"] == pytest.approx(323.2 / revenue_hkd)
    assert zhipu["Price to sales (x)"] == pytest.approx(916.52, abs=0.01)
    # the rest of the article is still there, untouched
    assert row_of(layered_book, "Valuation", "MiniMax")["Months in period (months)"] == 9


def test_each_fact_says_which_file_it_came_from(layered_book: openpyxl.Workbook,
                                                 filing: Path) -> None:
    facts = layered_book["Facts"]
    header = [c.value for c in facts[5]]
    rows = [dict(zip(header, r, strict=False)) for r in facts.iter_rows(min_row=6,
                                                                        values_only=True)]
    revenue = next(r for r in rows if (r["Company"], r["Metric"]) == ("Zhipu", "revenue"))
    assert revenue["Value"] == 312.4 and revenue["Data file"] == f"{filing}, row 2"
    loss = next(r for r in rows if (r["Company"], r["Metric"]) == ("Zhipu", "cumulative_loss"))
    assert loss["Data file"] == "xlfuncs/data/facts.csv, row 17"
    cambricon = next(r for r in rows if r["Company"] == "Cambricon")
    assert cambricon["Data file"] == "xlfuncs/data/facts.csv, rows 29 and 30"
    assert len(rows) == 29  # one row a fact: the override replaced the article's, in place


def test_the_about_sheet_lists_the_layers_in_order_with_their_hashes(
        layered_book: openpyxl.Workbook, filing: Path) -> None:
    about = {r[0]: r[1] for r in layered_book["About"].iter_rows(values_only=True) if r[0]}
    article = hashlib.sha256(bundled_path().read_bytes()).hexdigest()
    mine = hashlib.sha256(filing.read_bytes()).hexdigest()
    assert about["Data layer 1"] == f"xlfuncs/data/facts.csv (SHA-256 {article})"
    assert about["Data layer 2"] == f"{filing} (SHA-256 {mine})"


def test_the_functions_follow_the_layers(filing: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert data.data_fact("Zhipu", "revenue", path=[filing]) == 312.4
    assert data.data_source("Zhipu", "revenue", path=[filing]) == (
        f"annual report 2025 [{filing}, row 2]")
    assert data.data_fact("Zhipu", "revenue") == 191  # the article alone
    second = write(tmp_path / "second.csv", ZHIPU_FILING.replace("312.4", "320"))
    monkeypatch.setenv(data.DATA_ENV, os.pathsep.join([str(filing), str(second)]))
    assert data.data_fact("Zhipu", "revenue") == 320  # the later file wins
    monkeypatch.setenv(data.NO_ARTICLE_ENV, "1")
    assert data.data_companies() == ["Zhipu"]


def test_a_range_and_a_single_value_override_each_other_as_one_fact(tmp_path: Path) -> None:
    single = write(tmp_path / "single.csv", "Cambricon,net_profit,2.05,bn,CNY,2025-01-01,"
                   "2025-12-31,2026-03-01,=,results")
    assert data.data_fact("Cambricon", "net_profit", path=single) == 2.05
    assert data.data_qualifier("Cambricon", "net_profit", path=single) == "="
    assert explain(data.data_fact, "Cambricon", "net_profit", "low", path=single).code == NA
    ranged = write(tmp_path / "range.csv",
                   "Zhipu,revenue,300,m,CNY,2025-01-01,2025-12-31,,low,guide",
                   "Zhipu,revenue,320,m,CNY,2025-01-01,2025-12-31,,high,guide")
    facts = load_facts([single, ranged])
    zhipu = facts[(facts.company == "Zhipu") & (facts.metric == "revenue")]
    assert sorted(zhipu.qualifier) == ["high", "low"] and set(zhipu.file) == {str(ranged)}
    assert data.data_fact("Zhipu", "revenue", path=[single, ranged]) == 310


def test_within_one_layer_a_duplicate_is_still_refused(tmp_path: Path) -> None:
    twice = write(tmp_path / "twice.csv", ZHIPU_FILING, ZHIPU_FILING.replace("312.4", "1"))
    with pytest.raises(DataFileError, match=r"twice.csv, row 3, column 'metric'"):
        load_facts([twice])


def test_a_later_layer_may_spell_a_name_its_own_way(tmp_path: Path) -> None:
    lower = write(tmp_path / "lower.csv", ZHIPU_FILING.replace("Zhipu,revenue", " zhipu , Revenue"))
    facts = load_facts(lower)
    assert list(facts.company).count("Zhipu") == 7 and "zhipu" not in set(facts.company)
    assert data.data_fact(" ZHIPU  ", "REVENUE", path=lower) == 312.4


def test_the_command_line_takes_data_several_times(filing: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    second = write(tmp_path / "canal.csv", "Canal+,market_value,5,bn,USD,,,,=,note")
    assert main(["facts", "--check", "--data", str(filing), "--data", str(second)]) == 0
    out = capsys.readouterr().out
    assert out == (f"xlfuncs/data/facts.csv: 29 facts in 30 rows, valid\n{filing}: 1 facts, "
                   f"overriding 1, valid\n{second}: 1 facts, valid\nlayered: 30 facts in 31 "
                   "rows, 11 companies\n")
    assert main(["facts", "--check", "--no-article", "--data", str(second)]) == 0
    assert capsys.readouterr().out == f"{second}: 1 facts, valid\n"
    assert main(["facts", "--check", "--data", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"xlfuncs: {tmp_path}: is a directory, not a facts file\n"
    assert main(["facts", "--check", "--no-article"]) == 2
    assert "no facts file" in capsys.readouterr().err
    # what `facts` prints loads again as it is
    assert main(["facts", "--data", str(second)]) == 0
    printed = write(tmp_path / "printed.csv", *capsys.readouterr().out.splitlines()[1:],
                    header=f"{HEADER},combines")
    assert len(load_facts(printed, article=False)) == 31


# ---- combined figures and names with '+' --------------------------------------------

def test_names_with_a_plus_get_their_rows(tmp_path: Path) -> None:
    rows = [f"{name},{metric},{value},{unit},USD,{start},{end},,=,note"
            for name in ("Canal+", "A+ Holdings", "+1")
            for metric, value, unit, start, end in (
                ("market_value", 8, "bn", "", ""),
                ("revenue", 400, "m", "2025-01-01", "2025-12-31"),
                ("cumulative_loss", 1, "bn", "2023-01-01", "2025-12-31"))]
    out = build(write(tmp_path / "plus.csv", *rows), tmp_path / "plus.xlsx")
    book = openpyxl.load_workbook(out.path, data_only=True)
    for name in ("Canal+", "A+ Holdings", "+1"):
        # before: '+' marked a combined figure and these rows vanished
        assert row_of(book, "Valuation", name)["Price to sales (x)"] == pytest.approx(20)
        assert row_of(book, "Burn", name)["Months in period (months)"] == 36
    checks = [r[0] for r in book["Checks"].iter_rows(values_only=True) if r[0]]
    assert "MiniMax + Zhipu: market values (HK$ bn) against the combined figure (>=)" in checks


def test_combined_figures_are_marked_by_their_combines_column() -> None:
    facts = load_facts()
    combined = facts[facts.combines != ""]
    assert set(combined.company) == {"MiniMax+Zhipu", "OpenAI+Anthropic"}
    assert set(combined.combines) == {"MiniMax|Zhipu", "OpenAI|Anthropic"}


def test_combines_is_checked(tmp_path: Path) -> None:
    header = f"{HEADER},combines"
    bad = write(tmp_path / "bad.csv", "A+B,market_value,1,bn,USD,,,,=,n,A", header=header)
    with pytest.raises(DataFileError, match=r"row 2, column 'combines': 'A' is not two"):
        load_facts(bad, article=False)
    split = write(tmp_path / "split.csv", "A+B,market_value,1,bn,USD,,,,=,n,A|B",
                  "A+B,revenue,1,bn,USD,,,,=,n,", header=header)
    with pytest.raises(DataFileError, match=r"row 3, column 'combines': A\+B's rows disagree"):
        load_facts(split, article=False)


# ---- DATA_FACT's qualifiers ---------------------------------------------------------

def test_a_qualifier_the_fact_does_not_have_is_na_with_the_reason() -> None:
    # before: DATA_FACT("Zhipu", "revenue", "high") silently gave 191
    for pick in ("high", "low", "mid", ">=", "~"):
        error = explain(data.data_fact, "Zhipu", "revenue", pick)
        assert error.code == NA, pick
        assert f"no '{pick}'" in error.reason and "single figure ('=', exact)" in error.reason
    assert data.data_fact("Zhipu", "revenue", "=") == 191
    over = explain(data.data_fact, "MiniMax", "market_value", "=")
    assert over.code == NA and "over: a lower bound" in over.reason
    assert explain(data.data_fact, "Cambricon", "net_profit", "=").code == NA
    assert explain(data.data_fact, "Zhipu", "revenue", "median").code == VALUE


def test_data_qualifier_and_data_source_say_when_a_figure_is_not_exact() -> None:
    assert data.data_qualifier("MiniMax", "market_value") == ">="
    assert data.data_qualifier("Zhipu", "revenue") == "="
    assert data.data_qualifier("MiniMax", "cumulative_loss") == "~"
    assert data.data_qualifier("Cambricon", "net_profit") == "range"
    assert data.data_source("MiniMax", "market_value").startswith("over (a lower bound): 2026")
    assert data.data_source("Cambricon", "net_profit").startswith("a range (low to high): ")
    column = data.data_qualifier([["Zhipu"], ["Nobody"]], "revenue")
    assert column[0, 0] == "=" and column.shape == (2, 1)


# ---- text XML cannot hold, second line of defence -------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=5))
def test_any_text_gives_sheets_that_parse_as_xml(texts: list[str]) -> None:
    book = Book()
    sheet = book.sheet("Text")
    for text in texts:
        sheet.append([sheet.text(text), sheet.formula("=A1", text)])
    with zipfile.ZipFile(io.BytesIO(book.to_bytes())) as archive:
        for name in archive.namelist():
            if name.endswith(".xml"):
                etree.fromstring(archive.read(name))  # raises when not well-formed
        cells = etree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    shown = [t.text or "" for t in cells.iter("{*}t")]
    assert len(shown) == len(texts)
    for text, got in zip(texts, shown, strict=True):
        assert len(got) == len(text)  # replaced one for one, never dropped


def test_a_computed_cell_that_overflows_is_num_never_inf(tmp_path: Path) -> None:
    huge = write(tmp_path / "huge.csv", "Huge,market_value,1.7e308,bn,USD,,,,=,note",
                 "Huge,revenue,1,bn,USD,2025-01-01,2025-12-31,,=,note")
    out = build(huge, tmp_path / "huge.xlsx", article=False).path
    with zipfile.ZipFile(out) as archive:
        for name in archive.namelist():
            assert b"<v>inf" not in archive.read(name).lower(), name
            assert b"<v>nan" not in archive.read(name).lower(), name
    book = openpyxl.load_workbook(out, data_only=True)
    assert row_of(book, "Valuation", "Huge")["Market value (HK$ bn)"] == "#NUM!"


def test_a_workbook_built_from_any_allowed_text_parses_as_xml(tmp_path: Path) -> None:
    names = ["Line\u2028Sep", "Next\x85Line", "Tab\there", "]]>&<x/>", "\u202eRTL",
             "Emoji \U0001f600", '"Quoted", with comma', "\u00a0nbsp"]
    rows = [f'"{n.replace(chr(34), chr(34) * 2)}",market_value,{i + 1},bn,USD,,,,=,'
            f'"note {n.replace(chr(34), chr(34) * 2)}"' for i, n in enumerate(names)]
    out = build(write(tmp_path / "text.csv", *rows), tmp_path / "text.xlsx").path
    with zipfile.ZipFile(out) as archive:
        for name in archive.namelist():
            if name.endswith((".xml", ".rels")):
                etree.fromstring(archive.read(name))
    book = openpyxl.load_workbook(out)
    shown = {c.value for c in book["Facts"]["A"]}
    assert {n.strip() for n in names} <= shown
