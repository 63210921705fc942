"""What the catalog is made of: an Excel function's parameters, its :class:`Entry`, and
:func:`_metric`, which makes an entry from an element-wise metric and its native formula.

Kept apart from :mod:`xlfuncs.registry` so that modules holding entries of their own (the
story DCF) build them without importing the catalog.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from . import inputs
from .elementwise import Outcome
from .errors import DIV0, NA, NUM, VALUE

ParamKind = Literal["number", "date", "text", "range"]
# "spill": the function returns a grid of cells (numbers, text, None, XlError) itself.
Returns = Literal["number", "date", "text", "bool", "table", "column", "spill"]

# Excel's error constants, written as Excel writes them; #N/A as NA(), its portable form.
EXCEL_ERROR = {DIV0: "#DIV/0!", NUM: "#NUM!", NA: "NA()", VALUE: "#VALUE!"}


@dataclass(frozen=True)
class Param:
    name: str
    doc: str
    kind: ParamKind = "number"
    default: Any = None
    optional: bool = False


@dataclass(frozen=True)
class Entry:
    """One Excel function of the catalog."""

    name: str
    category: str
    summary: str
    params: tuple[Param, ...]
    func: Callable[..., Any]
    example: str
    example_result: str
    returns: Returns = "number"
    outcome: Callable[..., Outcome] | None = None
    excel_body: Callable[..., str] | None = None
    excel_guards: tuple[Callable[..., str], ...] = ()
    guard_codes: tuple[str, ...] = field(default=())

    @property
    def python_name(self) -> str:
        return self.name.lower()

    @property
    def signature(self) -> str:
        shown = [f"[{p.name}]" if p.optional else p.name for p in self.params]
        return f"{self.name}({', '.join(shown)})"

    def excel(self, *refs: str, blank_takes_default: bool = True) -> str:
        """The native Excel formula (with its leading '=') for arguments given as cell
        references, names or literals; omitted optional arguments take their default, and
        so does an optional argument whose cell is blank, as in the add-in (the workbook
        turns that off for inputs it always fills, to keep its formulas short)."""
        if self.excel_body is None:
            raise ValueError(f"{self.name} has no native Excel formula")
        if len(refs) > len(self.params):
            raise ValueError(f"{self.name} takes at most {len(self.params)} arguments")
        args = []
        for i, p in enumerate(self.params):
            if i >= len(refs):
                if not p.optional:
                    raise ValueError(f"{self.name} needs '{p.name}'")
                args.append(_literal(p.default))
            elif (blank_takes_default and p.optional and p.default is not None
                  and not _is_literal(refs[i])):
                # An empty optional cell takes the default, as it does in the add-in.
                args.append(f'IF({refs[i]}="",{_literal(p.default)},{refs[i]})')
            else:
                args.append(refs[i])
        # text arguments are read as Excel's TRIM leaves them (the core trims spaces too)
        used = [f"TRIM({a})" if p.kind == "text" and not _is_literal(a) else a
                for a, p in zip(args, self.params, strict=True)]
        formula = self.excel_body(*used)
        checks = [(condition(*used), code) for condition, code in
                  zip(self.excel_guards, self.guard_codes, strict=True)]
        # the core's order: blanks, then each argument's type and calendar, then the guards
        for condition, code in reversed(type_checks(args, self.params) + checks):
            formula = f"IF({condition},{EXCEL_ERROR[code]},{formula})"
        blanks = [f'{a}=""' for a, p in zip(args, self.params, strict=True)
                  if p.kind != "range" and not p.optional and not _is_literal(a)]
        if blanks:
            test = blanks[0] if len(blanks) == 1 else f"OR({','.join(blanks)})"
            formula = f'IF({test},"",{formula})'
        return "=" + formula


def type_checks(args: list[str], params: tuple[Param, ...]) -> list[tuple[str, str]]:
    """The core's second stage as formula conditions: an argument of the wrong type is
    #VALUE! (text or TRUE where a number or a date belongs, a number where text does),
    a date outside Excel's calendar #NUM!, each argument in order. Functions that take a
    range check their own arguments (VAL_DCF)."""
    if any(p.kind == "range" for p in params):
        return []
    checks: list[tuple[str, str]] = []
    pending: list[str] = []
    for arg, param in zip(args, params, strict=True):
        if _is_literal(arg):
            continue
        pending.append(f"ISTEXT({arg})" if param.kind == "text" else f"ISNUMBER({arg})")
        if param.kind == "date":
            checks.append((_not_all(pending), VALUE))
            pending = []
            checks.append((f"OR({arg}<{inputs.MIN_SERIAL:.0f},{arg}>="
                           f"{inputs.MAX_SERIAL + 1:.0f})", NUM))
    if pending:
        checks.append((_not_all(pending), VALUE))
    return checks


def _not_all(tests: list[str]) -> str:
    return f"NOT({tests[0]})" if len(tests) == 1 else f"NOT(AND({','.join(tests)}))"


def _literal(value: Any) -> str:
    if value is None:
        return '""'
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    return format(value, ".15g")


def _is_literal(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return text.startswith('"')


def _metric(name: str, category: str, summary: str, params: tuple[Param, ...],
            func: Callable[..., Any], example: str, example_result: str,
            body: Callable[..., str], *guards: Callable[..., str]) -> Entry:
    """An element-wise metric: its guard codes and what it returns come from the core
    function itself."""
    codes = tuple(g.code for g in func.guards)  # type: ignore[attr-defined]
    if len(codes) != len(guards):
        raise AssertionError(f"{name}: {len(codes)} core guards but {len(guards)} Excel ones")
    return Entry(name, category, summary, params, func, example, example_result,
                 func.returns, func.outcome, body, guards, codes)  # type: ignore[attr-defined]
