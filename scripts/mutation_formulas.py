"""Mutation testing of the registry's Excel formulas, judged by the spreadsheet engines.

A mutant of ``xlfuncs/registry.py`` or ``xlfuncs/entry.py`` that changes a native formula
(an operator, a comparison, a constant inside a formula string, an argument check) can
only be caught by an engine recomputing that formula. Recomputing the whole registry grid
once per mutant costs ~25 s; here every mutant's changed formulas go into ONE workbook,
on the grid's own rows (tests/grid.py: the awkward inputs of each function, with the
Python core's answer as the cached value), and LibreOffice and Gnumeric recompute it
once. A mutant is killed when an engine disagrees with the core on any of its rows,
leaving out the engine departures tests/test_registry_grid.py documents as "ENGINE:".
Mutants that change no formula are run against the module's tests, as scripts/mutation.py
runs any module.

    python scripts/mutation.py --formulas xlfuncs/registry.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROW_CAP = 300  # grid rows per function and mutant: every row the grid has (tests/grid.py CAP)
ROW = "§"
NEXT_ROW = "¶"  # a two-row range's second row (VAL_DCF's blocks)
BATCH_ROWS = 30_000  # grid rows per recomputed workbook


def in_child(workdir: Path, job: Callable[[], Any]) -> Any:
    """Run ``job`` in a fork that imports xlfuncs fresh from ``workdir``; its JSON result,
    or {"error": ...} when it raises (a mutant that breaks the import is killed)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            os.chdir(workdir)
            sys.path.insert(0, str(workdir))
            for name in [m for m in sys.modules if m.split(".")[0] in ("xlfuncs", "tests")]:
                del sys.modules[name]
            payload = json.dumps(job())
        except BaseException as exc:
            payload = json.dumps({"error": f"{type(exc).__name__}: {exc}"})
        with os.fdopen(write, "w") as out:
            out.write(payload)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    os.waitpid(pid, 0)
    return json.loads(text)


def templates() -> dict[str, list[str]]:
    """Each grid function's formula template(s), ROW standing for the row."""
    from tests import grid

    found: dict[str, list[str]] = {}
    for entry in grid.entries():
        params = entry.params
        if any(p.kind == "range" for p in params):
            found[entry.name] = [entry.excel(f"A{ROW}", f"E{ROW}", f"F{ROW}"),
                                 entry.excel(f"A{ROW}:D{ROW}", f"E{ROW}", f"F{ROW}"),
                                 entry.excel(f"A{ROW}:B{NEXT_ROW}", f"E{ROW}", f"F{ROW}")]
        else:
            refs = [f"{chr(65 + i)}{ROW}" for i in range(len(params))]
            found[entry.name] = [entry.excel(*refs, blank_takes_default=True)]
    return found


def grid_rows() -> dict[str, list[dict[str, Any]]]:
    """The grid's rows per function: argument cells, the core's cached answer, the case."""
    from tests import grid

    data, sheets = grid.build_grid()
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    rows: dict[str, list[dict[str, Any]]] = {}
    for title, sheet in sheets.items():
        ws = book[title]
        width = 7 if any(p.kind == "range" for p in sheet.entry.params) else len(
            sheet.entry.params) + 1
        picked = sorted(sheet.cases)
        step = max(1, len(picked) // ROW_CAP)
        for row in picked[::step]:
            cells = [ws.cell(row, c).value for c in range(1, width + 1)]
            rows.setdefault(sheet.entry.name, []).append(
                {"cells": [_plain(v) for v in cells], "case": sheet.cases[row]})
    # and the guards' hand-worked edges (tests/test_edges_in_engines.py), which the
    # grid's sampled rows may miss: 0 and 1 beside a guard, the calendar's last day
    from tests.test_boundaries import ERRORS
    from tests.test_edges_in_engines import CASES, DCF_BLOCKS, cell
    from xlfuncs.registry import BY_NAME

    for name, args, expected in [*CASES, *ERRORS]:  # ERRORS: the guards' own edges
        if BY_NAME.get(name.upper()) is None:
            continue
        entry = BY_NAME[name.upper()]
        if entry.name not in rows or any(p.kind == "range" for p in entry.params):
            continue
        padded = [cell(a) for a in args] + [None] * (len(entry.params) - len(args))
        rows[entry.name].append({"cells": [*map(_plain, padded), expected],
                                 "case": f"hand-worked edge {name}{args}"})
    # VAL_DCF over two-row ranges (tests/test_edges_in_engines.py): a block's flows fill
    # A:B of its row and the next
    for flows, rate, growth, expected in DCF_BLOCKS:
        rows["VAL_DCF"].append({"cells": [*flows[0], *flows[1], rate, growth, expected],
                                "case": f"hand-worked two-row block {flows} {rate} {growth}",
                                "block": True})
    return rows


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (bool, int, float, str)) else str(value)


