"""``xlfuncs build``: the shared valuation workbook, written with openpyxl.

>>> from xlfuncs.workbook import workbook_bytes
>>> workbook_bytes()[:2]
b'PK'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data import DataPaths, load_facts
from ..errors import XlfuncsError
from ..inputs import date_to_serial
from .book import Book, atomic_write
from .model import ASSUMPTIONS, Model, build_model
from .safety import UnsafeWorkbookError, edited_since_built, load_workbook_safely
from .sheets import (
    Plan,
    checks_status,
    layout_facts,
    plan_burn,
    plan_checks,
    plan_valuation,
    write_about,
    write_card,
    write_charts,
    write_checks,
    write_facts,
    write_functions,
    write_inputs,
    write_scenarios,
    write_table_sheet,
    write_year_series,
)

DEFAULT_OUT = Path("workbooks") / "llm_valuation.xlsx"
SHEETS = ("About", "Inputs", "Facts", "Valuation", "Burn", "Scenarios", "Company card",
          "Charts", "Checks", "Functions")


class TargetEditedError(XlfuncsError):
    """The workbook at the target was changed since xlfuncs built it."""


@dataclass
class BuildReport:
    path: Path
    companies: int
    facts: int
    checks_ok: Any
    carried: list[str] = field(default_factory=list)
    size: int = 0


def _no_progress(message: str) -> None:
    pass


def workbook_bytes(data: DataPaths = None, keep_inputs: str | Path | None = None,
                   progress: Callable[[str], None] = _no_progress,
                   article: bool | None = None) -> bytes:
    """The workbook file's bytes (see :func:`build`)."""
    return _render(data, keep_inputs, progress, article)[0]


def _render(data: DataPaths, keep_inputs: str | Path | None,
            progress: Callable[[str], None],
            article: bool | None = None) -> tuple[bytes, Model, Any]:
    facts = load_facts(data, article)
    model = build_model(facts)
    if keep_inputs is not None:
        carry_inputs(model, Path(keep_inputs))
    progress(f"{len(model.companies):,} companies, {len(model.facts):,} facts")
    in_bn = layout_facts(model)
    china = _china_market(model)
    valuation = plan_valuation(model, china)
    burn = plan_burn(model, valuation)
    plan = Plan(model, facts.attrs["layers"])
    plan.checks = plan_checks(model, valuation)
    plan.checks_ok = checks_status(plan.checks)
    book = Book()
    write_about(book, plan)
    write_inputs(book, plan, china)
    write_facts(book, plan, in_bn, progress)
    write_table_sheet(book, "Valuation", "Per company: market value in three currencies, "
                      "revenue run-rate, multiples and reverse valuation. HK$ amounts convert "
                      "at the Inputs FX rates.", valuation, plan, progress)
    burn_sheet = write_table_sheet(
        book, "Burn", "Per company: cash burn measured from reported cumulative losses "
        "(loss-based: includes non-cash items), runway from the Inputs cash balances, "
        "compute spend; below, figures given year by year.", burn, plan, progress)
    write_year_series(burn_sheet, model)
    write_scenarios(book, plan, valuation)
    write_card(book, plan, {"Valuation": valuation, "Burn": burn})
    write_charts(book, plan, valuation, burn)
    write_checks(book, plan)
    write_functions(book, plan)
    progress("saving")
    return book.to_bytes(), model, plan.checks_ok


def _china_market(model: Model) -> Any:
    from .columns import values
    from .sheets import facts_ref

    fact = model.fact("China AI market", "market_size")
    if fact is None or fact.billions is None:
        return values("China_AI_Market_2030", [None], links=[None])
    column = values("China_AI_Market_2030", [fact.billions], links=[facts_ref(fact.row, "L")])
    return column


