"""Every native formula of the registry, checked where no spreadsheet engine is installed.

The engines (tests/test_engines.py, tests/test_registry_grid.py) prove the formulas
compute what the core computes; they skip outside CI when LibreOffice or Gnumeric is
missing. These checks run everywhere, in milliseconds: each formula parses with
openpyxl's tokenizer, its brackets balance, it calls only functions every engine has
with an argument count each accepts, it refers to nothing but its own arguments, and no
Python text ("None", "nan", a template marker) leaked into it.
"""

from __future__ import annotations

from typing import Any

import pytest
from openpyxl.formula.tokenizer import Tokenizer

from xlfuncs.registry import BY_NAME, EXCEL_ERROR, Entry

from .test_workbook import PORTABLE

# how many arguments each function takes (Excel's, which LibreOffice and Gnumeric share)
ARITY = {"IF": (2, 3), "OR": (1, 255), "AND": (1, 255), "NOT": (1, 1), "ISNA": (1, 1),
         "ISNUMBER": (1, 1), "ISTEXT": (1, 1), "ISERROR": (1, 1), "ISLOGICAL": (1, 1),
         "ISBLANK": (1, 1), "MATCH": (2, 3), "CHOOSE": (2, 255), "INDEX": (2, 3),
         "DATEDIF": (3, 3), "LN": (1, 1), "NPV": (2, 255), "COUNT": (1, 255),
         "COUNTA": (1, 255), "COUNTBLANK": (1, 1), "ROWS": (1, 1), "COLUMNS": (1, 1),
         "SUM": (1, 255), "SUMPRODUCT": (1, 255), "INT": (1, 1), "ABS": (1, 1),
         "NA": (0, 0), "TRIM": (1, 1), "MAX": (1, 255), "MIN": (1, 255), "ROW": (0, 1),
         "COLUMN": (0, 1), "OFFSET": (3, 5), "N": (1, 1)}
ERRORS = {"#VALUE!", "#NUM!", "#DIV/0!", "#N/A"}


def with_native_formula() -> list[Entry]:
    return [e for e in BY_NAME.values() if e.excel_body is not None]


def references(item: Entry) -> list[str]:
    """A distinct reference for each argument (a 4-cell row for a range)."""
    return [f"{'A' if p.kind != 'range' else 'G'}{i + 1}" + (
        f":J{i + 1}" if p.kind == "range" else "") for i, p in enumerate(item.params)]


def calls(formula: str) -> list[tuple[str, int]]:
    """(function, argument count) of every call in a formula (array constants' commas
    are not argument separators)."""
    stack: list[list[Any]] = []  # [name, separators, has an argument]; name None: {...}
    found: list[tuple[str, int]] = []
    for token in Tokenizer(formula).items:
        if token.type in ("FUNC", "ARRAY") and token.subtype == "OPEN":
            if stack:
                stack[-1][2] = True
            stack.append([token.value[:-1].upper() if token.type == "FUNC" else None, 0,
                          False])
            continue
        if token.type in ("FUNC", "ARRAY") and token.subtype == "CLOSE":
            name, separators, has_argument = stack.pop()
            if name is not None:
                found.append((name, separators + (1 if has_argument or separators else 0)))
            continue
        if stack and token.type == "SEP" and token.subtype == "ARG":
            stack[-1][1] += 1
        elif stack:
            stack[-1][2] = True
    assert not stack, f"unclosed call in {formula}"
    return found


@pytest.mark.parametrize("item", with_native_formula(), ids=lambda e: e.name)
@pytest.mark.parametrize("blank_takes_default", [True, False])
def test_each_formula_parses_and_calls_portable_functions_correctly(
        item: Entry, blank_takes_default: bool) -> None:
    refs = references(item)
    formula = item.excel(*refs, blank_takes_default=blank_takes_default)
    assert formula.startswith("=") and formula.count("(") == formula.count(")"), formula
    for leaked in ("None", "nan", "inf", "§", "¤", "{}", "'"):
        assert leaked not in formula, (leaked, formula)
    for name, count in calls(formula):
        assert name in PORTABLE | {"NA"}, (name, formula)
        low, high = ARITY[name]
        assert low <= count <= high, (name, count, formula)
    tokens = Tokenizer(formula).items
    used = {t.value for t in tokens if t.type == "OPERAND" and t.subtype == "RANGE"}
    assert used <= set(refs), (used - set(refs), formula)
    assert {r for r, p in zip(refs, item.params, strict=True) if not p.optional} <= used, (
        "a required argument is never used", formula)
    errors = {t.value for t in tokens if t.type == "OPERAND" and t.subtype == "ERROR"}
    assert errors <= ERRORS, errors
    # every guard of the core is in the formula, with its error (neighbouring guards with
    # the same error share one IF(OR(...)); a guard a literal decided is FALSE and left out)
    used_refs = [f"TRIM({r})" if p.kind == "text" else r for r, p in zip(
        refs, item.params, strict=True)]
    for guard, code in zip(item.excel_guards, item.guard_codes, strict=True):
        condition = guard(*used_refs)
        if condition != "FALSE" and not blank_takes_default:
            assert condition.removeprefix("OR(").removesuffix(")") in formula, (
                condition, formula)
        assert EXCEL_ERROR[code] in formula or condition == "FALSE", (code, formula)


def test_the_checks_cover_every_entry_with_a_native_formula() -> None:
    names = {e.name for e in with_native_formula()}
    assert {"VAL_PS", "VAL_DCF", "BURN_MONTHS", "FX_CONVERT", "CHECK_CLOSE",
            "DATA_IN_BILLIONS", "STORY_GROWTH", "STORY_TERMINAL_VALUE"} <= names


def test_an_omitted_or_blank_optional_argument_takes_its_default() -> None:
    # FX_RATE(from, to, [usd_hkd], [usd_cny]): the defaults 7.8 and 6.91 (the Inputs')
    fx = BY_NAME["FX_RATE"]
    omitted = fx.excel("A1", "B1")
    assert "7.8" in omitted and "6.91" in omitted and "C1" not in omitted
    one_given = fx.excel("A1", "B1", "C1")  # a blank cell takes the default, by default
    assert 'IF(C1="",7.8,C1)' in one_given and "6.91" in one_given
    assert 'IF(C1=""' not in fx.excel("A1", "B1", "C1", blank_takes_default=False)
    with pytest.raises(ValueError, match="FX_RATE needs 'to_currency'"):
        fx.excel("A1")


def test_a_default_is_written_as_an_excel_literal() -> None:
    from xlfuncs.entry import _literal

    # Excel doubles a quote inside a string literal; numbers keep 15 significant digits
    assert _literal('say "hi"') == '"say ""hi"""'
    assert _literal(None) == '""' and _literal(0.1) == "0.1" and _literal(7.8) == "7.8"
    assert _literal(1 / 3) == "0.333333333333333"


def test_a_literal_argument_is_told_from_a_reference() -> None:
    from xlfuncs.entry import _is_literal

    # a literal needs no blank test or type check; a reference or a name needs both
    assert _is_literal("0.5") and _is_literal("-3") and _is_literal('"USD"')
    assert not _is_literal("A1") and not _is_literal("Revenue_Growth")
