"""The catalog: every Excel function once, with its docs and its native Excel formula.

One :class:`Entry` a function: the Python core function it calls, its parameters with the
help text Excel shows, a worked example, and, for metrics, the native formula that the
workbook builder writes so a colleague without the add-in computes the same thing. No
formula is written here: the core function's own numpy body and guards, called with cell
references, write it (:mod:`xlfuncs.formula`). It is composed the way the core answers
(see :mod:`xlfuncs.elementwise`): blank inputs give a blank cell, then each guard of the
core function, in order, gives its Excel error, then the body. Tests recalculate these
formulas in LibreOffice and Gnumeric and compare them with the core, element by element.

Only functions that Excel 2010+, LibreOffice and Google Sheets all have are used: no
XLOOKUP, LET, FILTER or dynamic arrays.
"""

from __future__ import annotations

from typing import Any

from . import burn, checks, data, fx, valuation
from .entry import EXCEL_ERROR, Entry, Param, ParamKind, Returns, _metric
from .story.entries import STORY_FUNCTIONS, STORY_STEPS

__all__ = ["CATALOG", "EXCEL_ERROR", "STORY_STEPS", "WORKBOOK_ONLY", "Entry", "Param",
           "ParamKind", "Returns", "entry", "example_arguments", "example_value"]


# Parameters shared by several functions, documented once.
P_MARKET_CAP = Param("market_cap", "Market value (equity), in the revenue's currency and scale")
P_REVENUE = Param("revenue", "Annual revenue, same currency and scale as the market value")
P_TARGET = Param("target_multiple", "Price-to-sales multiple to grow into, e.g. 11.5")
P_DISCOUNT = Param("discount_rate", "Yearly return a holder needs, at which the market value "
                   "grows (decimal), e.g. 10%; required: no hidden 0%")
P_USD_HKD = Param("usd_hkd", f"HKD per USD; default {fx.USD_HKD_DEFAULT} (peg centre)",
                  default=fx.USD_HKD_DEFAULT, optional=True)
P_USD_CNY = Param("usd_cny", f"CNY per USD; default {fx.USD_CNY_DEFAULT} ({fx.FX_AS_OF})",
                  default=fx.USD_CNY_DEFAULT, optional=True)
P_FROM = Param("from_currency", "Currency of the amount: USD, HKD, CNY or RMB", "text")
P_TO = Param("to_currency", "Currency wanted: USD, HKD, CNY or RMB", "text")
P_START_DATE = Param("start_date", "First day of the reporting period", "date")
P_END_DATE = Param("end_date", "Last day of the reporting period", "date")
P_LOSS = Param("cumulative_loss", "Net loss over the period (positive number)")
P_CASH = Param("cash", "Cash and equivalents on hand")
P_BURN = Param("monthly_burn", "Cash burned a month (positive number)")


