"""The market-implied story: the value of one driver at which value per share equals a
target (a market price), every other input kept.

For each company: value the story on a grid of GRID_POINTS driver values evenly spread
over [low, high], take the first sign change of (value - target) between neighbouring
grid points that both have a value, then close in on the root by secant steps kept inside
the bracket (bisection when a step would leave it) until a step moves the driver by less
than 1e-12 relative (absolute below 0.001), or the value is within 1e-12 of the target
(relative, at least 1 in absolute). So the answer is the smallest root the grid
sees: two roots closer together than the grid spacing are not told apart. No sign change: #NUM!.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import inputs
from ..elementwise import STATUS_BLANK, STATUS_OK, Outcome
from ..errors import NUM, XlError, XlfuncsError
from . import model

GRID_POINTS = 17
RELATIVE_TOLERANCE = 1e-12
GAP_TOLERANCE = 1e-12  # |value - target| within this share of the target: found
MAX_ITERATIONS = 200
# Default brackets of the drivers that are rates or ratios; amounts need low and high.
BRACKETS: dict[str, tuple[float, float]] = {
    "growth_next": (-0.9, 5.0), "growth_2_5": (-0.9, 5.0), "margin_next": (-5.0, 1.0),
    "target_margin": (-1.0, 1.0), "convergence_year": (1.0, 10.0),
    "sales_to_capital_1_5": (0.05, 20.0), "sales_to_capital_6_10": (0.05, 20.0),
    "riskfree": (-0.02, 0.2), "cost_of_capital": (0.0, 1.0),
    "mature_cost_of_capital": (0.0, 0.5), "stable_growth": (-0.1, 0.2),
    "stable_roc": (0.01, 1.0), "effective_tax": (0.0, 1.0), "marginal_tax": (0.0, 1.0),
    "failure_probability": (0.0, 1.0), "distress_fraction": (0.0, 1.0),
}


def _single_number(value: Any, name: str) -> float | None:
    numbers, status = inputs.to_numbers(value)
    if numbers.size != 1:
        raise XlfuncsError(f"{name} must be a single number")
    if status.ravel()[0] == inputs.BLANK:
        return None
    if status.ravel()[0] != inputs.OK:
        raise XlfuncsError(f"{name}: expected a number")
    return float(numbers.ravel()[0])


def bracket(driver: Any, low: Any = None, high: Any = None) -> tuple[str, float, float]:
    """The driver's label and its bracket, or a refusal naming what is wrong."""
    name = str(driver).strip().lower().replace(" ", "_").replace("-", "_")
    if name not in model.LABELS:
        raise XlfuncsError(f"driver '{driver}' is not a story input "
                           f"(one of {', '.join(model.LABELS)})")
    lo, hi = _single_number(low, "low"), _single_number(high, "high")
    default = BRACKETS.get(name)
    if (lo is None or hi is None) and default is None:
        raise XlfuncsError(f"driver '{name}' has no default bracket: give low and high")
    lo = default[0] if lo is None else lo  # type: ignore[index]
    hi = default[1] if hi is None else hi  # type: ignore[index]
    if not lo < hi:
        raise XlfuncsError(f"driver '{name}': low ({lo:g}) must be below high ({hi:g})")
    return name, lo, hi


