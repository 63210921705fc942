"""What a call will cost, read from its arguments before it runs.

The bytes of a request say little about the story functions' work: 46 KB of
``VAL_STORY_SIMULATE`` (1,000 companies, 1,000,000 draws) asks for a billion valuations
of the model. A call's cost is counted in story valuations (one company valued once):

* ``VAL_STORY``: a valuation a company; ``VAL_STORY_TABLE``: one;
* ``VAL_STORY_SIMULATE``: companies x draws;
* ``VAL_STORY_IMPLIED``: companies x :data:`SOLVER_VALUATIONS`, the valuations the solver
  makes for a company (a 17-point grid, then a few secant steps: ~17-25 measured);
* every other function: none (its cells are bounded by the size limit, and cheap).

The cost decides where the call runs: inline on the event loop when it is one pass of
the model over a few valuations; in the large-call process otherwise; refused with 413
and a way to split it when it is over the limit (``$XLFUNCS_MAX_VALUATIONS``).

Pure: no xlwings Server import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import XlfuncsError
from .server_requests import BadRequest, setting
from .story import simulate, table

VALUATIONS_ENV = "XLFUNCS_MAX_VALUATIONS"
DEFAULT_MAX_VALUATIONS = 5_000_000  # ~15 s on one core of a 2020s server
SOLVER_VALUATIONS = 32
# One pass of the model over this many valuations takes a few ms: fine on the event loop
INLINE_VALUATIONS = 2_000
SPLIT_HINT = "or raise the limit with xlfuncs serve --max-valuations or " + VALUATIONS_ENV


@dataclass(frozen=True)
class Cost:
    """A call's work: story valuations, and whether the model runs once or many times."""

    function: str
    valuations: int
    companies: int
    per_company: int  # valuations a company: 1, the draws, or the solver's
    one_pass: bool = True

    @property
    def inline(self) -> bool:
        """Cheap enough for the event loop (the body must be small too)."""
        return self.one_pass and self.valuations <= INLINE_VALUATIONS


def max_valuations(environ: Mapping[str, str] | None = None) -> int:
    """The cost limit: ``$XLFUNCS_MAX_VALUATIONS`` or 5,000,000 story valuations a call."""
    return int(setting(VALUATIONS_ENV, DEFAULT_MAX_VALUATIONS, "story valuations",
                       environ))


def _draws(args: list[Any]) -> int:
    try:
        return simulate.draws_count(args[2] if len(args) > 2 else None)
    except (XlfuncsError, TypeError, ValueError):
        return 1  # refused by the function itself, before any valuation


def estimate(name: str, args: list[Any]) -> Cost:
    """The cost of a checked call (:func:`server_requests.check_call` passed)."""
    if name not in ("val_story", "val_story_table", "val_story_implied",
                    "val_story_simulate") or not args:
        return Cost(name, 0, 0, 0)
    count = table.companies_in(args[0])
    if name == "val_story_simulate":
        draws = _draws(args)
        return Cost(name, count * draws, count, draws)
    if name == "val_story_implied":
        return Cost(name, count * SOLVER_VALUATIONS, count, SOLVER_VALUATIONS,
                    one_pass=False)
    return Cost(name, count, count, 1)


def over_limit(cost: Cost, limit: int) -> BadRequest | None:
    """413 with the limit and how to split the call, or None when it is allowed."""
    if cost.valuations <= limit:
        return None
    said = f"{cost.function.upper()} over {cost.companies:,} companies"
    if cost.function == "val_story_simulate":
        said += f" x {cost.per_company:,} draws"
    elif cost.function == "val_story_implied":
        said += f" (about {cost.per_company} valuations each for the solver)"
    # over the limit: at least one company, and a valuation each
    fit = limit // cost.per_company
    split = (f"split the story into calls of at most {fit:,} companies" if fit else
             "the call is too large whatever the split")
    if cost.function == "val_story_simulate":
        fewer = limit // cost.companies
        if fewer:
            split += f", or draw at most {fewer:,} times"
    return BadRequest(
        f"call too large: {said} is {cost.valuations:,} story valuations; the limit is "
        f"{limit:,} a call: {split} ({SPLIT_HINT})", status=413)
