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
DOCS = README.parent / "docs"
FUNCTIONS = DOCS / "functions.md"


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


def test_the_functions_reference_is_what_the_catalog_prints(
        capsys: pytest.CaptureFixture[str]) -> None:
    # docs/functions.md is generated: `xlfuncs functions --format markdown > docs/functions.md`
    assert main(["functions", "--format", "markdown"]) == 0
    printed = capsys.readouterr().out
    assert FUNCTIONS.read_text(encoding="utf-8") == printed, (
        "docs/functions.md is stale: xlfuncs functions --format markdown > docs/functions.md")
    for entry in CATALOG:
        assert f"`{entry.signature}`" in printed, entry.name
        assert f"`{entry.example}`" in printed, entry.name
        assert all(f"- `{p.name}`" in printed for p in entry.params), entry.name


def test_the_readme_is_a_front_page_with_the_routes_on_its_first_screen() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200
    header = next(i for i, line in enumerate(lines) if line.startswith("| route |"))
    assert header < 40
    table = lines[header:header + 6]
    for route in ("xlwings Lite", "xlwings Server", "Classic add-in", "The workbook"):
        assert any(route in row for row in table), route
    closing = lines.index("## What was verified here, and what only Excel can show")
    note = " ".join(lines[closing:])
    assert all(f"**{route}**" in note for route in ("xlwings Lite", "xlwings Server",
                                                     "Classic add-in", "The workbook"))


def markdown_pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize("page", markdown_pages(), ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # code is not links
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: {target} does not exist"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{page.name}: {target}: no such heading"


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as -."""
    headings = re.findall(r"(?m)^#+ (.+)$", re.sub(r"```.*?```", "", page.read_text(
        encoding="utf-8"), flags=re.DOTALL))
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_each_route_names_the_functions_as_it_registers_them() -> None:
    from xlfuncs.server import NAMESPACE

    names = "|".join(e.name for e in CATALOG)
    for page in ("server.md", "deploy.md"):  # xlwings Server registers them namespaced
        text = (DOCS / page).read_text(encoding="utf-8")
        assert f"={NAMESPACE}.VAL_PS(" in text
        assert not re.search(rf"(?<![.\w])=({names})\(", text), page
    for page in ("lite.md", "classic.md"):  # xlwings Lite and the COM add-in: no namespace
        text = (DOCS / page).read_text(encoding="utf-8")
        assert "=VAL_PS(" in text and f"{NAMESPACE}." not in text, page


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
