"""What `xlfuncs serve` decides before a call runs (issue 21), without a server: the cost
of a call from its arguments (xlfuncs/server_cost.py), where it runs, the 413 that gives
the limit and a way to split the call, the content types it reads, and the limits'
settings. The figures in the expectations are worked by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from xlfuncs.server import GRACEFUL_MARGIN_SECONDS, Limits, ServeError, plan
from xlfuncs.server_cost import (
    DEFAULT_MAX_VALUATIONS,
    SOLVER_VALUATIONS,
    VALUATIONS_ENV,
    estimate,
    max_valuations,
    over_limit,
)
from xlfuncs.server_requests import SECONDS_ENV, call_seconds, content_type_refusal
from xlfuncs.story import implied, model

LABELS = ["revenue", "growth_next", "growth_2_5", "margin_next", "target_margin",
          "convergence_year", "sales_to_capital_1_5", "sales_to_capital_6_10", "riskfree",
          "cost_of_capital"]
ONE = [100.0, 0.2, 0.15, 0.1, 0.2, 5.0, 2.0, 2.0, 0.04, 0.1]
NORMAL = [["growth_2_5", "normal", 0.3, 0.1]]


def in_rows(companies: int) -> list[list[Any]]:
    """Labels in the first row, a company a row (as a story range arrives as JSON)."""
    return [LABELS, *([*ONE] for _ in range(companies))]


def in_columns(companies: int) -> list[list[Any]]:
    return [[label, *([value] * companies)] for label, value in zip(LABELS, ONE, strict=True)]


@pytest.mark.parametrize("story", [in_rows, in_columns])
def test_a_story_calls_cost_in_valuations(story: Any) -> None:
    assert estimate("val_story", [story(3)]).valuations == 3
    assert estimate("val_story_table", [story(1)]).valuations == 1
    assert estimate("val_story_simulate", [story(1_000), NORMAL, [[1_000_000]]]
                    ).valuations == 1_000_000_000
    assert estimate("val_story_simulate", [story(3), NORMAL]).valuations == 30_000  # default
    assert estimate("val_story_simulate", [story(3), NORMAL, [[None]]]).valuations == 30_000
    assert estimate("val_story_implied", [story(100_000 // 1_000), [[30]], [["growth_2_5"]]]
                    ).valuations == 100 * SOLVER_VALUATIONS


def test_draws_the_function_will_refuse_cost_one_valuation_a_company() -> None:
    for draws in ([[0]], [["abc"]], [[2.5]], [[10**7]], [[1, 2]], [[True]], [[-5]]):
        assert estimate("val_story_simulate", [in_rows(4), NORMAL, draws]).valuations == 4


def test_metrics_and_ranges_without_labels_cost_nothing() -> None:
    assert estimate("val_ps", [[[300.0]] * 1_000, [[2.0]]]).valuations == 0
    assert estimate("val_ps", [in_rows(3_000), [[2.0]]]).valuations == 0  # labels or not
    assert estimate("val_story", []).valuations == 0  # refused by check_call before
    assert estimate("val_story_simulate", [[[1.0, 2.0]], NORMAL, [[1_000_000]]]
                    ).valuations == 0


def test_one_quick_pass_of_the_model_runs_inline_the_rest_off_the_loop() -> None:
    assert estimate("val_ps", [[[1.0]], [[2.0]]]).inline
    assert estimate("val_story", [in_rows(2_000)]).inline
    assert not estimate("val_story", [in_rows(2_001)]).inline
    assert estimate("val_story_table", [in_rows(1)]).inline
    assert estimate("val_story_simulate", [in_rows(2), NORMAL, [[1_000]]]).inline
    assert not estimate("val_story_simulate", [in_rows(1), NORMAL]).inline  # 10,000 draws
    assert not estimate("val_story_implied", [in_rows(1), [[30]], [["growth_2_5"]]]).inline


def test_a_call_over_the_limit_gets_413_with_the_limit_and_how_to_split_it() -> None:
    cost = estimate("val_story_simulate", [in_rows(1_000), NORMAL, [[1_000_000]]])
    refusal = over_limit(cost, 5_000_000)
    assert refusal is not None and refusal.status == 413
    assert refusal.reason == (
        "call too large: VAL_STORY_SIMULATE over 1,000 companies x 1,000,000 draws is "
        "1,000,000,000 story valuations; the limit is 5,000,000 a call: split the story "
        "into calls of at most 5 companies, or draw at most 5,000 times (or raise the limit "
        "with xlfuncs serve --max-valuations or XLFUNCS_MAX_VALUATIONS)")
    solves = over_limit(estimate("val_story_implied", [in_rows(200_000), [[30]], [["g"]]]),
                        5_000_000)
    assert solves is not None
    assert "VAL_STORY_IMPLIED over 200,000 companies (about 32 valuations each for the " \
           "solver) is 6,400,000 story valuations" in solves.reason
    assert "calls of at most 156,250 companies" in solves.reason  # 5,000,000 / 32
    stories = over_limit(estimate("val_story", [in_columns(7)]), 3)
    assert stories is not None and "VAL_STORY over 7 companies is 7 story valuations; the " \
        "limit is 3 a call: split the story into calls of at most 3 companies (" in stories.reason
    too_many_draws = over_limit(estimate("val_story_simulate", [in_rows(1), NORMAL,
                                                                 [[1_000]]]), 999)
    assert too_many_draws is not None and "whatever the split" in too_many_draws.reason
    assert "draw at most 999 times" in too_many_draws.reason


def test_a_call_at_the_limit_is_allowed_one_more_valuation_is_not() -> None:
    at = estimate("val_story_simulate", [in_rows(5), NORMAL, [[1_000_000]]])
    assert at.valuations == DEFAULT_MAX_VALUATIONS == 5_000_000
    assert over_limit(at, DEFAULT_MAX_VALUATIONS) is None
    assert over_limit(at, DEFAULT_MAX_VALUATIONS - 1) is not None


def test_the_solver_costs_no_more_than_its_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    """SOLVER_VALUATIONS bounds the mean valuations a company of the solver, counted over
    drivers, targets with and without a root, and 1 to 1,000 companies."""
    counted = {"valuations": 0}
    value = model.value

    def counting(given: Any) -> model.Model:
        valued = value(given)
        counted["valuations"] += valued.per_share.values.size
        return valued

    monkeypatch.setattr(model, "value", counting)
    rng = np.random.default_rng(4)
    companies = 0
    for count in (1, 10, 1_000):
        for driver in ("growth_2_5", "target_margin", "cost_of_capital", "sales_to_capital_1_5"):
            for target in (5.0, 30.0, 300.0):
                story = dict(zip(LABELS, (rng.uniform(0.5, 1.5, count) * v for v in ONE),
                                 strict=True))
                implied.implied(story, target, driver)
                companies += count
    assert counted["valuations"] / companies <= SOLVER_VALUATIONS
    assert counted["valuations"] / companies >= 17  # the grid alone: the count is real


def test_the_limits_come_from_the_environment_or_their_defaults() -> None:
    assert max_valuations({}) == 5_000_000 and call_seconds({}) == 60
    assert max_valuations({VALUATIONS_ENV: "250000"}) == 250_000
    assert call_seconds({SECONDS_ENV: "2.5"}) == 2.5
    with pytest.raises(ValueError) as refused:
        max_valuations({VALUATIONS_ENV: "lots"})
    assert str(refused.value) == (f"{VALUATIONS_ENV}='lots': expected a number of story "
                                  "valuations, e.g. 5000000")
    for bad in ("lots", "0", "-3", "inf", "nan"):
        with pytest.raises(ValueError, match=f"{VALUATIONS_ENV}.*story valuations"):
            max_valuations({VALUATIONS_ENV: bad})
        with pytest.raises(ValueError, match=f"{SECONDS_ENV}.*seconds"):
            call_seconds({SECONDS_ENV: bad})


def test_the_flags_reach_the_server_and_set_the_graceful_timeout(tmp_path: Any) -> None:
    env = {"XLWINGS_LICENSE_KEY": "noncommercial"}
    default = plan(project=tmp_path, environ=env)
    assert (default.env[VALUATIONS_ENV], default.env[SECONDS_ENV]) == ("5000000", "60")
    argv = default.argv
    assert argv[argv.index("--timeout-graceful-shutdown") + 1] == str(60 + GRACEFUL_MARGIN_SECONDS)
    chosen = plan(project=tmp_path, environ={**env, SECONDS_ENV: "20"}, workers=2,
                  limits=Limits(valuations=1_000, call_seconds=5))
    assert (chosen.env[VALUATIONS_ENV], chosen.env[SECONDS_ENV]) == ("1000", "5")
    assert chosen.argv[chosen.argv.index("--graceful-timeout") + 1] == "35"
    from_env = plan(project=tmp_path, environ={**env, SECONDS_ENV: "20"})
    assert from_env.argv[from_env.argv.index("--timeout-graceful-shutdown") + 1] == "50"
    for limits, said in ((Limits(valuations=0), "--max-valuations must be a positive"),
                         (Limits(call_seconds=float("inf")), "--max-call-seconds must be"),
                         (Limits(request_mb=-1), "--max-request-mb must be")):
        with pytest.raises(ServeError, match=said):
            plan(project=tmp_path, environ=env, limits=limits)
    with pytest.raises(ServeError, match=f"{SECONDS_ENV}='soon'"):
        plan(project=tmp_path, environ={**env, SECONDS_ENV: "soon"})


@pytest.mark.parametrize("declared", [b"application/json", b"application/json; charset=utf-8",
                                      b"Application/JSON", b"application/vnd.api+json"])
def test_json_is_read_whatever_its_parameters(declared: bytes) -> None:
    assert content_type_refusal(declared) is None


@pytest.mark.parametrize("declared", [None, b"", b"text/plain", b"text/json",
                                      b"application/x-www-form-urlencoded",
                                      b"multipart/form-data; boundary=x", b"application/xml",
                                      b"application/jsonp", b"json"])
def test_anything_else_gets_415_in_one_line(declared: bytes | None) -> None:
    refusal = content_type_refusal(declared)
    assert refusal is not None and refusal.status == 415
    assert "Content-Type: application/json" in refusal.reason and "\n" not in refusal.reason
    assert (declared or b"no Content-Type").decode() in refusal.reason