def write_combined(path: str, mutants: dict[str, dict[str, list[str]]],
                   rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """One sheet per mutant: the grid rows of each function whose formula it changed, the
    mutant's formula beside the core's cached answer. Returns where each row came from."""
    from xlfuncs.workbook.book import Book

    book = Book()
    where: dict[str, Any] = {}
    for key, changed in mutants.items():
        sheet = book.sheet(f"m{key}")
        for name, forms in changed.items():
            for item in rows[name]:
                *arguments, cached = item["cells"]
                row = sheet.rows + 1
                second_row = None
                if item.get("block"):  # VAL_DCF over A:B of this row and the next
                    a, b, c, d, *rest = arguments
                    arguments, second_row, form = [a, b, None, None, *rest], [c, d], forms[2]
                elif len(forms) > 1:  # VAL_DCF: flows in A:D (one cell or four)
                    flows = arguments[:4]
                    form = forms[0] if all(v is None for v in flows[1:]) else forms[1]
                else:
                    form = forms[0]
                cells = [sheet.value(v) for v in arguments]
                cells.append(sheet.formula(
                    form.replace(ROW, str(row)).replace(NEXT_ROW, str(row + 1)),
                    "" if cached is None else cached))
                sheet.append(cells)
                if second_row is not None:
                    sheet.append([sheet.value(v) for v in second_row])
                where[f"m{key}!{row}"] = [key, name, item["case"]]
    Path(path).write_bytes(book.to_bytes())
    return where


def disagreements(path: str, where: dict[str, Any], workdir: str) -> dict[str, list[str]]:
    """Per mutant, the rows an engine recomputes differently from the core (documented
    engine departures left out)."""
    from tests.recalc import compare
    from tests.test_registry_grid import known
    from xlfuncs.workbook.engines import ENGINES

    killed: dict[str, list[str]] = {}
    for engine in ENGINES:
        if not engine.installed:
            continue
        result = compare(Path(path), engine.recalculate(Path(path), Path(workdir) / engine.name))
        for mismatch in result.mismatches:
            row = "".join(ch for ch in mismatch.cell if ch.isdigit())
            key, name, case = where[f"{mismatch.sheet}!{row}"]
            if known(name, case, engine.name) and not known(name, case, engine.name).startswith(
                    "BUG"):
                continue
            killed.setdefault(key, []).append(f"{engine.name} {mismatch}")
    return killed


def batches(changed: dict[str, dict[str, list[str]]], rows: dict[str, list[dict[str, Any]]]
            ) -> list[dict[str, dict[str, list[str]]]]:
    """The mutants in groups of at most BATCH_ROWS grid rows: a mutant of entry.py changes
    every formula, and one workbook of them all is more than the engines take in one go."""
    groups: list[dict[str, dict[str, list[str]]]] = [{}]
    size = 0
    for key, diff in changed.items():
        count = sum(len(rows[name]) for name in diff)
        if groups[-1] and size + count > BATCH_ROWS:
            groups.append({})
            size = 0
        groups[-1][key] = diff
        size += count
    return [g for g in groups if g]


def run_formulas(module: str, found: list[Any], workers: list[Path], original: str,
                 fallback: Callable[[list[Any]], dict[Any, str]]) -> dict[Any, str]:
    """Verdicts ('killed'/'survived') for ``found`` mutants of a formula module."""
    base = in_child(workers[0], templates)
    if "error" in base:
        raise SystemExit(f"{module}: cannot compute the formulas: {base['error']}")
    rows = in_child(workers[0], grid_rows)
    verdicts: dict[Any, str] = {}
    changed: dict[str, dict[str, list[str]]] = {}
    unchanged = []
    for index, mutant in enumerate(found):
        (workers[0] / module).write_text(mutant.apply(original), "utf-8")
        forms = in_child(workers[0], templates)
        if "error" in forms:
            verdicts[mutant] = "killed"
            continue
        diff = {name: f for name, f in forms.items() if f != base.get(name)}
        if any(not form.startswith("=") for f in diff.values() for form in f):
            verdicts[mutant] = "killed"  # the workbook writer refuses a non-formula
            continue
        if diff:
            changed[str(index)] = diff
        else:
            unchanged.append(mutant)
    (workers[0] / module).write_text(original, "utf-8")
    killed: dict[str, list[str]] = {}
    for batch in batches(changed, rows):
        with tempfile.TemporaryDirectory(prefix="xlfuncs-formulas-") as scratch:
            path = str(Path(scratch) / "mutants.xlsx")
            started = time.monotonic()
            where = in_child(workers[0], lambda b=batch, p=path: write_combined(p, b, rows))
            if "error" in where:  # a harness failure must not pass for "no mutant killed"
                raise SystemExit(f"{module}: cannot write the mutants' workbook: "
                                 f"{where['error']}")
            found_now = in_child(workers[0],
                                 lambda p=path, w=where, d=scratch: disagreements(p, w, d))
            if "error" in found_now:
                raise SystemExit(f"{module}: the engines could not judge: {found_now['error']}")
            killed.update(found_now)
            print(f"{module}: {len(batch)} mutants' formulas on {len(where)} rows, "
                  f"recomputed in {time.monotonic() - started:.0f} s", file=sys.stderr)
    for key in changed:
        mutant = found[int(key)]
        verdicts[mutant] = "killed" if key in killed else "survived"
    # formulas unchanged, or unchanged on the grid: the module's own tests decide
    verdicts.update(fallback(unchanged + [m for m, v in verdicts.items() if v == "survived"]))
    return verdicts