CATALOG: tuple[Entry, ...] = (
    # --- currencies -------------------------------------------------------------------
    _metric("FX_RATE", "FX", "Exchange rate between HKD, USD and CNY (alias RMB)",
            (P_FROM, P_TO, P_USD_HKD, P_USD_CNY), fx.fx_rate,
            '=FX_RATE("USD", "HKD")', "7.8"),
    _metric("FX_CONVERT", "FX", "Amount converted from one currency to another",
            (Param("amount", "Amount to convert"), P_FROM, P_TO, P_USD_HKD, P_USD_CNY),
            fx.fx_convert, '=FX_CONVERT(300, "HKD", "USD")', "38.46"),
    # --- valuation --------------------------------------------------------------------
    _metric("VAL_RETURN", "Valuation", "Cumulative return: end_value / start - 1",
            (Param("start", "Starting price or value"),
             Param("end_value", "Ending price or value")),
            valuation.val_return, "=VAL_RETURN(165, 980.1)", "4.94 (494%)"),
    _metric("VAL_PRICE_FROM_RETURN", "Valuation",
            "Price implied by a cumulative increase: start x (1 + return)",
            (Param("start", "Starting price, e.g. the issue price"),
             Param("cumulative_return", "Cumulative increase as a decimal (494% is 4.94)")),
            valuation.val_price_from_return, "=VAL_PRICE_FROM_RETURN(165, 494%)", "980.10"),
    _metric("VAL_CAGR", "Valuation",
            "Compound annual growth rate: (end_value/start)^(1/years) - 1",
            (Param("start", "Value at the start"), Param("end_value", "Value at the end"),
             Param("years", "Years between them")),
            valuation.val_cagr, "=VAL_CAGR(115, 135, 2)", "0.0835 (8.3%)"),
    _metric("VAL_ANNUALIZE", "Valuation", "Twelve-month run-rate of a partial-year figure",
            (Param("amount", "Figure for the partial period"),
             Param("months", "Months the figure covers, e.g. 9")),
            valuation.val_annualize, "=VAL_ANNUALIZE(53.44, 9)", "71.25"),
    _metric("VAL_PS", "Valuation", "Price-to-sales multiple: market value / annual revenue",
            (P_MARKET_CAP, Param("annual_revenue", P_REVENUE.doc)),
            valuation.val_ps, "=VAL_PS(323.2, 0.2156)", "1499.1 (Zhipu, HK$bn)"),
    _metric("VAL_PE", "Valuation", "Price-to-earnings multiple: market value / net profit",
            (P_MARKET_CAP, Param("net_profit", "Annual net profit, same currency and scale")),
            valuation.val_pe, "=VAL_PE(100, 2)", "50"),
    _metric("VAL_EV", "Valuation", "Enterprise value: market value + debt - cash",
            (P_MARKET_CAP, Param("debt", "Total debt"), Param("cash", "Cash and equivalents")),
            valuation.val_ev, "=VAL_EV(300, 10, 25)", "285"),
    _metric("VAL_EV_REVENUE", "Valuation", "EV-to-revenue multiple: enterprise value / revenue",
            (Param("ev", "Enterprise value"), P_REVENUE),
            valuation.val_ev_revenue, "=VAL_EV_REVENUE(285, 2.5)", "114"),
    _metric("VAL_PREMIUM", "Valuation",
            "Premium of a multiple over a peer's same multiple: m / peer - 1",
            (Param("multiple", "The company's multiple (e.g. EV/Sales)"),
             Param("peer_multiple", "The peer's (or peer median) multiple of the same kind "
                   "(EV/Sales against EV/Sales)")),
            valuation.val_premium, "=VAL_PREMIUM(1499.1, 11.5)", "129.36 (12,936%)"),
    _metric("VAL_IMPLIED_CAGR", "Valuation",
            "Revenue growth a year needed to grow into a target multiple in N years",
            (P_MARKET_CAP, P_REVENUE, P_TARGET,
             Param("years", "Years to get there"), P_DISCOUNT),
            valuation.val_implied_cagr, "=VAL_IMPLIED_CAGR(323.2, 0.2156, 11.5, 5, 10%)",
            "1.9135 (191% a year)"),
    _metric("VAL_YEARS_TO_JUSTIFY", "Valuation",
            "Years until the valuation sits at a target multiple, revenue growing at a rate",
            (P_MARKET_CAP, P_REVENUE, P_TARGET,
             Param("growth", "Yearly revenue growth (decimal)"), P_DISCOUNT),
            valuation.val_years_to_justify,
            "=VAL_YEARS_TO_JUSTIFY(323.2, 0.2156, 11.5, 100%, 10%)", "8.15"),
    Entry("VAL_DCF", "Valuation",
          "Present value of yearly cash flows (NPV convention), plus a Gordon terminal value",
          (Param("cash_flows", "Yearly cash flows, first one a year from now", "range"),
           Param("discount_rate", "Yearly discount rate (decimal)"),
           Param("terminal_growth", "Growth after the last year (decimal); blank for none",
                 optional=True)),
          valuation.val_dcf, "=VAL_DCF({100,110,121}, 10%)", "272.73", "number",
          valuation.dcf_outcome, valuation.dcf_value, valuation.DCF_GUARDS),
    _metric("VAL_FAILURE_ADJUSTED", "Valuation",
            "Value weighted by the chance of failure: V x (1 - p) + distress x p",
            (Param("going_concern_value", "Value if the company survives"),
             Param("failure_probability", "Chance it fails (decimal, 0 to 1)"),
             Param("distress_proceeds", "What is recovered if it fails")),
            valuation.val_failure_adjusted, "=VAL_FAILURE_ADJUSTED(100, 20%, 30)", "86"),
    _metric("VAL_MARKET_SHARE", "Valuation",
            "Revenue as a share of a market (a share only when both are for the same year)",
            (P_REVENUE, Param("market_size", "Size of the market, same currency and scale")),
            valuation.val_market_share, "=VAL_MARKET_SHARE(0.191, 993)", "0.000192 (0.02%)"),
    # --- burn -------------------------------------------------------------------------
    _metric("BURN_MONTHS", "Burn", "Whole months in a reporting period (DATEDIF to end + 1)",
            (P_START_DATE, P_END_DATE), burn.burn_months,
            "=BURN_MONTHS(DATE(2022,1,1), DATE(2025,6,30))", "42"),
    _metric("BURN_MONTHLY", "Burn",
            "Average monthly burn over a period (loss-based proxy: losses include non-cash items)",
            (P_LOSS, P_START_DATE, P_END_DATE), burn.burn_monthly,
            "=BURN_MONTHLY(6238, DATE(2022,1,1), DATE(2025,6,30))", "148.5 (RMB m, Zhipu)"),
    _metric("BURN_ANNUAL", "Burn", "Average yearly burn over a period (loss-based proxy)",
            (P_LOSS, P_START_DATE, P_END_DATE), burn.burn_annual,
            "=BURN_ANNUAL(1320, DATE(2022,1,1), DATE(2025,9,30))", "352 (US$m, MiniMax)"),
    _metric("BURN_NET", "Burn", "Net burn: gross burn - cash revenue (negative: generates cash)",
            (Param("gross_burn", "Cash spent in the period"),
             Param("cash_revenue", "Cash collected in the period")),
            burn.burn_net, "=BURN_NET(150, 20)", "130"),
    _metric("BURN_RUNWAY", "Burn", "Months of cash left: cash / monthly burn",
            (P_CASH, P_BURN), burn.burn_runway, "=BURN_RUNWAY(3000, 148.5)", "20.2"),
    _metric("BURN_CASH_ZERO_DATE", "Burn", "The date the cash runs out at the current burn",
            (P_CASH, P_BURN, Param("as_of", "Date the cash balance was measured", "date")),
            burn.burn_cash_zero_date, "=BURN_CASH_ZERO_DATE(1200, 100, DATE(2026,2,24))",
            "2027-02-24"),
    _metric("BURN_MULTIPLE", "Burn", "Burn multiple: net burn / net new revenue",
            (Param("net_burn", "Net cash burned in the period"),
             Param("net_new_revenue", "Revenue added in the same period")),
            burn.burn_multiple, "=BURN_MULTIPLE(150, 50)", "3"),
    _metric("BURN_LOSS_TO_REVENUE", "Burn",
            "Loss per unit of revenue over one period (#N/A when the periods differ)",
            (Param("loss", "Net loss over its period (positive number)"),
             Param("loss_start", "First day of the loss's period", "date"),
             Param("loss_end", "Last day of the loss's period", "date"),
             Param("revenue", "Revenue over its period, same currency and scale"),
             Param("revenue_start", "First day of the revenue's period", "date"),
             Param("revenue_end", "Last day of the revenue's period", "date")),
            burn.burn_loss_to_revenue,
            "=BURN_LOSS_TO_REVENUE(300, DATE(2025,1,1), DATE(2025,9,30), 120, DATE(2025,1,1), "
            "DATE(2025,9,30))", "2.5"),
    _metric("BURN_RULE_OF_40", "Burn", "Rule of 40: revenue growth + margin (0.4 passes)",
            (Param("revenue_growth", "Yearly revenue growth (decimal)"),
             Param("margin", "Profit or free-cash-flow margin (decimal)")),
            burn.burn_rule_of_40, "=BURN_RULE_OF_40(60%, -30%)", "0.3 (30%: below the bar)"),
    # --- data ---------------------------------------------------------------------------
    Entry("DATA_FACT", "Data", "A figure from the dataset (percentages as decimals)",
          (Param("company", "Company name, e.g. Zhipu", "text"),
           Param("metric", "Metric name, e.g. revenue", "text"),
           Param("qualifier", "For a range: low, high or mid (default); else the qualifier "
                 "expected (=, >=, ~): one the fact does not have is #N/A", "text",
                 optional=True)),
          data.data_fact, '=DATA_FACT("Zhipu", "revenue")', "191 (RMB m)", "number",
          data.data_fact_outcome),
    Entry("DATA_QUALIFIER", "Data", "How the source states a figure: =, >= (over: a lower "
          "bound), ~ (approximately) or range",
          (Param("company", "Company name", "text"), Param("metric", "Metric name", "text")),
          data.data_qualifier, '=DATA_QUALIFIER("MiniMax", "market_value")', ">=", "text",
          data.data_qualifier_outcome),
    Entry("DATA_SOURCE", "Data", "Where a figure comes from (source note, file and row; "
          "its qualifier in words unless exact)",
          (Param("company", "Company name", "text"), Param("metric", "Metric name", "text")),
          data.data_source, '=DATA_SOURCE("Zhipu", "revenue")',
          "2026-02-24 article, para 20: revenue for 2025 [xlfuncs/data/facts.csv, row 14]",
          "text", data.data_source_outcome),
    Entry("DATA_TABLE", "Data", "The dataset, or one company's rows, as a table with headers",
          (Param("company", "Company name; blank for every company", "text", optional=True),),
          data.data_table, '=DATA_TABLE("Zhipu")', "8 rows x 13 columns: header and 7 facts",
          "table"),
    Entry("DATA_COMPANIES", "Data", "The companies of the dataset, as a column",
          (), data.data_companies, "=DATA_COMPANIES()", "MiniMax+Zhipu, MiniMax, Zhipu, ...",
          "column"),
)

