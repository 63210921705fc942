"""The story DCF rows of scripts/bench.py: VAL_STORY, VAL_STORY_IMPLIED and
VAL_STORY_SIMULATE through xlwings' custom-function runtime, against plain Python loops."""

from __future__ import annotations

from typing import Any

from bench import UDF_SETUP, repeated, row

STORY_SETUP = UDF_SETUP + """
import random
random.seed(1)
LABELS = ["revenue", "growth_next", "growth_2_5", "margin_next", "target_margin",
          "convergence_year", "sales_to_capital_1_5", "sales_to_capital_6_10", "riskfree",
          "cost_of_capital"]
def one():
    return [random.uniform(1, 100), random.uniform(0, 1), random.uniform(0, 0.5),
            random.uniform(-1, 0.1), random.uniform(0.1, 0.3), float(random.randint(1, 10)),
            random.uniform(1, 3), random.uniform(1, 3), random.uniform(0.02, 0.05),
            random.uniform(0.08, 0.14)]
stories = [one() for _ in range({rows})]
table = [LABELS] + stories  # labels in the first row, one company a row


def plain(revenue, g1, g25, m1, mt, c, s15, s610, rf, wacc):
    # the model written as a plain Python loop, defaults filled in
    mature, gs, tax = rf + 0.045, rf, 0.25
    nol, factor, pv, before = 0.0, 1.0, 0.0, revenue
    for t in range(1, 11):
        g = g1 if t == 1 else g25 if t <= 5 else g25 - (g25 - gs) * (t - 5) / 5
        rev = before * (1 + g)
        m = mt if t >= c else m1 + (mt - m1) * (t - 1) / (c - 1)
        ebit = rev * m
        taxes = max(ebit - nol, 0) * tax
        nol = max(nol - ebit, 0)
        fcff = ebit - taxes - (rev - before) / (s15 if t <= 5 else s610)
        r = wacc if t <= 5 else wacc + (mature - wacc) * (t - 5) / 5
        factor /= 1 + r
        pv += fcff * factor
        before = rev
    income = before * (1 + gs) * mt * (1 - tax)
    return pv + (income - gs / mature * income) / (mature - gs) * factor
call("val_story", table[:3])  # warm
"""


def bench_story(rows: int, implied_rows: int, draws: int, repeat: int) -> list[dict[str, Any]]:
    """The story DCF through xlwings' runtime: value, implied driver, simulation."""
    setup = STORY_SETUP.replace("{rows}", str(rows))
    ours = repeated(f"assert len(call('val_story', table)) == {rows}", repeat, setup=setup)
    loop = repeated("values = [plain(*s) for s in stories]", repeat, setup=setup)
    singles = 1_000
    measured = repeated(f"values = [story_value(*s) for s in stories[:{singles}]]", repeat,
                        setup=setup + "from xlfuncs import story_value\n")
    one_by_one = {k: (v * rows / singles if k in ("median", "min", "max") else v)
                  for k, v in measured.items()}
    implied = repeated(f"assert len(call('val_story_implied', table[:{implied_rows + 1}], "
                       "300, 'growth_2_5')) == " + str(implied_rows), repeat, setup=setup)
    once = repeated(f"call('val_story', table[:{implied_rows + 1}])", repeat, setup=setup)
    simulated = repeated(
        f"call('val_story_simulate', table[:2], [['growth_2_5', 'normal', 0.3, 0.1], "
        f"['target_margin', 'uniform', 0.1, 0.3]], {draws})", repeat, setup=setup)
    valued = repeated(f"call('val_story', table[:{draws + 1}])", repeat, setup=setup)
    return [
        row(f"VAL_STORY over {rows:,} stories (10 inputs, a company a row), xlwings runtime",
            ours, f"a Python loop calling xf.story_value story by story (measured "
            f"{singles:,}, scaled)", one_by_one, "< 1.5 s and >= 50x faster",
            lambda r, o: o["median"] < 1.5 and r >= 50),
        row(f"VAL_STORY over {rows:,} stories, xlwings runtime", ours,
            "the model hand-written as a plain Python loop of floats (no checks, no errors)",
            loop, "reported", lambda r, o: True,
            note="the floor of pure Python arithmetic, without any input checking"),
        row(f"VAL_STORY_IMPLIED (growth_2_5) over {implied_rows:,} stories, xlwings runtime",
            implied, f"VAL_STORY once over the same {implied_rows:,} stories", once, "< 2 s",
            lambda r, o: o["median"] < 2),
        row(f"VAL_STORY_SIMULATE, {draws:,} draws of two drivers, xlwings runtime",
            simulated, f"VAL_STORY over {draws:,} stories", valued, "< 1 s",
            lambda r, o: o["median"] < 1),
    ]
