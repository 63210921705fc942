"""What every sheet of the workbook shares: number formats, the plan (every value computed
before anything is written), references, column layout, the table-sheet writer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import numpy as np
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ...errors import ERROR_CODES, NA
from ...layers import Layer
from ...registry import entry
from ..book import (
    BANNER,
    FORMULA,
    HEADER,
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
from ..columns import ROW, Column, apply, constant, values
from ..model import ASSUMPTIONS, Model
from ..routes import Route

if TYPE_CHECKING:  # the Checks sheet's module imports this one
    from .checks import CheckRow

FIRST = 6  # first data row of every table sheet
FACTS_HEADER = 5
Progress = Callable[[str], None]

# Number formats that carry their unit, as the unit row says.
BN = '#,##0.00" bn"'
BN_SMALL = '#,##0.0000" bn"'
MULTIPLE = '#,##0.0"x"'
PCT = "#,##0.0%"   # 12,753.9% as 1,499.1x: thousands separated in both
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
    layers: tuple[Layer, ...]   # the data files, base first
    valuation: list[TableColumnSpec] = field(default_factory=list)
    burn: list[TableColumnSpec] = field(default_factory=list)
    checks: list[CheckRow] = field(default_factory=list)
    checks_ok: Any = None
    inputs_rows: dict[str, int] = field(default_factory=dict)
    story: Any = None   # the story DCF's companies and inputs (sheets.story_inputs)
    dcf: Any = None     # the DCF sheet's blocks (sheets.dcf)
    live: Route | None = None   # the route whose add-in cells this build has (None: none)


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
    """A named input of the Inputs sheet: checked where it is entered (its rule), so no
    formula repeats its checks; a person may still empty it, so formulas test for blank."""
    rule = next(a.rule for a in ASSUMPTIONS if a.name == name)
    return constant(name, model.assumptions[name], rule.bounds, blankable=False)


def text_constant(value: str) -> Column:
    return constant(f'"{value}"', value)




def spec_column(layout: Layout, header: str, unit: str | None = None) -> Column:
    return next(s.column for s in layout.specs
                if s.header == header and (unit is None or s.unit == unit))


# ---- writing ------------------------------------------------------------------------

ILLUSTRATIVE = "Illustrative, not a forecast: "


def header_rows(sheet: Sheet, title: str, note: str, plan: Plan,
                banner: str | None = None, note_column: int = 0) -> None:
    """Row 1: the title and the master check, row 2 a note, row 3 blank or a banner (a
    warning no reader should miss, e.g. that the figures are illustrative). A sheet that
    repeats column A on every printed page gives the note column B (``note_column`` 1):
    spilling from A, it would print again on each page across, cut at A's edge."""
    sheet.append([sheet.text(title, TITLE), sheet.text("All checks pass:", UNIT),
                  sheet.formula("=Checks_OK", plan.checks_ok, LINK)])
    sheet.append([None] * note_column + [sheet.text(note, NOTE)])
    sheet.append([] if banner is None else [sheet.text(banner, BANNER)])


def write_table_sheet(book: Book, title: str, note: str, layout: Layout, plan: Plan,
                      progress: Progress) -> Sheet:
    sheet = book.sheet(title)
    # layout first: write-only sheets stream <cols> and panes before the rows
    sheet.ws.freeze_panes = f"B{FIRST}"
    # every printed page starts with the header rows and the company column; the note
    # prints on the first page only (it is in column B)
    sheet.ws.print_title_rows = f"{FIRST - 2}:{FIRST - 1}"
    sheet.ws.print_title_cols = "A:A"
    sheet.ws.page_setup.scale = 55   # wide tables print at 55% on A3, several pages across
    sheet.widths(22, *[max(12, min(24, len(s.header) + 2)) for s in layout.specs])
    header_rows(sheet, title, note, plan, note_column=1)
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
        formulas = formula_texts(spec.column, rows)
        columns.append(sheet.column(formulas,
                                    cached_values(spec.column.data, spec.column.errors,
                                                  rounded=formulas is not None),
                                    styled(spec.style, spec.number_format)))
    progress(f"{title}: writing {total:,} companies")
    for cells in zip(*columns, strict=True):
        sheet.append(cells)
    return sheet




def formula_texts(column: Column, rows: list[int]) -> list[bytes | None] | None:
    """Each row's formula, XML-escaped, from the column's template or links."""
    if column.template is not None:
        parts = escape(column.template).encode("utf-8").split(ROW.encode("utf-8"))
        return [str(row).encode().join(parts) for row in rows]
    if column.links is not None:
        return [None if target is None else escape(target).encode("utf-8")
                for target in column.links]
    return None




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
