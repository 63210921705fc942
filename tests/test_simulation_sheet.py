"""The Simulation sheet: build-time settings shown as such (not as inputs), formatted as the
Inputs show the same drivers; round bins; the market value marked on the histogram; and a
native check that turns FALSE when the story or the market value moved since the build."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from xlfuncs.workbook import build
from xlfuncs.workbook.engines import Engine
from xlfuncs.workbook.model import STORY_INPUTS
from xlfuncs.workbook.sheets.simulation import round_edges

CURRENT = "Simulated on the story and market value above"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(out=tmp_path_factory.mktemp("simulation") / "book.xlsx").path


def blocks(ws: openpyxl.worksheet.worksheet.Worksheet) -> dict[str, dict[str, list]]:
    """Each company's block: its rows by label (column A)."""
    found: dict[str, dict[str, list]] = {}
    current: dict[str, list] | None = None
    for row in ws.iter_rows():
        label = row[0].value
        if isinstance(label, str) and label.endswith(": simulated value per share (HK$ bn)"):
            current = found[label.split(":")[0]] = {}
        elif current is not None and isinstance(label, str):
            current[label] = list(row)
    return found


@pytest.mark.parametrize("lo, hi, edges", [
    (-171.3, 300.0, [-175.0, -150.0, 275.0, 300.0]),   # 25 wide: 471.3 / 20 = 23.6
    (-0.01, 19.0, [-1.0, 0.0, 18.0, 19.0]),            # 1 wide; 0, never '-0.0'
    (0.3, 0.9, [0.3, 0.35, 0.85, 0.9]),                # 0.05 wide
    (-3e-5, 2e-5, [-3e-5, -2.75e-5, 1.75e-5, 2e-5]),   # 2.5e-6 wide
])
def test_bins_have_round_edges_worked_by_hand(lo: float, hi: float, edges: list) -> None:
    found, _ = round_edges(lo, hi)
    assert [*found[:2], *found[-2:]] == pytest.approx(edges, rel=1e-12)
    steps = found[1:] - found[:-1]
    assert steps == pytest.approx([steps[0]] * len(steps), rel=1e-9)
    # 1, 2, 2.5 or 5 times a power of ten: from 8 to 21 bins for BINS = 20
    assert 8 <= len(found) - 1 <= 21 and found[0] <= lo and found[-1] >= hi
    assert all(str(e) != "-0.0" for e in found)


def test_settings_are_build_time_settings_not_inputs(built: Path) -> None:
    book = openpyxl.load_workbook(built)
    ws = book["Simulation"]
    ((_, drivers),) = book.defined_names["Simulation_Drivers"].destinations
    cells = [c for row in ws[drivers.replace("$", "")] for c in row]
    for name in ("Simulation_Draws", "Simulation_Seed"):
        ((_, cell),) = book.defined_names[name].destinations
        cells.append(ws[cell.replace("$", "")])
    assert len(cells) == 6 * 5 + 2
    for cell in cells:   # purple on lavender, never the inputs' blue on yellow
        assert cell.font.color.rgb.endswith("7030A0") and cell.fill.fgColor.rgb.endswith(
            "EDE7F6"), cell.coordinate
    text = " ".join(str(c.value) for row in ws.iter_rows(max_row=20) for c in row if c.value)
    assert "xlfuncs build --out FILE --keep-inputs FILE" in text   # the command that changes
    assert "Illustrative, not a forecast" in ws["A3"].value
    # each driver shown in the format the Inputs sheet gives the same story input
    formats = {s.label: s.number_format for s in STORY_INPUTS}
    for row in ws[drivers.replace("$", "")]:
        if row[0].value:
            assert row[2].number_format == "#,##0.0%" and formats[row[0].value] == "0.0%"


def test_the_market_value_shows_on_the_histogram(built: Path) -> None:
    values = openpyxl.load_workbook(built, data_only=True)["Simulation"]
    for company, market in (("MiniMax", 300.0), ("Zhipu", 323.2)):
        rows = blocks(values)[company]
        bins = [r for label, r in rows.items() if isinstance(r[1].value, float) and " to "
                in label]
        assert bins and all(not r[0].value.startswith("-0 ") for r in bins)
        marked = [r for r in bins if isinstance(r[4].value, (int, float))]
        assert len(marked) == 1, company
        low, high, _, height = (c.value for c in marked[0][1:5])
        assert low <= market <= high
        assert height == max(r[3].value for r in bins) > 0    # as tall as the tallest bar


@pytest.mark.engines
def test_the_check_says_when_the_simulation_is_out_of_date(built: Path, tmp_path: Path,
                                                          engine: Engine) -> None:
    book = openpyxl.load_workbook(built)
    ((sheet, cell),) = book.defined_names["DCF_MiniMax_growth_next"].destinations
    book[sheet][cell.replace("$", "")] = 1.5
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    values = openpyxl.load_workbook(engine.recalculate(edited, tmp_path / engine.name),
                                    data_only=True)["Simulation"]
    found = blocks(values)
    # LibreOffice saves a TRUE/FALSE-formatted result as 1/0
    assert found["MiniMax"][CURRENT][1].value in (False, 0)
    assert found["Zhipu"][CURRENT][1].value in (True, 1)
