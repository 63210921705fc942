"""Registry entries of the story DCF: its steps (native formulas the workbook writes one per
row across the year columns) and its Excel functions.

Imported by :mod:`xlfuncs.registry` at its end (it uses the registry's helpers): import
the registry, not this module.
"""

from __future__ import annotations

from ..entry import Entry, Param, _metric
from . import excel, implied, simulate, steps
from .model import OUTPUTS, REQUIRED

P_YEAR = Param("year", "Year of the forecast, 1 to 10")


STORY_STEPS: tuple[Entry, ...] = (
    _metric("STORY_GROWTH", "Story", "Revenue growth of a forecast year",
            (P_YEAR, Param("growth_next", "Growth in year 1"),
             Param("growth_2_5", "Growth a year in years 2-5"),
             Param("stable_growth", "Growth from year 10 on")),
            steps.story_growth, "=STORY_GROWTH(8, 0.5, 0.3, 0.05)", "0.15"),
    _metric("STORY_REVENUE", "Story", "Revenue of a year: the year before x (1 + growth)",
            (Param("revenue_before", "Revenue of the year before"),
             Param("growth", "Growth of this year")),
            steps.story_revenue, "=STORY_REVENUE(100, 0.5)", "150"),
    _metric("STORY_MARGIN", "Story", "Operating margin of a forecast year",
            (P_YEAR, Param("margin_next", "Operating margin in year 1"),
             Param("target_margin", "Operating margin reached in the convergence year"),
             Param("convergence_year", "Year the margin reaches the target, 1 to 10")),
            steps.story_margin, "=STORY_MARGIN(3, -0.5, 0.25, 6)", "-0.2"),
    _metric("STORY_EBIT", "Story", "Operating income: revenue x operating margin",
            (Param("revenue", "Revenue of the year"), Param("margin", "Operating margin")),
            steps.story_ebit, "=STORY_EBIT(200, -0.25)", "-50"),
    _metric("STORY_TAX_RATE", "Story", "Tax rate of a forecast year",
            (P_YEAR, Param("effective_tax", "Tax rate in years 1-5"),
             Param("marginal_tax", "Tax rate from year 10 on")),
            steps.story_tax_rate, "=STORY_TAX_RATE(7, 0.15, 0.25)", "0.19"),
    _metric("STORY_TAXES", "Story", "Taxes: max(EBIT - losses carried forward, 0) x tax rate",
            (Param("ebit", "Operating income of the year"),
             Param("nol_before", "Losses carried forward from the year before"),
             Param("tax_rate", "Tax rate of the year")),
            steps.story_taxes, "=STORY_TAXES(100, 30, 0.25)", "17.5"),
    _metric("STORY_NOL", "Story", "Losses carried forward: max(NOL before - EBIT, 0)",
            (Param("ebit", "Operating income of the year"),
             Param("nol_before", "Losses carried forward from the year before")),
            steps.story_nol, "=STORY_NOL(-40, 30)", "70"),
    _metric("STORY_SALES_TO_CAPITAL", "Story", "Sales-to-capital ratio of a forecast year",
            (P_YEAR, Param("sales_to_capital_1_5", "Ratio in years 1-5"),
             Param("sales_to_capital_6_10", "Ratio in years 6-10")),
            steps.story_sales_to_capital, "=STORY_SALES_TO_CAPITAL(6, 1.5, 2.5)", "2.5"),
    _metric("STORY_REINVESTMENT", "Story",
            "Reinvestment: revenue added / sales-to-capital ratio",
            (Param("revenue", "Revenue of the year"),
             Param("revenue_before", "Revenue of the year before"),
             Param("sales_to_capital", "Revenue added per unit of capital invested")),
            steps.story_reinvestment, "=STORY_REINVESTMENT(150, 100, 2.5)", "20"),
    _metric("STORY_FCFF", "Story", "Free cash flow to the firm: EBIT - taxes - reinvestment",
            (Param("ebit", "Operating income"), Param("taxes", "Taxes"),
             Param("reinvestment", "Reinvestment")),
            steps.story_fcff, "=STORY_FCFF(100, 17.5, 20)", "62.5"),
    _metric("STORY_COST_OF_CAPITAL", "Story", "Cost of capital of a forecast year",
            (P_YEAR, Param("cost_of_capital", "Cost of capital in years 1-5"),
             Param("mature_cost_of_capital", "Cost of capital from year 10 on")),
            steps.story_cost_of_capital, "=STORY_COST_OF_CAPITAL(10, 0.12, 0.085)", "0.085"),
    _metric("STORY_DISCOUNT_FACTOR", "Story",
            "Discount factor: the year before's / (1 + cost of capital)",
            (Param("factor_before", "Discount factor of the year before (1 for year 0)"),
             Param("cost_of_capital", "Cost of capital of the year")),
            steps.story_discount_factor, "=STORY_DISCOUNT_FACTOR(1, 0.25)", "0.8"),
    _metric("STORY_PRESENT_VALUE", "Story", "Present value: amount x discount factor",
            (Param("amount", "Amount"), Param("discount_factor", "Discount factor")),
            steps.story_present_value, "=STORY_PRESENT_VALUE(62.5, 0.8)", "50"),
    _metric("STORY_TERMINAL_VALUE", "Story", "Terminal value at the end of year 10",
            (Param("revenue_10", "Revenue of year 10"),
             Param("stable_growth", "Growth from year 10 on"),
             Param("target_margin", "Operating margin in stable growth"),
             Param("marginal_tax", "Tax rate in stable growth"),
             Param("stable_roc", "Return on capital in stable growth"),
             Param("mature_cost_of_capital", "Cost of capital in stable growth")),
            steps.story_terminal_value,
            "=STORY_TERMINAL_VALUE(1000, 0.04, 0.2, 0.25, 0.1, 0.09)", "1872"),
    _metric("STORY_GOING_CONCERN", "Story",
            "Going-concern value: discounted cash flows + discounted terminal value",
            (Param("sum_pv_fcff", "Sum of the discounted cash flows of years 1-10"),
             Param("pv_terminal", "Discounted terminal value")),
            steps.story_going_concern, "=STORY_GOING_CONCERN(120, 880)", "1000"),
    _metric("STORY_OPERATING_VALUE", "Story",
            "Operating value: going concern x (1 - p) + p x distress fraction x max(GC, 0)",
            (Param("going_concern", "Going-concern value"),
             Param("failure_probability", "Chance the company fails (0 to 1)"),
             Param("distress_fraction", "Proceeds on failure, share of going-concern value")),
            steps.story_operating_value, "=STORY_OPERATING_VALUE(1000, 0.2, 0.5)", "900"),
    _metric("STORY_EQUITY", "Story",
            "Equity value: operating value - debt - minority + cash + non-operating assets",
            (Param("operating_value", "Operating value"), Param("cash", "Cash"),
             Param("debt", "Debt"), Param("minority", "Minority interests"),
             Param("non_operating", "Non-operating assets")),
            steps.story_equity, "=STORY_EQUITY(900, 50, 100, 10, 5)", "845"),
    _metric("STORY_EQUITY_AFTER_OPTIONS", "Story",
            "Equity value left to the shareholders: equity - value of employee options",
            (Param("equity", "Equity value"), Param("options", "Value of employee options")),
            steps.story_equity_after_options, "=STORY_EQUITY_AFTER_OPTIONS(845, 45)", "800"),
    _metric("STORY_PER_SHARE", "Story", "Value per share: (equity - options) / shares",
            (Param("equity", "Equity value"), Param("options", "Value of employee options"),
             Param("shares", "Shares outstanding")),
            steps.story_per_share, "=STORY_PER_SHARE(845, 45, 100)", "8"),
    _metric("STORY_UPSIDE", "Story",
            "Upside (+) or downside (-) against the market value: value / market value - 1",
            (Param("value", "Intrinsic value (may be negative)"),
             Param("market_value", "Market value, in the same unit")),
            steps.story_upside, "=STORY_UPSIDE(-30, 300)", "-1.1"),
)

