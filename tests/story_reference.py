"""An independent implementation of the story DCF, written in plain Python floats straight
from the conventions of issue 10 ("The model"), for the tests to compare with."""

from __future__ import annotations

import math
from typing import Any

DEFAULTS = {"effective_tax": 0.25, "marginal_tax": 0.25, "nol": 0.0,
            "failure_probability": 0.0, "distress_fraction": 0.5, "cash": 0.0, "debt": 0.0,
            "minority": 0.0, "non_operating": 0.0, "options": 0.0, "shares": 1.0}


def reference(story: dict[str, Any]) -> dict[str, float]:
    s = {**DEFAULTS, **{k: v for k, v in story.items() if v is not None}}
    s.setdefault("mature_cost_of_capital", s["riskfree"] + 0.045)
    s.setdefault("stable_growth", s["riskfree"])
    s.setdefault("stable_roc", s["mature_cost_of_capital"])
    g_stable, c = s["stable_growth"], s["convergence_year"]
    if s["mature_cost_of_capital"] <= g_stable:  # no terminal value: the issue's #NUM!
        return dict.fromkeys(("per_share", "equity", "operating", "going_concern",
                              "pv_terminal"), math.nan)
    revenue, nol, factor, total = s["revenue"], s["nol"], 1.0, 0.0
    for t in range(1, 11):
        if t == 1:
            g = s["growth_next"]
        elif t <= 5:
            g = s["growth_2_5"]
        else:
            g = s["growth_2_5"] - (s["growth_2_5"] - g_stable) * (t - 5) / 5
        previous, revenue = revenue, revenue * (1 + g)
        if t < c:
            m = s["margin_next"] + (s["target_margin"] - s["margin_next"]) * (t - 1) / (c - 1)
        else:
            m = s["target_margin"]
        ebit = revenue * m
        tax = s["effective_tax"] if t <= 5 else (
            s["effective_tax"] + (s["marginal_tax"] - s["effective_tax"]) * (t - 5) / 5)
        if ebit < 0:
            taxes, nol = 0.0, nol - ebit
        else:
            taxes, nol = max(ebit - nol, 0.0) * tax, max(nol - ebit, 0.0)
        s2c = s["sales_to_capital_1_5"] if t <= 5 else s["sales_to_capital_6_10"]
        fcff = ebit - taxes - (revenue - previous) / s2c
        r = s["cost_of_capital"] if t <= 5 else (
            s["cost_of_capital"]
            + (s["mature_cost_of_capital"] - s["cost_of_capital"]) * (t - 5) / 5)
        factor /= 1 + r
        total += fcff * factor
    income = revenue * (1 + g_stable) * s["target_margin"] * (1 - s["marginal_tax"])
    reinvest = g_stable / s["stable_roc"] * income
    terminal = (income - reinvest) / (s["mature_cost_of_capital"] - g_stable)
    pv_terminal = terminal * factor
    going = total + pv_terminal
    p = s["failure_probability"]
    operating = going * (1 - p) + p * s["distress_fraction"] * max(going, 0.0)
    equity = operating - s["debt"] - s["minority"] + s["cash"] + s["non_operating"]
    per_share = (equity - s["options"]) / s["shares"]
    assert math.isfinite(per_share)
    return {"per_share": per_share, "equity": equity, "operating": operating,
            "going_concern": going, "pv_terminal": pv_terminal}
