"""Workbooks built for a route to Excel (``xlfuncs build --live ROUTE``): only they call the
add-in, under the names that route registers (xlwings Server: ``XLFUNCS.VAL_PS``; Lite and
the classic add-in: ``VAL_PS``); everything else is the shared workbook's."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

from xlfuncs import server
from xlfuncs.cli import main
from xlfuncs.registry import CATALOG
from xlfuncs.workbook import build, default_out
from xlfuncs.workbook.engines import Engine
from xlfuncs.workbook.routes import ROUTES, calls_add_in, for_route

from .recalc import compare

NAMES = {e.name for e in CATALOG}


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("routes")
    return {route: build(out=folder / f"{route}.xlsx", live=route).path for route in ROUTES}


def add_in_cells(path: Path) -> dict[str, str]:
    book = openpyxl.load_workbook(path)
    return {f"{ws.title}!{c.coordinate}": c.value for ws in book.worksheets
            for row in ws.iter_rows() for c in row
            if c.data_type == "f" and calls_add_in(c.value)}


def test_the_server_route_uses_the_namespace_xlwings_server_registers() -> None:
    assert ROUTES["server"].prefix == f"{server.NAMESPACE}."
    assert ROUTES["lite"].prefix == ROUTES["classic"].prefix == ""


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_only_the_live_cells_call_the_add_in_with_the_route_s_names(
        routes: dict[str, Path], route: str) -> None:
    cells = add_in_cells(routes[route])
    functions = {k: v for k, v in cells.items() if k.startswith("Functions!")}
    assert len(functions) == len(CATALOG)
    assert {k.split("!")[0] for k in cells} == {"Functions", "Simulation"}
    prefix = ROUTES[route].prefix
    for formula in cells.values():
        called = set(re.findall(r"([A-Z][A-Z0-9_.]*)\(", formula))
        ours = {f for f in called if f.removeprefix(prefix) in NAMES}
        assert ours and all(f.startswith(prefix) for f in ours), formula
        if not prefix:
            assert not any("." in f for f in called), formula
    book = openpyxl.load_workbook(routes[route], data_only=True)
    about = {r[0]: r[1] for r in book["About"].iter_rows(values_only=True) if r[0]}
    assert f"for the {route} route" in about["Build"]


def test_a_route_is_written_with_its_names_and_nothing_else_changes() -> None:
    example = '=BURN_LOSS_TO_REVENUE(300, DATE(2025,1,1), "VAL_PS(", DCF_VAL_PS)'
    assert for_route(example, ROUTES["server"]) == (
        '=XLFUNCS.BURN_LOSS_TO_REVENUE(300, DATE(2025,1,1), "XLFUNCS.VAL_PS(", DCF_VAL_PS)')
    assert for_route(for_route(example, ROUTES["server"]), ROUTES["server"]) == \
        for_route(example, ROUTES["server"])     # never XLFUNCS.XLFUNCS.
    assert for_route(example, ROUTES["lite"]) == example


@pytest.mark.engines
def test_in_an_engine_only_the_live_cells_need_the_add_in(routes: dict[str, Path],
                                                          engine: Engine,
                                                          tmp_path: Path) -> None:
    """Without the add-in, a route's build shows #NAME? exactly in its Live cells (the
    engines have no add-in); every other formula agrees with its cached value."""
    path = routes["server"]
    recalculated = engine.recalculate(path, tmp_path / engine.name)
    result = compare(path, recalculated)
    assert result.add_in == len(add_in_cells(path)) and not result.mismatches
    theirs = openpyxl.load_workbook(recalculated, data_only=True)
    named = {f"{ws.title}!{c.coordinate}" for ws in theirs.worksheets for row in ws.iter_rows()
             for c in row if c.data_type == "e" and c.value == "#NAME?"}
    assert named and named <= set(add_in_cells(path))


def test_the_command_line_builds_a_route_beside_the_shared_workbook(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--live", "lite"]) == 0
    assert default_out("lite").name == "llm_valuation_lite.xlsx"
    assert f"wrote {default_out('lite')}" in capsys.readouterr().out
    assert (tmp_path / default_out("lite")).exists()
    assert not (tmp_path / default_out()).exists()   # the shared one is not replaced
    with pytest.raises(SystemExit):
        main(["build", "--live", "excel"])
    assert "invalid choice: 'excel'" in capsys.readouterr().err
