"""xlfuncs.formula: a numpy expression called with cell references writes the Excel formula
that computes the same number.

Hand-worked renderings pin Excel's precedence rules where they differ from Python's
(unary minus binds tighter than ^ in Excel; ^ is left-associative there), and random
expression trees, computed by numpy and by both engines from the rendered text, must agree.
"""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import openpyxl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from xlfuncs.formula import Formula, literal, lookup, not_one_of, whole_months
from xlfuncs.workbook.book import Book
from xlfuncs.workbook.engines import Engine

x, y, z = Formula("A1"), Formula("B1"), Formula("C1")


@pytest.mark.parametrize(("expression", "text"), [
    (-x ** 2, "-(A1^2)"),                   # Python: -(x**2); Excel's -A1^2 is (-A1)^2
    ((-x) ** 2, "-A1^2"),
    (x ** y ** z, "A1^(B1^C1)"),            # Python's ** is right-associative
    ((x ** y) ** z, "(A1^B1)^C1"),          # Gnumeric reads A1^B1^C1 as A1^(B1^C1)
    (x - (y - z), "A1-(B1-C1)"),
    ((x - y) - z, "A1-B1-z".replace("z", "C1")),
    (x * (y / z), "A1*(B1/C1)"),            # the order numpy computes in, not A1*B1/C1
    (x / (y * z), "A1/(B1*C1)"),
    (x + (y + z), "A1+(B1+C1)"),            # floating-point addition is not associative
    (x - -y, "A1-(-B1)"),
    (x * -y, "A1*-B1"),
    (2 * x + 1, "2*A1+1"),
    (1 - x, "1-A1"),
    (x ** -1, "A1^-1"),
    ((x < 0) | (y > 1) | (z == 0), "OR(A1<0,B1>1,C1=0)"),
    ((x <= 0) & ((y >= 1) | (z != 2)), "AND(A1<=0,OR(B1>=1,C1<>2))"),
    (~(x > 1), "NOT(A1>1)"),
    (np.where(x == 1, y, np.where(x <= 5, z, 0.0)), "IF(A1=1,B1,IF(A1<=5,C1,0))"),
    (np.maximum(x - y, 0) * z, "MAX(A1-B1,0)*C1"),
    (np.minimum(x, y), "MIN(A1,B1)"),
    (np.log(x) / np.log(y), "LN(A1)/LN(B1)"),
    (np.floor(x + 0.5), "INT(A1+0.5)"),
    (np.abs(x / y - 1), "ABS(A1/B1-1)"),
    (np.power(x / y, 1 / z) - 1, "(A1/B1)^(1/C1)-1"),
    (np.where(np.isfinite(x), x <= y, np.nan), "IF(ISNUMBER(A1),A1<=B1,#NUM!)"),
    (x * 1e-06, "A1*1E-06"),
    (x + 12.0, "A1+12"),
    (x - 0, "A1-0"),                        # zero is no negative number: no brackets
    (1 * x, "A1"), (x * 1, "A1"), (x / 1, "A1"),  # exactly x in IEEE arithmetic
    ((x < 0) & (y < 0) & (z < 0), "AND(A1<0,B1<0,C1<0)"),   # AND(AND(..),..) flattened
    ((x < 0) | (y < 0) | (z < 0), "OR(A1<0,B1<0,C1<0)"),
    (True & (x > 0), "AND(TRUE,A1>0)"), (False | (x > 0), "OR(FALSE,A1>0)"),
    (np.bool_(True) & (x > 0), "AND(TRUE,A1>0)"),            # through numpy's ufunc
    (np.logical_and(x > 0, y > 0), "AND(A1>0,B1>0)"),
    (np.logical_or(x > 0, y > 0), "OR(A1>0,B1>0)"),
    (np.logical_not(x > 1), "NOT(A1>1)"), (np.invert(x > 1), "NOT(A1>1)"),
    (np.negative(x), "-A1"),
])
def test_renderings_worked_by_hand(expression: Formula, text: str) -> None:
    assert str(expression) == text


