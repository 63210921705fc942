"""The Scenarios sheet: the revenue growth a target multiple needs, and a year-by-year path."""

from __future__ import annotations

from typing import Any

from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.utils import get_column_letter

from ...registry import entry
from ..book import (
    FORMULA,
    HEADER,
    INPUT,
    LINK,
    UNIT,
    Book,
    Sheet,
)
from ..columns import Column, apply, constant
from ..model import PROJECTION_YEARS, Model
from .common import (
    BN,
    FIRST,
    MULTIPLE,
    PCT,
    Layout,
    Plan,
    cell_column,
    company_list_validation,
    header_rows,
    lookup,
    named,
    spec_column,
    styled,
)


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
    # labels in words: the Inputs sheet names these inputs the same way
    s.append([s.text("Revenue (HK$ bn), growing at the Inputs' revenue growth a year"),
              *rows["rev"]])
    s.append([s.text("Market value (HK$ bn), growing at the Inputs' discount rate"),
              *rows["mv"]])
    s.append([s.text("Price to sales (x)"), *rows["ps"]])
    s.append([s.text("At or below the target multiple (TRUE/FALSE)"), *rows["ok"]])