def implied(given: Mapping[str, Any], target: Any, driver: Any, low: Any = None,
            high: Any = None) -> Outcome:
    """Per company, the smallest ``driver`` value in [low, high] giving ``target``."""
    name, lo, hi = bracket(driver, low, high)
    trace = model.Trace()
    stories, scalar = model.story_inputs(trace, given)
    goal = trace.input("target", target)
    shape = np.broadcast_shapes(stories["revenue"].values.shape, goal.values.shape)
    n = int(np.prod(shape))
    flat = {label: np.broadcast_to(model.raw_input(given.get(label)), shape).reshape(n)
            for label in stories if label != name}
    goal_values = np.broadcast_to(goal.values, shape).reshape(n)
    goal_status = np.broadcast_to(goal.status, shape).reshape(n)
    scalar = scalar and goal.values.ndim == 0

    def per_share(x: np.ndarray, rows: np.ndarray) -> model.Model:
        return model.value({**{k: v[rows].reshape(rows.shape + (1,) * (x.ndim - 1))
                               for k, v in flat.items()}, name: x})

    grid = np.linspace(lo, hi, GRID_POINTS)
    everyone = np.arange(n)
    scan = per_share(np.broadcast_to(grid, (n, GRID_POINTS)).copy(), everyone)
    gap = scan.per_share.values - goal_values[:, None]
    ok = scan.per_share.status == STATUS_OK
    crossing = ok[:, :-1] & ok[:, 1:] & ((gap[:, :-1] == 0) | (gap[:, :-1] * gap[:, 1:] < 0))
    last_zero = ok[:, -1] & (gap[:, -1] == 0)
    found = crossing.any(1) | last_zero
    first = np.where(crossing.any(1), np.argmax(crossing, 1), GRID_POINTS - 1)
    a, b = grid[first], grid[np.minimum(first + 1, GRID_POINTS - 1)]
    fa = gap[everyone, first]
    fb = gap[everyone, np.minimum(first + 1, GRID_POINTS - 1)]
    root = np.where(fa == 0, a, np.nan)
    todo = np.flatnonzero(found & (fa != 0))
    root[todo] = _refine(per_share, goal_values, todo, a[todo], b[todo], fa[todo], fb[todo])
    status = np.where(found & np.isfinite(root), STATUS_OK,
                      trace.code(XlError(NUM, f"no {name} in [{lo:g}, {hi:g}] gives a value "
                                              "per share equal to the target"))).astype(np.int16)
    # A story in error everywhere on the grid: that error (the grid's first), not "no root".
    dead = ~ok.any(1)
    if dead.any():
        scan_status = scan.per_share.status[:, 0]
        codes = np.array([trace.code(e) for e in scan.trace.errors], dtype=np.int16)
        remapped = np.where(scan_status > STATUS_BLANK,
                            codes[np.maximum(scan_status - 2, 0)] if codes.size else 0,
                            scan_status)
        status = np.where(dead, remapped, status)
    status = np.where(goal_status != STATUS_OK, goal_status, status).astype(np.int16)
    values = np.where(status == STATUS_OK, root, np.nan)
    return Outcome(values.reshape(shape), status.reshape(shape), tuple(trace.errors), scalar)


def _refine(per_share: Any, goal: np.ndarray, rows: np.ndarray, a: np.ndarray,
            b: np.ndarray, fa: np.ndarray, fb: np.ndarray) -> np.ndarray:
    """Secant steps kept inside the bracket (bisection when a step would leave it),
    vectorised over companies; stops when a step moves less than the tolerance."""
    root = np.full(rows.size, np.nan)
    gap_at_root = np.full(rows.size, np.nan)  # value - target where the root was taken
    lo, hi = a.copy(), b.copy()  # f(lo) and f(hi) have opposite signs
    f_lo = fa.copy()
    x0, f0, x1, f1 = a.copy(), fa.copy(), b.copy(), fb.copy()
    active = np.arange(rows.size)
    for _ in range(MAX_ITERATIONS):
        if not active.size:
            break
        with np.errstate(all="ignore"):
            c = x1[active] - f1[active] * (x1[active] - x0[active]) / (
                f1[active] - f0[active])
        inside = (c > lo[active]) & (c < hi[active])
        c = np.where(inside, c, (lo[active] + hi[active]) / 2)
        fc = per_share(c, rows[active]).per_share.values - goal[rows[active]]
        same = np.where(np.isfinite(fc), fc * f_lo[active] > 0, False)
        lo[active] = np.where(same, c, lo[active])
        f_lo[active] = np.where(same, fc, f_lo[active])
        hi[active] = np.where(same, hi[active], c)
        tolerance = RELATIVE_TOLERANCE * np.maximum(np.abs(c), 1e-3)
        scale = np.maximum(np.abs(goal[rows[active]]), 1.0)
        done = (fc == 0) | (np.abs(c - x1[active]) <= tolerance) | (
            hi[active] - lo[active] <= tolerance) | (np.abs(fc) <= GAP_TOLERANCE * scale)
        x0[active], f0[active] = x1[active], f1[active]
        x1[active], f1[active] = c, np.where(np.isfinite(fc), fc, f1[active])
        root[active[done]] = c[done]
        gap_at_root[active[done]] = fc[done]
        active = active[~done]
    # a discontinuity is not a root: the value at the root must match the target
    scale = np.maximum(np.abs(goal[rows]), 1.0)
    root[~(np.abs(gap_at_root) <= 1e-6 * scale)] = np.nan
    return root
