"""The Checks sheet: model checks that say TRUE/FALSE, and the master check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill

from ...errors import ERROR_CODES
from ...facts_file import name_key
from ...registry import entry
from ..book import (
    FORMULA,
    HEADER,
    LINK,
    NOTE,
    UNIT,
    Book,
)
from ..columns import ROW, Column, apply, constant, is_link
from ..model import FactRow, Model
from .common import (
    FIRST,
    Layout,
    Plan,
    facts_ref,
    header_rows,
    named,
    spec_column,
    styled,
    text_constant,
)

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
    explain: Column | None = None   # a formula in place of the note: which cell fails

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
    by_key = {name_key(c): i for i, c in enumerate(model.companies)}
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

    conversions: list[tuple[FactRow, FactRow]] = []
    for fact in model.facts:
        parts = [by_key.get(name_key(p)) for p in fact.combines]
        if (name_key(fact.metric) == "market_value" and parts
                and all(p is not None for p in parts)):
            rows = [p for p in parts if p is not None]
            refs = ",".join(f"Valuation!${mv_letter}${FIRST + p}" for p in rows)
            total = [mv_hkd.cell(p) for p in rows]
            errors = [t for t in total if isinstance(t, str) and t in ERROR_CODES]
            value = Column(f"SUM({refs})",
                           np.array(float(np.nansum([t for t in total if not isinstance(t, str)]))),
                           np.array(errors[0] if errors else None, dtype=object))
            bound = apply(entry("FX_CONVERT"), "", link(fact, "L", "billions"),
                          link(fact, "G", "currency"), text_constant("HKD"), usd_hkd, usd_cny)
            label = (f"{' + '.join(fact.combines)}: market values (HK$ bn) against the combined "
                     f"figure ({fact.qualifier})")
            if fact.qualifier == ">=":
                add(label, value, bound, "CHECK_AT_LEAST", note=fact.source)
            else:
                add(label, value, bound, "CHECK_CLOSE", tolerance, note=fact.source)
        if fact.metric.endswith("_converted"):
            original = model.fact(fact.company, fact.metric.removesuffix("_converted"))
            if original is not None and original.billions is not None and (
                    fact.billions is not None):
                conversions.append((original, fact))
        if fact.qualifier == "range":
            add(f"{fact.company} {fact.metric}: the range's low is not above its high",
                link(fact, "E", "high"), link(fact, "D", "low"), "CHECK_AT_LEAST",
                note=fact.source)
    fx_consistency_checks(conversions, link, add, tolerance)
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


def input_checks(groups: list[tuple[str, str, str, list[tuple[str, bool]]]]) -> list[CheckRow]:
    """One check a group of checked inputs: every one within its rule, as the Inputs sheet
    checks it once where it is entered (the formulas that read them rely on it), and, when
    one is not, the first that is not. ``groups``: (what, the name of the check cells, the
    name of their labels, each input's label and whether it passes)."""
    rows = []
    for what, checks, names, results in groups:
        passing = sum(ok for _, ok in results)
        value = Column("B" + ROW, np.array(float(passing)), np.array(None, dtype=object),
                       template=f"COUNTIF({checks},TRUE)")
        total = Column("C" + ROW, np.array(float(len(results))), np.array(None, dtype=object),
                       template=f"ROWS({checks})")
        result = apply(entry("CHECK_AT_LEAST"), f"D{ROW}", value, total)
        failing = next((label for label, ok in results if not ok), "")
        explain = Column("", np.array(f"first outside its rule: {failing}" if failing else "",
                                      dtype=object), np.array(None, dtype=object),
                         template=f'IF(B{ROW}>=C{ROW},"","first outside its rule: "&INDEX('
                                  f"{names},MATCH(FALSE,{checks},0)))")
        rows.append(CheckRow(f"{what}: each within its rule (Inputs sheet)", value, total,
                             result, "", explain=explain))
    return rows


def _said(original: FactRow, converted: FactRow) -> str:
    return (f"{original.company} {original.metric.replace('_', ' ')}: {converted.currency} "
            f"{converted.value:g}{converted.unit} for {original.currency} "
            f"{original.value:g}{original.unit}")


def _code(currency: str) -> str:
    return "CNY" if currency.upper() == "RMB" else currency.upper()


def fx_consistency_checks(conversions: list[tuple[FactRow, FactRow]], link: Any,
                          add: Any, tolerance: Column) -> None:
    """The article's own conversions of one currency pair must imply the same rate. Not
    "they agree with the Inputs rate": that rate is derived from these very conversions,
    so such a check could never fail. Base currency: USD when in the pair."""
    by_pair: dict[tuple[str, str], list[tuple[FactRow, FactRow, Column]]] = {}
    for original, converted in conversions:
        codes = {_code(original.currency), _code(converted.currency)}
        if len(codes) != 2:
            continue
        base = "USD" if "USD" in codes else min(codes)
        (quote,) = codes - {base}
        amounts = {_code(original.currency): original, _code(converted.currency): converted}
        rate = apply(entry("FX_IMPLIED_RATE"), "", link(amounts[quote], "L", "billions"),
                     link(amounts[base], "L", "billions"))
        by_pair.setdefault((base, quote), []).append((original, converted, rate))
    for (base, quote), rates in by_pair.items():
        first_original, first_converted, first_rate = rates[0]
        for original, converted, rate in rates[1:]:
            add(f"{base}/{quote}: the article's two conversions imply the same rate "
                f"({_said(original, converted)}; {_said(first_original, first_converted)})",
                rate, first_rate, "CHECK_CLOSE",
                tolerance, note=f"{converted.source} | {first_converted.source}")


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
            linked = is_link(column.template)
            cells.append(s.formula(check.formula(column, row), column.cell(check.index),
                                   styled(LINK if linked else FORMULA, "#,##0.000")))
        cells.append(s.formula(check.formula(check.result, row),
                               check.result.cell(check.index), FORMULA))
        cells.append(s.text(check.note, NOTE) if check.explain is None else s.formula(
            check.formula(check.explain, row), check.explain.cell(0), styled(NOTE, "@")))
        s.append(cells)
    first, last = FIRST, s.rows
    s.blank_rows()
    row = s.rows + 1
    # TRUE only when every result is TRUE: a result in error (an input that broke a check's
    # own arithmetic) makes it FALSE, as the header of every sheet should then say
    s.append([s.text("All checks pass", HEADER), None, None,
              s.formula(f"=COUNTIF(D{first}:D{last},TRUE)=ROWS(D{first}:D{last})",
                        plan.checks_ok, FORMULA)])
    book.name("Checks_OK", f"Checks!$D${row}")
    red = PatternFill("solid", fgColor="F8CBAD")
    green = PatternFill("solid", fgColor="C6EFCE")
    results = f"D{first}:D{last} D{row}"  # not the blank row between (blank = FALSE)
    s.ws.conditional_formatting.add(results, CellIsRule(operator="equal", formula=["FALSE"],
                                                        fill=red))
    s.ws.conditional_formatting.add(results, CellIsRule(operator="equal", formula=["TRUE"],
                                                        fill=green))


def checks_status(checks: list[CheckRow]) -> bool:
    """The master check's value: TRUE when every result is TRUE (a blank or an error is
    not)."""
    return all(c.result.cell(c.index) is True for c in checks)
