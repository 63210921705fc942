"""The Valuation sheet: per company, market value, revenue run-rate, multiples and
reverse valuation."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..columns import Column
from ..model import Model
from .common import (
    BN,
    BN_SMALL,
    DATE,
    MONTHS,
    MULTIPLE,
    PCT,
    PRICE,
    TF,
    Layout,
    company_link,
    named,
    text_constant,
)
from .dcf import NEGATIVE_SHORT, negative_note
from .inputs import company_inputs_link

# ---- planning -----------------------------------------------------------------------

def plan_valuation(model: Model, china_market: Column) -> Layout:
    v = Layout("Valuation")
    hkd, usd, cny = text_constant("HKD"), text_constant("USD"), text_constant("CNY")
    # point-in-time amounts (market values) at spot, period flows at the period's average
    usd_hkd, usd_cny = named("USD_HKD", model), named("USD_CNY", model)
    flow_hkd, flow_cny = named("USD_HKD_Flows", model), named("USD_CNY_Flows", model)
    mv = v.add("Market value (reported)", "bn", BN, company_link(model, "market_value", "L",
                                                                 "billions"))
    mv_cur = v.add("Currency", "code", TF, company_link(model, "market_value", "G",
                                                        "currency", True))
    v.add("Basis", "qualifier", TF, company_link(model, "market_value", "K", "qualifier",
                                                 True))
    mv_hkd = v.calc("Market value", "HK$ bn", BN, "FX_CONVERT", mv, mv_cur, hkd, usd_hkd,
                    usd_cny)
    v.calc("Market value", "US$ bn", BN, "FX_CONVERT", mv, mv_cur, usd, usd_hkd, usd_cny)
    v.calc("Market value", "RMB bn", BN, "FX_CONVERT", mv, mv_cur, cny, usd_hkd, usd_cny)
    rev = v.add("Revenue (reported)", "bn", BN_SMALL,
                company_link(model, "revenue", "L", "billions"))
    rev_cur = v.add("Revenue currency", "code", TF,
                    company_link(model, "revenue", "G", "currency", True))
    start = v.add("Revenue period start", "date", DATE,
                  company_link(model, "revenue", "H", "period_start"))
    end = v.add("Revenue period end", "date", DATE,
                company_link(model, "revenue", "I", "period_end"))
    months = v.calc("Months in period", "months", MONTHS, "BURN_MONTHS", start, end)
    annual = v.calc("Annualised revenue", "bn, reported currency", BN_SMALL, "VAL_ANNUALIZE",
                    rev, months)
    annual_hkd = v.calc("Annualised revenue", "HK$ bn", BN_SMALL, "FX_CONVERT", annual,
                        rev_cur, hkd, flow_hkd, flow_cny)
    ps = v.calc("Price to sales", "x", MULTIPLE, "VAL_PS", mv_hkd, annual_hkd)
    # the peer multiple is EV/Sales: compare it with the company's EV/Sales, not its P/S
    cash = v.add("Cash (Inputs)", "HK$ bn", BN, company_inputs_link(model, "cash", "B"))
    debt = v.add("Debt (Inputs; assumed 0)", "HK$ bn", BN,
                 company_inputs_link(model, "debt", "D"))
    ev = v.calc("Enterprise value", "HK$ bn", BN, "VAL_EV", mv_hkd, debt, cash)
    ev_sales = v.calc("EV to sales", "x", MULTIPLE, "VAL_EV_REVENUE", ev, annual_hkd)
    v.calc("EV/Sales premium over peer EV/Sales", "%", PCT, "VAL_PREMIUM", ev_sales,
           named("Peer_Multiple", model))
    issue = v.add("Issue price", "HK$ a share", PRICE,
                  company_link(model, "issue_price", "C", "value"))
    increase = v.add("Increase since issue", "%", PCT,
                     company_link(model, "cumulative_increase", "C", "value"))
    v.calc("Implied share price", "HK$ a share", PRICE, "VAL_PRICE_FROM_RETURN", issue,
           increase)
    growth_args = (mv_hkd, annual_hkd, named("Target_Multiple", model))
    v.calc("Revenue CAGR to reach target multiple", "% a year", PCT, "VAL_IMPLIED_CAGR",
           *growth_args, named("Years", model), named("Discount_Rate", model))
    # from the P/S column: the multiple is computed once, and the formula stays readable
    v.calc("Years to reach target multiple", "years", "0.0", "VAL_YEARS_TO_MULTIPLE",
           ps, named("Target_Multiple", model), named("Revenue_Growth", model),
           named("Discount_Rate", model))
    annual_cny = v.calc("Annualised revenue", "RMB bn", BN_SMALL, "FX_CONVERT", annual,
                        rev_cur, cny, flow_hkd, flow_cny)
    # not a market share: today's run-rate against the market's size in 2030
    v.calc("Revenue run-rate against China's 2030 AI market", "% (today's revenue, 2030 "
           "market)", "0.000%", "VAL_MARKET_SHARE", annual_cny, china_market)
    profit = v.add("Net profit (reported, mid)", "bn", BN,
                   company_link(model, "net_profit", "L", "billions"))
    profit_cur = v.add("Net profit currency", "code", TF,
                       company_link(model, "net_profit", "G", "currency", True))
    profit_hkd = v.calc("Net profit", "HK$ bn", BN, "FX_CONVERT", profit, profit_cur, hkd,
                        flow_hkd, flow_cny)
    v.calc("Price to earnings", "x", MULTIPLE, "VAL_PE", mv_hkd, profit_hkd)
    return v


INTRINSIC = "Intrinsic equity value after options (DCF, failure-adjusted)"
UPSIDE = "Upside (+) / downside (-) of intrinsic value against the market value"
IMPLIED_GROWTH = "Market-implied revenue growth, years 2-5 (DCF)"
INTRINSIC_NOTE = "Intrinsic value note"


def add_intrinsic_columns(v: Layout, model: Model, dcf: list[Any]) -> None:
    """Links to the DCF sheet, which defines them once: the equity value after options
    (failure is in its operating value), its upside against the market value, and the
    growth the market value implies; blank without a DCF block."""
    by_company = {d.company.index: d for d in dcf}

    def linked(cell: Any) -> Column:
        items: list[Any] = []
        links: list[str | None] = []
        for i in range(len(model.companies)):
            d = by_company.get(i)
            column = None if d is None else cell(d)
            items.append(None if column is None else column.cell(0))
            links.append(None if column is None else f"DCF!$C${column.ref[1:]}")
        errors = np.array([x if isinstance(x, str) else None for x in items], dtype=object)
        data = np.array([np.nan if x in (None, "") or isinstance(x, str) else x
                         for x in items], dtype=np.float64)
        return Column("", data, errors, links=tuple(links))

    intrinsic = v.add(INTRINSIC, "HK$ bn", BN, linked(lambda d: d.story.cell["after_options"]))
    v.add(UPSIDE, "%", PCT, linked(lambda d: d.story.cell["upside"]))
    v.add(INTRINSIC_NOTE, "note", TF, negative_note(v.next_ref(), intrinsic, intrinsic.ref,
                                                    NEGATIVE_SHORT))
    v.add(IMPLIED_GROWTH, "% a year", PCT, linked(lambda d: d.implied_growth))
