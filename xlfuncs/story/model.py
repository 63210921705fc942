"""A story's value: the steps of :mod:`xlfuncs.story.steps` composed over years 1-10.

Every input may be a scalar or an array (one company an element); the years are a last
axis added here. Each line of the model is one call of its step over all companies (and
all years where the line does not depend on the year before), so 100,000 stories cost a
few hundred numpy calls.

Errors travel as they do between the workbook's cells: a step answers with the error of
its first argument in error, else with its own blank/guard/overflow answer. So a story's
error is the one the workbook's value-per-share cell would show, with its reason.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import inputs
from ..elementwise import STATUS_BLANK, STATUS_OK, Outcome, broadcast
from ..errors import NUM, VALUE, XlError, XlfuncsError
from . import steps

REQUIRED = ("revenue", "growth_next", "growth_2_5", "margin_next", "target_margin",
            "convergence_year", "sales_to_capital_1_5", "sales_to_capital_6_10", "riskfree",
            "cost_of_capital")
MATURE_PREMIUM = 0.045  # mature cost of capital = riskfree + 4.5% by default
# Defaults of the optional inputs; None: derived from other inputs (see derived_defaults).
DEFAULTS: dict[str, float | None] = {
    "mature_cost_of_capital": None, "stable_growth": None, "stable_roc": None,
    "effective_tax": 0.25, "marginal_tax": 0.25, "nol": 0.0, "failure_probability": 0.0,
    "distress_fraction": 0.5, "cash": 0.0, "debt": 0.0, "minority": 0.0,
    "non_operating": 0.0, "options": 0.0, "shares": 1.0,
}
LABELS = (*REQUIRED, *DEFAULTS)
OUTPUTS = ("per_share", "equity", "operating", "going_concern", "pv_terminal")
YEARS = np.arange(1.0, 11.0)


@dataclass(frozen=True)
class Cells:
    """Values of a line (NaN where there is none) and each element's status: 0 a number,
    1 blank, 2+ an error of the :class:`Trace` that made it."""

    values: np.ndarray
    status: np.ndarray

    @functools.cached_property
    def has_errors(self) -> bool:
        return holds_errors(self.status)

    def known(self, has_errors: bool) -> Cells:
        """This line, told whether it holds errors (saves a pass over its status)."""
        self.__dict__["has_errors"] = has_errors  # the cached_property's own slot
        return self

    def year(self, t: int) -> Cells:
        part = Cells(self.values[..., t - 1], self.status[..., t - 1])
        return part if self.has_errors else part.known(False)

    def column(self) -> Cells:
        """The companies as a column, to broadcast against the years."""
        part = Cells(self.values[..., None], self.status[..., None])
        return part if self.has_errors else part.known(False)


def holds_errors(status: np.ndarray) -> bool:
    """Whether any element's status is an error (above blank)."""
    return bool(status.size) and int(status.max()) > STATUS_BLANK


def stack(cells: list[Cells]) -> Cells:
    return Cells(np.stack([c.values for c in cells], -1), np.stack([c.status for c in cells], -1))


