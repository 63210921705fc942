"""The Inputs sheet: every assumption as a named range, per-company inputs, the
scenario grid's axes."""

from __future__ import annotations

from typing import Any

from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ...data import BILLIONS_PER_UNIT, SCALE_UNITS
from ...formula import Formula
from ...fx import CURRENCY_CODES
from ..book import (
    FORMULA,
    HEADER,
    INPUT,
    LINK,
    NOTE,
    UNIT,
    Book,
    Cell,
    Sheet,
)
from ..columns import Column, values
from ..model import (
    ASSUMPTIONS,
    CASH_DATE_RULE,
    CASH_RULE,
    DEBT_RULE,
    GRID_MULTIPLES_RULE,
    GRID_YEARS_RULE,
    STORY_INPUTS,
    Model,
    Rule,
)
from .common import BN, DATE, FIRST, MULTIPLE, TF, Plan, header_rows, styled


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
    s.widths(38, 16, 16, 12, 12, 12, 24, 90)
    header_rows(s, "Inputs", "Every assumption in one place. Blue cells are yours to change; "
                "xlfuncs build --keep-inputs carries them into a rebuilt workbook. Each is "
                "checked here, once: the formulas that read it rely on its rule.", plan)
    s.append([s.text(h, HEADER) for h in ("Input", "Value", "Unit", "Allowed from", "to",
                                          "Within its rule", "Name", "Source")])
    s.append([s.text(h, UNIT) for h in ("", "value", "unit", "value", "value", "TRUE/FALSE",
                                        "named range", "where it comes from")])
    validations: list[DataValidation] = []
    first = s.rows + 1
    for a in ASSUMPTIONS:
        row = s.rows + 1
        value = model.assumptions[a.name]
        s.append([s.text(a.label), s.value(value, styled(INPUT, a.number_format)),
                  s.text(a.unit, UNIT), *rule_cells(s, a.rule, f"B{row}", [value], row, "D",
                                                     a.number_format),
                  s.text(a.name, NOTE), s.text(a.source, NOTE)])
        book.name(a.name, f"Inputs!$B${row}")
        validations.append(_validation(a.rule, f"B{row}", a.label, a.unit))
    book.name(INPUT_CHECKS, f"Inputs!$F${first}:$F${s.rows}")
    book.name(INPUT_NAMES, f"Inputs!$G${first}:$G${s.rows}")
    for name in LINKED_INPUTS:
        row = s.rows + 1
        text = china_market.formula(0, row)
        cell = (s.formula(text, china_market.cell(0), styled(LINK, BN)) if text
                else None)
        s.append([s.text("China's AI market in 2030 (RMB bn)"), cell, s.text("RMB bn", UNIT),
                  None, None, None, s.text(name, NOTE),
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
    axes = (("grid_multiples", "Target multiples (rows)", "Grid_Multiples",
             model.grid_multiples, MULTIPLE, GRID_MULTIPLES_RULE, "x"),
            ("grid_years", "Years (columns)", "Grid_Years", model.grid_years, "0",
             GRID_YEARS_RULE, "years"))
    for key, label, name, axis, fmt, rule, unit in axes:
        row = s.rows + 1
        last = get_column_letter(1 + len(axis))
        s.append([s.text(label), *[s.value(v, styled(INPUT, fmt)) for v in axis]])
        book.name(name, f"Inputs!$B${row}:${last}${row}")
        validations.append(_validation(rule, f"B{row}:{last}{row}", label, unit))
        plan.inputs_rows[key] = row
    # each axis's rule below it, checked there (the Scenarios formulas rely on it)
    s.append([s.text("Rule of each axis", HEADER), s.text("Allowed from", HEADER),
              s.text("to", HEADER), s.text("Within its rule", HEADER)])
    first_rule = s.rows + 1
    for key, label, _, axis, fmt, rule, _ in axes:
        row, axis_row = s.rows + 1, plan.inputs_rows[key]
        cells = f"B{axis_row}:{get_column_letter(1 + len(axis))}{axis_row}"
        s.append([s.text(label), *rule_cells(s, rule, cells, axis, row, "B", fmt)])
    book.name(GRID_CHECKS, f"Inputs!$D${first_rule}:$D${s.rows}")
    book.name(GRID_NAMES, f"Inputs!$A${first_rule}:$A${s.rows}")
    write_lookup_tables(book, s, model)
    if plan.story is not None:
        from .story_inputs import write_story_inputs  # it imports this module

        plan.inputs_rows["story_labels"] = write_story_inputs(book, s, plan.story,
                                                              validations)[0]
        plan.inputs_rows["story_labels_last"] = s.rows
    for validation in validations:
        s.ws.data_validations.append(validation)


# Lookup tables the formulas read by name (VLOOKUP) instead of spelling them out in every
# cell: the rates by currency, from the rate inputs above, and the scale of each unit.
FX_RATES, UNITS = "FX_Rates", "Units"
SPOT = ("USD_HKD", "USD_CNY")
FLOWS = ("USD_HKD_Flows", "USD_CNY_Flows")


def _per_usd(hkd: str, cny: str) -> tuple[Any, ...]:
    return (1.0, Formula(hkd), Formula(cny), Formula(cny))   # fx.CURRENCY_CODES' order


def workbook_tables() -> list[tuple[str, int, tuple[str, ...], tuple[Any, ...]]]:
    """The tables as xlfuncs.formula.lookup_tables takes them."""
    return [(FX_RATES, 2, CURRENCY_CODES, _per_usd(*SPOT)),
            (FX_RATES, 3, CURRENCY_CODES, _per_usd(*FLOWS)),
            (UNITS, 2, SCALE_UNITS, tuple(BILLIONS_PER_UNIT.values()))]


def write_lookup_tables(book: Book, s: Sheet, model: Model) -> None:
    s.blank_rows()
    s.append([s.text("Currencies", HEADER), s.text("Units per US$, spot", HEADER),
              s.text("Units per US$, flows", HEADER)])
    first = s.rows + 1
    for code, spot, flow in zip(CURRENCY_CODES, _per_usd(*SPOT), _per_usd(*FLOWS),
                                strict=True):
        s.append([s.text(code), *(s.value(rate, styled(UNIT, "0.0000")) if not isinstance(
            rate, Formula) else s.formula(f"={rate}", model.assumptions[str(rate)],
                                          styled(LINK, "0.0000")) for rate in (spot, flow))])
    book.name(FX_RATES, f"{s.title}!$A${first}:$C${s.rows}")
    s.blank_rows()
    s.append([s.text("Units", HEADER), s.text("Billions per unit", HEADER)])
    first = s.rows + 1
    for unit, scale in BILLIONS_PER_UNIT.items():
        s.append([s.text(unit), s.value(scale, styled(UNIT, "General"))])
    book.name(UNITS, f"{s.title}!$A${first}:$B${s.rows}")


# Each checked input's rule, shown beside it and checked there once (the formulas that read
# it leave its checks out): the names the Checks sheet reads the results by.
INPUT_CHECKS, INPUT_NAMES = "Input_Checks", "Input_Names"
GRID_CHECKS, GRID_NAMES = "Grid_Checks", "Grid_Names"


def rule_cells(s: Sheet, rule: Rule, cells: str, values: list[Any], row: int, first: str,
               number_format: str) -> list[Cell]:
    """Three cells from column ``first``: the rule's bounds and whether ``cells`` (holding
    ``values``) pass it, TRUE/FALSE."""
    low, high = (get_column_letter(column_index_from_string(first) + k) for k in (0, 1))
    shown = (DATE if rule.kind == "date" else number_format if number_format.endswith("%")
             else "General")  # a bound of 10,000,000 would not fit the input's format
    passes = all(rule.refusal(v) is None for v in values)
    return [*(s.value(bound, styled(UNIT, shown)) for bound in rule.shown_bounds()),
            s.formula("=" + rule.check(cells, f"{low}{row}", f"{high}{row}"), passes,
                      styled(FORMULA, TF))]


def input_check_groups(plan: Plan) -> list[tuple[str, str, str, list[tuple[str, bool]]]]:
    """The checked inputs, a group each, as the Checks sheet reads them (input_checks)."""
    model = plan.model
    groups = [("Assumptions", INPUT_CHECKS, INPUT_NAMES,
               [(a.name, a.rule.refusal(model.assumptions[a.name]) is None)
                for a in ASSUMPTIONS]),
              ("Scenario grid axes", GRID_CHECKS, GRID_NAMES,
               [(label, all(rule.refusal(v) is None for v in axis)) for label, axis, rule in (
                   ("Target multiples (rows)", model.grid_multiples, GRID_MULTIPLES_RULE),
                   ("Years (columns)", model.grid_years, GRID_YEARS_RULE))])]
    story = plan.story
    if story is not None and story.companies:
        from .story_inputs import STORY_CHECKS, STORY_NAMES

        groups.append(("Story inputs (DCF)", STORY_CHECKS, STORY_NAMES, [
            (spec.label, all(spec.rule.refusal(c.inputs[spec.label].cell(0)) is None
                             for c in story.companies)) for spec in STORY_INPUTS]))
    return groups


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
