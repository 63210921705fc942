"""What the catalog is made of: an Excel function's parameters, its :class:`Entry`, and
:func:`_metric`, which makes an entry from an element-wise metric. A metric's native
formula is not written here: its body and guards write it (:mod:`xlfuncs.formula`).

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
from .formula import ATOM, NEGATION, Formula, count, position

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
        answers = [(c, EXCEL_ERROR[code]) for c, code in type_checks(args, self.params) + checks]
        for condition, answer in reversed(range_checks(args, self.params) + answers):
            formula = f"IF({condition},{answer},{formula})"
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


def range_checks(args: list[str], params: tuple[Param, ...]) -> list[tuple[str, str]]:
    """A range function's checks of its arguments, in the order its core checks them (see
    valuation.dcf_outcome): an optional number's own error; a single argument that is not
    a number (#VALUE!); the first error cell of a range (SUM gives it); a range with no
    filled cell (blank); a blank, text or TRUE before a range's last number (#VALUE!).
    Only comparisons and ROW/COLUMN arithmetic inside SUMPRODUCT: Gnumeric spreads
    neither ISNUMBER nor MAX over a range there."""
    if not any(p.kind == "range" for p in params):
        return []
    singles = [(a, p) for a, p in zip(args, params, strict=True) if p.kind != "range"]
    checks = [(f"ISERROR({a})", a) for a, p in singles if p.optional and not _is_literal(a)]
    wrong = [f"NOT(ISNUMBER({a}))" if not p.optional else f'AND({a}<>"",NOT(ISNUMBER({a})))'
             for a, p in singles if not _is_literal(a)]
    if wrong:
        checks.append((wrong[0] if len(wrong) == 1 else f"OR({','.join(wrong)})",
                       EXCEL_ERROR[VALUE]))
    for f in (a for a, p in zip(args, params, strict=True) if p.kind == "range"):
        cells = Formula(f)
        filled = f'SUMPRODUCT(--({f}<>""))'
        after_last = f'SUMPRODUCT(({f}<>"")*({position(cells)}>{count(cells)}))'
        checks += [(f"ISERROR(SUM({f}))", f"SUM({f})"), (f"{filled}=0", '""'),
                   (f"OR({filled}<>{count(cells)},{after_last}>0)", EXCEL_ERROR[VALUE])]
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


def operand(text: str) -> Formula:
    """A reference, name or literal as the operand a metric's body computes with."""
    return Formula(text, NEGATION if text.startswith("-") else ATOM)


def rendering(expression: Callable[..., Any]) -> Callable[..., str]:
    """The Excel text of a metric's body or guard, for arguments given as Excel text."""
    return lambda *refs: str(expression(*map(operand, refs)))


def _metric(name: str, category: str, summary: str, params: tuple[Param, ...],
            func: Callable[..., Any], example: str, example_result: str) -> Entry:
    """An element-wise metric: its native formula, guard codes and what it returns all
    come from the core function itself."""
    guards = func.guards  # type: ignore[attr-defined]
    return Entry(name, category, summary, params, func, example, example_result,
                 func.returns, func.outcome,  # type: ignore[attr-defined]
                 rendering(func.__wrapped__),  # type: ignore[attr-defined]
                 tuple(rendering(g.when) for g in guards), tuple(g.code for g in guards))