def test_literals() -> None:
    assert [literal(v).text for v in (0.1, -2.0, 3, True, 'say "hi"', np.nan)] == [
        "0.1", "-2", "3", "TRUE", '"say ""hi"""', "#NUM!"]
    # a whole number is written whole below 1e15, in exponent form from there
    assert [literal(v).text for v in (1e15 - 1, 1e15, 1e16, np.array(2.5))] == [
        "999999999999999", "1000000000000000.0", "1E+16", "2.5"]
    with pytest.raises(ValueError, match="infinite"):
        literal(math.inf)


def test_a_formula_refuses_python_branching() -> None:
    """`if x > 0:` in a metric would pick one branch at render time: a silent wrong
    formula. A formula has no truth value, so the mistake fails loudly."""
    with pytest.raises(TypeError, match=r"np\.where"):
        bool(x > 0)
    with pytest.raises(TypeError, match="no Excel twin"):
        np.sin(x)
    with pytest.raises(TypeError):
        np.maximum(x, 0, dtype=float)   # an option numpy would apply and Excel cannot
    with pytest.raises(TypeError):
        np.where(x > 0)                 # the one-argument form: positions, not values


def test_excel_twins_in_numpy() -> None:
    codes = np.array(["usd", " HKD", "CNY", "EUR", ""], dtype=object)
    # case-insensitive, as MATCH; " HKD" is not HKD (the core trims text before this)
    found = lookup(codes, ("USD", "HKD", "CNY"), (1.0, 7.8, 6.91))
    assert found[0] == 1.0 and math.isnan(found[1]) and found[2] == 6.91
    assert math.isnan(found[3]) and math.isnan(found[4])
    assert not_one_of(codes, ("USD", "HKD", "CNY")).tolist() == [False, True, False, True, True]
    # DATEDIF(2024-01-31, 2024-03-01, "m") = 1; (2024-01-31, 2024-02-29) = 0
    assert whole_months(np.array([45322.0, 45322.0]), np.array([45352.0, 45351.0])).tolist() \
        == [1.0, 0.0]


# ---- random expressions: numpy against both engines ---------------------------------

Tree = Callable[[tuple[Any, Any, Any]], Any]
CONSTANTS = (1.0, 2.0, 0.5, 3.0, -1.5, 0.1)
BINARY = (operator.add, operator.sub, operator.mul, operator.truediv)


def _leaf() -> st.SearchStrategy[tuple[Tree, str]]:
    variables = st.sampled_from([0, 1, 2, 0, 1, 2, None]).map(
        lambda i: ((lambda v: v[i]), "xyz"[i]) if i is not None else None)
    constants = st.sampled_from(CONSTANTS).map(lambda c: ((lambda v: c), repr(c)))
    # mostly cells: two constants would be folded by Python before anything renders
    return variables.flatmap(lambda leaf: st.just(leaf) if leaf else constants)


def _extend(children: st.SearchStrategy[tuple[Tree, str]]) -> st.SearchStrategy[
        tuple[Tree, str]]:
    def binary(op: Any, a: tuple[Tree, str], b: tuple[Tree, str]) -> tuple[Tree, str]:
        return (lambda v: op(a[0](v), b[0](v))), f"({a[1]} {op.__name__} {b[1]})"

    def power(a: tuple[Tree, str], k: int) -> tuple[Tree, str]:
        return (lambda v: a[0](v) ** k), f"({a[1]} ** {k})"

    def negate(a: tuple[Tree, str]) -> tuple[Tree, str]:
        return (lambda v: -a[0](v)), f"-{a[1]}"

    def choose(c: tuple[Tree, str], a: tuple[Tree, str], b: tuple[Tree, str]) -> tuple[
            Tree, str]:
        return ((lambda v: np.where(c[0](v) > a[0](v), a[0](v), b[0](v))),
                f"where({c[1]} > {a[1]}, {a[1]}, {b[1]})")

    def extreme(f: Any, a: tuple[Tree, str], b: tuple[Tree, str]) -> tuple[Tree, str]:
        return (lambda v: f(a[0](v), b[0](v))), f"{f.__name__}({a[1]}, {b[1]})"

    return (st.builds(binary, st.sampled_from(BINARY), children, children)
            | st.builds(power, children, st.sampled_from([2, 3, -1]))
            | st.builds(negate, children)
            | st.builds(choose, children, children, children)
            | st.builds(extreme, st.sampled_from([np.maximum, np.minimum]), children, children))


