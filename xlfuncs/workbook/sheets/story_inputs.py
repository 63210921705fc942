"""The story DCF's inputs: which companies get a DCF, and their block on the Inputs sheet.

A story company has a market value and a revenue run-rate (both numbers on Valuation);
at most MAX_STORY_COMPANIES get a block. Each input is a named cell: the base figures are
links (revenue from Valuation, the NOL from the Facts' cumulative loss through FX_CONVERT,
cash and debt from the company inputs, failure from Failure_Probability), the rest are
the illustrative assumptions of :data:`xlfuncs.workbook.model.STORY_INPUTS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ...registry import entry
from ..book import FORMULA, HEADER, INPUT, LINK, NOTE, UNIT, Book, Sheet
from ..columns import Column, apply, constant, is_link
from ..model import MAX_STORY_COMPANIES, STORY_INPUTS, Model
from .common import FIRST, Layout, facts_ref, named, spec_column, styled, text_constant
from .inputs import _validation, company_inputs_first_row, rule_cells

STORY_CHECKS, STORY_NAMES = "Story_Checks", "Story_Names"


@dataclass
class StoryCompany:
    name: str
    index: int                 # its row on Valuation is FIRST + index
    key: str                   # its part of the Excel names, e.g. DCF_MiniMax_growth_2_5
    inputs: dict[str, Column]  # label -> its Inputs cell (ref: the cell's name)

    def name_of(self, label: str) -> str:
        return f"DCF_{self.key}_{label}"   # _names() lists the same names

    def given(self) -> dict[str, float]:
        """The inputs as the core takes them (NaN where a cell is blank or in error)."""
        return {label: float(c.data) if c.errors[()] is None else np.nan
                for label, c in self.inputs.items()}

    def first_error(self) -> str | None:
        return next((c.errors[()] for c in self.inputs.values() if c.errors[()] is not None),
                    None)


@dataclass
class StoryPlan:
    companies: list[StoryCompany] = field(default_factory=list)
    eligible: int = 0   # companies with a market value and a revenue run-rate


def _key(company: str, used: set[str]) -> str:
    """The company's part of its Excel names: letters, digits and underscores, chosen so
    that none of its names equals another company's, as Excel compares names (case
    ignored). Not only the key itself: Acme's ``DCF_Acme_mature_cost_of_capital`` is also
    Acme mature's ``cost_of_capital``, so Acme mature becomes ``Acme_mature_2``."""
    key = re.sub(r"[^A-Za-z0-9]+", "_", company).strip("_")[:40] or "company"
    candidate, number = key, 2
    while any(name.casefold() in used for name in _names(candidate)):
        candidate, number = f"{key}_{number}", number + 1
    used.update(name.casefold() for name in _names(candidate))
    return candidate


def _names(key: str) -> list[str]:
    return [f"DCF_{key}_{spec.label}" for spec in STORY_INPUTS]


def _link(name: str, target: str, value: float | None) -> Column:
    """A link cell; to an empty cell, 0+link (LibreOffice keeps a bare link to an empty
    cell "empty", so the story formulas would read a blank; 0+ makes it 0 everywhere)."""
    return Column(name, np.array(0.0 if value is None else float(value)),
                  np.array(None, dtype=object),
                  template=target if value is not None else f"0+{target}")


def plan_story_inputs(model: Model, valuation: Layout) -> StoryPlan:
    mv = spec_column(valuation, "Market value", "HK$ bn")
    revenue = spec_column(valuation, "Annualised revenue", "HK$ bn")
    rev_letter = valuation.letter(revenue)
    plan, used = StoryPlan(), set()
    first_input_row = company_inputs_first_row()
    for i, company in enumerate(model.companies):
        # a DCF grows revenue: one a year below zero has no story to tell
        if not (isinstance(mv.cell(i), float) and isinstance(revenue.cell(i), float)
                and revenue.cell(i) > 0):
            continue
        plan.eligible += 1
        if len(plan.companies) == MAX_STORY_COMPANIES:
            continue
        c = StoryCompany(company, i, _key(company, used), {})
        row = FIRST + i
        inputs = model.company_inputs[company]
        for spec in STORY_INPUTS:
            name = c.name_of(spec.label)
            if spec.value is not None:
                c.inputs[spec.label] = constant(name, model.story_input(company, spec.label,
                                                                        spec.value))
            elif spec.label == "revenue":
                c.inputs["revenue"] = _link(name, f"Valuation!${rev_letter}${row}",
                                            revenue.cell(i))
            elif spec.label == "nol":
                c.inputs["nol"] = _nol(model, company, name)
            elif spec.label == "failure_probability":
                c.inputs[spec.label] = _link(name, "Failure_Probability",
                                             model.assumptions["Failure_Probability"])
            else:  # cash, debt: the company inputs' cells
                letter = "B" if spec.label == "cash" else "D"
                c.inputs[spec.label] = _link(name, f"Inputs!${letter}${first_input_row + i}",
                                             getattr(inputs, spec.label))
        plan.companies.append(c)
    return plan


