"""One definition, two readings: a metric's numpy body, called with cell references,
writes its own Excel formula.

A metric is a plain numpy function (``return market_cap / annual_revenue``). Called with
arrays it computes. Called with :class:`Formula` operands (``Formula("E6")``) the same
code returns a :class:`Formula` whose text is the native Excel formula: the operators and
the numpy functions a metric uses dispatch to it (numpy's ``__array_ufunc__`` and
``__array_function__`` protocols), so ``np.where(c, a, b)`` becomes ``IF(c,a,b)`` and
``np.maximum(x, 0)`` becomes ``MAX(x,0)``. Guards are the same: ``(s < 0) | (e < 0)``
becomes ``OR(s<0,e<0)``. Nothing of Excel is written by hand in a metric.

Rendered text keeps Python's order of operations exactly (``a*(b/c)`` stays so, never
``a*b/c``), so Excel computes what numpy computes, to the last bit where both follow
IEEE 754.

What a metric may use, and what it becomes:

==========================================  ============================================
numpy                                       Excel
==========================================  ============================================
``+ - * / **``, unary ``-``                 ``+ - * / ^``, ``-``
``< <= > >= == !=``                         ``< <= > >= = <>``
``&``, ``|``, ``~`` (on conditions)         ``AND()``, ``OR()``, ``NOT()``
``np.where``                                ``IF``
``np.maximum``, ``np.minimum``              ``MAX``, ``MIN``
``np.power``, ``np.log``                    ``^``, ``LN``
``np.floor``, ``np.abs``                    ``INT``, ``ABS``
``np.isfinite``                             ``ISNUMBER`` (an overflow is an error there)
:func:`lookup`, :func:`not_one_of`          ``CHOOSE(MATCH())``, ``ISNA(MATCH())``
:func:`whole_months`                        ``DATEDIF(start, after, "m")``
==========================================  ============================================

>>> a, b = Formula("A1"), Formula("B1")
>>> str(np.where(a > 0, a / (b + 1), np.maximum(-a, 0)))
'IF(A1>0,A1/(B1+1),MAX(-A1,0))'
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np

from . import inputs

# Excel's operator precedence, highest first; a function call or a reference is an atom.
ATOM, NEGATION, POWER, PRODUCT, SUM, COMPARISON = 10, 9, 8, 7, 6, 4

_BINARY = {  # numpy ufunc -> (Excel operator, its precedence)
    np.add: ("+", SUM), np.subtract: ("-", SUM), np.multiply: ("*", PRODUCT),
    np.true_divide: ("/", PRODUCT), np.power: ("^", POWER),
    np.less: ("<", COMPARISON), np.less_equal: ("<=", COMPARISON),
    np.greater: (">", COMPARISON), np.greater_equal: (">=", COMPARISON),
    np.equal: ("=", COMPARISON), np.not_equal: ("<>", COMPARISON),
}
_FUNCTIONS = {np.maximum: "MAX", np.minimum: "MIN", np.log: "LN", np.floor: "INT",
              np.absolute: "ABS", np.isfinite: "ISNUMBER"}
_LOGICAL = {np.logical_and: "AND", np.bitwise_and: "AND", np.logical_or: "OR",
            np.bitwise_or: "OR"}


class Formula:
    """An Excel expression standing where a numpy array would: a cell reference, a name,
    a literal, or what a metric computed from them."""

    __slots__ = ("constant", "function", "precedence", "text")
    __hash__ = None  # type: ignore[assignment]  # == builds a formula, so no hashing

    def __init__(self, text: str, precedence: int = ATOM, function: str = "",
                 constant: Any = None) -> None:
        self.text = text
        self.precedence = precedence
        self.function = function  # "AND"/"OR" when the whole formula is that call
        self.constant = constant  # a literal's Python value (text or number)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Formula({self.text!r})"

    def __bool__(self) -> bool:
        raise TypeError(f"{self.text}: a formula has no truth value in Python; a metric "
                        "must branch with np.where, not if")

    # numpy's protocols: ufuncs (operators included) and np.where
    def __array_ufunc__(self, ufunc: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        if method != "__call__" or kwargs:
            return NotImplemented
        if ufunc in _BINARY:
            return _binary(*_BINARY[ufunc], *args)
        if ufunc in _LOGICAL:
            return _call(_LOGICAL[ufunc], *args)
        if ufunc in _FUNCTIONS:
            return _call(_FUNCTIONS[ufunc], *args)
        if ufunc is np.negative:
            return _negate(args[0])
        if ufunc in (np.logical_not, np.invert):
            return _call("NOT", args[0])
        raise TypeError(f"{ufunc.__name__} has no Excel twin in xlfuncs.formula")

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func is np.where and len(args) == 3 and not kwargs:
            return _call("IF", *args)
        raise TypeError(f"np.{func.__name__} has no Excel twin in xlfuncs.formula")

    def __add__(self, other: Any) -> Any:
        return np.add(self, other)

    def __radd__(self, other: Any) -> Any:
        return np.add(other, self)

    def __sub__(self, other: Any) -> Any:
        return np.subtract(self, other)

    def __rsub__(self, other: Any) -> Any:
        return np.subtract(other, self)

    def __mul__(self, other: Any) -> Any:
        return np.multiply(self, other)

    def __rmul__(self, other: Any) -> Any:
        return np.multiply(other, self)

    def __truediv__(self, other: Any) -> Any:
        return np.true_divide(self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return np.true_divide(other, self)

    def __pow__(self, other: Any) -> Any:
        return np.power(self, other)

    def __rpow__(self, other: Any) -> Any:
        return np.power(other, self)

    def __neg__(self) -> Any:
        return _negate(self)

    def __lt__(self, other: Any) -> Any:
        return np.less(self, other)

    def __le__(self, other: Any) -> Any:
        return np.less_equal(self, other)

    def __gt__(self, other: Any) -> Any:
        return np.greater(self, other)

    def __ge__(self, other: Any) -> Any:
        return np.greater_equal(self, other)

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return np.equal(self, other)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return np.not_equal(self, other)

    def __and__(self, other: Any) -> Any:
        return _call("AND", self, other)

    def __rand__(self, other: Any) -> Any:
        return _call("AND", other, self)

    def __or__(self, other: Any) -> Any:
        return _call("OR", self, other)

    def __ror__(self, other: Any) -> Any:
        return _call("OR", other, self)

    def __invert__(self) -> Any:
        return _call("NOT", self)


def literal(value: Any) -> Formula:
    """A Python constant as Excel writes it: NaN is #NUM! (what Excel answers where numpy
    gives NaN), text is quoted with its quotes doubled."""
    if isinstance(value, Formula):
        return value
    if isinstance(value, (bool, np.bool_)):
        return Formula("TRUE" if value else "FALSE")
    if isinstance(value, str):
        return Formula('"' + value.replace('"', '""') + '"', constant=value)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return literal(value.item())
    number = float(value)
    if math.isnan(number):
        return Formula("#NUM!")
    if math.isinf(number):
        raise ValueError("an infinite constant has no Excel literal")
    text = repr(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    text = text.upper() if "e" in text else text
    return Formula(text, NEGATION if number < 0 else ATOM, constant=number)


def _wrapped(operand: Formula, parenthesise: bool) -> str:
    return f"({operand.text})" if parenthesise else operand.text


def _binary(operator: str, precedence: int, left: Any, right: Any) -> Formula:
    a, b = literal(left), literal(right)
    if (b.constant == 1 and operator in "*/") or (a.constant == 1 and operator == "*"):
        return a if b.constant == 1 else b  # x*1, x/1 and 1*x are x, exactly
    # Excel's binary operators are left-associative; a right operand of the same
    # precedence keeps its brackets so the order of operations stays Python's, and so
    # does a negated one after + or - (a-(-b), never a--b). Gnumeric reads a^b^c as
    # a^(b^c), Excel and LibreOffice as (a^b)^c: a power of a power keeps its brackets.
    text = (_wrapped(a, a.precedence < precedence
                     or (a.precedence == POWER and precedence == POWER)) + operator
            + _wrapped(b, b.precedence <= precedence
                       or (b.precedence == NEGATION and precedence == SUM)))
    return Formula(text, precedence)


def _negate(operand: Any) -> Formula:
    a = literal(operand)
    return Formula("-" + _wrapped(a, a.precedence < ATOM), NEGATION)


def _call(function: str, *args: Any) -> Formula:
    parts: list[str] = []
    for arg in args:
        a = literal(arg)
        # AND(AND(a,b),c) reads as AND(a,b,c): the same answer, shorter
        parts.extend([a.text[len(function) + 1:-1]] if a.function == function
                     and function in ("AND", "OR") else [a.text])
    return Formula(f"{function}({','.join(parts)})", ATOM, function)


def _symbolic(*args: Any) -> bool:
    return any(isinstance(a, Formula) for a in args)


# ---- Excel functions with a numpy twin beyond numpy's own ------------------------------

_Tables = dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[str, int]]
_TABLES: ContextVar[_Tables | None] = ContextVar("lookup_tables", default=None)
_USED: ContextVar[list[str] | None] = ContextVar("tables_used", default=None)


@contextmanager
def tables_used() -> Iterator[list[str]]:
    """The tables the lookups rendered within the block used (VLOOKUP answers #N/A in
    every engine where nothing matches; CHOOSE(MATCH()) does not in Gnumeric)."""
    used: list[str] = []
    token = _USED.set(used)
    try:
        yield used
    finally:
        _USED.reset(token)


@contextmanager
def lookup_tables(tables: Sequence[tuple[str, int, Sequence[str], Sequence[Any]]]
                  ) -> Iterator[None]:
    """Within the block, a :func:`lookup` over one of these tables' keys and values
    renders as ``VLOOKUP(key,name,column,0)``: the workbook writes each table once, as
    named cells (keys in the first column, values in ``column``), instead of in every
    formula. ``tables``: (name, column, keys, values) each.

    >>> with lookup_tables([("Units", 2, ("bn", "m"), (1, 0.001))]):
    ...     str(lookup(Formula("F7"), ("bn", "m"), (1.0, 0.001)))
    'VLOOKUP(F7,Units,2,0)'
    """
    found = {(_folded(keys), tuple(literal(v).text for v in values)): (name, column)
             for name, column, keys, values in tables}
    token = _TABLES.set({**(_TABLES.get() or {}), **found})
    try:
        yield
    finally:
        _TABLES.reset(token)


def _folded(keys: Sequence[str]) -> tuple[str, ...]:
    return tuple(k.upper() for k in keys)


def lookup(key: Any, keys: Sequence[str], values: Sequence[Any]) -> Any:
    """The value paired with ``key`` among ``keys`` (case-insensitive, as Excel's MATCH),
    NaN where it is none of them: ``CHOOSE(MATCH(key,{keys},0),values...)``, or the value
    itself when the key is a literal.

    >>> lookup(np.array(["usd", "EUR"]), ("USD", "HKD"), (1.0, 7.8)).tolist()
    [1.0, nan]
    >>> str(lookup(Formula("A1"), ("USD", "HKD"), (1, Formula("USD_HKD"))))
    'CHOOSE(MATCH(A1,{"USD","HKD"},0),1,USD_HKD)'
    >>> str(lookup(literal("hkd"), ("USD", "HKD"), (1, Formula("USD_HKD"))))
    'USD_HKD'
    """
    if _symbolic(key, *values):
        if isinstance(key, Formula) and isinstance(key.constant, str):
            folded = _folded(keys)
            wanted = key.constant.upper()
            return literal(values[folded.index(wanted)]) if wanted in folded else \
                Formula("NA()")
        table = (_TABLES.get() or {}).get((_folded(keys), tuple(literal(v).text for v in values)))
        if table is not None:
            if (used := _USED.get()) is not None:
                used.append(table[0])
            return _call("VLOOKUP", key, Formula(table[0]), table[1], 0)
        return _call("CHOOSE", _match(key, keys), *values)
    upper = np.char.upper(np.asarray(key).astype(str))
    return np.select([upper == k.upper() for k in keys],
                     [np.asarray(v, dtype=np.float64) for v in values], default=np.nan)


def not_one_of(key: Any, keys: Sequence[str]) -> Any:
    """True where ``key`` is none of ``keys`` (case-insensitive): ``ISNA(MATCH(...))``.

    >>> not_one_of(np.array(["m", "M", "x"]), ("tn", "m")).tolist()
    [False, False, True]
    """
    if _symbolic(key):
        if isinstance(key, Formula) and isinstance(key.constant, str):
            return literal(key.constant.upper() not in _folded(keys))
        return _call("ISNA", _match(key, keys))
    upper = np.char.upper(np.asarray(key).astype(str))
    return ~np.isin(upper, [k.upper() for k in keys])


def _match(key: Any, keys: Sequence[str]) -> Formula:
    table = Formula("{" + ",".join(literal(k).text for k in keys) + "}")
    return _call("MATCH", key, table, 0)


def given(value: Any) -> Any:
    """True where an optional number was given: not NaN in numpy, ``<>""`` in Excel.

    >>> given(np.array([0.02, np.nan])).tolist(), str(given(Formula("C1")))
    ([True, False], 'C1<>""')
    """
    if _symbolic(value):
        return np.not_equal(value, "")
    return ~np.isnan(value)


# A range's cells in reading order (row by row), numbered 1, 2, ... (Excel's ROW/COLUMN
# arithmetic; inside SUMPRODUCT, which every engine spreads over the range)
def position(cells: Formula) -> Formula:
    """The reading-order number of each cell of a range, for SUMPRODUCT."""
    f = cells.text
    return Formula(f"((ROW({f})-MIN(ROW({f})))*COLUMNS({f})+COLUMN({f})-MIN(COLUMN({f}))+1)")


def count(flows: Any) -> Any:
    """How many numbers a range of numbers holds: ``COUNT``."""
    return _call("COUNT", flows) if _symbolic(flows) else float(np.size(flows))


def last(flows: Any) -> Any:
    """The last number of a range of numbers without gaps (read row by row)."""
    if _symbolic(flows):
        return _call("SUMPRODUCT", Formula(f"--({position(flows).text}={count(flows).text})"),
                     flows)
    return flows[-1]


def npv(rate: Any, flows: Any) -> Any:
    """Excel's NPV: each flow discounted one more period than the one before, the first
    one period.

    >>> round(float(npv(0.1, np.array([100.0, 110.0, 121.0]))), 4)
    272.7273
    """
    if _symbolic(rate, flows):
        return _call("NPV", rate, flows)
    return np.sum(flows / (1 + rate) ** np.arange(1, np.size(flows) + 1))


def whole_months(start: Any, after: Any) -> Any:
    """Excel's DATEDIF(start, after, "m"): whole months from the serial ``start`` to the
    serial ``after``.

    >>> float(whole_months(44562.0, 45839.0))  # 2022-01-01 to 2025-07-01
    42.0
    >>> str(whole_months(Formula("A1"), Formula("B1") + 1))
    'DATEDIF(A1,B1+1,"m")'
    """
    if _symbolic(start, after):
        return _call("DATEDIF", start, after, "m")
    first = inputs.serials_to_datetime64(start)
    last = inputs.serials_to_datetime64(after)
    month_first = first.astype("datetime64[M]")
    month_last = last.astype("datetime64[M]")
    day_first = (first - month_first.astype("datetime64[D]")).astype(np.int64)
    day_last = (last - month_last.astype("datetime64[D]")).astype(np.int64)
    months = (month_last - month_first).astype(np.int64) - (day_last < day_first)
    return months.astype(np.float64)
