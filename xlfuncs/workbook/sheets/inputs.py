"""The Inputs sheet: every assumption as a named range, per-company inputs, the
scenario grid's axes."""

from __future__ import annotations

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..book import (
    HEADER,
    INPUT,
    LINK,
    NOTE,
    UNIT,
    Book,
)
from ..columns import Column, values
from ..model import (
    ASSUMPTIONS,
    CASH_DATE_RULE,
    CASH_RULE,
    DEBT_RULE,
    GRID_MULTIPLES_RULE,
    GRID_YEARS_RULE,
    Model,
    Rule,
)
from .common import BN, DATE, FIRST, MULTIPLE, Plan, header_rows, styled


def company_inputs_link(model: Model, attribute: str, letter: str) -> Column:
    """A link to each company's input cell, blank while the cell is blank (a bare link to
    an empty cell shows 0), so that typing a figure there, e.g. OpenAI's cash, moves the
    sheets that read it."""
    items = [getattr(model.company_inputs[c], attribute) for c in model.companies]
    first = company_inputs_first_row()
    # the row relative, as a row's offset: one formula down the column, as Excel sees it
    cells = [f"Inputs!${letter}{first + i}" for i in range(len(items))]
    return values("", items, links=[f'IF({c}="","",{c})' for c in cells])


def company_inputs_first_row() -> int:
    # title, note, blank, header, units, assumptions, blank, section title, header
    return FIRST + len(ASSUMPTIONS) + len(LINKED_INPUTS) + 3


LINKED_INPUTS = ("China_AI_Market_2030",)




def write_inputs(book: Book, plan: Plan, china_market: Column) -> None:
    model = plan.model
    s = book.sheet("Inputs")
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.ws.freeze_panes = "A6"
    s.widths(38, 16, 16, 24, 24, 90)
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
                                          "Debt (HK$ bn; assumed 0: the article gives none)",
                                          "Comment")])
    first = s.rows + 1
    assert first == company_inputs_first_row(), (first, company_inputs_first_row())
    for company in model.companies:
        inputs = model.company_inputs[company]
        s.append([s.text(company), s.value(inputs.cash, styled(INPUT, BN)),
                  s.value(inputs.cash_as_of, styled(INPUT, DATE)),
                  s.value(inputs.debt, styled(INPUT, BN)),
                  s.text(inputs.comment, NOTE) if inputs.comment else None])
    last = max(first, s.rows)
    book.name("Company_Names", f"Inputs!$A${first}:$A${last}")
    book.name("Company_Cash", f"Inputs!$B${first}:$B${last}")
    book.name("Company_Cash_As_Of", f"Inputs!$C${first}:$C${last}")
    book.name("Company_Debt", f"Inputs!$D${first}:$D${last}")
    validations.append(_validation(CASH_RULE, f"B{first}:B{last}", "Cash", "HK$ bn"))
    validations.append(_validation(CASH_DATE_RULE, f"C{first}:C{last}", "Cash as of",
                                   "date"))
    validations.append(_validation(DEBT_RULE, f"D{first}:D{last}", "Debt", "HK$ bn"))
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
    if plan.story is not None:
        from .story_inputs import write_story_inputs  # it imports this module

        plan.inputs_rows["story_labels"] = write_story_inputs(book, s, plan.story,
                                                              validations)[0]
        plan.inputs_rows["story_labels_last"] = s.rows
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