def _nol(model: Model, company: str, name: str) -> Column:
    fact = model.fact(company, "cumulative_loss")
    if fact is None or fact.billions is None:
        return constant(name, 0.0)
    return apply(entry("FX_CONVERT"), name, constant(facts_ref(fact.row, "L"), fact.billions),
                 constant(facts_ref(fact.row, "G"), fact.currency), text_constant("HKD"),
                 named("USD_HKD_Flows", model), named("USD_CNY_Flows", model))


def write_story_inputs(book: Book, s: Sheet, story: StoryPlan,
                       validations: list[DataValidation]) -> tuple[int, int]:
    """The "Story inputs (DCF)" block: an input a row, a company a column, then Source.
    Returns the first and last rows of its labels (column B)."""
    s.blank_rows()
    s.append([s.text("Story inputs (DCF)", HEADER)])
    capped = (f" Only the first {MAX_STORY_COMPANIES} of {story.eligible} such companies get "
              "a DCF block, so a large universe stays usable." if story.eligible > len(
                  story.companies) else "")
    s.append([s.text("One column per company with a market value and a positive revenue "
                     "run-rate "
                     f"(at most {MAX_STORY_COMPANIES}).{capped} Blue cells are illustrative "
                     "assumptions, yours to change (--keep-inputs carries them); green cells "
                     "link to the base figures: change the figure they link to, since a "
                     "number typed over a link is not carried. The DCF sheet values each "
                     "story.", NOTE)])
    n = len(story.companies)
    header = s.append([s.text("Input (unit)", HEADER), s.text("Label", HEADER),
                       *(s.text(c.name, HEADER) for c in story.companies),
                       *(s.text(h, HEADER) for h in ("Allowed from", "to", "Within its rule")),
                       s.text("Source", HEADER)])
    first = s.rows + 1
    last = get_column_letter(2 + max(n, 1))
    for spec in STORY_INPUTS:
        row = s.rows + 1
        cells = [s.text(f"{spec.description} ({spec.unit})"), s.text(spec.label, UNIT)]
        for k, c in enumerate(story.companies):
            column = c.inputs[spec.label]
            if column.template is None:
                cells.append(s.value(column.cell(0), styled(INPUT, spec.number_format)))
            else:
                linked = is_link(column.template.removeprefix("0+"))  # the NOL is converted
                cells.append(s.formula("=" + column.template, column.cell(0), styled(
                    LINK if linked else FORMULA, spec.number_format)))
            book.name(c.name_of(spec.label), f"Inputs!${get_column_letter(3 + k)}${row}")
        if n:
            values = [c.inputs[spec.label].cell(0) for c in story.companies]
            cells += rule_cells(s, spec.rule, f"C{row}:{last}{row}", values, row,
                                get_column_letter(3 + n), spec.number_format)
        else:
            cells += [None] * 4
        cells.append(s.text(spec.source, NOTE))
        s.append(cells)
        if spec.value is not None and n:
            cells_range = f"C{row}:{get_column_letter(2 + n)}{row}"
            validations.append(_validation(spec.rule, cells_range, spec.label, spec.unit))
    if n:
        check = get_column_letter(5 + n)
        book.name(STORY_CHECKS, f"Inputs!${check}${first}:${check}${s.rows}")
        book.name(STORY_NAMES, f"Inputs!$B${first}:$B${s.rows}")
        book.name("Story_Inputs", f"Inputs!$B${first}:${last}${s.rows}")
        # the company of each column, found by --keep-inputs (story_carry)
        book.name("Story_Companies", f"Inputs!$B${header}:${last}${header}")
    return first, s.rows
