"""Simulating a story: drivers drawn from distributions, statistics of value per share.

A distribution is given per driver as (label, name, parameters): ``uniform`` low high,
``triangular`` low mode high, ``normal`` mean sd, ``lognormal`` mean sd, where the
lognormal's mean and sd are those of the variable itself (not of its logarithm):
sigma^2 = ln(1 + sd^2 / mean^2), mu = ln(mean) - sigma^2 / 2. A distribution without
spread gives its value exactly, so a simulation without spread gives VAL_STORY exactly.
Draws come from numpy's PCG64 generator seeded with ``seed``, one driver after another in
the order given: the same seed gives the same answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import inputs
from ..errors import XlError, XlfuncsError
from . import model

DEFAULT_DRAWS = 10_000
DEFAULT_SEED = 2026
MAX_DRAWS = 1_000_000
CHUNK = 50_000  # stories valued at once: bounds memory (~4 KB each)
PERCENTILES = (5, 25, 50, 75, 95)
ARITY = {"uniform": 2, "triangular": 3, "normal": 2, "lognormal": 2}


@dataclass(frozen=True)
class Distribution:
    driver: str
    name: str
    params: tuple[float, ...]

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        p = self.params
        if self.name == "uniform":
            return p[0] + (p[1] - p[0]) * rng.random(n)
        if self.name == "normal":
            return p[0] + p[1] * rng.standard_normal(n)
        if self.name == "lognormal":
            z = rng.standard_normal(n)
            if p[1] == 0:
                return np.full(n, p[0])
            sigma = np.sqrt(np.log1p((p[1] / p[0]) ** 2))
            return np.exp(np.log(p[0]) - sigma**2 / 2 + sigma * z)
        low, mode, high = p  # triangular, by its inverse distribution function
        u = rng.random(n)
        if high == low:
            return np.full(n, low)
        split = (mode - low) / (high - low)
        return np.where(u < split, low + np.sqrt(u * (high - low) * (mode - low)),
                        high - np.sqrt((1 - u) * (high - low) * (high - mode)))


def parse(rows: Any) -> list[Distribution]:
    """Distributions from a range (label, name, parameters a row) or a mapping
    {label: (name, *parameters)}; a refusal names the label and what is wrong."""
    if isinstance(rows, Mapping):
        rows = [[label, *([spec] if isinstance(spec, str) else spec)]
                for label, spec in rows.items()]
        width = max(len(r) for r in rows)
        rows = [r + [None] * (width - len(r)) for r in rows]
    cells = inputs.as_object_array(rows)
    if cells.ndim == 1:
        cells = cells.reshape(1, -1)
    found: list[Distribution] = []
    for row in cells.tolist():
        if all(v is None or v == "" for v in row):
            continue
        label = str(row[0]).strip().lower().replace(" ", "_").replace("-", "_")
        if label not in model.LABELS:
            raise XlfuncsError(f"distributions: '{row[0]}' is not a story input")
        name = str(row[1] if len(row) > 1 else "").strip().lower()
        if name not in ARITY:
            raise XlfuncsError(f"distributions: {label}: '{name}' is not one of "
                               f"{', '.join(ARITY)}")
        values, status = inputs.to_numbers(list(row[2:2 + ARITY[name]]))
        if values.size < ARITY[name] or np.any(status != inputs.OK):
            raise XlfuncsError(f"distributions: {label}: {name} needs {ARITY[name]} numbers")
        params = tuple(float(v) for v in values)
        _check(label, name, params)
        if any(d.driver == label for d in found):
            raise XlfuncsError(f"distributions: '{label}' is given twice")
        found.append(Distribution(label, name, params))
    if not found:
        raise XlfuncsError("distributions: no driver given")
    return found


def _check(label: str, name: str, p: tuple[float, ...]) -> None:
    problem = None
    if name == "uniform" and p[0] > p[1]:
        problem = "low must not exceed high"
    elif name == "triangular" and not p[0] <= p[1] <= p[2]:
        problem = "needs low <= mode <= high"
    elif name in ("normal", "lognormal") and p[1] < 0:
        problem = "sd must not be negative"
    elif name == "lognormal" and p[0] <= 0:
        problem = "mean must be greater than zero"
    if problem:
        raise XlfuncsError(f"distributions: {label}: {name} {problem}")


def draws_count(value: Any) -> int:
    numbers, status = inputs.to_numbers(value)
    if numbers.size != 1 or status.ravel()[0] not in (inputs.OK, inputs.BLANK):
        raise XlfuncsError("draws must be a single number")
    if status.ravel()[0] == inputs.BLANK:
        return DEFAULT_DRAWS
    count = float(numbers.ravel()[0])
    if count != int(count) or not 1 <= count <= MAX_DRAWS:
        raise XlfuncsError(f"draws must be a whole number from 1 to {MAX_DRAWS:,}")
    return int(count)


def statistic_names(price: float | None) -> list[str]:
    names = ["mean", *(f"p{p}" for p in PERCENTILES)]
    if price is not None:
        names.append("P(value >= price)")
    return [*names, "draws valued"]


def simulate(given: Mapping[str, Any], distributions: Any, draws: Any = None,
             seed: Any = None, price: Any = None) -> tuple[list[str], list[list[Any]]]:
    """Statistics of value per share, per company: (statistic names, one list of values
    or XlError per company, in the names' order)."""
    price_value = _optional_number(price, "price")
    values, first = simulated_values(given, distributions, draws, seed)
    return statistic_names(price_value), [
        _statistics(values[c], first[c], price_value) for c in range(values.shape[0])]


def simulated_values(given: Mapping[str, Any], distributions: Any, draws: Any = None,
                     seed: Any = None) -> tuple[np.ndarray, list[Any]]:
    """Value per share of every draw (companies x draws; NaN where a draw has no value)
    and, per company, the first draw's error (None if it has a value)."""
    chosen = parse(distributions)
    count = draws_count(draws)
    seed_value = _optional_number(seed, "seed")
    if seed_value is not None and (seed_value != int(seed_value) or seed_value < 0):
        raise XlfuncsError("seed must be a whole number >= 0")
    rng = np.random.default_rng(DEFAULT_SEED if seed_value is None else int(seed_value))
    drawn = {d.driver: d.draw(rng, count) for d in chosen}
    stories, _ = model.story_inputs(model.Trace(), given)
    shape = stories["revenue"].values.shape
    companies = int(np.prod(shape))
    fixed = {label: np.broadcast_to(model.raw_input(given.get(label)), shape)
             .reshape(companies, 1) for label in model.LABELS if label not in drawn}
    values = np.empty((companies, count))
    first: list[Any] = [None] * companies  # the first draw's answer, if it has no value
    step = max(1, CHUNK // companies)
    for start in range(0, count, step):
        part = {k: v[start:start + step][None, :] for k, v in drawn.items()}
        valued = model.value({**fixed, **part})
        values[:, start:start + step] = valued.per_share.values
        if start == 0:
            outcome = valued.outcome()
            # every input drawn: one row of values stands for all the companies
            codes = np.broadcast_to(valued.per_share.status[:, 0], (companies,))
            first = [outcome.error(int(code)) for code in codes]
    return values, first


def _optional_number(value: Any, name: str) -> float | None:
    numbers, status = inputs.to_numbers(value)
    if numbers.size != 1 or status.ravel()[0] not in (inputs.OK, inputs.BLANK):
        raise XlfuncsError(f"{name} must be a single number")
    return None if status.ravel()[0] == inputs.BLANK else float(numbers.ravel()[0])


def _statistics(values: np.ndarray, first_error: XlError | None,
                price: float | None) -> list[Any]:
    valued = values[np.isfinite(values)]
    if not valued.size:  # the story has no value whatever the draws: say why
        answer: Any = first_error
        return [answer] * (len(statistic_names(price)) - 1) + [0.0]
    anchor = valued[0]  # mean as anchor + mean of deviations: exact when all are equal
    stats: list[Any] = [float(anchor + np.mean(valued - anchor)),
                        *(float(v) for v in np.percentile(valued, PERCENTILES))]
    if price is not None:
        stats.append(float(np.mean(valued >= price)))
    return [*stats, float(valued.size)]
