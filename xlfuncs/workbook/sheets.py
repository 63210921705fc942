"""The sheets of the valuation workbook, planned (every value computed) then written.

Layout, the same on every table sheet: row 1 the title and the master check, row 2 a
note, row 4 the column headers, row 5 the units, data from row 6; panes frozen below
the units and right of the company column. One formula per column, the same down the
rows (companies are rows here, so the modelling standard's "one formula per row,
consistent across columns" is turned by a quarter: one per column, consistent down).
Inputs are blue on pale yellow, formulas black, links to other cells green.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
from openpyxl.chart import BarChart, Reference, ScatterChart, Series
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.styles import PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from .. import __version__
from ..errors import ERROR_CODES, NA
from ..registry import CATALOG, entry, example_value
from .book import (
    FORMULA,
    HEADER,
    INPUT,
    LINK,
    NOTE,
    TEXT,
    TITLE,
    UNIT,
    Book,
    Sheet,
    Style,
    cached_values,
)
from .columns import ROW, Column, apply, constant, values
from .model import (
    ASSUMPTIONS,
    CASH_DATE_RULE,
    CASH_RULE,
    DISTRESS_RULE,
    GRID_MULTIPLES_RULE,
    GRID_YEARS_RULE,
    PROJECTION_YEARS,
    YEAR_SUFFIX,
    FactRow,
    Model,
    Rule,
)

FIRST = 6  # first data row of every table sheet
FACTS_HEADER = 5
Progress = Callable[[str], None]

# Number formats that carry their unit, as the unit row says.
BN = '#,##0.00" bn"'
BN_SMALL = '#,##0.0000" bn"'
MULTIPLE = '#,##0.0"x"'
PCT = "0.0%"
DATE = "yyyy-mm-dd"
MONTHS = '0" m"'
PRICE = "#,##0.00"
TF = "General"


def styled(base: Style, number_format: str) -> Style:
    return Style(**{**base.__dict__, "number_format": number_format})


@dataclass
class TableColumnSpec:
    """A column of a table sheet: header, unit, format and its computed values."""

    header: str
    unit: str
    number_format: str
    column: Column
    style: Style = FORMULA


@dataclass
class Plan:
    """Everything computed before anything is written (the master check comes last but
    shows on the first sheet)."""

    model: Model
    data_path: Path
    data_sha256: str
    valuation: list[TableColumnSpec] = field(default_factory=list)
    burn: list[TableColumnSpec] = field(default_factory=list)
    checks: list[CheckRow] = field(default_factory=list)
    checks_ok: Any = None
    inputs_rows: dict[str, int] = field(default_factory=dict)


# ---- references ---------------------------------------------------------------------

def facts_ref(row: int, column: str) -> str:
    return f"Facts!${column}${row}"


def company_link(model: Model, metric: str, column: str, attribute: str,
                 text: bool = False) -> Column:
    """A link column: for each company, its fact's cell on the Facts sheet (or blank)."""
    items: list[Any] = []
    links: list[str | None] = []
    for company in model.companies:
        fact = model.fact(company, metric)
        value = None if fact is None else getattr(fact, attribute)
        if value in ("", None):
            items.append(None)
            links.append(None)
        else:
            items.append(value)
            links.append(facts_ref(fact.row, column))  # type: ignore[union-attr]
    return values("", items, text=text, links=links)


def at(column: Column, ref: str) -> Column:
    """The same values, placed at ``ref`` (its letter on the sheet being planned)."""
    return Column(ref, column.data, column.errors, column.template, column.links)


def link_same_row(source: Column, target: str) -> Column:
    """A column of links to another sheet's column, row for row (errors travel too)."""
    rows = len(source.data)
    return Column(source.ref, source.data, source.errors,
                  links=tuple(target.replace(ROW, str(FIRST + i)) for i in range(rows)))


class Layout:
    """Assigns letters to a table sheet's columns as they are planned."""

    def __init__(self, sheet: str) -> None:
        self.sheet = sheet
        self.specs: list[TableColumnSpec] = []

    def next_ref(self) -> str:
        return f"{get_column_letter(len(self.specs) + 2)}{ROW}"  # column A is the company

    def add(self, header: str, unit: str, fmt: str, column: Column) -> Column:
        placed = at(column, self.next_ref())
        style = LINK if column.links is not None else FORMULA
        self.specs.append(TableColumnSpec(header, unit, fmt, placed, style))
        return placed

    def calc(self, header: str, unit: str, fmt: str, name: str, *args: Column) -> Column:
        return self.add(header, unit, fmt, apply(entry(name), self.next_ref(), *args))

    def letter(self, column: Column) -> str:
        return column.ref.replace(ROW, "")


def cell_column(ref: str, cached: Any) -> Column:
    """One cell's value as a column: a number, a blank ("") or an Excel error code."""
    if isinstance(cached, str) and cached in ERROR_CODES:
        return Column(ref, np.array(np.nan), np.array(cached, dtype=object))
    number = np.nan if cached in ("", None) else float(cached)
    return Column(ref, np.array(number), np.array(None, dtype=object))


def named(name: str, model: Model) -> Column:
    return constant(name, model.assumptions[name])


