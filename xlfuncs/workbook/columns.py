"""Columns of formulas: the native formula text and the Python value of every row at once.

A calculated column is one registry entry applied to argument columns. Its formula is
composed once as a template (``§`` standing for the row number) and its values for all
rows come from one vectorised call of the core function, so a 10,000-company sheet costs
a handful of numpy calls, not 10,000 Python ones.

Errors propagate as Excel propagates them: an argument cell in error makes the formula's
blank test ``OR(a="", b="")`` return that error (the first argument's, in order), before
any blank or guard is looked at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..elementwise import STATUS_OK
from ..registry import Entry

ROW = "§"  # stands for the row number in a formula template


@dataclass(frozen=True)
class Column:
    """Values of a column (or of one named input, broadcast) and how to refer to them."""

    ref: str                 # e.g. "E§", "Inputs!$C$5" or "USD_HKD"; ROW marks the row
    data: np.ndarray         # float (NaN blank) or object (None blank); dates as serials
    errors: np.ndarray       # object: None, or the Excel error code of that cell
    template: str | None = None          # a calculated column's formula, ROW for the row
    links: tuple[str | None, ...] | None = None  # a link column: each row's source cell
    # a checked input (validated where it is entered): the bounds its rule allows, so the
    # formulas that read it leave out its blank test and any guard the bounds already hold
    rule: tuple[float, float] | None = None
    blankable: bool = False   # a checked input a person may empty: still tested for blank

    def formula(self, index: int, row: int) -> str | None:
        """The formula of one row (None: a value cell, or an empty link)."""
        if self.template is not None:
            return "=" + self.template.replace(ROW, str(row))
        if self.links is not None:
            target = self.links[index]
            return None if target is None else "=" + target
        return None

    def cell(self, index: int) -> Any:
        """The cached value of one row: a number, text, True/False, "" or an error code."""
        error = self.errors[index] if self.errors.ndim else self.errors[()]
        if error is not None:
            return error
        value = self.data[index] if self.data.ndim else self.data[()]
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        return value.item() if isinstance(value, np.generic) else value


def constant(ref: str, value: Any, rule: tuple[float, float] | None = None,
             blankable: bool = False) -> Column:
    """A named input or literal: one value for every row (``rule``: a checked input's
    bounds)."""
    data = np.array(value if value is not None else np.nan,
                    dtype=object if isinstance(value, str) else np.float64)
    return Column(ref, data, np.array(None, dtype=object), rule=rule, blankable=blankable)


def values(ref: str, items: list[Any] | np.ndarray, text: bool = False,
           links: list[str | None] | None = None) -> Column:
    """A column of data, or of links to data (``links``: each row's source cell, whose
    value is ``items``); None or NaN is a blank cell."""
    if text:
        data = np.array([None if v is None or v == "" else v for v in items], dtype=object)
    else:
        data = np.array([np.nan if v is None else v for v in items], dtype=np.float64)
    return Column(ref, data, np.full(len(items), None, dtype=object),
                  links=None if links is None else tuple(links))


_REFERENCE = re.compile(r"(?:(?:'[^']+'|[A-Za-z_][\w.]*)!)?\$?[A-Z]{1,3}\$?\d+"
                        r"|[A-Za-z_][A-Za-z0-9_.]*")


def is_link(template: str | None) -> bool:
    """Whether a cell's formula only points at another cell or name (shown green)."""
    return template is not None and _REFERENCE.fullmatch(template) is not None


def _blank(column: Column) -> np.ndarray:
    """Where a column's cells are blank (no value and no error)."""
    data = column.data
    empty = (np.equal(data, None) | np.equal(data, "") if data.dtype == object
             else np.isnan(data))
    return empty & np.equal(column.errors, None)


def _tested_for_blank(args: tuple[Column, ...], rules: list[Any]) -> list[bool]:
    """Which arguments the formula tests for blank: not a checked input (unless a person
    may empty it), and not one that is blank only where an argument already tested is
    (a currency beside its amount, both from one fact): it gives the same blank there,
    and a colleague who empties it alone gets Excel's own error, never a number."""
    tested: list[bool] = []
    covered: np.ndarray | None = None
    for arg, rule in zip(args, rules, strict=True):
        if rule is not None and not arg.blankable:
            tested.append(False)
            continue
        blank = _blank(arg)
        needed = covered is None or bool(np.any(blank & ~covered)) or arg.data.ndim == 0
        tested.append(needed)
        if needed:
            covered = blank if covered is None else (covered | blank)
    return tested


def apply(entry: Entry, ref: str, *args: Column, addin: bool = False) -> Column:
    """The column ``entry(*args)``: its formula template (the workbook's short form, see
    Entry.workbook_formula) and every row's value, computed without the guards that form
    leaves out, so that the cached values are what the formula answers. ``addin``: the
    formula that answers exactly as the add-in does (every check; the registry grid)."""
    if addin:
        template, skipped = entry.excel(*(a.ref for a in args))[1:], frozenset()
    else:
        # an argument holding an error is tested first, as every other argument is: the
        # cache takes the first argument in error, which Excel's lazy IF might not reach
        rules = [None if np.any(np.not_equal(a.errors, None)) else a.rule for a in args]
        template, skipped = entry.workbook_formula([a.ref for a in args], rules,
                                                   _tested_for_blank(args, rules))
    core = entry.func.outcome_without(skipped) if skipped else entry.outcome  # type: ignore
    assert core is not None
    outcome = core(*(a.data for a in args))
    status = outcome.status
    data = np.where(status == STATUS_OK, outcome.values,
                    None if outcome.returns == "text" else np.nan)
    if outcome.returns == "bool":
        data = np.where(status == STATUS_OK, outcome.values == 1, None)
    errors = np.full(status.shape, None, dtype=object)
    for code in np.unique(status[status > 1]).tolist():
        errors[status == code] = outcome.error(code).code  # type: ignore[union-attr]
    for arg in reversed(args):  # the first argument in error wins, as in Excel's OR()
        if arg.errors.ndim or arg.errors[()] is not None:
            errors = np.where(np.not_equal(arg.errors, None), arg.errors, errors)
    return Column(ref, np.asarray(data), np.asarray(errors, dtype=object), template)
