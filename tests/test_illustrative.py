"""Illustrative figures are marked where their results show: a banner on the DCF and
Simulation sheets, what the cash behind each runway and cash-zero date is, and a note
wherever the intrinsic value is negative (a story worth less than nothing)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from xlfuncs.workbook import build
from xlfuncs.workbook.engines import Engine

from .test_workbook import row_of

CASH = "Cash basis of the runway (note)"
NOTE = "Intrinsic value note (note)"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(out=tmp_path_factory.mktemp("illustrative") / "book.xlsx").path


def test_dcf_and_simulation_carry_a_banner(built: Path) -> None:
    book = openpyxl.load_workbook(built)
    for title in ("DCF", "Simulation"):
        banner = book[title]["A3"]
        assert banner.value.startswith("Illustrative, not a forecast: "), title
        assert banner.font.b and banner.font.color.rgb.endswith("C55A11")
        assert book[title].print_title_rows == "$1:$3"   # on every printed page


def test_runways_say_what_cash_they_rest_on(built: Path, tmp_path: Path) -> None:
    values = openpyxl.load_workbook(built, data_only=True)
    for company, basis in (("MiniMax", "Illustrative: half the >HK$9bn raised, not reported"),
                           ("OpenAI", "No cash figure (Inputs)")):
        assert row_of(values, "Burn", company)[CASH] == basis
    card = {r[0]: r[1] for r in values["Company card"].iter_rows(min_row=6, values_only=True)}
    assert card["Cash basis of the runway"].startswith("Illustrative")   # Zhipu, picked
    # a reported cash typed in: no longer called illustrative, on Burn or on Inputs
    book = openpyxl.load_workbook(built)
    ((sheet, cell),) = book.defined_names["Company_Cash"].destinations
    first = int(cell.split(":")[0].replace("$", "")[1:])
    book[sheet][f"B{first}"] = 5.1          # MiniMax
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    rebuilt = openpyxl.load_workbook(build(out=tmp_path / "rebuilt.xlsx",
                                           keep_inputs=edited).path, data_only=True)
    assert row_of(rebuilt, "Burn", "MiniMax")[CASH] == "Cash as typed (Inputs)"
    assert row_of(rebuilt, "Burn", "Zhipu")[CASH].startswith("Illustrative")
    comments = {r[0]: r[4] for r in rebuilt["Inputs"].iter_rows(min_row=first,
                                                               max_row=first + 1,
                                                               values_only=True)}
    assert comments == {"MiniMax": None, "Zhipu": comments["Zhipu"]}
    assert comments["Zhipu"].startswith("Illustrative")


def test_a_negative_intrinsic_value_is_noted(built: Path) -> None:
    values = openpyxl.load_workbook(built, data_only=True)
    for company in ("MiniMax", "Zhipu"):
        row = row_of(values, "Valuation", company)
        assert row["Intrinsic equity value after options (DCF, failure-adjusted) (HK$ bn)"] < 0
        assert row[NOTE] == "Negative: not viable as written (limited liability)"
    dcf = [r for r in values["DCF"].iter_rows(values_only=True)
           if r[0] == "Equity value after options (intrinsic value)"]
    assert [r[2] < 0 for r in dcf] == [True, False, True, False]   # story, implied...
    assert [bool(r[3]) for r in dcf] == [True, False, True, False]
    assert dcf[0][3].startswith("Negative: a story worth less than nothing")


@pytest.mark.engines
def test_the_note_follows_the_story_in_an_engine(built: Path, tmp_path: Path,
                                                 engine: Engine) -> None:
    book = openpyxl.load_workbook(built)
    ((sheet, cell),) = book.defined_names["DCF_MiniMax_growth_2_5"].destinations
    book[sheet][cell.replace("$", "")] = 3.0   # a story the market would envy
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    values = openpyxl.load_workbook(engine.recalculate(edited, tmp_path / engine.name),
                                    data_only=True)
    minimax = row_of(values, "Valuation", "MiniMax")
    assert minimax["Intrinsic equity value after options (DCF, failure-adjusted) (HK$ bn)"] > 0
    assert minimax[NOTE] in (None, "")
    assert row_of(values, "Valuation", "Zhipu")[NOTE].startswith("Negative")
