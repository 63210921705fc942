"""One definition per metric: its numpy body and guards write its native Excel formula.

No Excel formula text is written by hand in the catalog, the story entries or the metric
modules: each native formula is what the core function's own body and guards render when
called with cell references (xlfuncs.formula), so the two can never drift apart.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from xlfuncs import burn, checks, data, fx, valuation
from xlfuncs.entry import operand
from xlfuncs.registry import BY_NAME
from xlfuncs.story import steps

ROOT = Path(__file__).resolve().parents[1] / "xlfuncs"
# Excel's own functions and error constants as a formula writes them: "IF(", "#NUM!"...
EXCEL_TEXT = re.compile(
    r"\b(IF|AND|OR|NOT|MAX|MIN|LN|INT|ABS|CHOOSE|MATCH|ISNA|ISNUMBER|ISTEXT|ISERROR|"
    r"DATEDIF|NPV|SUM|SUMPRODUCT|COUNT|ROW|COLUMN|COLUMNS|TRIM|INDEX)\(|#(NUM|VALUE|DIV/0)!|NA\(\)")
MODULES = ["registry.py", "story/entries.py", "valuation.py", "burn.py", "fx.py", "checks.py",
           "data.py", "story/steps.py"]


def excel_texts(path: Path) -> list[str]:
    """Every string constant or f-string of a module that reads as Excel formula text,
    docstrings aside (they show what a function does in words and formulas)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    parts = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
             for v in node.values}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings | parts and EXCEL_TEXT.search(node.value):
                found.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            if EXCEL_TEXT.search(text):
                found.append(text)
    return found


@pytest.mark.parametrize("module", MODULES)
def test_no_excel_formula_text_is_written_by_hand(module: str) -> None:
    path = ROOT / module
    # the catalog's examples are calls of xlfuncs' own functions: =VAL_PS(...), fine
    texts = [t for t in excel_texts(path) if not re.fullmatch(r"=[A-Z_]+\(.*\)", t, re.S)
             and not t.startswith(("=DATA_", "=VAL_", "=BURN_", "=FX_", "=STORY_", "=CHECK_"))]
    assert texts == [], f"{module} writes Excel text by hand: {texts}"


@pytest.mark.parametrize("module", ["registry.py", "story/entries.py"])
def test_the_catalog_holds_no_formula_lambdas(module: str) -> None:
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)]


def test_the_detector_sees_hand_written_formula_text(tmp_path: Path) -> None:
    """The scan above would fail on the registry as it was (lambdas returning f-strings)."""
    old = tmp_path / "old_registry.py"
    old.write_text('BODY = lambda mc, r: f"IF({r}<0,#NUM!,{mc}/{r})"\n'
                   'GUARD = lambda s, e: f"OR({s}<0,{e}<0)"\n', encoding="utf-8")
    assert excel_texts(old) == ["IF(<0,#NUM!,/)", "OR(<0,<0)"]


METRIC_MODULES = (valuation, burn, fx, checks, data, steps)


@pytest.mark.parametrize("name", sorted(n for n, e in BY_NAME.items()
                                        if e.excel_body is not None and n != "VAL_DCF"))
def test_each_native_formula_is_its_core_functions_body_and_guards(name: str) -> None:
    """The entry's formula parts are exactly the core function's body and guards, called
    with cell references: there is no second copy to keep in step."""
    item = BY_NAME[name]
    refs = [f"{chr(65 + i)}1" for i in range(len(item.params))]
    body = item.func.__wrapped__
    assert item.func.__module__ in {m.__name__ for m in METRIC_MODULES}
    assert item.excel_body(*refs) == str(body(*map(operand, refs)))
    assert [g(*refs) for g in item.excel_guards] == [
        str(g.when(*map(operand, refs))) for g in item.func.guards]
    assert item.guard_codes == tuple(g.code for g in item.func.guards)