# Formulas the workbook writes that are not Excel functions of the add-in: unit scaling
# and the model checks. Same rules: one Python body, one native formula, tested alike.
WORKBOOK_ONLY: tuple[Entry, ...] = (
    _metric("DATA_IN_BILLIONS", "Data", "An amount in billions, from its unit",
            (Param("value", "Amount"), Param("unit", "tn, bn, m or k", "text")),
            data.in_billions, '=DATA_IN_BILLIONS(53.44, "m")', "0.05344"),
    _metric("VAL_YEARS_TO_MULTIPLE", "Valuation",
            "Years until a multiple sits at a target, revenue growing at a rate",
            (Param("multiple", "Price-to-sales multiple today"), P_TARGET,
             Param("growth", "Yearly revenue growth (decimal)"), P_DISCOUNT),
            valuation.val_years_to_multiple,
            "=VAL_YEARS_TO_MULTIPLE(1499.07, 11.5, 100%, 10%)", "8.15"),
    _metric("DATA_MIDPOINT", "Data", "The middle of a range (DATA_FACT's mid)",
            (Param("low", "Low end"), Param("high", "High end")),
            data.midpoint, "=DATA_MIDPOINT(1.85, 2.15)", "2"),
    _metric("FX_IMPLIED_RATE", "FX", "The exchange rate a conversion implies: quote / base",
            (Param("quote_amount", "The amount in the quote currency (RMB 370m)"),
             Param("base_amount", "The same amount in the base currency (US$53.44m)")),
            fx.fx_implied_rate, "=FX_IMPLIED_RATE(370, 53.44)", "6.924"),
    _metric("CHECK_AT_LEAST", "Checks", "TRUE when value >= bound",
            (Param("value", "Value"), Param("bound", "Lower bound")),
            checks.check_at_least, "=CHECK_AT_LEAST(623.2, 620)", "TRUE"),
    _metric("CHECK_BETWEEN", "Checks", "TRUE when low <= value <= high",
            (Param("value", "Value"), Param("low", "Lower bound"), Param("high", "Upper bound")),
            checks.check_between, "=CHECK_BETWEEN(7.8, 7.75, 7.85)", "TRUE"),
    _metric("CHECK_CLOSE", "Checks", "TRUE when value is within a relative tolerance",
            (Param("value", "Value"), Param("expected", "Expected value"),
             Param("tolerance", "Relative tolerance, e.g. 1%")),
            checks.check_close, "=CHECK_CLOSE(369.8, 370, 1%)", "TRUE"),
)

