"""The story DCF in Python: numpy arrays (or scalars) for every input, as the metrics take."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..elementwise import Outcome, python_answer
from ..errors import XlfuncsError
from . import implied, model, simulate, steps


def story_value_outcome(revenue: Any = None, growth_next: Any = None, growth_2_5: Any = None,
                        margin_next: Any = None, target_margin: Any = None,
                        convergence_year: Any = None, sales_to_capital_1_5: Any = None,
                        sales_to_capital_6_10: Any = None, riskfree: Any = None,
                        cost_of_capital: Any = None, output: str = "per_share",
                        **optional: Any) -> Outcome:
    """:func:`story_value` with each company's Excel error and reason."""
    given = dict(revenue=revenue, growth_next=growth_next, growth_2_5=growth_2_5,
                 margin_next=margin_next, target_margin=target_margin,
                 convergence_year=convergence_year, sales_to_capital_1_5=sales_to_capital_1_5,
                 sales_to_capital_6_10=sales_to_capital_6_10, riskfree=riskfree,
                 cost_of_capital=cost_of_capital, **optional)
    return model.value(given).outcome(model.check_output(output))


def story_value(revenue: Any, growth_next: Any, growth_2_5: Any, margin_next: Any,
                target_margin: Any, convergence_year: Any, sales_to_capital_1_5: Any,
                sales_to_capital_6_10: Any, riskfree: Any, cost_of_capital: Any,
                output: str = "per_share", **optional: Any) -> Any:
    """Value per share (or ``output``: equity, operating, going_concern, pv_terminal) of
    one story or a table of them: every input a scalar or an array, broadcast like numpy.

    Optional inputs (keywords) and their defaults: mature_cost_of_capital (riskfree +
    4.5%), stable_growth (riskfree), stable_roc (mature_cost_of_capital), effective_tax
    and marginal_tax (25%), nol, failure_probability (0), distress_fraction (50%), cash,
    debt, minority, non_operating, options (0), shares (1). A company with an input in
    error gets NaN; ``xlfuncs.explain(story_value, ...)`` says why.

    >>> round(story_value(100, 0.2, 0.15, 0.1, 0.2, 5, 2, 2, 0.04, 0.1, shares=10), 4)
    33.2037
    """
    return python_answer("story_value", story_value_outcome,
                         (revenue, growth_next, growth_2_5, margin_next, target_margin,
                          convergence_year, sales_to_capital_1_5, sales_to_capital_6_10,
                          riskfree, cost_of_capital, output), optional)


story_value.outcome = story_value_outcome  # type: ignore[attr-defined]


ROWS = ("revenue growth", "revenue", "operating margin", "EBIT", "tax rate", "taxes", "NOL",
        "reinvestment", "FCFF", "cost of capital", "discount factor", "PV of FCFF",
        "terminal value")
COLUMNS = ("base year", *range(1, 11), "terminal")


def story_cells(story: Mapping[str, Any]) -> list[list[Any]]:
    """The year-by-year model of one story as cells (number, None or XlError): the rows of
    :data:`ROWS`, the columns of :data:`COLUMNS`. The terminal column holds year 11's
    growth, revenue, margin, EBIT, tax rate and taxes, the mature cost of capital, the
    year-10 discount factor, the terminal value and its present value (in the PV row, so
    that the PV row sums to the going-concern value)."""
    m = model.value(story)
    if m.revenue.values.size != 10:
        raise XlfuncsError("a year-by-year table is of one story: give single values")
    trace, i = m.trace, m.inputs
    revenue_11 = trace.step(steps.story_revenue, m.revenue.year(10), i["stable_growth"])
    ebit_11 = trace.step(steps.story_ebit, revenue_11, i["target_margin"])
    zero = model.Cells(np.zeros(()), np.zeros((), np.int16))
    taxes_11 = trace.step(steps.story_taxes, ebit_11, zero, i["marginal_tax"])
    one = model.Cells(np.ones(()), np.zeros((), np.int16))
    base = {"revenue": i["revenue"], "NOL": i["nol"], "discount factor": one}
    terminal = {"revenue growth": i["stable_growth"], "revenue": revenue_11,
                "operating margin": i["target_margin"], "EBIT": ebit_11,
                "tax rate": i["marginal_tax"], "taxes": taxes_11,
                "cost of capital": i["mature_cost_of_capital"],
                "discount factor": m.discount_factor.year(10),
                "PV of FCFF": m.pv_terminal, "terminal value": m.terminal_value}
    lines = (m.growth, m.revenue, m.margin, m.ebit, m.tax_rate, m.taxes, m.nol,
             m.reinvestment, m.fcff, m.cost_of_capital, m.discount_factor, m.pv_fcff, None)
    errors = tuple(trace.errors)

    def cell(c: model.Cells | None, t: int | None = None) -> Any:
        if c is None:
            return None
        picked = c if t is None else c.year(t)
        return Outcome(picked.values, picked.status, errors, True).cells()

    return [[cell(base.get(name)), *(cell(line, t) for t in range(1, 11)),
             cell(terminal.get(name))] for name, line in zip(ROWS, lines, strict=True)]