def text_constant(value: str) -> Column:
    return constant(f'"{value}"', value)


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
    v.calc("Premium over peer multiple", "%", PCT, "VAL_PREMIUM", ps,
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
    v.calc("Years to reach target multiple", "years", "0.0", "VAL_YEARS_TO_JUSTIFY",
           *growth_args, named("Revenue_Growth", model), named("Discount_Rate", model))
    annual_cny = v.calc("Annualised revenue", "RMB bn", BN_SMALL, "FX_CONVERT", annual,
                        rev_cur, cny, flow_hkd, flow_cny)
    v.calc("Share of China's 2030 AI market", "%", "0.000%", "VAL_MARKET_SHARE", annual_cny,
           china_market)
    profit = v.add("Net profit (reported, mid)", "bn", BN,
                   company_link(model, "net_profit", "L", "billions"))
    profit_cur = v.add("Net profit currency", "code", TF,
                       company_link(model, "net_profit", "G", "currency", True))
    profit_hkd = v.calc("Net profit", "HK$ bn", BN, "FX_CONVERT", profit, profit_cur, hkd,
                        flow_hkd, flow_cny)
    v.calc("Price to earnings", "x", MULTIPLE, "VAL_PE", mv_hkd, profit_hkd)
    distress = v.add("Distress proceeds", "HK$ bn", BN, company_inputs_link(model, "distress",
                                                                             "D"))
    v.calc("Failure-adjusted value", "HK$ bn", BN, "VAL_FAILURE_ADJUSTED", mv_hkd,
           named("Failure_Probability", model), distress)
    return v


def company_inputs_link(model: Model, attribute: str, letter: str) -> Column:
    items = [getattr(model.company_inputs[c], attribute) for c in model.companies]
    first = company_inputs_first_row()
    links = [None if value is None else f"Inputs!${letter}${first + i}"
             for i, value in enumerate(items)]
    return values("", items, links=links)


def company_inputs_first_row() -> int:
    # title, note, blank, header, units, assumptions, blank, section title, header
    return FIRST + len(ASSUMPTIONS) + len(LINKED_INPUTS) + 3


LINKED_INPUTS = ("China_AI_Market_2030",)


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
    annual_hkd = b.calc("Annual burn, loss-based", "HK$ bn a year", BN, "FX_CONVERT", annual,
                        cur, hkd, usd_hkd, usd_cny)
    revenue_spec = next(s for s in valuation.specs
                        if s.header == "Annualised revenue" and s.unit == "HK$ bn")
    letter = valuation.letter(revenue_spec.column)
    revenue = b.add("Annualised revenue", "HK$ bn", BN_SMALL,
                    link_same_row(revenue_spec.column, f"Valuation!${letter}${ROW}"))
    b.calc("Loss per unit of revenue", "x", MULTIPLE, "BURN_LOSS_TO_REVENUE", annual_hkd,
           revenue)
    cash = b.add("Cash", "HK$ bn", BN, company_inputs_link(model, "cash", "B"))
    as_of = b.add("Cash as of", "date", DATE, company_inputs_link(model, "cash_as_of", "C"))
    b.calc("Runway", "months", "0.0", "BURN_RUNWAY", cash, monthly_hkd)
    b.calc("Cash runs out", "date", DATE, "BURN_CASH_ZERO_DATE", cash, monthly_hkd, as_of)
    b.add("Compute share of R&D", "%", "0%",
          company_link(model, "compute_share_of_rnd", "C", "value"))
    spend = b.add("Compute spend (reported)", "bn", BN,
                  company_link(model, "compute_spend", "L", "billions"))
    spend_cur = b.add("Compute spend currency", "code", TF,
                      company_link(model, "compute_spend", "G", "currency", True))
    b.calc("Compute spend", "HK$ bn", BN, "FX_CONVERT", spend, spend_cur, hkd, usd_hkd,
           usd_cny)
    return b


def spec_column(layout: Layout, header: str, unit: str | None = None) -> Column:
    return next(s.column for s in layout.specs
                if s.header == header and (unit is None or s.unit == unit))


# ---- writing ------------------------------------------------------------------------

def header_rows(sheet: Sheet, title: str, note: str, plan: Plan) -> None:
    """Row 1: the title and the master check, row 2 a note, row 3 blank."""
    sheet.append([sheet.text(title, TITLE), sheet.text("All checks pass:", UNIT),
                  sheet.formula("=Checks_OK", plan.checks_ok, LINK)])
    sheet.append([sheet.text(note, NOTE)])
    sheet.blank_rows()


def write_table_sheet(book: Book, title: str, note: str, layout: Layout, plan: Plan,
                      progress: Progress) -> Sheet:
    sheet = book.sheet(title)
    # layout first: write-only sheets stream <cols> and panes before the rows
    sheet.ws.freeze_panes = f"B{FIRST}"
    sheet.ws.print_title_rows = f"1:{FIRST - 1}"
    sheet.ws.print_title_cols = "A:A"
    sheet.ws.page_setup.paperSize = 8  # A3: wide tables print at 55% on A3
    sheet.ws.page_setup.scale = 55
    sheet.widths(22, *[max(12, min(24, len(s.header) + 2)) for s in layout.specs])
    header_rows(sheet, title, note, plan)
    sheet.append([sheet.text("Company", HEADER)] +
                 [sheet.text(s.header, HEADER) for s in layout.specs])
    sheet.append([sheet.text("name", UNIT)] + [sheet.text(s.unit, UNIT) for s in layout.specs])
    # the rows: built a column at a time (one template, one vectorised value array each)
    companies = plan.model.companies
    total = len(companies)
    rows = [FIRST + i for i in range(total)]
    company_style = styled(TEXT, "@")
    columns: list[list[Any]] = [[sheet.text(c, company_style) for c in companies]]
    for spec in layout.specs:
        columns.append(sheet.column(formula_texts(spec.column, rows),
                                    cached_values(spec.column.data, spec.column.errors),
                                    styled(spec.style, spec.number_format)))
    progress(f"{title}: writing {total:,} companies")
    for cells in zip(*columns, strict=True):
        sheet.append(cells)
    return sheet


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


def formula_texts(column: Column, rows: list[int]) -> list[bytes | None] | None:
    """Each row's formula, XML-escaped, from the column's template or links."""
    if column.template is not None:
        parts = escape(column.template).encode("utf-8").split(ROW.encode("utf-8"))
        return [str(row).encode().join(parts) for row in rows]
    if column.links is not None:
        return [None if target is None else escape(target).encode("utf-8")
                for target in column.links]
    return None


def write_about(book: Book, plan: Plan) -> None:
    s = book.sheet("About")
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.widths(24, 160)
    s.ws.freeze_panes = "A4"
    header_rows(s, "LLM valuation workbook", "Built by xlfuncs; every number recomputes in "
                "Excel, LibreOffice and Google Sheets without the add-in.", plan)
    rows = [
        ("What this is", "A valuation and cash-burn model of China's listed LLM start-ups "
         "(MiniMax, Zhipu) with OpenAI, Anthropic and Cambricon as peers, fed by every figure "
         "of the source article (sheet Facts), with inputs on one sheet (Inputs)."),
        ("Source article", "2026-02-24, by Yang Jianyong, Forbes China contributor: the Hong "
         "Kong listings of MiniMax and Zhipu, their market values, revenue, losses and "
         "compute spend."),
        ("Sheets", "Inputs, Facts, Valuation, Burn, Scenarios, Company card, Charts, Checks, "
         "Functions."),
        ("Burn is loss-based", "The article reports cumulative net losses, not cash flows: "
         "monthly and annual burn divide a loss by its months, a proxy that includes non-cash "
         "items."),
        ("Build", f"xlfuncs {__version__}"),
        ("Data file", plan.data_path.name),
        ("Data SHA-256", plan.data_sha256),
        ("Live Excel functions", "pip install xlfuncs; then xlwings addin install and set "
         "UDF Modules to xlfuncs.udfs (Windows), or serve them with xlwings Server / xlwings "
         "Lite. The sheet Functions lists them."),
    ]
    for label, text in rows:
        s.append([s.text(label, styled(HEADER, "@")), s.text(text)])
    s.blank_rows()
    s.append([s.text("Colour legend", HEADER)])
    s.append([s.value(1.0, INPUT), s.text("Input: a number you may change (blue on yellow)")])
    s.append([s.formula("=Checks_OK", plan.checks_ok, FORMULA),
              s.text("Formula: computed, do not type over (black)")])
    s.append([s.formula("=Checks_OK", plan.checks_ok, LINK),
              s.text("Link: a value taken from another cell (green)")])


def write_inputs(book: Book, plan: Plan, china_market: Column) -> None:
    model = plan.model
    s = book.sheet("Inputs")
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.ws.freeze_panes = "A6"
    s.widths(38, 16, 16, 24, 90)
    header_rows(s, "Inputs", "Every assumption in one place. Blue cells are yours to change; "
                "xlfuncs build --keep-inputs carries them into a rebuilt workbook.", plan)
    s.append([s.text(h, HEADER) for h in ("Input", "Value", "Unit", "Name", "Source")])
    s.append([s.text(h, UNIT) for h in ("", "value", "unit", "named range", "where it comes from")])
    validations: list[DataValidation] = []
    for a in ASSUMPTIONS:
        row = s.rows + 1
        value = model.assumptions[a.name]
        s.append([s.text(a.label), s.value(value, styled(INPUT, a.number_format)),
                  s.text(a.unit, UNIT), s.text(a.name, NOTE), s.text(a.source, NOTE)])
        book.name(a.name, f"Inputs!$B${row}")
        validations.append(_validation(a.rule, f"B{row}", a.label, a.unit))
    for name in LINKED_INPUTS:
        row = s.rows + 1
        text = china_market.formula(0, row)
        cell = (s.formula(text, china_market.cell(0), styled(LINK, BN)) if text
                else None)
        s.append([s.text("China's AI market in 2030 (RMB bn)"), cell, s.text("RMB bn", UNIT),
                  s.text(name, NOTE),
                  s.text("Link to Facts: China AI market, market_size", NOTE)])
        book.name(name, f"Inputs!$B${row}")
    s.blank_rows()
    s.append([s.text("Company inputs", HEADER)])
    s.append([s.text(h, HEADER) for h in ("Company", "Cash (HK$ bn)", "Cash as of",
                                          "Distress proceeds (HK$ bn)", "Comment")])
    first = s.rows + 1
    assert first == company_inputs_first_row(), (first, company_inputs_first_row())
    for company in model.companies:
        inputs = model.company_inputs[company]
        s.append([s.text(company), s.value(inputs.cash, styled(INPUT, BN)),
                  s.value(inputs.cash_as_of, styled(INPUT, DATE)),
                  s.value(inputs.distress, styled(INPUT, BN)),
                  s.text(inputs.comment, NOTE) if inputs.comment else None])
    last = max(first, s.rows)
    book.name("Company_Names", f"Inputs!$A${first}:$A${last}")
    book.name("Company_Cash", f"Inputs!$B${first}:$B${last}")
    book.name("Company_Cash_As_Of", f"Inputs!$C${first}:$C${last}")
    book.name("Company_Distress", f"Inputs!$D${first}:$D${last}")
    validations.append(_validation(CASH_RULE, f"B{first}:B{last}", "Cash", "HK$ bn"))
    validations.append(_validation(CASH_DATE_RULE, f"C{first}:C{last}", "Cash as of",
                                   "date"))
    validations.append(_validation(DISTRESS_RULE, f"D{first}:D{last}",
                                   "Distress proceeds", "HK$ bn"))
    s.blank_rows()
    s.append([s.text("Scenario grid", HEADER)])
    for key, label, name, axis, fmt, rule, unit in (
            ("grid_multiples", "Target multiples (rows)", "Grid_Multiples",
             model.grid_multiples, MULTIPLE, GRID_MULTIPLES_RULE, "x"),
            ("grid_years", "Years (columns)", "Grid_Years", model.grid_years, "0",
             GRID_YEARS_RULE, "years")):
        row = s.rows + 1
        s.append([s.text(label), *[s.value(v, styled(INPUT, fmt)) for v in axis]])
        last = get_column_letter(1 + len(axis))
        cells = f"B{row}:{last}{row}"
        book.name(name, f"Inputs!$B${row}:${last}${row}")
        validations.append(_validation(rule, cells, label, unit))
        plan.inputs_rows[key] = row
    for validation in validations:
        s.ws.data_validations.append(validation)


def _validation(rule: Rule, cells: str, label: str, unit: str) -> DataValidation:
    """Excel's check of an input cell, from the rule carried values are also checked by."""
    validation = DataValidation(**rule.excel())
    where = label if rule.kind == "date" else f"{label} in {unit}"
    message = f"{where}: {rule.describe()}."
    validation.promptTitle = label[:32]
    validation.prompt = message[:255]
    validation.errorTitle = "Not a valid value"[:32]
    validation.error = message[:255]
    validation.showInputMessage = True
    validation.showErrorMessage = True
    validation.add(cells)
    return validation


FACTS_COLUMNS = ("Company", "Metric", "Value", "Low", "High", "Unit", "Currency",
                 "Period start", "Period end", "As of", "Qualifier", "Value in bn", "Source")


def layout_facts(model: Model) -> Column:
    """Give each fact its Facts row; plan the 'Value in bn' column (money amounts only)."""
    for index, fact in enumerate(model.facts):
        fact.row = FACTS_HEADER + 1 + index
    scaled = [f for f in model.facts if f.billions is not None]
    return apply(entry("DATA_IN_BILLIONS"), f"L{ROW}",
                 values(f"C{ROW}", [f.value for f in scaled]),
                 values(f"F{ROW}", [f.unit for f in scaled], text=True))


def write_facts(book: Book, plan: Plan, in_bn: Column, progress: Progress) -> None:
    model = plan.model
    s = book.sheet("Facts")
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.ws.freeze_panes = f"C{FACTS_HEADER + 1}"
    s.ws.print_title_rows = f"1:{FACTS_HEADER}"
    s.widths(18, 26, 12, 10, 10, 7, 9, 12, 12, 12, 9, 14, 90)
    header_rows(s, "Facts", "Every figure of the source article, one fact a row, with its "
                "source paragraph. Percentages as Excel stores them (494% is 4.94); a range "
                "shows its low, high and midpoint.", plan)
    s.blank_rows()
    s.append([s.text(h, HEADER) for h in FACTS_COLUMNS])
    scaled_index = 0
    # a range's value is its midpoint, the registry's formula over its low and high
    midpoint = apply(entry("DATA_MIDPOINT"), f"C{ROW}", values(f"D{ROW}", [0.0]),
                     values(f"E{ROW}", [0.0]))
    value_style = styled(INPUT, "#,##0.####")
    percent_style = styled(INPUT, "0%")
    date_style = styled(INPUT, DATE)
    bn_style = styled(FORMULA, BN_SMALL)
    for index, fact in enumerate(model.facts):
        row = fact.row
        style = percent_style if fact.unit == "%" else value_style
        if fact.qualifier == "range":
            value_cell = s.formula(midpoint.formula(0, row) or "", fact.value, styled(FORMULA,
                                                                              style.number_format))
        else:
            value_cell = s.value(fact.value, style)
        bn_cell = None
        if fact.billions is not None:
            bn_cell = s.formula(in_bn.formula(scaled_index, row) or "", in_bn.cell(scaled_index),
                                bn_style)
            scaled_index += 1
        s.append([
            s.text(fact.company), s.text(fact.metric), value_cell,
            *((s.value(fact.low, style), s.value(fact.high, style))
              if fact.qualifier == "range" else (None, None)), s.text(fact.unit),
            s.text(fact.currency) if fact.currency else None,
            s.value(fact.period_start, date_style), s.value(fact.period_end, date_style),
            s.value(fact.as_of, date_style), s.text(fact.qualifier), bn_cell,
            s.text(fact.source, NOTE)])
        if index % 20000 == 19999:
            progress(f"Facts: {index + 1:,} of {len(model.facts):,} rows")
    last = FACTS_HEADER + max(1, len(model.facts))
    table = Table(displayName="FactsTable", ref=f"A{FACTS_HEADER}:M{last}")
    table.tableColumns = [TableColumn(id=i, name=h) for i, h in enumerate(FACTS_COLUMNS, 1)]
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    with warnings.catch_warnings():  # "add table columns manually": done just above
        warnings.filterwarnings("ignore", "In write-only mode", UserWarning)
        s.ws.add_table(table)


def lookup(company_column: str, source: Column, selector: str, rows: int,
           companies: list[str], chosen: str, sheet: str) -> tuple[str, Any]:
    """INDEX/MATCH of a company's cell on a table sheet, and its cached value."""
    last = FIRST + max(rows, 1) - 1
    letter = source.ref.replace(ROW, "")
    formula = (f"=INDEX({sheet}!${letter}${FIRST}:${letter}${last},"
               f"MATCH({selector},{sheet}!${company_column}${FIRST}:${company_column}${last},0))")
    folded = [c.casefold() for c in companies]
    cached = (source.cell(folded.index(chosen.casefold())) if chosen.casefold() in folded
              else NA)
    return formula, cached


def company_list_validation(model: Model, cell: str) -> DataValidation:
    last = FIRST + max(len(model.companies), 1) - 1
    validation = DataValidation(type="list", formula1=f"=Valuation!$A${FIRST}:$A${last}")
    validation.promptTitle = "Company"
    validation.prompt = "Pick a company from the list."
    validation.showInputMessage = True
    validation.showErrorMessage = True
    validation.add(cell)
    return validation


CARD_FIGURES = (
    ("Valuation", "Market value", "HK$ bn", BN),
    ("Valuation", "Market value", "US$ bn", BN),
    ("Valuation", "Annualised revenue", "HK$ bn", BN_SMALL),
    ("Valuation", "Price to sales", "x", MULTIPLE),
    ("Valuation", "Premium over peer multiple", "%", PCT),
    ("Valuation", "Implied share price", "HK$ a share", PRICE),
    ("Valuation", "Revenue CAGR to reach target multiple", "% a year", PCT),
    ("Valuation", "Years to reach target multiple", "years", "0.0"),
    ("Valuation", "Share of China's 2030 AI market", "%", "0.000%"),
    ("Valuation", "Price to earnings", "x", MULTIPLE),
    ("Valuation", "Failure-adjusted value", "HK$ bn", BN),
    ("Burn", "Monthly burn, loss-based", "HK$ bn a month", BN_SMALL),
    ("Burn", "Runway", "months", "0.0"),
    ("Burn", "Cash runs out", "date", DATE),
)


def write_card(book: Book, plan: Plan, layouts: dict[str, Layout]) -> None:
    model = plan.model
    s = book.sheet("Company card")
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.ws.freeze_panes = f"A{FIRST}"
    s.widths(40, 18, 16)
    header_rows(s, "Company card", "Pick a company (the yellow cell); its key figures "
                "appear below, looked up from Valuation and Burn.", plan)
    s.append([s.text("Figure", HEADER), s.text("Value", HEADER), s.text("Unit", HEADER)])
    s.append([s.text("name", UNIT), s.text("", UNIT), s.text("", UNIT)])
    s.append([s.text("Company"), s.text(model.card_company, INPUT), s.text("pick from list",
                                                                            UNIT)])
    book.name("Card_Company", f"'Company card'!$B${FIRST}")
    for sheet, header, unit, fmt in CARD_FIGURES:
        source = spec_column(layouts[sheet], header, unit)
        formula, cached = lookup("A", source, "Card_Company", len(model.companies),
                                 model.companies, model.card_company, sheet)
        s.append([s.text(f"{header}"), s.formula(formula, cached, styled(LINK, fmt)),
                  s.text(unit, UNIT)])
    s.ws.data_validations.append(company_list_validation(model, f"B{FIRST}"))


def write_scenarios(book: Book, plan: Plan, valuation: Layout) -> None:
    model = plan.model
    s = book.sheet("Scenarios")
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.ws.freeze_panes = f"B{FIRST}"
    s.widths(34, *[14] * (PROJECTION_YEARS + 1))
    header_rows(s, "Scenarios", "Revenue growth a year needed to grow into a target multiple "
                "(rows) within a number of years (columns), for the company picked below; "
                "then a year-by-year path at the Inputs' growth and discount rate.", plan)
    s.append([s.text("Item", HEADER), s.text("Value", HEADER)])
    s.append([s.text("name", UNIT), s.text("", UNIT)])
    s.append([s.text("Company"), s.text(model.scenario_company, INPUT)])
    book.name("Scenario_Company", f"Scenarios!$B${FIRST}")
    s.ws.data_validations.append(company_list_validation(model, f"B{FIRST}"))
    picked: dict[str, Column] = {}
    for key, header, unit in (("mv", "Market value", "HK$ bn"),
                              ("rev", "Annualised revenue", "HK$ bn")):
        source = spec_column(valuation, header, unit)
        formula, cached = lookup("A", source, "Scenario_Company", len(model.companies),
                                 model.companies, model.scenario_company, "Valuation")
        row = s.rows + 1
        s.append([s.text(f"{header} ({unit})"), s.formula(formula, cached, styled(LINK, BN))])
        picked[key] = cell_column(f"$B${row}", cached)
    s.blank_rows()
    # the sensitivity grid: target multiple (rows) x years (columns)
    grid_row = s.rows + 1
    multiples_row, years_row = plan.inputs_rows["grid_multiples"], plan.inputs_rows["grid_years"]
    year_cells = []
    for j, years in enumerate(model.grid_years):
        source = f"Inputs!${get_column_letter(2 + j)}${years_row}"
        year_cells.append(s.formula(f"={source}", years, styled(LINK, '0" years"')))
    s.append([s.text("Target multiple \\ years", HEADER), *year_cells])
    first_grid = s.rows + 1
    cagr = entry("VAL_IMPLIED_CAGR")
    discount = named("Discount_Rate", model)
    for i, multiple in enumerate(model.grid_multiples):
        row = s.rows + 1
        cells: list[Any] = [s.formula(f"=Inputs!${get_column_letter(2 + i)}${multiples_row}",
                                      multiple, styled(LINK, MULTIPLE))]
        for j, years in enumerate(model.grid_years):
            letter = get_column_letter(2 + j)
            column = apply(cagr, f"{letter}{row}", picked["mv"], picked["rev"],
                           constant(f"$A{row}", multiple),
                           constant(f"{letter}${grid_row}", years), discount)
            cells.append(s.formula(column.formula(0, row) or "", column.cell(0),
                                   styled(FORMULA, PCT)))
        s.append(cells)
    last_grid = s.rows
    grid_range = (f"B{first_grid}:{get_column_letter(1 + len(model.grid_years))}{last_grid}")
    s.ws.conditional_formatting.add(grid_range, ColorScaleRule(
        start_type="min", start_color="63BE7B", mid_type="percentile", mid_value=50,
        mid_color="FFEB84", end_type="max", end_color="F8696B"))
    s.blank_rows()
    write_projection(s, model, picked)


def write_projection(s: Sheet, model: Model, picked: dict[str, Column]) -> None:
    """Years as columns (Damodaran's layout): revenue at the growth input, market value at
    the discount rate, the multiple that results, and whether it is at the target."""
    s.append([s.text("Year-by-year path", HEADER)])
    year_row = s.rows + 1
    s.append([s.text("Year", HEADER), *[s.value(float(y), styled(HEADER, "0"))
                                        for y in range(PROJECTION_YEARS + 1)]])
    rev_row, mv_row, ps_row, ok_row = year_row + 1, year_row + 2, year_row + 3, year_row + 4
    rows: dict[str, list[Any]] = {"rev": [], "mv": [], "ps": [], "ok": []}
    prev = {"rev": picked["rev"], "mv": picked["mv"]}
    growth = {"rev": named("Revenue_Growth", model), "mv": named("Discount_Rate", model)}
    target = named("Target_Multiple", model)
    for y in range(PROJECTION_YEARS + 1):
        letter = get_column_letter(2 + y)
        current: dict[str, Column] = {}
        for key, row in (("rev", rev_row), ("mv", mv_row)):
            if y == 0:
                source = prev[key]
                current[key] = Column(f"{letter}{row}", source.data, source.errors)
                rows[key].append(s.formula(f"={source.ref}", source.cell(0),
                                           styled(LINK, BN)))
            else:
                column = apply(entry("VAL_PRICE_FROM_RETURN"), f"{letter}{row}", prev[key],
                               growth[key])
                current[key] = column
                rows[key].append(s.formula(column.formula(0, row) or "", column.cell(0),
                                           styled(FORMULA, BN)))
        ps = apply(entry("VAL_PS"), f"{letter}{ps_row}", current["mv"], current["rev"])
        rows["ps"].append(s.formula(ps.formula(0, ps_row) or "", ps.cell(0),
                                    styled(FORMULA, MULTIPLE)))
        ok = apply(entry("CHECK_AT_LEAST"), f"{letter}{ok_row}", target, ps)
        rows["ok"].append(s.formula(ok.formula(0, ok_row) or "", ok.cell(0), FORMULA))
        prev = current
    s.append([s.text("Revenue (HK$ bn), growing at Revenue_Growth"), *rows["rev"]])
    s.append([s.text("Market value (HK$ bn), growing at Discount_Rate"), *rows["mv"]])
    s.append([s.text("Price to sales (x)"), *rows["ps"]])
    s.append([s.text("At or below the target multiple (TRUE/FALSE)"), *rows["ok"]])


def write_charts(book: Book, plan: Plan, valuation: Layout, burn: Layout) -> None:
    s = book.sheet("Charts")
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.ws.freeze_panes = "A4"
    header_rows(s, "Charts", "Market value against annualised revenue, and monthly burn, by "
                "company (from Valuation and Burn).", plan)
    n = max(len(plan.model.companies), 1)
    last = FIRST + n - 1
    v_sheet = next(x for x in book.sheets if x.title == "Valuation").ws
    b_sheet = next(x for x in book.sheets if x.title == "Burn").ws

    def col(layout: Layout, header: str, unit: str) -> int:
        return column_index_from_string(layout.letter(spec_column(layout, header, unit)))

    scatter = ScatterChart()
    scatter.title = "Market value against annualised revenue (HK$ bn)"
    scatter.style = 13
    scatter.x_axis.title = "Annualised revenue (HK$ bn)"
    scatter.y_axis.title = "Market value (HK$ bn)"
    xs = Reference(v_sheet, min_col=col(valuation, "Annualised revenue", "HK$ bn"),
                   min_row=FIRST, max_row=last)
    ys = Reference(v_sheet, min_col=col(valuation, "Market value", "HK$ bn"), min_row=FIRST,
                   max_row=last)
    series = Series(ys, xs, title="Companies")
    series.marker.symbol = "circle"
    series.graphicalProperties.line.noFill = True
    scatter.series.append(series)
    scatter.height, scatter.width = 9, 18
    s.ws.add_chart(scatter, "A5")

    bars = BarChart()
    bars.type = "bar"
    bars.title = "Monthly burn, loss-based (HK$ bn a month)"
    data = Reference(b_sheet, min_col=col(burn, "Monthly burn, loss-based", "HK$ bn a month"),
                     min_row=FIRST, max_row=last)
    bars.add_data(data, titles_from_data=False)
    bars.set_categories(Reference(b_sheet, min_col=1, min_row=FIRST, max_row=last))
    bars.legend = None
    bars.height, bars.width = 9, 18
    s.ws.add_chart(bars, "A25")


COMPANY_ROW = "¤"  # in a per-company check, the company's row on Valuation


@dataclass(frozen=True)
class CheckRow:
    """One row of the Checks sheet: what is checked, the two sides, the TRUE/FALSE."""

    label: str
    value: Column | None
    expected: Column | None
    result: Column
    note: str
    index: int = 0                 # the element of the (vectorised) columns
    company_row: int | None = None  # for per-company checks

    def formula(self, column: Column, row: int) -> str:
        text = (column.template or "").replace(ROW, str(row))
        return "=" + text.replace(COMPANY_ROW, str(self.company_row))


def place(column: Column, letter: str) -> Column:
    """A value or link written on the Checks sheet at ``letter``: later formulas refer to
    that cell; the cell itself holds the column's formula (or a link to its source)."""
    text = column.template if column.template is not None else column.ref
    return Column(f"{letter}{ROW}", column.data, column.errors, template=text)


def plan_checks(model: Model, valuation: Layout) -> list[CheckRow]:
    """Model checks: (what, value, compared with, result, source), results TRUE/FALSE."""
    checks: list[CheckRow] = []
    index = {c: i for i, c in enumerate(model.companies)}
    mv_hkd = spec_column(valuation, "Market value", "HK$ bn")
    mv_letter = valuation.letter(mv_hkd)
    usd_hkd, usd_cny = named("USD_HKD", model), named("USD_CNY", model)
    tolerance = named("FX_Tolerance", model)

    def link(fact: FactRow, column: str, attribute: str) -> Column:
        value = getattr(fact, attribute)
        return constant(facts_ref(fact.row, column), value)

    def add(label: str, value: Column, expected: Column | None, name: str,
            *extra: Column, note: str = "") -> None:
        value = place(value, "B")
        args = [value] if expected is None else [value, place(expected, "C")]
        result = apply(entry(name), f"D{ROW}", *args, *extra)
        checks.append(CheckRow(label, value, args[1] if expected is not None else None, result,
                               note))

    for fact in model.facts:
        parts = fact.company.split("+")
        if fact.metric == "market_value" and len(parts) > 1 and all(p in index for p in parts):
            refs = ",".join(f"Valuation!${mv_letter}${FIRST + index[p]}" for p in parts)
            total = [mv_hkd.cell(index[p]) for p in parts]
            errors = [t for t in total if isinstance(t, str) and t in ERROR_CODES]
            value = Column(f"SUM({refs})",
                           np.array(float(np.nansum([t for t in total if not isinstance(t, str)]))),
                           np.array(errors[0] if errors else None, dtype=object))
            bound = apply(entry("FX_CONVERT"), "", link(fact, "L", "billions"),
                          link(fact, "G", "currency"), text_constant("HKD"), usd_hkd, usd_cny)
            label = (f"{' + '.join(parts)}: market values (HK$ bn) against the combined "
                     f"figure ({fact.qualifier})")
            if fact.qualifier == ">=":
                add(label, value, bound, "CHECK_AT_LEAST", note=fact.source)
            else:
                add(label, value, bound, "CHECK_CLOSE", tolerance, note=fact.source)
        if fact.metric.endswith("_converted"):
            original = model.fact(fact.company, fact.metric.removesuffix("_converted"))
            if original is None or original.billions is None or fact.billions is None:
                continue
            converted = apply(entry("FX_CONVERT"), "", link(original, "L", "billions"),
                              link(original, "G", "currency"), link(fact, "G", "currency"),
                              named("USD_HKD_Flows", model), named("USD_CNY_Flows", model))
            add(f"{fact.company} {original.metric}: the article's {fact.currency} conversion "
                "agrees with the Inputs FX rates", converted, link(fact, "L", "billions"),
                "CHECK_CLOSE", tolerance, note=fact.source)
        if fact.qualifier == "range":
            add(f"{fact.company} {fact.metric}: the range's low is not above its high",
                link(fact, "E", "high"), link(fact, "D", "low"), "CHECK_AT_LEAST",
                note=fact.source)
    add("USD/HKD is inside the peg's band", usd_hkd, None, "CHECK_BETWEEN",
        named("HKD_Band_Low", model), named("HKD_Band_High", model),
        note="Inputs: HKD_Band_Low, HKD_Band_High")
    implied = spec_column(valuation, "Implied share price", "HK$ a share")
    issue = spec_column(valuation, "Issue price", "HK$ a share")
    increase = spec_column(valuation, "Increase since issue", "%")

    def on_company_row(column: Column) -> Column:
        letter = valuation.letter(column)
        return Column(f"Valuation!${letter}${COMPANY_ROW}", column.data, column.errors)

    # one vectorised check over every company, written for those with an implied price
    back = place(apply(entry("VAL_RETURN"), "", on_company_row(issue),
                       on_company_row(implied)), "B")
    expected = place(on_company_row(increase), "C")
    result = apply(entry("CHECK_CLOSE"), f"D{ROW}", back, expected,
                   named("Check_Tolerance", model))
    for company, i in index.items():
        if isinstance(implied.cell(i), float):
            checks.append(CheckRow(f"{company}: the implied share price gives back the "
                                   "increase since issue", back, expected, result,
                                   "Valuation", i, FIRST + i))
    return checks


def write_checks(book: Book, plan: Plan) -> None:
    s = book.sheet("Checks")
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.ws.freeze_panes = f"A{FIRST}"
    s.widths(70, 14, 14, 12, 60)
    header_rows(s, "Checks", "Model integrity checks; each says TRUE when it holds. The "
                "master check (All checks pass) shows on every sheet.", plan)
    s.append([s.text(h, HEADER) for h in ("Check", "Value", "Compared with", "Result",
                                          "Source")])
    s.append([s.text(h, UNIT) for h in ("", "value", "value", "TRUE/FALSE", "")])
    for check in plan.checks:
        row = s.rows + 1
        cells: list[Any] = [s.text(check.label)]
        for column in (check.value, check.expected):
            if column is None:
                cells.append(None)
                continue
            is_link = "(" not in (column.template or "")
            cells.append(s.formula(check.formula(column, row), column.cell(check.index),
                                   styled(LINK if is_link else FORMULA, "#,##0.000")))
        cells.append(s.formula(check.formula(check.result, row),
                               check.result.cell(check.index), FORMULA))
        cells.append(s.text(check.note, NOTE))
        s.append(cells)
    first, last = FIRST, s.rows
    s.blank_rows()
    row = s.rows + 1
    s.append([s.text("All checks pass", HEADER), None, None,
              s.formula(f"=AND(D{first}:D{last})", plan.checks_ok, FORMULA)])
    book.name("Checks_OK", f"Checks!$D${row}")
    red = PatternFill("solid", fgColor="F8CBAD")
    green = PatternFill("solid", fgColor="C6EFCE")
    results = f"D{first}:D{last} D{row}"  # not the blank row between (blank = FALSE)
    s.ws.conditional_formatting.add(results, CellIsRule(operator="equal", formula=["FALSE"],
                                                        fill=red))
    s.ws.conditional_formatting.add(results, CellIsRule(operator="equal", formula=["TRUE"],
                                                        fill=green))


def checks_status(checks: list[CheckRow]) -> Any:
    """The master check's value, as AND() gives it: an error if any result is one."""
    results = [c.result.cell(c.index) for c in checks]
    for result in results:
        if isinstance(result, str) and result in ERROR_CODES:
            return result
    return all(r is True for r in results if r != "")


def write_functions(book: Book, plan: Plan) -> None:
    s = book.sheet("Functions")
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.ws.freeze_panes = f"B{FIRST}"
    s.widths(24, 60, 70, 48, 36, 22)
    header_rows(s, "Functions", "The add-in's Excel functions. The Live column holds real "
                "add-in formulas: they compute where xlfuncs is installed; elsewhere they "
                "show the value saved here.", plan)
    headers = ("Function", "Arguments", "Description", "Example", "Result (documented)",
               "Live (needs the add-in)")
    s.append([s.text(h, HEADER) for h in headers])
    s.append([s.text(h, UNIT) for h in ("", "", "", "formula", "", "value")])
    for item in CATALOG:
        s.append([s.text(item.name), s.text(item.signature), s.text(item.summary),
                  s.text(item.example), s.text(item.example_result),
                  s.formula(item.example, live_value(item), FORMULA)])


def live_value(item: Any) -> Any:
    """The add-in's answer to a catalog example (its first cell), for the cached value."""
    answer = example_value(item)
    return "" if answer is None else answer


def data_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