EXPRESSIONS = st.recursive(_leaf(), _extend, max_leaves=10)
VALUES = st.tuples(*[st.sampled_from([0.7, 1.3, 2.5, -0.4, 4.0, -3.2])] * 3)


@pytest.mark.engines
@settings(max_examples=3, deadline=None, derandomize=True, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(EXPRESSIONS, VALUES), min_size=200, max_size=200))
def test_random_expressions_agree_in_both_engines(engine: Engine, tmp_path_factory: Any,
                                                  cases: list[tuple[tuple[Tree, str],
                                                                    tuple[float, ...]]]) -> None:
    """Each expression computed by numpy on its row's x, y, z, and by the engine from the
    text it renders for that row's A, B, C: the same number (1e-12 relative) or, where
    numpy has none (a division by zero, an overflow), no number in the engine either."""
    folder = tmp_path_factory.mktemp("render")
    book = Book()
    sheet = book.sheet("Render")
    expected: list[float] = []
    for (tree, _), values in cases:
        row = sheet.rows + 1
        refs = tuple(Formula(f"{c}{row}") for c in "ABC")
        with np.errstate(all="ignore"):
            answer = float(tree(tuple(np.float64(v) for v in values)))
        expected.append(answer)
        text = str(literal(tree(refs)))
        sheet.append([*(sheet.value(v) for v in values),
                      sheet.formula("=" + text, answer if math.isfinite(answer) else "#NUM!")])
    path = folder / "render.xlsx"
    path.write_bytes(book.to_bytes())
    recalculated = engine.recalculate(path, folder / "out")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = openpyxl.load_workbook(recalculated, data_only=True)["Render"]
    for index, ((_, shown), values) in enumerate(cases):
        got = theirs.cell(index + 1, 4).value
        want = expected[index]
        if math.isfinite(want) and abs(want) < 1e300:
            assert isinstance(got, (int, float)) and math.isclose(
                got, want, rel_tol=1e-12, abs_tol=1e-300), (shown, values, got, want)
        else:
            assert not isinstance(got, (int, float)) or not math.isfinite(got) or abs(
                got) > 1e300, (shown, values, got, want)


def test_a_lookup_over_a_named_table_is_an_exact_vlookup() -> None:
    from xlfuncs.formula import lookup_tables, tables_used

    rates = (1.0, Formula("USD_HKD"), Formula("USD_CNY"), Formula("USD_CNY"))
    codes = ("USD", "HKD", "CNY", "RMB")
    with lookup_tables([("FX_Rates", 3, codes, rates)]), tables_used() as used:
        assert str(lookup(Formula("C7"), codes, rates)) == "VLOOKUP(C7,FX_Rates,3,0)"
        # another set of values is another table: not this one
        assert str(lookup(Formula("C7"), codes, (1.0, 7.8, 6.91, 6.91))).startswith("CHOOSE(")
        # a literal key is looked up at once, its text case ignored as MATCH does
        assert str(lookup(literal("hkd"), codes, rates)) == "USD_HKD"
        assert str(lookup(literal("EUR"), codes, rates)) == "NA()"
        assert str(not_one_of(literal("eur"), codes)) == "TRUE"
        assert str(not_one_of(literal("rmb"), codes)) == "FALSE"
    assert used == ["FX_Rates"]
    assert str(lookup(Formula("C7"), codes, rates)).startswith("CHOOSE(")  # outside the block
