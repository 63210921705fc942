"""--keep-inputs carries every kind of input a colleague can change: the Inputs sheet's
assumptions (numbers and dates), per-company inputs, the scenario grid, the company pickers,
the DCF story inputs (DCF_* names) and the Simulation's build-time settings; from a file
saved by openpyxl (as Excel writes it) and by LibreOffice; each value through the rule the
sheet's validation is made from, a refusal said in one line."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest

import xlfuncs as xf
from xlfuncs.cli import main
from xlfuncs.workbook import build, libreoffice, workbook_bytes
from xlfuncs.workbook.carry import recorded_inputs

from .test_build_cli import edit
from .test_workbook_names import two_companies

EDITS: dict[str, object] = {
    "USD_HKD": 7.81, "Valuation_Date": dt.datetime(2026, 3, 31),
    "Card_Company": "MiniMax", "Scenario_Company": "OpenAI",
    "DCF_MiniMax_growth_2_5": 0.8, "DCF_Zhipu_options": 3.0,
    "Simulation_Draws": 5000, "Simulation_Seed": 7,
}
CARRIED = [
    "USD_HKD: 7.8 -> 7.81", "Valuation_Date: 2026-02-24 -> 2026-03-31",
    "MiniMax cash: 4.5 -> 6", "MiniMax cash_as_of: 2026-02-24 -> 2026-01-31",
    "Zhipu debt: 0 -> 1.5", "Grid_Years: [3.0, 5.0, 7.0, 10.0, 15.0] -> "
    "[4.0, 5.0, 7.0, 10.0, 15.0]", "Card_Company: Zhipu -> MiniMax",
    "Scenario_Company: Zhipu -> OpenAI", "DCF_MiniMax_growth_2_5: 0.6 -> 0.8",
    "DCF_Zhipu_options: 0 -> 3",
    "Simulation_Drivers: growth_2_5 triangular 0.2 0.6 1.5; target_margin triangular 0.1 "
    "0.25 0.4; cost_of_capital normal 0.12 0.02; failure_probability uniform 0.1 0.4 -> "
    "growth_2_5 triangular 0.2 0.6 2; target_margin triangular 0.1 0.25 0.4; "
    "cost_of_capital normal 0.12 0.02; failure_probability uniform 0.1 0.4; margin_next "
    "uniform -5 -3",
    "Simulation_Draws: 10000 -> 5000", "Simulation_Seed: 2026 -> 7"]


def where(book: openpyxl.Workbook, name: str) -> tuple[str, str]:
    """(sheet, first cell) of a defined name."""
    ((sheet, ref),) = book.defined_names[name].destinations
    return sheet, ref.replace("$", "").split(":")[0]


def company_row(book: openpyxl.Workbook, company: str) -> int:
    sheet, first = where(book, "Company_Names")
    column = book[sheet][first[0]]
    return next(c.row for c in column if c.value == company)


def edited(path: Path, changes: dict[str, object] = EDITS) -> Path:
    """Every kind of input changed, as a colleague would in Excel."""
    book = openpyxl.load_workbook(path)
    for name, value in changes.items():
        sheet, cell = where(book, name)
        book[sheet][cell] = value
    inputs = book["Inputs"]
    inputs.cell(company_row(book, "MiniMax"), 2).value = 6        # cash
    inputs.cell(company_row(book, "MiniMax"), 3).value = dt.datetime(2026, 1, 31)
    inputs.cell(company_row(book, "Zhipu"), 4).value = 1.5        # debt
    sheet, cell = where(book, "Grid_Years")
    book[sheet][cell] = 4
    sheet, first = where(book, "Simulation_Drivers")
    top = int(first[1:])
    drivers = book[sheet]
    drivers[f"E{top}"] = 2.0                                       # growth's high end
    for column, value in zip("ABCD", ("margin_next", "uniform", -5, -3), strict=True):
        drivers[f"{column}{top + 4}"] = value                      # a fifth driver
    book.save(path)
    return path


def saved_by(saver: str, path: Path, folder: Path) -> Path:
    if saver == "openpyxl":
        return path
    return libreoffice.recalculate(path, folder / "libreoffice")   # LibreOffice saves it


def named(path: Path, name: str) -> object:
    book = openpyxl.load_workbook(path, data_only=True)
    sheet, cell = where(book, name)
    return book[sheet][cell].value


@pytest.mark.parametrize("saver", ["openpyxl", pytest.param("LibreOffice",
                                                            marks=pytest.mark.engines)])
def test_every_kind_of_input_is_carried(saver: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    if saver == "LibreOffice" and libreoffice.soffice() is None:
        pytest.skip(libreoffice.INSTALL_HINT)
    old = edited(build(out=tmp_path / "old.xlsx").path)
    source = saved_by(saver, old, tmp_path)
    out = tmp_path / "new.xlsx"
    assert main(["build", "--out", str(out), "--keep-inputs", str(source)]) == 0
    printed = capsys.readouterr().out
    kept = [line.removeprefix("  kept input ") for line in printed.splitlines()
            if line.startswith("  kept input ")]
    assert sorted(kept) == sorted(CARRIED), printed
    assert "not carried" not in printed
    assert named(out, "DCF_MiniMax_growth_2_5") == 0.8 and named(out, "USD_HKD") == 7.81
    assert named(out, "Simulation_Draws") == 5000 and named(out, "Simulation_Seed") == 7
    values = openpyxl.load_workbook(out, data_only=True)
    stats = {r[0]: r[1] for r in values["Simulation"].iter_rows(values_only=True) if r[0]}
    assert stats["Draws valued"] == 5000      # the statistics were computed with them
    # the simulation of the carried story, recomputed from its own inputs
    dcf = {r[0]: r[2] for r in values["DCF"].iter_rows(max_row=60, values_only=True)
           if r[0]}
    assert dcf["Revenue growth, years 2-5 (Inputs)"] == 0.8


def test_values_that_break_the_rules_are_not_carried_and_said(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = build(out=tmp_path / "old.xlsx").path
    edit(old, {"DCF_Zhipu_cost_of_capital": 5, "DCF_MiniMax_shares": True,
               "DCF_MiniMax_margin_next": dt.datetime(2026, 1, 1), "Simulation_Draws": 0,
               "Simulation_Seed": 1.5})
    out = tmp_path / "new.xlsx"
    assert main(["build", "--out", str(out), "--keep-inputs", str(old)]) == 0
    printed = capsys.readouterr().out.splitlines()
    for expected in (
            "DCF_Zhipu_cost_of_capital = 5 (rule: a number from 0 to 1)",
            "DCF_MiniMax_shares = TRUE (TRUE/FALSE is not a number; rule: a number from "
            "1e-09 to 1e+12)",
            "DCF_MiniMax_margin_next = 2026-01-01 (a date, not a number; rule: a number "
            "from -100 to 1)",
            "Simulation_Draws = 0 (rule: a whole number from 1 to 100000)",
            "Simulation_Seed = 1.5 (rule: a whole number from 0 to 2.14748e+09)"):
        assert f"  not carried: {expected}" in printed, (expected, printed)
    assert named(out, "DCF_Zhipu_cost_of_capital") == 0.12
    for change, reason in (({"E8": 0.1}, "growth_2_5: triangular needs low <= mode <= high"),
                           ({"A9": "growth_2_5"}, "'growth_2_5' is given twice"),
                           ({"B9": "beta"}, "target_margin: 'beta' is not one of uniform, "
                                            "triangular, normal, lognormal"),
                           ({"C10": dt.datetime(2026, 1, 1)},
                            "cost_of_capital = 2026-01-01 (a date, not a number")):
        shutil.copy(tmp_path / "new.xlsx", old)
        book = openpyxl.load_workbook(old)
        for cell, value in change.items():
            book["Simulation"][cell] = value
        book.save(old)
        assert main(["build", "--out", str(out), "--keep-inputs", str(old), "--force"]) == 0
        printed = capsys.readouterr().out
        assert reason in printed and "kept input Simulation_Drivers" not in printed, printed
    assert named(out, "Simulation_Draws") == 10_000


def test_story_inputs_follow_their_company_whatever_its_names_are_now(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """In a build of Acme and Acme mature, Acme mature's names are DCF_Acme_mature_2_*;
    rebuilt without Acme they are DCF_Acme_mature_*: the value goes to Acme mature."""
    both = two_companies(tmp_path / "both.csv", ("Acme", "Acme mature"))
    old = build([both], tmp_path / "old.xlsx", article=False).path
    edit(old, {"DCF_Acme_mature_2_growth_2_5": 0.9})
    alone = tmp_path / "alone.csv"
    alone.write_text("\n".join(line for line in both.read_text().splitlines()
                               if not line.startswith("Acme,")) + "\n")
    out = tmp_path / "new.xlsx"
    assert main(["build", "--data", str(alone), "--no-article", "--out", str(out),
                 "--keep-inputs", str(old)]) == 0
    assert "kept input DCF_Acme_mature_2_growth_2_5: 0.6 -> 0.9" in capsys.readouterr().out
    assert named(out, "DCF_Acme_mature_growth_2_5") == 0.9


def test_story_inputs_of_a_company_without_a_dcf_block_are_said_not_carried(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    both = two_companies(tmp_path / "both.csv", ("Acme", "Zeta"))
    old = build([both], tmp_path / "old.xlsx", article=False).path
    edit(old, {"DCF_Zeta_options": 3.0})
    no_revenue = tmp_path / "no_revenue.csv"   # Zeta without a revenue: no DCF block
    no_revenue.write_text("\n".join(line for line in both.read_text().splitlines()
                                    if not line.startswith("Zeta,revenue")) + "\n")
    out = tmp_path / "new.xlsx"
    assert main(["build", "--data", str(no_revenue), "--no-article", "--out", str(out),
                 "--keep-inputs", str(old)]) == 0
    printed = capsys.readouterr().out
    assert "  not carried: Zeta story inputs options (no DCF block for it in this build" \
        in printed
    assert "kept input DCF_Zeta_options" not in printed


def test_a_rebuild_keeps_story_and_simulation_choices(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    target = edited(build(out=tmp_path / "e.xlsx").path,
                    {"DCF_MiniMax_growth_2_5": 0.8, "Simulation_Seed": 7})
    assert main(["build", "--out", str(target), "--keep-inputs", str(target)]) == 0
    capsys.readouterr()
    assert main(["build", "--out", str(target)]) == 0   # over an unedited build: kept
    printed = capsys.readouterr().out
    assert "kept input DCF_MiniMax_growth_2_5: 0.6 -> 0.8" in printed
    assert "kept input Simulation_Seed: 2026 -> 7" in printed
    assert {"Story:MiniMax:growth_2_5", "Simulation_Seed",
            "Simulation_Drivers"} <= set(recorded_inputs(target) or [])
    assert main(["build", "--out", str(target), "--reset-inputs"]) == 0
    assert target.read_bytes() == workbook_bytes()


def test_the_simulation_uses_the_carried_settings(tmp_path: Path) -> None:
    """The statistics of the rebuilt sheet are the core's for the settings carried (seed
    7, 5,000 draws, the five drivers), on the same story."""
    old = edited(build(out=tmp_path / "old.xlsx").path)
    out = build(out=tmp_path / "new.xlsx", keep_inputs=old).path
    values = openpyxl.load_workbook(out, data_only=True)
    stats = {}
    for row in values["Simulation"].iter_rows(values_only=True):
        if isinstance(row[0], str) and row[0].startswith("Zhipu: simulated"):
            stats = {}
        elif row[0] and isinstance(row[1], (int, float)):
            stats[row[0]] = row[1]
    # revenue and losses convert at the flow rates (unchanged): USD_HKD is the spot rate
    zhipu = dict(revenue=0.191 * 7.8 / 6.91, nol=6.238 * 7.8 / 6.91, growth_next=1.0,
                 growth_2_5=0.6, margin_next=-4.0, target_margin=0.25, convergence_year=10,
                 sales_to_capital_1_5=1.5, sales_to_capital_6_10=1.5, riskfree=0.04,
                 cost_of_capital=0.12, mature_cost_of_capital=0.085, stable_growth=0.04,
                 stable_roc=0.085, failure_probability=0.2, distress_fraction=0.5,
                 cash=4.5, debt=1.5, options=3.0)
    expected = xf.story_simulate(zhipu, {"growth_2_5": ("triangular", 0.2, 0.6, 2.0),
                                         "target_margin": ("triangular", 0.1, 0.25, 0.4),
                                         "cost_of_capital": ("normal", 0.12, 0.02),
                                         "failure_probability": ("uniform", 0.1, 0.4),
                                         "margin_next": ("uniform", -5, -3)},
                                 5000, 7, 323.2)[0]
    assert stats["Median"] == pytest.approx(expected["p50"], rel=1e-9)
    assert stats["Mean"] == pytest.approx(expected["mean"], rel=1e-9)


def test_a_value_in_an_input_that_is_no_more_is_said(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    """Older builds had per-company distress proceeds, which no formula read: a value
    typed there is reported, not dropped silently."""
    from openpyxl.workbook.defined_name import DefinedName

    old = build(out=tmp_path / "old.xlsx").path
    book = openpyxl.load_workbook(old)
    top = company_row(book, "MiniMax")
    book.defined_names["Company_Distress"] = DefinedName(
        "Company_Distress", attr_text=f"Inputs!$G${top}:$G${top + 4}")
    book["Inputs"][f"G{top + 1}"] = 2.5
    book.save(old)
    assert main(["build", "--out", str(tmp_path / "new.xlsx"), "--keep-inputs",
                 str(old)]) == 0
    assert "  not carried: Company_Distress (1 typed) (distress proceeds are no input now" \
        in capsys.readouterr().out


def test_a_build_without_story_companies_has_nothing_to_say(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    solo = tmp_path / "solo.csv"
    solo.write_text("company,metric,value,unit,currency,period_start,period_end,as_of,"
                    "qualifier,source\nSolo,market_value,5,bn,HKD,,,2026-02-24,=,x\n")
    old = build([solo], tmp_path / "old.xlsx", article=False).path
    assert main(["build", "--data", str(solo), "--no-article", "--out",
                 str(tmp_path / "new.xlsx"), "--keep-inputs", str(old)]) == 0
    assert "not carried" not in capsys.readouterr().out


def test_story_names_pointing_elsewhere_are_refused_and_said(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The old workbook's names are not trusted: a story block of a whole sheet, or a row
    of company names that is not over the block, carries nothing and says why."""
    from .test_build_cli import with_defined_names

    old = edited(build(out=tmp_path / "old.xlsx").path, {"DCF_MiniMax_growth_2_5": 0.8})
    book = openpyxl.load_workbook(old)
    block = book.defined_names["Story_Inputs"].attr_text
    for texts, said in (
            ({"Story_Inputs": "Inputs!$A$1:$XFD$1048576"},
             "Story_Inputs (its name refers to 1,048,576 x 16,384 cells; at most 100 x 101 "
             "are read)"),
            ({"Story_Companies": block.replace("$B$", "$C$")},
             "Story_Companies (its name does not refer to the row of company names over "
             "Story_Inputs' columns)"),
            ({"Simulation_Drivers": "Simulation!$A$8:$E$9"},
             "Simulation_Drivers (its name refers to 2 x 5 cells; this build's table has 6 x "
             "5)")):
        hostile = with_defined_names(old, tmp_path / "hostile.xlsx", texts)
        assert main(["build", "--out", str(tmp_path / "new.xlsx"), "--keep-inputs",
                     str(hostile), "--force"]) == 0
        printed = capsys.readouterr().out
        assert f"  not carried: {said}" in printed, printed
        assert ("DCF_MiniMax_growth_2_5" in printed) == ("Simulation" in said)