def build(data: DataPaths = None, out: str | Path = DEFAULT_OUT,
          keep_inputs: str | Path | None = None, force: bool = False,
          progress: Callable[[str], None] = _no_progress,
          article: bool | None = None) -> BuildReport:
    """Write the workbook from the article's facts, with any files of ``data`` layered
    over them (``article=False``: from ``data`` alone), to ``out``.

    Refuses to overwrite a workbook a person changed since it was built, unless ``force``;
    ``keep_inputs`` carries the input cells of an older copy into the new one. The save is
    atomic: the target is either the old file or the complete new one.
    """
    target = Path(out)
    if target.exists() and not force:
        try:
            edited = edited_since_built(target)
        except UnsafeWorkbookError:
            edited = True
        if edited:
            raise TargetEditedError(
                f"{target} was changed since xlfuncs built it: rebuild with --keep-inputs "
                f"{target} to carry its inputs over, or --force to overwrite it")
    content, model, checks_ok = _render(data, keep_inputs, progress, article)
    atomic_write(target, content)
    return BuildReport(target, len(model.companies), len(model.facts), checks_ok,
                       model.carried, len(content))


def carry_inputs(model: Model, old: Path) -> None:
    """Take the input cells of an older workbook (found by their names) into ``model``,
    noting in ``model.carried`` each value that differs from the new default."""
    book = load_workbook_safely(old)

    def cells(name: str) -> list[Any]:
        defined = book.defined_names.get(name)
        if defined is None:
            return []
        found: list[Any] = []
        for title, ref in defined.destinations:
            if title not in book.sheetnames:
                continue
            block = book[title][ref.replace("$", "")]
            rows = block if isinstance(block, tuple) else ((block,),)
            for row in rows:
                for cell in row if isinstance(row, tuple) else (row,):
                    found.append(_plain(cell.value))
        return found

    for assumption in ASSUMPTIONS:
        old_values = cells(assumption.name)
        if len(old_values) != 1 or old_values[0] in (None, ""):
            continue
        value = old_values[0]
        if isinstance(value, str):
            continue
        default = model.assumptions[assumption.name]
        if value != default:
            model.assumptions[assumption.name] = value
            model.carried.append(f"{assumption.name}: {default:g} -> {value:g}")
    names = cells("Company_Names")
    columns = {"cash": cells("Company_Cash"), "cash_as_of": cells("Company_Cash_As_Of"),
               "distress": cells("Company_Distress")}
    for i, company in enumerate(names):
        if company not in model.company_inputs:
            continue
        inputs = model.company_inputs[company]
        for attribute, column in columns.items():
            if i >= len(column):
                continue
            value = None if column[i] in ("", None) else column[i]
            if value is not None and not isinstance(value, (int, float)):
                continue
            if value != getattr(inputs, attribute):
                model.carried.append(f"{company} {attribute}: {getattr(inputs, attribute)} "
                                     f"-> {value}")
                setattr(inputs, attribute, value)
    for name, attribute in (("Grid_Multiples", "grid_multiples"), ("Grid_Years", "grid_years")):
        old_values = cells(name)
        if len(old_values) == len(getattr(model, attribute)) and all(
                isinstance(v, (int, float)) for v in old_values):
            if [float(v) for v in old_values] != getattr(model, attribute):
                model.carried.append(f"{name}: {getattr(model, attribute)} -> {old_values}")
                setattr(model, attribute, [float(v) for v in old_values])
    for name, attribute in (("Card_Company", "card_company"),
                            ("Scenario_Company", "scenario_company")):
        old_values = cells(name)
        if old_values and old_values[0] in model.companies and old_values[0] != getattr(
                model, attribute):
            model.carried.append(f"{name}: {getattr(model, attribute)} -> {old_values[0]}")
            setattr(model, attribute, old_values[0])


def _plain(value: Any) -> Any:
    """Dates as Excel serials, as the model keeps them."""
    if isinstance(value, dt.datetime):
        return date_to_serial(value.date())
    if isinstance(value, dt.date):
        return date_to_serial(value)
    return value