# A small story as an Excel array constant (labels in the first column), for the examples.
EXAMPLE_STORY = ('{"revenue",100;"growth_next",0.2;"growth_2_5",0.15;"margin_next",0.1;'
                 '"target_margin",0.2;"convergence_year",5;"sales_to_capital_1_5",2;'
                 '"sales_to_capital_6_10",2;"riskfree",0.04;"cost_of_capital",0.1}')
# Excel keeps 255 characters of a parameter's description (the classic add-in)
P_STORY = Param("story", "Labels in the first column and a company a column, or in the first "
                f"row and a company a row; required: {', '.join(REQUIRED)}", "range")
BRACKET_DOC = "; ".join(f"{k} {lo:g} to {hi:g}" for k, (lo, hi) in implied.BRACKETS.items())

STORY_FUNCTIONS: tuple[Entry, ...] = (
    Entry("VAL_STORY", "Story",
          "Story-driven DCF: value per share (or another output) of each company of a story",
          (P_STORY, Param("result", f"One of {', '.join(OUTPUTS)}; default per_share", "text",
                          optional=True)),
          excel.val_story, f"=VAL_STORY({EXAMPLE_STORY})", "332.04", "spill"),
    Entry("VAL_STORY_TABLE", "Story", "The year-by-year model of one story",
          (P_STORY,), excel.val_story_table, f"=VAL_STORY_TABLE({EXAMPLE_STORY})",
          "14 rows x 13 columns: header, 13 lines; base year, years 1-10, terminal",
          "spill"),
    Entry("VAL_STORY_IMPLIED", "Story",
          "The smallest value of one driver at which value per share equals a target",
          (P_STORY, Param("target", "Target value per share, e.g. the market price (one "
                          "cell, or one per company)"),
           Param("driver", "Label of the input solved for, e.g. growth_2_5", "text"),
           Param("low", "Lower end of the search; blank: the driver's default (docs/functions.md "
                 "lists them); amounts such as revenue, nol, cash or debt need low and high",
                 optional=True),
           Param("high", "Upper end of the search (default per driver, as for low)",
                 optional=True)),
          excel.val_story_implied, f'=VAL_STORY_IMPLIED({EXAMPLE_STORY}, 400, "growth_2_5")',
          "0.1952 (19.5% a year in years 2-5)", "spill"),
    Entry("VAL_STORY_SIMULATE", "Story",
          "Statistics of value per share with drivers drawn from distributions",
          (P_STORY, Param("distributions", "A driver a row: label, uniform|triangular|normal|"
                          "lognormal, then low high | low mode high | mean sd", "range"),
           Param("draws", f"Number of draws; default {simulate.DEFAULT_DRAWS:,}, at most "
                 f"{simulate.MAX_DRAWS:,}", optional=True),
           Param("seed", f"Seed of the random draws; default {simulate.DEFAULT_SEED}",
                 optional=True),
           Param("price", "Market price: adds the probability that value >= price",
                 optional=True)),
          excel.val_story_simulate,
          f'=VAL_STORY_SIMULATE({EXAMPLE_STORY}, {{"growth_2_5","uniform",0.1,0.2}}, 1000)',
          "mean, p5, p25, p50, p75, p95, draws valued (rows; a column per company)",
          "spill"),
)
