"""Every guard of VAL_DCF and of the workbook-only formulas (registry.WORKBOOK_ONLY) has an
input that triggers exactly that guard's error, in the Python core and, when a spreadsheet
engine is installed, in the native Excel formula (tests/test_core.py does the same for the
core of the main catalog)."""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from xlfuncs.errors import DIV0, NA, NUM, VALUE, XlError
from xlfuncs.registry import WORKBOOK_ONLY, Entry, entry
from xlfuncs.valuation import DCF_GUARDS, _dcf_answer, _single_number, dcf_outcome
from xlfuncs.workbook.book import Book
from xlfuncs.workbook.engines import Engine

# (function, arguments, Excel error code, the reason the core gives): one or more per guard
CASES: list[tuple[str, tuple[Any, ...], str, str]] = [
    ("DATA_IN_BILLIONS", (53.44, "mn"), NA, "unit is not a scale of money (tn, bn, m or k)"),
    ("DATA_IN_BILLIONS", (1.0, "HKD"), NA, "unit is not a scale of money (tn, bn, m or k)"),
    ("FX_IMPLIED_RATE", (370.0, 0.0), DIV0, "base_amount is zero: no rate is implied"),
    ("FX_IMPLIED_RATE", (-370.0, 0.0), DIV0, "base_amount is zero: no rate is implied"),
    ("FX_IMPLIED_RATE", (-370.0, 53.44), NUM,
     "quote_amount and base_amount must be positive to imply an exchange rate"),
    ("FX_IMPLIED_RATE", (370.0, -53.44), NUM,
     "quote_amount and base_amount must be positive to imply an exchange rate"),
    # VAL_YEARS_TO_MULTIPLE: (multiple, target, growth, discount rate), worked by hand
    ("VAL_YEARS_TO_MULTIPLE", (-1.0, 11.5, 1.0, 0.1), NUM,
     "multiple is negative: a multiple of a market value cannot be below zero"),
    ("VAL_YEARS_TO_MULTIPLE", (1499.07, 0.0, 1.0, 0.1), NUM,
     "target_multiple must be greater than zero"),
    ("VAL_YEARS_TO_MULTIPLE", (1499.07, 11.5, 1.0, -1.0), NUM,
     "discount_rate must be above -100%"),
    ("VAL_YEARS_TO_MULTIPLE", (1499.07, 11.5, -1.0, 0.1), NUM, "growth must be above -100%"),
    ("VAL_YEARS_TO_MULTIPLE", (1499.07, 11.5, 0.1, 0.1), NUM,
     "growth does not exceed the discount rate: the multiple is never reached"),
    ("CHECK_CLOSE", (369.8, 370.0, -0.01), NUM, "tolerance must not be negative"),
    ("CHECK_CLOSE", (1.0, 0.0, 0.01), VALUE,
     "expected is zero: a relative tolerance is undefined"),
    ("CHECK_CLOSE", (1.0, 0.0, -0.01), NUM, "tolerance must not be negative"),  # first wins
    # VAL_DCF: (flows, rate, terminal growth); its own error table, not @metric guards
    ("VAL_DCF", ([100.0, None, 121.0], 0.1, None), VALUE,
     "cash_flows: expected numbers without gaps (a blank or text before the last number; "
     "trailing blanks are ignored)"),
    ("VAL_DCF", ([100.0, XlError(DIV0, ""), 121.0], 0.1, None), DIV0,
     "cash_flows: a cell holds this error"),
    ("VAL_DCF", ([100.0, 110.0], -1.0, None), NUM, "discount_rate must be above -100%"),
    ("VAL_DCF", ([100.0, 110.0], -1.5, 0.02), NUM, "discount_rate must be above -100%"),
    ("VAL_DCF", ([100.0, 110.0], 0.05, 0.05), NUM,
     "terminal value needs discount_rate greater than terminal_growth"),
    ("VAL_DCF", ([100.0, 110.0], 0.05, 0.08), NUM,
     "terminal value needs discount_rate greater than terminal_growth"),
    ("VAL_DCF", ([100.0, 110.0], "abc", None), VALUE, "discount_rate must be a single number"),
    ("VAL_DCF", ([100.0, 110.0], 0.1, "abc"), VALUE, "terminal_growth must be a single number"),
    ("VAL_DCF", ([1e308, 1e308], 0.0, None), NUM,
     "the result is too large or not a finite number"),
]

# Inputs no cell can hold, for the core only: a number beyond a double
CORE_ONLY: list[tuple[str, tuple[Any, ...], str, str]] = [
    ("VAL_DCF", ([10**400, 1.0], 0.1, None), NUM, "cash_flows: not a finite number"),
]
# VAL_DCF's errors: its own table (valuation.dcf_outcome), not @metric guards
DCF_ERRORS = [XlError(code, reason) for name, _, code, reason in CASES + CORE_ONLY
              if name == "VAL_DCF"]

# Where the native formula answers differently: (case label, engines, reason); "ENGINE:"
# rows are Gnumeric departing from Excel (docs/testing.md, "Spreadsheet engines")
BOTH = ("LibreOffice", "Gnumeric")
FORMULA_DIFFERS = (
    ("VAL_DCF([1e+308, 1e+308], 0.0, None)", ("Gnumeric",),
     "ENGINE: Gnumeric saves an overflowing result as inf, where Excel and LibreOffice "
     "give #NUM!"),
)