CATALOG = (*CATALOG, *STORY_FUNCTIONS)
BY_NAME: dict[str, Entry] = {e.name: e for e in (*CATALOG, *WORKBOOK_ONLY, *STORY_STEPS)}


def entry(name: str) -> Entry:
    """The catalog entry of an Excel function name (case-insensitive)."""
    return BY_NAME[name.upper()]


def example_arguments(item: Entry) -> list[Any]:
    """The arguments of a catalog example formula, as Python values; ``DATE(y,m,d)`` is
    a ``datetime.date``.

    >>> example_arguments(entry("VAL_DCF"))
    [[[100.0, 110.0, 121.0]], 0.1]
    >>> example_arguments(entry("BURN_MONTHS"))
    [datetime.date(2022, 1, 1), datetime.date(2025, 6, 30)]
    """
    import datetime as dt
    import re

    inside = re.fullmatch(rf"={item.name}\((.*)\)", item.example)
    if inside is None:
        raise ValueError(f"{item.name}: example {item.example!r} is not a call of it")
    arguments: list[Any] = []
    for part in re.findall(r'\s*(?:"[^"]*"|\{[^}]*\}|DATE\([^)]*\)|[^,]+)', inside.group(1)):
        text = part.strip()
        day = re.fullmatch(r"DATE\((\d+),\s*(\d+),\s*(\d+)\)", text)
        if day is not None:
            arguments.append(dt.date(*(int(n) for n in day.groups())))
        elif text.startswith('"'):
            arguments.append(text.strip('"'))
        elif text.startswith("{"):
            arguments.append(array_constant(text))
        elif text.endswith("%"):
            arguments.append(float(text[:-1]) / 100)
        else:
            arguments.append(float(text))
    return arguments


def array_constant(text: str) -> list[list[Any]]:
    """An Excel array constant as rows of cells: ``{"a",1;"b",2}`` -> [["a", 1.0], ["b", 2.0]].

    >>> array_constant('{1,2;"x",3}')
    [[1.0, 2.0], ['x', 3.0]]
    """
    return [[cell.strip('"') if cell.startswith('"') else float(cell)
             for cell in row.split(",")] for row in text.strip("{}").split(";")]


def example_value(item: Entry) -> Any:
    """The first cell of what a catalog example answers: a number, date, text, bool, None
    (blank) or an Excel error code."""
    args = example_arguments(item)
    if item.returns == "table":
        return str(item.func(*args).columns[0])
    if item.returns == "column":
        return item.func(*args)[0]
    if item.returns == "spill":
        first = item.func(*args)[0][0]
        return first.code if hasattr(first, "code") else first
    assert item.outcome is not None
    answer = item.outcome(*args).cells()
    while isinstance(answer, list):
        answer = answer[0]
    return answer.code if hasattr(answer, "code") else answer