class Trace:
    """The errors met while valuing a table of stories, numbered for the status codes."""

    def __init__(self) -> None:
        self.errors: list[XlError] = []
        self._codes: dict[XlError, int] = {}

    def code(self, error: XlError) -> int:
        if error not in self._codes:
            self._codes[error] = len(self.errors) + 2
            self.errors.append(error)
        return self._codes[error]

    def step(self, func: Callable[..., Any], *args: Cells | float | np.ndarray) -> Cells:
        """``func`` applied element-wise; an argument in error passes its error on (the
        first such argument wins, as in Excel)."""
        out: Outcome = func.outcome(*(a.values if isinstance(a, Cells) else a for a in args))
        status = out.status
        own_errors = holds_errors(status)
        if own_errors:
            codes = np.unique(status[status > STATUS_BLANK])
            table = np.arange(int(codes.max()) + 1, dtype=np.int16)
            for code in codes.tolist():
                table[code] = self.code(out.error(code))  # type: ignore[arg-type]
            status = table[status]
        in_error = [a for a in args if isinstance(a, Cells) and a.has_errors]
        if not in_error:  # the outcome already left no value where it gave none
            return Cells(out.values, status).known(own_errors)
        for arg in reversed(in_error):
            status = np.where(arg.status > STATUS_BLANK, arg.status, status)
        return Cells(np.where(status == STATUS_OK, out.values, np.nan), status).known(True)

    def input(self, label: str, raw: Any) -> Cells:
        values, status = inputs.to_numbers(raw)
        codes = np.array([STATUS_OK, STATUS_BLANK,
                          self.code(XlError(VALUE, f"{label}: expected a number")),
                          self.code(XlError(NUM, f"{label}: not a finite number"))],
                         dtype=np.int16)
        return Cells(values, codes[status])


@dataclass(frozen=True)
class Model:
    """Every line of the valued stories: year lines have the years as a last axis."""

    trace: Trace
    shape: tuple[int, ...]
    scalar: bool
    inputs: dict[str, Cells]
    growth: Cells
    revenue: Cells
    margin: Cells
    ebit: Cells
    tax_rate: Cells
    taxes: Cells
    nol: Cells
    sales_to_capital: Cells
    reinvestment: Cells
    fcff: Cells
    cost_of_capital: Cells
    discount_factor: Cells
    pv_fcff: Cells
    terminal_value: Cells
    pv_terminal: Cells
    going_concern: Cells
    operating: Cells
    equity: Cells
    per_share: Cells

    def outcome(self, output: str = "per_share") -> Outcome:
        cells: Cells = getattr(self, output)
        return Outcome(cells.values, cells.status, tuple(self.trace.errors), self.scalar)


def story_inputs(trace: Trace, given: Mapping[str, Any]) -> tuple[dict[str, Cells], bool]:
    """Each input coerced and broadcast to the companies' shape, defaults filled in."""
    unknown = sorted(set(given) - set(LABELS))
    if unknown:
        raise XlfuncsError(f"unknown story input '{unknown[0]}' (known: {', '.join(LABELS)})")
    cells = {label: trace.input(label, given.get(label)) for label in LABELS}
    scalar = all(c.values.ndim == 0 for c in cells.values())
    values = broadcast([c.values for c in cells.values()], list(cells))
    statuses = broadcast([c.status for c in cells.values()], list(cells))
    cells = {label: Cells(np.array(v, dtype=np.float64), np.array(s, dtype=np.int16))
             for label, v, s in zip(cells, values, statuses, strict=True)}
    for label, default in DEFAULTS.items():
        if default is not None:
            _fill(cells, label, Cells(np.full_like(cells[label].values, default),
                                      np.zeros_like(cells[label].status)))
    riskfree = cells["riskfree"]
    _fill(cells, "mature_cost_of_capital",
          Cells(riskfree.values + MATURE_PREMIUM, riskfree.status))
    _fill(cells, "stable_growth", riskfree)
    _fill(cells, "stable_roc", cells["mature_cost_of_capital"])
    return cells, scalar


def _fill(cells: dict[str, Cells], label: str, default: Cells) -> None:
    """An optional input left blank takes its default."""
    blank = cells[label].status == STATUS_BLANK
    if blank.any():
        cells[label] = Cells(np.where(blank, default.values, cells[label].values),
                             np.where(blank, default.status, cells[label].status))


def _sum_years(line: Cells) -> Cells:
    """SUM over the year columns: blanks count as nothing, the first error wins."""
    errors = line.status > STATUS_BLANK
    first = np.argmax(errors, axis=-1)
    status = np.where(errors.any(-1), np.take_along_axis(line.status, first[..., None],
                                                         -1)[..., 0], STATUS_OK)
    return Cells(np.where(status == STATUS_OK, np.nansum(line.values, -1), np.nan),
                 status.astype(np.int16))