def story_table(story: Mapping[str, Any]) -> pd.DataFrame:
    """The year-by-year model of one story (inputs as :func:`story_value` takes them, in a
    mapping): a row per line, columns base year, 1..10, terminal; NaN where a cell is blank
    or in error (:func:`story_cells` gives the errors).

    >>> table = story_table(dict(revenue=100, growth_next=0.2, growth_2_5=0.15,
    ...     margin_next=0.1, target_margin=0.2, convergence_year=5, sales_to_capital_1_5=2,
    ...     sales_to_capital_6_10=2, riskfree=0.04, cost_of_capital=0.1))
    >>> float(table.loc["revenue", 2]), round(float(table.loc["PV of FCFF"].sum()), 2)
    (138.0, 332.04)
    """
    rows = [[v if isinstance(v, float) else np.nan for v in row] for row in story_cells(story)]
    return pd.DataFrame(rows, index=list(ROWS), columns=list(COLUMNS))


def story_implied(story: Mapping[str, Any], target: Any, driver: str, low: Any = None,
                  high: Any = None) -> Any:
    """The smallest value of ``driver`` in [low, high] at which value per share equals
    ``target``, every other input of ``story`` kept (see :mod:`xlfuncs.story.implied` for
    the method and :data:`~xlfuncs.story.implied.BRACKETS` for the default brackets).
    NaN where there is none; ``xlfuncs.explain(story_implied, ...)`` says why.

    >>> story = dict(revenue=100, growth_next=0.2, growth_2_5=0.15, margin_next=0.1,
    ...     target_margin=0.2, convergence_year=5, sales_to_capital_1_5=2,
    ...     sales_to_capital_6_10=2, riskfree=0.04, cost_of_capital=0.1)
    >>> round(story_implied(story, 400, "growth_2_5"), 6)
    0.195188
    """
    return implied.implied(story, target, driver, low, high).python()


story_implied.outcome = implied.implied  # type: ignore[attr-defined]


def story_simulate(story: Mapping[str, Any], distributions: Any,
                   draws: int = simulate.DEFAULT_DRAWS, seed: int = simulate.DEFAULT_SEED,
                   price: float | None = None) -> pd.DataFrame:
    """Statistics of value per share with drivers drawn from ``distributions`` ({label:
    (name, *parameters)} or rows of label, name, parameters; see
    :mod:`xlfuncs.story.simulate`): a row per statistic, a column per company.

    >>> story = dict(revenue=100, growth_next=0.2, growth_2_5=0.15, margin_next=0.1,
    ...     target_margin=0.2, convergence_year=5, sales_to_capital_1_5=2,
    ...     sales_to_capital_6_10=2, riskfree=0.04, cost_of_capital=0.1)
    >>> stats = story_simulate(story, {"growth_2_5": ("uniform", 0.1, 0.2)}, draws=1000)
    >>> round(float(stats.loc["p50", 0]), 2), float(stats.loc["draws valued", 0])
    (336.44, 1000.0)
    """
    names, columns = simulate.simulate(story, distributions, draws, seed, price)
    return pd.DataFrame({k: [v if isinstance(v, float) else np.nan for v in column]
                         for k, column in enumerate(columns)}, index=names)