def label(case: tuple[str, tuple[Any, ...], str, str]) -> str:
    return f"{case[0]}{case[1]}"


def core_answer(name: str, args: tuple[Any, ...]) -> Any:
    if name == "VAL_DCF":
        flows, rate, growth = args
        return dcf_outcome([flows], rate, growth).cells()
    return entry(name).outcome(*args).cells()  # type: ignore[misc]


@pytest.mark.parametrize(("name", "args", "code", "reason"), CASES + CORE_ONLY,
                         ids=[label(c) for c in CASES + CORE_ONLY])
def test_the_core_answers_exactly_that_guards_error(name: str, args: tuple[Any, ...],
                                                    code: str, reason: str) -> None:
    assert core_answer(name, args) == XlError(code, reason)


def guards_of(item: Entry) -> list[XlError]:
    """The errors a function's guards give: @metric guards, or VAL_DCF's error table."""
    if item.name == "VAL_DCF":
        return list(dict.fromkeys(DCF_ERRORS))
    return [XlError(g.code, g.reason) for g in item.func.guards]  # type: ignore[attr-defined]


def test_every_known_difference_names_a_case() -> None:
    labels = {label(c) for c in CASES}
    assert all(differs in labels for differs, _, _ in FORMULA_DIFFERS)


def test_every_guard_of_val_dcf_and_the_workbook_only_formulas_has_a_case() -> None:
    hit = {(name, core_answer(name, args)) for name, args, _, _ in CASES + CORE_ONLY}
    covered = [entry("VAL_DCF"), *WORKBOOK_ONLY]
    for item in covered:
        for error in guards_of(item):
            assert (item.name, error) in hit, (item.name, error)
    # the formulas without guards today; one that gains a guard needs a case above
    unguarded = {e.name for e in covered if not guards_of(e)}
    assert unguarded == {"DATA_MIDPOINT", "CHECK_AT_LEAST", "CHECK_BETWEEN"}
    # every error dcf_outcome answers with: its 5 XlError(...) of the cells, its 2 guards
    # (answered by one XlError(guard...)) and the cell error it passes on; _single_number's
    # reason names the rate or the growth (8 reasons): a new error needs a case above
    source = "".join(inspect.getsource(f) for f in (dcf_outcome, _single_number, _dcf_answer))
    assert source.count("XlError(") - 1 + len(DCF_GUARDS) == 7
    assert len(guards_of(entry("VAL_DCF"))) == 8


# ---- the native formulas, recalculated by an engine ---------------------------------------

EXCEL_CODE = {NA: "#N/A", NUM: "#NUM!", DIV0: "#DIV/0!", VALUE: "#VALUE!"}
ERROR_FORMULAS = {DIV0: "=1/0"}  # an error cell among the flows


def guard_book(path: Path) -> dict[int, int]:
    """One row a case: its arguments, then the native formula in column G (flows of
    VAL_DCF in A:D, rate E, growth F). Returns case index -> row."""
    book = Book()
    sheet = book.sheet("Guards")
    rows = {}
    for index, (name, args, code, _) in enumerate(CASES):
        row = sheet.rows + 1
        if name == "VAL_DCF":
            flows, rate, growth = args
            cells = [sheet.formula(ERROR_FORMULAS[v.code], v.code) if isinstance(v, XlError)
                     else sheet.value(v) for v in flows] + [None] * (4 - len(flows))
            cells += [sheet.value(rate), sheet.value(growth)]
            formula = entry(name).excel(f"A{row}:D{row}", f"E{row}", f"F{row}")
        else:
            cells = [sheet.value(v) for v in args] + [None] * (6 - len(args))
            formula = entry(name).excel(*[f"{chr(65 + k)}{row}" for k in range(len(args))])
        sheet.append([*cells, sheet.formula(formula, EXCEL_CODE[code])])
        rows[index] = row
    path.write_bytes(book.to_bytes())
    return rows


_RECALCULATED: dict[str, dict[int, Any]] = {}


def engine_answers(engine: Engine, directory: Path) -> dict[int, Any]:
    if engine.name not in _RECALCULATED:
        rows = guard_book(directory / "guards.xlsx")
        out = engine.recalculate(directory / "guards.xlsx", directory / engine.name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sheet = openpyxl.load_workbook(out, data_only=True)["Guards"]
        _RECALCULATED[engine.name] = {i: sheet[f"G{r}"].value for i, r in rows.items()}
    return _RECALCULATED[engine.name]


@pytest.fixture(scope="module")
def guard_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("guards")


@pytest.mark.engines
@pytest.mark.parametrize("index", range(len(CASES)), ids=[label(c) for c in CASES])
def test_the_native_formula_answers_the_same_error(engine: Engine, guard_dir: Path,
                                                   index: int,
                                                   request: pytest.FixtureRequest) -> None:
    name, args, code, _ = CASES[index]
    for differs, engines, reason in FORMULA_DIFFERS:
        if differs == label(CASES[index]) and engine.name in engines:
            request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    assert engine_answers(engine, guard_dir)[index] == EXCEL_CODE[code], (name, args)