def value(given: Mapping[str, Any]) -> Model:
    """Value a table of stories (``given``: input label -> scalar or array)."""
    trace = Trace()
    i, scalar = story_inputs(trace, given)
    step = trace.step
    shape = i["revenue"].values.shape
    growth = step(steps.story_growth, YEARS, i["growth_next"].column(),
                  i["growth_2_5"].column(), i["stable_growth"].column())
    revenue_by_year, before = [], i["revenue"]
    for t in range(1, 11):
        before = step(steps.story_revenue, before, growth.year(t))
        revenue_by_year.append(before)
    revenue = stack(revenue_by_year)
    revenue_before = stack([i["revenue"], *revenue_by_year[:-1]])
    margin = step(steps.story_margin, YEARS, i["margin_next"].column(),
                  i["target_margin"].column(), i["convergence_year"].column())
    ebit = step(steps.story_ebit, revenue, margin)
    tax_rate = step(steps.story_tax_rate, YEARS, i["effective_tax"].column(),
                    i["marginal_tax"].column())
    taxes_by_year, nol_by_year, nol = [], [], i["nol"]
    for t in range(1, 11):
        taxes_by_year.append(step(steps.story_taxes, ebit.year(t), nol, tax_rate.year(t)))
        nol = step(steps.story_nol, ebit.year(t), nol)
        nol_by_year.append(nol)
    taxes = stack(taxes_by_year)
    sales_to_capital = step(steps.story_sales_to_capital, YEARS,
                            i["sales_to_capital_1_5"].column(),
                            i["sales_to_capital_6_10"].column())
    reinvestment = step(steps.story_reinvestment, revenue, revenue_before, sales_to_capital)
    fcff = step(steps.story_fcff, ebit, taxes, reinvestment)
    cost = step(steps.story_cost_of_capital, YEARS, i["cost_of_capital"].column(),
                i["mature_cost_of_capital"].column())
    factors, factor = [], Cells(np.ones(shape), np.zeros(shape, np.int16))
    for t in range(1, 11):
        factor = step(steps.story_discount_factor, factor, cost.year(t))
        factors.append(factor)
    discount_factor = stack(factors)
    pv_fcff = step(steps.story_present_value, fcff, discount_factor)
    terminal = step(steps.story_terminal_value, revenue.year(10), i["stable_growth"],
                    i["target_margin"], i["marginal_tax"], i["stable_roc"],
                    i["mature_cost_of_capital"])
    pv_terminal = step(steps.story_present_value, terminal, discount_factor.year(10))
    going = step(steps.story_going_concern, _sum_years(pv_fcff), pv_terminal)
    operating = step(steps.story_operating_value, going, i["failure_probability"],
                     i["distress_fraction"])
    equity = step(steps.story_equity, operating, i["cash"], i["debt"], i["minority"],
                  i["non_operating"])
    per_share = step(steps.story_per_share, equity, i["options"], i["shares"])
    return Model(trace, shape, scalar, i, growth, revenue, margin, ebit, tax_rate, taxes,
                 stack(nol_by_year), sales_to_capital, reinvestment, fcff, cost,
                 discount_factor, pv_fcff, terminal, pv_terminal, going, operating, equity,
                 per_share)


def raw_input(value: Any) -> np.ndarray:
    """An input as :func:`value` takes it: floats (NaN blank) when every cell is a number
    or blank; otherwise as given, so that the model reports each bad cell itself."""
    numbers, status = inputs.to_numbers(value)
    if np.all((status == inputs.OK) | (status == inputs.BLANK)):
        return numbers
    return inputs.as_object_array(value)


def check_output(output: str) -> str:
    chosen = str(output).strip().lower() if output is not None else ""
    chosen = chosen or "per_share"  # an empty optional cell takes the default
    if chosen not in OUTPUTS:
        raise XlfuncsError(f"output '{output}' is not one of {', '.join(OUTPUTS)}")
    return chosen
