"""The documentation shows real output: every example in the catalog and README holds."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from xlfuncs.cli import catalog_rows, main
from xlfuncs.registry import CATALOG, Entry, example_value

from .helpers import call

README = Path(__file__).resolve().parents[1] / "README.md"


def parse_argument(text: str) -> object:
    text = text.strip()
    day = re.fullmatch(r"DATE\((\d+),\s*(\d+),\s*(\d+)\)", text)
    if day is not None:  # a date cell: the helper sends it as its serial, as Office.js does
        return dt.date(*map(int, day.groups()))
    if text.startswith('"'):
        return text.strip('"')
    if text.startswith("{"):  # an array constant: rows split by ";", cells by ","
        return [[c.strip('"') if c.startswith('"') else float(c) for c in row.split(",")]
                for row in text.strip("{}").split(";")]
    if text.endswith("%"):
        return float(text[:-1]) / 100
    return float(text)


def example_arguments(entry: Entry) -> list[object]:
    inside = re.fullmatch(rf"={entry.name}\((.*)\)", entry.example).group(1)
    parts = re.findall(r'\s*(?:"[^"]*"|\{[^}]*\}|DATE\([^)]*\)|[^,]+)', inside)
    return [parse_argument(p) for p in parts]


@pytest.mark.parametrize("entry", CATALOG, ids=[e.name for e in CATALOG])
def test_each_example_gives_the_result_the_docs_show(entry: Entry) -> None:
    result = call(entry.name, *example_arguments(entry))
    shown = entry.example_result
    if entry.returns == "spill" and not shown[0].isdigit():  # statistics: their names
        assert [row[0] for row in result] == [s.strip() for s in shown.split("(")[0]
                                              .split(",")]
    elif entry.returns in ("table", "spill") and " rows x " in shown:
        rows, columns = map(int, re.findall(r"\d+", shown)[:2])
        assert (len(result), len(result[0])) == (rows, columns)
    elif entry.returns == "column":
        assert [r[0] for r in result[:3]] == [s.strip() for s in shown.split(",")[:3]]
    elif entry.returns == "text":
        assert result[0][0] == shown
    elif entry.returns == "date":
        serial = result[0][0]["basicValue"]
        assert dt.date(1899, 12, 30) + dt.timedelta(days=serial) == dt.date.fromisoformat(shown)
    else:
        number = re.match(r"-?[\d,]*\.?\d+", shown).group(0).replace(",", "")
        decimals = len(number.split(".")[1]) if "." in number else 0
        assert round(result[0][0], decimals) == pytest.approx(float(number)), entry.name


OFFICEJS_ERRORS = {"Div0": "#DIV/0!", "Num": "#NUM!", "Value": "#VALUE!",
                   "NotAvailable": "#N/A"}


def first_cell(answer: object) -> object:
    """The first cell of what the runtime spills, as registry.example_value gives it."""
    while isinstance(answer, list):
        answer = answer[0]
    if isinstance(answer, dict) and answer.get("type") == "Error":
        return OFFICEJS_ERRORS[answer["errorType"]]
    if isinstance(answer, dict):  # a date: its serial
        return dt.date(1899, 12, 30) + dt.timedelta(days=answer["basicValue"])
    return None if answer == "" else answer


@pytest.mark.parametrize("entry", CATALOG, ids=[e.name for e in CATALOG])
def test_the_functions_sheet_shows_the_first_cell_each_example_spills(entry: Entry) -> None:
    # registry.example_value feeds the Functions sheet's cached values: it must be the
    # first cell the function really answers (a table's first header, a column's first
    # item), taken here through xlwings' runtime
    # (the runtime sends a blank and empty text alike, as "")
    expected = example_value(entry)
    assert (None if expected == "" else expected) == first_cell(
        call(entry.name, *example_arguments(entry)))


def test_readme_documents_every_function_with_its_example() -> None:
    text = README.read_text(encoding="utf-8")
    for entry in CATALOG:
        assert f"`{entry.signature}`" in text, entry.name
        assert f"`{entry.example}`" in text, entry.name


def test_readme_opens_with_the_two_setup_commands() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    block = lines[lines.index("```bash") + 1: lines.index("```bash") + 3]
    assert block[0].startswith("python3 -m pip install -e .") and "xlfuncs" in block[0]
    assert block[1] == 'python3 -m pip install -e ".[test]" && python3 -m pytest'
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert block[1] in ci


def test_functions_command_lists_every_function(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["functions"]) == 0
    out = capsys.readouterr().out
    for entry in CATALOG:
        assert entry.signature in out and entry.summary in out
    assert main(["functions", "--format", "json"]) == 0
    import json

    assert json.loads(capsys.readouterr().out) == catalog_rows()


def test_facts_command_checks_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["facts", "--check"]) == 0
    assert "29 facts in 30 rows" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("company\nx\n", encoding="utf-8")
    assert main(["facts", "--check", "--data", str(bad)]) == 2
    assert f"{bad}, row 1, column 'metric'" in capsys.readouterr().err
