"""The workbook's column plumbing (xlfuncs/workbook/columns.py) on its own: each row's
formula, each cell's cached value (number, text, TRUE/FALSE, blank or error code), and
which argument's error a formula shows, with values worked by hand. Fast (no workbook is
built), so it runs against every mutant of columns.py."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from xlfuncs.data import data_qualifier_outcome
from xlfuncs.registry import entry
from xlfuncs.workbook.columns import Column, apply, constant, values


def test_a_row_formula_puts_the_row_number_where_the_template_has_the_mark() -> None:
    column = Column("D§", np.array([1.0]), np.array([None], dtype=object), template="B§/C§")
    assert column.formula(0, 7) == "=B7/C7"
    linked = Column("", np.array([1.0, np.nan]), np.array([None, None], dtype=object),
                    links=("Facts!$L$8", None))
    assert linked.formula(0, 5) == "=Facts!$L$8"
    assert linked.formula(1, 6) is None  # an empty link is a blank cell, not "="
    assert Column("", np.array([1.0]), np.array([None], dtype=object)).formula(0, 5) is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        column.ref = "E§"  # type: ignore[misc]


def test_each_cell_is_its_value_blank_or_error_code() -> None:
    numbers = Column("", np.array([2.5, np.nan, 3.0]),
                     np.array([None, None, "#DIV/0!"], dtype=object))
    assert [numbers.cell(i) for i in range(3)] == [2.5, "", "#DIV/0!"]
    assert type(numbers.cell(0)) is float  # a Python float, which openpyxl writes as such
    texts = Column("", np.array(["HKD", None, 4.0], dtype=object), np.full(3, None, dtype=object))
    assert [texts.cell(i) for i in range(3)] == ["HKD", "", 4.0]
    flags = Column("", np.array([True, False, None], dtype=object), np.full(3, None, dtype=object))
    assert [flags.cell(i) for i in range(3)] == [True, False, ""]


def test_a_constant_is_one_value_for_every_row() -> None:
    rate = constant("USD_HKD", 7.8)
    assert rate.data.dtype == np.float64 and [rate.cell(i) for i in (0, 9)] == [7.8, 7.8]
    assert constant("HKD_text", "HKD").cell(4) == "HKD"
    assert constant("Empty", None).cell(0) == ""
    assert rate.formula(0, 3) is None


def test_values_make_float_columns_with_nan_and_text_columns_with_none() -> None:
    amounts = values("", [1.5, None, 0.0])
    assert amounts.data.dtype == np.float64 and amounts.data[0] == 1.5
    assert np.isnan(amounts.data[1]) and amounts.data[2] == 0.0
    assert [amounts.cell(i) for i in range(3)] == [1.5, "", 0.0]
    names = values("", ["Zhipu", "", None], text=True)
    assert names.data.tolist() == ["Zhipu", None, None]  # "" and None are both blank
    assert [names.cell(i) for i in range(3)] == ["Zhipu", "", ""]
    assert names.errors.tolist() == [None, None, None]
    linked = values("", [300.0], links=["Facts!$L$8"])
    assert linked.links == ("Facts!$L$8",) and linked.formula(0, 6) == "=Facts!$L$8"


def test_apply_gives_the_registry_formula_and_each_row_value_worked_by_hand() -> None:
    market = values("B§", [300.0, 300.0, None, -1.0, 300.0])
    revenue = values("C§", [12.0, 0.0, 5.0, 5.0, None])
    ps = apply(entry("VAL_PS"), "D§", market, revenue)
    # the workbook's form: no type checks (inputs are checked where they are entered), the
    # two negatives share one IF, and a zero revenue is Excel's own #DIV/0! of B6/C6
    assert ps.formula(0, 6) == '=IF(OR(B6="",C6=""),"",IF(OR(B6<0,C6<0),#NUM!,B6/C6))'
    assert apply(entry("VAL_PS"), "D§", market, revenue, addin=True).formula(0, 6) == \
        entry("VAL_PS").excel("B6", "C6")
    # 300 / 12 = 25; revenue 0: #DIV/0!; a blank either side: blank; value -1: #NUM!
    assert [ps.cell(i) for i in range(5)] == [25.0, "#DIV/0!", "", "#NUM!", ""]
    assert ps.data.dtype == np.float64  # a number column keeps NaN for its blanks


def test_apply_takes_named_optional_inputs_as_given_unless_asked() -> None:
    args = (values("A§", [10.0]), constant('"USD"', "USD"), constant('"HKD"', "HKD"),
            constant("USD_HKD", 7.8, (1.0, 20.0)), constant("USD_CNY", 6.91, (1.0, 20.0)))
    converted = apply(entry("FX_CONVERT"), "", *args)
    # the workbook always fills USD_HKD (a checked input): no IF(USD_HKD="",7.8,...)
    # default, no blank test; the literal currencies pick their rates at build time
    assert converted.template == 'IF(A§="","",A§*USD_HKD)'
    assert 'USD_HKD=""' not in converted.template and "7.8" not in converted.template
    assert converted.cell(0) == pytest.approx(78.0)  # US$10 at 7.8 HK$ per US$
    defaulted = apply(entry("FX_CONVERT"), "", *args, addin=True)
    assert 'IF(USD_HKD="",7.8,USD_HKD)' in defaulted.template


def test_a_true_false_column_holds_booleans() -> None:
    # |369.8/370 - 1| = 0.00054 <= 1%: TRUE; |300/370 - 1| = 0.189: FALSE
    close = apply(entry("CHECK_CLOSE"), "", values("A§", [369.8, 300.0, None]),
                  constant("E", 370.0), constant("T", 0.01))
    cells = [close.cell(i) for i in range(3)]
    assert cells[0] is True and cells[1] is False and cells[2] == ""


def test_a_text_column_keeps_none_for_what_has_no_value() -> None:
    # any function returning text goes through the same plumbing: DATA_QUALIFIER's
    qualifier = SimpleNamespace(workbook_formula=lambda refs, rules, blanks: ("Q()", frozenset()),
                                outcome=lambda *data: data_qualifier_outcome(*data))
    companies = values("", ["Zhipu", "Nobody", None], text=True)
    answered = apply(qualifier, "", companies, constant('"revenue"', "revenue"))  # type: ignore[arg-type]
    assert answered.template == "Q()"
    assert answered.data.tolist() == ["=", None, None]
    assert [answered.cell(i) for i in range(3)] == ["=", "#N/A", ""]


def test_the_first_argument_in_error_wins_as_in_excel() -> None:
    first = Column("B§", np.array([300.0, 300.0, 300.0]),
                   np.array(["#N/A", None, "#VALUE!"], dtype=object))
    second = Column("C§", np.array([12.0, 0.0, 0.0]),
                    np.array(["#REF!", "#REF!", None], dtype=object))
    ps = apply(entry("VAL_PS"), "", first, second)
    # row 3's own answer would be #DIV/0!, but OR(B="",...) shows B's error first
    assert [ps.cell(i) for i in range(3)] == ["#N/A", "#REF!", "#VALUE!"]
    # a named input in error (one value for every row) spreads to every row
    broken = Column("USD_HKD", np.array(7.8), np.array("#NAME?", dtype=object))
    assert [apply(entry("VAL_PS"), "", values("", [1.0, 2.0]), broken).cell(i)
            for i in range(2)] == ["#NAME?", "#NAME?"]
    assert apply(entry("VAL_PS"), "", values("", [3.0]), constant("R", 1.5)).cell(0) == 2.0


def test_a_checked_input_has_no_blank_test_and_its_bounds_drop_the_guards_they_hold() -> None:
    """VAL_IMPLIED_CAGR's guards years <= 0, target <= 0 and discount <= -100% can never
    fire for inputs checked to 0.5-50 years, 0.1-1000x and -99%-100%: the Inputs sheet
    holds them, so the formula leaves them out; revenue and market value are formulas,
    so theirs stay."""
    mv, revenue = values("E§", [323.2, -1.0, 5.0]), values("N§", [0.2156, 0.2156, None])
    column = apply(entry("VAL_IMPLIED_CAGR"), "X§", mv, revenue,
                   constant("Target_Multiple", 11.5, (0.1, 1000.0)),
                   constant("Years", 5.0, (0.5, 50.0)),
                   constant("Discount_Rate", 0.1, (-0.99, 1.0)))
    assert column.formula(0, 6) == (
        '=IF(OR(E6="",N6=""),"",IF(OR(E6<0,N6<0),#NUM!,'
        '(E6*(1+Discount_Rate)^Years/Target_Multiple/N6)^(1/Years)-1))')
    # 323.2 x 1.61051 = 520.5168; / 11.5 / 0.2156 = 209.9366; ^(1/5) = 2.913518
    assert column.cell(0) == pytest.approx(1.913518, abs=1e-6)
    assert column.cell(1) == "#NUM!" and column.cell(2) == ""  # no revenue: blank
    # bounds that let a guard fire keep it: a discount rate allowed down to -150%
    loose = apply(entry("VAL_IMPLIED_CAGR"), "X§", mv, revenue,
                  constant("Target_Multiple", 11.5, (0.1, 1000.0)),
                  constant("Years", 5.0, (0.5, 50.0)),
                  constant("Discount_Rate", 0.1, (-1.5, 1.0)))
    assert "Discount_Rate<=-1" in loose.template


def test_the_cached_value_is_what_the_shortened_formula_answers() -> None:
    """A checked input outside its bounds (only a colleague's paste can put it there, and
    the Inputs check then says FALSE) is computed as the formula computes it: no guard."""
    growth = constant("G", -1.5, (-0.99, 10.0))  # the bounds say it cannot be -150%
    column = apply(entry("STORY_REVENUE"), "D§", values("C§", [100.0]), growth)
    assert "<=-1" not in column.template
    assert column.cell(0) == pytest.approx(-50.0)  # 100 x (1 - 1.5): what Excel answers


def test_an_argument_blank_only_where_a_tested_one_is_needs_no_test_of_its_own() -> None:
    """A currency is blank exactly where its amount is (one fact gives both): the amount's
    blank test answers for both, and a currency emptied alone is Excel's own #N/A, never
    a number; where the currency is blank and the amount is not, it is tested too."""
    amounts = values("B§", [300.0, None])
    paired = apply(entry("FX_RATE"), "D§", values("C§", ["USD", None], text=True),
                   constant('"HKD"', "HKD"), constant("USD_HKD", 7.8, (1.0, 20.0)),
                   constant("USD_CNY", 6.91, (1.0, 20.0)))
    assert paired.template.startswith('IF(C§="","",')
    converted = apply(entry("FX_CONVERT"), "D§", amounts, values("C§", ["USD", None], text=True),
                      constant('"HKD"', "HKD"), constant("USD_HKD", 7.8, (1.0, 20.0)),
                      constant("USD_CNY", 6.91, (1.0, 20.0)))
    assert converted.template.startswith('IF(B§="","",') and 'C§=""' not in converted.template
    alone = apply(entry("FX_CONVERT"), "D§", values("B§", [300.0, 5.0]),
                  values("C§", ["USD", None], text=True), constant('"HKD"', "HKD"),
                  constant("USD_HKD", 7.8, (1.0, 20.0)), constant("USD_CNY", 6.91, (1.0, 20.0)))
    assert alone.template.startswith('IF(OR(B§="",C§=""),"",')
    assert [alone.cell(i) for i in range(2)] == [pytest.approx(2340.0), ""]
