"""Carrying the inputs a person typed into an older workbook over into a new build.

The old workbook may come from anyone, so nothing in it is trusted: each input is found by
its defined name, whose reference xlfuncs resolves itself (one sheet; one cell for a single
input; a bounded column or row for the per-company inputs and the scenario grid), and each
value must pass the same :class:`~xlfuncs.workbook.model.Rule` the Inputs sheet's data
validation is generated from. What cannot be carried is skipped, and said so in
``model.not_carried``; the build goes on with the new default for it.

A build records which inputs it carried (``model.chosen``) in a custom document property,
so that rebuilding over it carries those again, and only those: an input that merely holds
an older version's default is not mistaken for a choice.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl.utils import column_index_from_string

from ..inputs import date_to_serial, serial_to_date
from .model import (
    ASSUMPTIONS,
    CASH_DATE_RULE,
    CASH_RULE,
    DEBT_RULE,
    GRID_MULTIPLES_RULE,
    GRID_YEARS_RULE,
    CompanyInputs,
    Model,
    Rule,
)
from .safety import load_workbook_safely

CHOSEN_INPUTS = "xlfuncs_chosen_inputs"  # custom document property: JSON list of input keys
MAX_RANGE_CELLS = 100_000  # per-company columns: far above any real build, far below harm
MAX_ROW, MAX_COLUMN = 1_048_576, 16_384  # Excel's grid

_SHEET = r"(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^\s'!:\[\]()*?/\\]+))"
_CELL = r"\$?(?P<{0}c>[A-Z]{{1,3}})\$?(?P<{0}r>[0-9]{{1,7}})"
_REFERENCE = re.compile(rf"{_SHEET}!{_CELL.format('a')}(?::{_CELL.format('b')})?")
COMPANY_COLUMNS = (("Company_Cash", "cash", CASH_RULE),
                   ("Company_Cash_As_Of", "cash_as_of", CASH_DATE_RULE),
                   ("Company_Debt", "debt", DEBT_RULE))
GRIDS = (("Grid_Multiples", "grid_multiples", GRID_MULTIPLES_RULE),
         ("Grid_Years", "grid_years", GRID_YEARS_RULE))
PICKERS = (("Card_Company", "card_company"), ("Scenario_Company", "scenario_company"))
# inputs of older builds that are inputs no more: a value typed there is said, not dropped
RETIRED = {"Company_Distress": "distress proceeds are no input now, since no formula read "
                               "them; the share of value recovered on failure is each "
                               "story's distress_fraction (Inputs, Story inputs)"}


@dataclass(frozen=True)
class Area:
    """A rectangle of one sheet, 1-based and inclusive."""

    sheet: str
    top: int
    left: int
    bottom: int
    right: int

    @property
    def cells(self) -> int:
        return (self.bottom - self.top + 1) * (self.right - self.left + 1)

    @property
    def is_line(self) -> bool:
        return self.top == self.bottom or self.left == self.right


def carry_inputs(model: Model, old: Path, recorded_only: bool = False) -> None:
    """Take the input cells of an older workbook into ``model``: each value that passes its
    rule and differs from the new default is carried (``model.carried``, ``model.chosen``);
    each that cannot be is noted in ``model.not_carried``.

    ``recorded_only``: carry only the inputs the old build records as carried (rebuilding
    over an unedited build); without a record, every input that differs from the default.
    """
    book = load_workbook_safely(old)
    recorded = _recorded(book) if recorded_only else None
    _Carrier(book, model, recorded).run()


def chosen_record(model: Model) -> str:
    """The value of the CHOSEN_INPUTS property for a build from ``model``."""
    return json.dumps(sorted(set(model.chosen)))


def recorded_inputs(path: Path) -> list[str] | None:
    """The inputs an xlfuncs build at ``path`` records as carried, read from its document
    properties without parsing the workbook (None: no record, an older version's build)."""
    try:
        with zipfile.ZipFile(path) as archive:
            custom = archive.read("docProps/custom.xml").decode("utf-8", "replace")
    except (KeyError, OSError, zipfile.BadZipFile):
        return None
    found = re.search(rf'name="{CHOSEN_INPUTS}".*?<vt:lpwstr[^>]*>([^<]*)<', custom, re.S)
    return None if found is None else _keys(html.unescape(found.group(1)))


def _keys(text: Any) -> list[str] | None:
    try:
        keys = json.loads(text)
    except (TypeError, ValueError):
        return None
    if isinstance(keys, list) and all(isinstance(k, str) for k in keys):
        return keys
    return None


def _recorded(book: Any) -> set[str] | None:
    for prop in getattr(book.custom_doc_props, "props", []):
        if prop.name == CHOSEN_INPUTS:
            keys = _keys(prop.value)
            return None if keys is None else set(keys)
    return None


class _Carrier:
    def __init__(self, book: Any, model: Model, recorded: set[str] | None) -> None:
        self.book = book
        self.model = model
        self.recorded = recorded

    def wanted(self, key: str) -> bool:
        return self.recorded is None or key in self.recorded

    def skip(self, what: str, why: str) -> None:
        self.model.not_carried.append(f"{what} ({why})")

    def carry(self, key: str, line: str) -> None:
        self.model.carried.append(line)
        self.model.chosen.append(key)

    def run(self) -> None:
        for assumption in ASSUMPTIONS:
            if self.wanted(assumption.name):
                self.assumption(assumption.name, assumption.rule)
        self.companies()
        for name, attribute, rule in GRIDS:
            if self.wanted(name):
                self.grid(name, attribute, rule)
        for name, attribute in PICKERS:
            if self.wanted(name):
                self.picker(name, attribute)
        for name, reason in RETIRED.items():
            if self.recorded is None and name in self.book.defined_names:
                self.retired(name, reason)
        from .story_carry import STORY, carry_simulation, carry_story  # it builds on this one

        if self.recorded is None or any(k.startswith(STORY) for k in self.recorded):
            carry_story(self)
        carry_simulation(self)

    # ---- finding cells by name, never more than asked for ------------------------------

    def area(self, name: str) -> Area | None:
        defined = self.book.defined_names.get(name)
        if defined is None:
            self.skip(name, "the workbook has no such name")
            return None
        text = defined.attr_text
        match = _REFERENCE.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            self.skip(name, f"its name refers to {_shown_text(text)}, not to cells of a sheet")
            return None
        sheet = match["plain"] or match["quoted"].replace("''", "'")
        top, left = int(match["ar"]), column_index_from_string(match["ac"])
        bottom = int(match["br"]) if match["br"] else top
        right = column_index_from_string(match["bc"]) if match["bc"] else left
        top, bottom, left, right = min(top, bottom), max(top, bottom), min(left, right), max(
            left, right)
        if top < 1 or bottom > MAX_ROW or right > MAX_COLUMN:
            self.skip(name, f"its name refers to {_shown_text(text)}, outside a sheet")
            return None
        if sheet not in self.book.sheetnames or not hasattr(self.book[sheet], "cell"):
            self.skip(name, f"its name refers to a sheet the workbook lacks: {sheet!r}")
            return None
        return Area(sheet, top, left, bottom, right)

    def single(self, name: str) -> tuple[bool, Any]:
        """(found, value) of a name that must be one cell."""
        area = self.area(name)
        if area is None:
            return False, None
        if area.cells != 1:
            self.skip(name, f"its name refers to {area.cells:,} cells, not one")
            return False, None
        return True, self.book[area.sheet].cell(row=area.top, column=area.left).value

    def line(self, name: str, limit: int) -> list[Any] | None:
        """The values of a name that must be one row or column of at most ``limit`` cells."""
        area = self.area(name)
        if area is None:
            return None
        if not area.is_line or area.cells > limit:
            self.skip(name, f"its name refers to {area.cells:,} cells; at most {limit:,} "
                            "in one row or column are read")
            return None
        sheet = self.book[area.sheet]
        return [cell for row in sheet.iter_rows(min_row=area.top, max_row=area.bottom,
                                                min_col=area.left, max_col=area.right,
                                                values_only=True) for cell in row]

    # ---- each kind of input ---------------------------------------------------------------

    def checked(self, what: str, value: Any, rule: Rule, default: Any) -> Any:
        """``value`` as the model keeps it if it passes ``rule``; None (said why) if not."""
        if value is None or value == "":
            self.skip(f"{what} = blank", f"kept {shown_as(default, rule)}")
            return None
        refusal = rule.refusal(value)
        if refusal is not None:
            self.skip(f"{what} = {_shown(value)}", refusal)
            return None
        return _plain(value)

    def assumption(self, name: str, rule: Rule) -> None:
        found, value = self.single(name)
        if not found:
            return
        default = self.model.assumptions[name]
        value = self.checked(name, value, rule, default)
        if value is not None and value != default:
            self.model.assumptions[name] = value
            self.carry(name, f"{name}: {shown_as(default, rule)} -> {shown_as(value, rule)}")

    def companies(self) -> None:
        keys = [name for name, _, _ in COMPANY_COLUMNS]
        if self.recorded is not None and not any(
                k.split(":", 1)[0] in keys for k in self.recorded):
            return
        names = self.line("Company_Names", MAX_RANGE_CELLS)
        if names is None:
            return
        gone = []
        for column_name, attribute, rule in COMPANY_COLUMNS:
            column = self.line(column_name, MAX_RANGE_CELLS)
            if column is None:
                continue
            if len(column) != len(names):
                self.skip(column_name, f"{len(column):,} cells beside {len(names):,} "
                                       "company names")
                continue
            for company, value in zip(names, column, strict=True):
                key = f"{column_name}:{company}"
                inputs = self.model.company_inputs.get(company) if isinstance(
                    company, str) else None
                value = None if value == "" else value
                if inputs is None:
                    if value is not None and value != getattr(CompanyInputs(), attribute):
                        gone.append(str(company))
                    continue
                if not self.wanted(key):
                    continue
                refusal = None if value is None else rule.refusal(value)
                if refusal is not None:
                    self.skip(f"{company} {attribute} = {_shown(value)}", refusal)
                    continue
                value = _plain(value)
                if value != getattr(inputs, attribute):
                    self.carry(key, f"{company} {attribute}: "
                                    f"{shown_as(getattr(inputs, attribute), rule)} -> "
                                    f"{shown_as(value, rule)}")
                    setattr(inputs, attribute, value)
                    if attribute in ("cash", "cash_as_of"):
                        inputs.comment = ""   # the default's comment describes the default
        if gone and self.recorded is None:
            shown = ", ".join(sorted(set(gone))[:5]) + (", ..." if len(set(gone)) > 5 else "")
            self.skip(f"inputs of {len(set(gone))} companies", f"not in this build's data: "
                                                               f"{shown}")

    def retired(self, name: str, reason: str) -> None:
        typed = [v for v in self.line(name, MAX_RANGE_CELLS) or [] if v not in (None, "", 0)]
        if typed:
            self.skip(f"{name} ({len(typed)} typed)", reason)

    def grid(self, name: str, attribute: str, rule: Rule) -> None:
        axis = getattr(self.model, attribute)
        old = self.line(name, len(axis))
        if old is None:
            return
        if len(old) != len(axis):
            self.skip(name, f"{len(old)} values; this build's grid has {len(axis)}")
            return
        for value in old:
            refusal = rule.refusal(value)
            if refusal is not None:
                self.skip(f"{name} = {_shown(value)}", refusal)
                return
        values = [float(v) for v in old]
        if values != axis:
            self.carry(name, f"{name}: {axis} -> {values}")
            setattr(self.model, attribute, values)

    def picker(self, name: str, attribute: str) -> None:
        found, value = self.single(name)
        if not found or value in (None, "") or value == getattr(self.model, attribute):
            return
        if value not in self.model.companies:
            self.skip(f"{name} = {_shown(value)}", "not a company of this build")
            return
        self.carry(name, f"{name}: {getattr(self.model, attribute)} -> {value}")
        setattr(self.model, attribute, value)


def shown_as(value: Any, rule: Rule) -> str:
    """A value of an input as a person typed it: a date as a date, not its serial."""
    if value is None or value == "":
        return "blank"
    if rule.kind == "date" and isinstance(value, (int, float)):
        return serial_to_date(value).isoformat()
    return _shown(value)


def _plain(value: Any) -> Any:
    """Dates as Excel serials, as the model keeps them."""
    if isinstance(value, dt.datetime):
        return date_to_serial(value.date())
    if isinstance(value, dt.date):
        return date_to_serial(value)
    return value


def _shown(value: Any) -> str:
    """A value as a person would recognise it in a message."""
    if value is None or value == "":
        return "blank"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (int, float)):
        return f"{value:g}"
    return _shown_text(value)


def _shown_text(text: Any) -> str:
    if text is None or text == "":
        return "nothing"
    text = str(text)
    return repr(text if len(text) <= 60 else text[:57] + "...")
