"""The Burn sheet: loss-based burn, runway and compute spend per company; below,
figures given year by year."""

from __future__ import annotations

from typing import Any

import numpy as np
from openpyxl.utils import get_column_letter

from ...registry import entry
from ..book import (
    FORMULA,
    HEADER,
    LINK,
    Sheet,
)
from ..columns import ROW, Column, apply, values
from ..model import YEAR_SUFFIX, Model
from .common import (
    BN,
    BN_SMALL,
    DATE,
    MONTHS,
    MULTIPLE,
    PCT,
    TF,
    Layout,
    cell_column,
    company_link,
    facts_ref,
    named,
    spec_column,
    styled,
    text_constant,
)
from .inputs import company_inputs_link

CASH_BASIS = "Cash basis of the runway"


def plan_burn(model: Model, valuation: Layout) -> Layout:
    b = Layout("Burn")
    hkd = text_constant("HKD")
    # every amount here is a period flow: converted at the flow (average) rates
    usd_hkd, usd_cny = named("USD_HKD_Flows", model), named("USD_CNY_Flows", model)
    loss = b.add("Cumulative loss (reported)", "bn", BN,
                 company_link(model, "cumulative_loss", "L", "billions"))
    cur = b.add("Currency", "code", TF, company_link(model, "cumulative_loss", "G",
                                                     "currency", True))
    start = b.add("Loss period start", "date", DATE,
                  company_link(model, "cumulative_loss", "H", "period_start"))
    end = b.add("Loss period end", "date", DATE,
                company_link(model, "cumulative_loss", "I", "period_end"))
    b.calc("Months in period", "months", MONTHS, "BURN_MONTHS", start, end)
    monthly = b.calc("Monthly burn, loss-based", "bn a month, reported currency", BN_SMALL,
                     "BURN_MONTHLY", loss, start, end)
    monthly_hkd = b.calc("Monthly burn, loss-based", "HK$ bn a month", BN_SMALL,
                         "FX_CONVERT", monthly, cur, hkd, usd_hkd, usd_cny)
    annual = b.calc("Annual burn, loss-based", "bn a year, reported currency", BN,
                    "BURN_ANNUAL", loss, start, end)
    b.calc("Annual burn, loss-based", "HK$ bn a year", BN, "FX_CONVERT", annual,
                        cur, hkd, usd_hkd, usd_cny)
    # A ratio of a loss to a revenue needs both over the same days: the reported figures
    # with their own periods, never an average loss over a run-rate (the article has no
    # such pair, so its companies show #N/A with the reason).
    def on_valuation(header: str, unit: str) -> Column:
        column = spec_column(valuation, header, unit)
        return Column(f"Valuation!{valuation.letter(column)}{ROW}", column.data,
                      column.errors)

    loss_hkd = b.calc("Cumulative loss", "HK$ bn", BN, "FX_CONVERT", loss, cur, hkd, usd_hkd,
                      usd_cny)
    revenue_start = on_valuation("Revenue period start", "date")
    revenue_end = on_valuation("Revenue period end", "date")
    revenue_hkd = b.calc("Revenue in its reported period", "HK$ bn", BN_SMALL, "FX_CONVERT",
                         on_valuation("Revenue (reported)", "bn"),
                         on_valuation("Revenue currency", "code"), hkd, usd_hkd, usd_cny)
    b.calc("Loss per unit of revenue, same period only", "x (#N/A: periods differ)",
           MULTIPLE, "BURN_LOSS_TO_REVENUE", loss_hkd, start, end, revenue_hkd,
           revenue_start, revenue_end)
    cash = b.add("Cash", "HK$ bn", BN, company_inputs_link(model, "cash", "B"))
    as_of = b.add("Cash as of", "date", DATE, company_inputs_link(model, "cash_as_of", "C"))
    b.calc("Runway", "months", "0.0", "BURN_RUNWAY", cash, monthly_hkd)
    b.calc("Cash runs out", "date", DATE, "BURN_CASH_ZERO_DATE", cash, monthly_hkd, as_of)
    # beside the dates they give: what the cash they rest on is (illustrative or typed)
    b.add(CASH_BASIS, "note", TF, values("", [model.cash_basis(c) for c in model.companies],
                                         text=True))
    b.add("Compute share of R&D", "%", "0%",
          company_link(model, "compute_share_of_rnd", "C", "value"))
    spend = b.add("Compute spend (reported)", "bn", BN,
                  company_link(model, "compute_spend", "L", "billions"))
    spend_cur = b.add("Compute spend currency", "code", TF,
                      company_link(model, "compute_spend", "G", "currency", True))
    b.calc("Compute spend", "HK$ bn", BN, "FX_CONVERT", spend, spend_cur, hkd, usd_hkd,
           usd_cny)
    return b




def write_year_series(sheet: Sheet, model: Model) -> None:
    """Below the Burn table: figures given year by year (MiniMax's Alibaba Cloud caps for
    2026-2028), years as columns, with growth on the year before and over the span."""
    series = model.year_series()
    if not series:
        return
    sheet.blank_rows()
    sheet.append([sheet.text("Year-by-year figures and their growth", HEADER)])
    for company, base, facts in series:
        years = [float(YEAR_SUFFIX.match(f.metric)["year"]) for f in facts]  # type: ignore[index]
        unit = f"{facts[0].currency} {facts[0].unit}".strip()
        year_row = sheet.rows + 1
        sheet.append([sheet.text(f"{company}: {base.replace('_', ' ')}", HEADER),
                      *[sheet.value(y, styled(HEADER, "0")) for y in years]])
        amount_row = year_row + 1
        amounts = [cell_column(f"{get_column_letter(2 + i)}{amount_row}", f.value)
                   for i, f in enumerate(facts)]
        sheet.append([sheet.text(f"Amount ({unit})"),
                      *[sheet.formula("=" + facts_ref(f.row, "C"), f.value,
                                      styled(LINK, "#,##0.00")) for f in facts]])
        growth_row = amount_row + 1
        cells: list[Any] = [sheet.text("Growth on the year before (%)"), None]
        for i in range(1, len(facts)):
            growth = apply(entry("VAL_RETURN"), "", amounts[i - 1], amounts[i])
            cells.append(sheet.formula(growth.formula(0, growth_row) or "", growth.cell(0),
                                       styled(FORMULA, PCT)))
        sheet.append(cells)
        first, last = get_column_letter(2), get_column_letter(1 + len(facts))
        span = Column(f"({last}{year_row}-{first}{year_row})",
                      np.array(years[-1] - years[0]), np.array(None, dtype=object))
        cagr = apply(entry("VAL_CAGR"), "", amounts[0], amounts[-1], span)
        sheet.append([sheet.text(f"Growth a year, {years[0]:.0f} to {years[-1]:.0f} (%)"),
                      sheet.formula(cagr.formula(0, growth_row + 1) or "", cagr.cell(0),
                                    styled(FORMULA, PCT))])
