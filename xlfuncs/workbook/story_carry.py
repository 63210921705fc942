"""Carrying the story DCF's inputs and the Simulation's settings from an older workbook,
as :mod:`xlfuncs.workbook.carry` carries the other inputs: found by their names, read
within bounds, each value through the rule the sheet's data validation is made from.

The story inputs are read as the block ``Story_Inputs`` names (labels in its first
column, a company a further column) under its row of company names (``Story_Companies``,
or the row just above in a build that predates that name): a value goes to the company
named above it, whatever key that company's ``DCF_*`` names had in the older build, so a
new company list never moves a value to another company. Links (revenue, the NOL, cash,
debt, failure) are not inputs: their figures are changed where they link to.
"""

from __future__ import annotations

from typing import Any

from openpyxl.utils import column_index_from_string

from ..errors import XlfuncsError
from ..facts_file import name_key
from ..story import simulate
from .carry import _REFERENCE, Area, _Carrier, _shown, shown_as
from .model import (
    PARAMETER_RULE,
    SIMULATION_DRAWS_RULE,
    SIMULATION_ROWS,
    SIMULATION_SEED_RULE,
    STORY_INPUTS,
    Driver,
)

STORY = "Story:"           # record keys: Story:COMPANY:label
MAX_STORY_ROWS = 100       # the block has 24 inputs: read no further than this
MAX_STORY_COLUMNS = 101    # labels and 25 companies
DRIVER_COLUMNS = 5         # label, distribution, three parameters


def carry_story(c: _Carrier) -> None:
    names = c.book.defined_names
    if "Story_Inputs" not in names and not any(n.startswith("DCF_") for n in names):
        return   # a build without story companies (or before the DCF): nothing to carry
    area = c.area("Story_Inputs")
    if area is None:
        return
    rows, columns = area.bottom - area.top + 1, area.right - area.left + 1
    if rows > MAX_STORY_ROWS or columns > MAX_STORY_COLUMNS:
        c.skip("Story_Inputs", f"its name refers to {rows:,} x {columns:,} cells; at most "
                               f"{MAX_STORY_ROWS} x {MAX_STORY_COLUMNS} are read")
        return
    header = _companies(c, area)
    if header is None:
        return
    sheet = c.book[area.sheet]
    body = [list(r) for r in sheet.iter_rows(min_row=area.top, max_row=area.bottom,
                                            min_col=area.left, max_col=area.right,
                                            values_only=True)]
    names_at = _story_names(c)
    companies = {name_key(company): company for company in c.model.companies}
    specs = {spec.label: spec for spec in STORY_INPUTS if spec.value is not None}
    gone = []
    for j, heading in enumerate(header[1:], start=1):
        if heading in (None, ""):
            continue
        company = companies.get(name_key(str(heading)))
        if company is None:
            gone.append(str(heading))
            continue
        for i, row in enumerate(body):
            spec = specs.get(str(row[0]).strip().lower())
            key = f"{STORY}{company}:{spec.label}" if spec else ""
            if spec is None or spec.value is None or not c.wanted(key):
                continue   # a link, or no story input of this build
            default = c.model.story_input(company, spec.label, spec.value)
            shown = names_at.get((area.top + i, area.left + j), f"{company} {spec.label}")
            value = c.checked(shown, row[j], spec.rule, default)
            if value is not None and value != default:
                c.model.story_inputs.setdefault(company, {})[spec.label] = value
                c.carry(key, f"{shown}: {shown_as(default, spec.rule)} -> "
                             f"{shown_as(value, spec.rule)}")
    if gone and c.recorded is None:
        c.skip(f"story inputs of {len(gone)} companies", "not in this build's data: "
               + ", ".join(sorted(gone)[:5]) + (", ..." if len(gone) > 5 else ""))


def _companies(c: _Carrier, area: Area) -> list[Any] | None:
    """The company names above the story block: its label column, then a name a column."""
    row = area.top - 1
    if "Story_Companies" in c.book.defined_names:
        line = c.area("Story_Companies")
        if line is None:
            return None
        if (line.sheet, line.top, line.bottom, line.left, line.right) != (
                area.sheet, line.top, line.top, area.left, area.right):
            c.skip("Story_Companies", "its name does not refer to the row of company names "
                                      "over Story_Inputs' columns")
            return None
        row = line.top
    if row < 1:
        c.skip("Story_Inputs", "no row of company names above it")
        return None
    return list(next(c.book[area.sheet].iter_rows(min_row=row, max_row=row, min_col=area.left,
                                                   max_col=area.right, values_only=True)))


def _story_names(c: _Carrier) -> dict[tuple[int, int], str]:
    """The older build's DCF_* names by the cell they name, to say which input moved."""
    found = {}
    for name, defined in c.book.defined_names.items():
        text = defined.attr_text if name.startswith("DCF_") else None
        match = _REFERENCE.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is not None and not match["br"]:
            found[(int(match["ar"]), column_index_from_string(match["ac"]))] = name
    return found


def carry_simulation(c: _Carrier) -> None:
    settings = c.model.simulation
    if c.wanted("Simulation_Drivers"):
        drivers = _drivers(c)
        if drivers is not None and drivers != settings.drivers:
            c.carry("Simulation_Drivers", f"Simulation_Drivers: {_listed(settings.drivers)} "
                                          f"-> {_listed(drivers)}")
            settings.drivers = drivers
    for name, attribute, rule in (("Simulation_Draws", "draws", SIMULATION_DRAWS_RULE),
                                  ("Simulation_Seed", "seed", SIMULATION_SEED_RULE)):
        if not c.wanted(name):
            continue
        found, value = c.single(name)
        default = getattr(settings, attribute)
        value = c.checked(name, value, rule, default) if found else None
        if value is not None and int(value) != default:
            setattr(settings, attribute, int(value))
            c.carry(name, f"{name}: {default} -> {int(value)}")


def _drivers(c: _Carrier) -> list[Driver] | None:
    """The distributions table, whole or not at all: each parameter a number (the sheet's
    rule), then the checks VAL_STORY_SIMULATE itself makes (a story input, a known
    distribution, its parameters in order, no driver twice)."""
    area = c.area("Simulation_Drivers")
    if area is None:
        return None
    shape = (area.bottom - area.top + 1, area.right - area.left + 1)
    if shape != (SIMULATION_ROWS, DRIVER_COLUMNS):
        c.skip("Simulation_Drivers", f"its name refers to {shape[0]:,} x {shape[1]:,} cells; "
                                     f"this build's table has {SIMULATION_ROWS} x "
                                     f"{DRIVER_COLUMNS}")
        return None
    rows = [list(r) for r in c.book[area.sheet].iter_rows(
        min_row=area.top, max_row=area.bottom, min_col=area.left, max_col=area.right,
        values_only=True)]
    for row in rows:
        for value in row[2:]:
            refusal = None if value in (None, "") else PARAMETER_RULE.refusal(value)
            if refusal is not None:
                c.skip(f"Simulation_Drivers: {row[0]} = {_shown(value)}", refusal)
                return None
    try:
        parsed = simulate.parse([[("" if v is None else v) for v in row] for row in rows])
    except XlfuncsError as exc:
        c.skip("Simulation_Drivers", str(exc).removeprefix("distributions: "))
        return None
    return [(d.driver, d.name, d.params) for d in parsed]


def _listed(drivers: list[Driver]) -> str:
    return "; ".join(f"{label} {name} {' '.join(f'{p:g}' for p in params)}"
                     for label, name, params in drivers)
