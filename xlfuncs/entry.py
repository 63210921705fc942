"""What the catalog is made of: an Excel function's parameters, its :class:`Entry`, and
:func:`_metric`, which makes an entry from an element-wise metric. A metric's native
formula is not written here: its body and guards write it (:mod:`xlfuncs.formula`).

Kept apart from :mod:`xlfuncs.registry` so that modules holding entries of their own (the
story DCF) build them without importing the catalog.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from . import inputs
from .elementwise import Guard, Outcome
from .errors import DIV0, NA, NUM, VALUE
from .formula import ATOM, NEGATION, Formula, count, literal, position, tables_used

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
    body: Callable[..., Any] | None = None   # numpy; called with formulas, it writes one
    guards: tuple[Guard, ...] = field(default=())

    @property
    def excel_body(self) -> Callable[..., str] | None:
        """The native formula's body, for arguments given as Excel text."""
        return None if self.body is None else rendering(self.body)

    @property
    def excel_guards(self) -> tuple[Callable[..., str], ...]:
        return tuple(rendering(g.when) for g in self.guards)

    @property
    def guard_codes(self) -> tuple[str, ...]:
        return tuple(g.code for g in self.guards)

    @property
    def python_name(self) -> str:
        return self.name.lower()

    @property
    def signature(self) -> str:
        shown = [f"[{p.name}]" if p.optional else p.name for p in self.params]
        return f"{self.name}({', '.join(shown)})"

    def excel(self, *refs: str, blank_takes_default: bool = True) -> str:
        """The native Excel formula (with its leading '=') for arguments given as cell
        references, names or literals, answering as the add-in does: omitted optional
        arguments take their default, and so does an optional argument whose cell is
        blank; each argument's type is checked; every guard of the core function."""
        args = self._arguments(refs, blank_takes_default)
        # text arguments are read as Excel's TRIM leaves them (the core trims spaces too)
        used = [f"TRIM({a})" if p.kind == "text" and not _is_literal(a) else a
                for a, p in zip(args, self.params, strict=True)]
        checks = [(c, EXCEL_ERROR[code]) for c, code in type_checks(args, self.params)]
        checks += [(g(*used), EXCEL_ERROR[g_code]) for g, g_code in
                   zip(self.excel_guards, self.guard_codes, strict=True)]
        blanks = [a for a, p in zip(args, self.params, strict=True)
                  if p.kind != "range" and not p.optional and not _is_literal(a)]
        return "=" + _compose(self.excel_body(*used),  # type: ignore[misc]
                              range_checks(args, self.params) + checks, blanks)

    def workbook_formula(self, refs: Sequence[str], rules: Sequence[Bounds | None],
                         blankable: Sequence[bool] | None = None
                         ) -> tuple[str, frozenset[int]]:
        """The formula the shared workbook writes (no leading '='), and the guards it
        leaves out. The workbook checks each input once, where it is entered (data
        validation, and a check that turns the master check FALSE), not in every formula
        that reads it, so:

        - no type checks: every argument is a number or text by construction (the facts
          loader, validated inputs, formulas), and text typed over a number is Excel's own
          #VALUE! in arithmetic, besides turning a check FALSE;
        - a blank test only for the arguments that ``blankable`` names (by default those
          that are not checked inputs, ``rules[i]`` None): the workbook leaves out an
          argument blank only where another one tested is (see columns.apply);
        - a guard that reads only checked inputs is left out when their rules' bounds
          never let it fire (tried over each bound and a grid between them); the
          workbook's cached value is computed without it too, so cache and engines agree;
        - a native guard is left out of the text only, where no other guard follows it:
          the body's own error answers it, a division's #DIV/0!, or a lookup's #N/A where
          the body looks up a table (VLOOKUP's #N/A in every engine; Gnumeric's
          CHOOSE(MATCH()) would say #VALUE!); the cache keeps it.
        """
        rules = [*rules, *[(-math.inf, math.inf)] * (len(self.params) - len(rules))]
        # an optional argument that is not a checked input takes its default when blank
        args = self._arguments(tuple(refs), {i for i, r in enumerate(rules) if r is None})
        with tables_used() as tables:
            body = self.excel_body(*args)  # type: ignore[misc]
        kept: list[tuple[str, str]] = []
        skipped: set[int] = set()
        for j in reversed(range(len(self.guards))):  # from the last: see `native` below
            guard = self.guards[j]
            condition = rendering(guard.when)(*args)
            read = [i for i in _arguments_read(guard.when, len(args))
                    if not _is_literal(args[i])]
            if condition == "FALSE" or (read and all(rules[i] is not None for i in read)
                                        and _never_fires(guard.when, rules, read)):
                skipped.add(j)  # decided by literals, or held by the inputs' checks
            elif not (guard.native and (tables or guard.native != "lookup") and not kept):
                kept.insert(0, (condition, EXCEL_ERROR[guard.code]))
        blankable = [*(blankable or [r is None for r in rules]),
                     *[False] * (len(self.params) - len(blankable or rules))]
        blanks = [a for a, p, rule, empty in zip(args, self.params, rules, blankable,
                                                 strict=True)
                  if p.kind != "range" and (not p.optional or rule is not None)
                  and empty and not _is_literal(a)]
        return _compose(body, kept, blanks), frozenset(skipped)

    def _arguments(self, refs: tuple[str, ...], blank_takes_default: bool | set[int]
                   ) -> list[str]:
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
            elif (p.optional and p.default is not None and not _is_literal(refs[i])
                  and (blank_takes_default is True or (not isinstance(blank_takes_default, bool)
                                                     and i in blank_takes_default))):
                # An empty optional cell takes the default, as it does in the add-in.
                args.append(f'IF({refs[i]}="",{_literal(p.default)},{refs[i]})')
            else:
                args.append(refs[i])
        return args


Bounds = tuple[float, float]


def _compose(body: str, checks: list[tuple[str, str]], blanks: list[str]) -> str:
    """IF(blank test,"",IF(check,answer,...body)), in the core's order. A check that can
    never hold (FALSE: a literal argument decided it) is left out; a check joins the one
    before it when both answer the same error and it cannot fail itself: IF(a,E,IF(b,E,x))
    is IF(OR(a,b),E,x) when b is never an error (OR evaluates b even where a holds)."""
    merged: list[tuple[list[str], str]] = []
    for condition, answer in checks:
        if condition == "FALSE":
            continue
        if (merged and merged[-1][1] == answer and answer.startswith("#")
                and _cannot_fail(condition)):
            merged[-1][0].append(condition)
        else:
            merged.append(([condition], answer))
    formula = body
    for conditions, answer in reversed(merged):
        test = conditions[0] if len(conditions) == 1 else _or(conditions)
        formula = f"IF({test},{answer},{formula})"
    if blanks:
        formula = f'IF({_or([f"{a}=" + chr(34) * 2 for a in blanks])},"",{formula})'
    return formula


# What a condition may hold and still never be an error: references and names, numbers,
# comparisons, and these functions (an argument in error was already answered by the blank
# test). Arithmetic may overflow or divide by zero, so a condition with it is not merged.
_SAFE_FUNCTIONS = {"AND", "OR", "NOT", "INT", "ISNA", "MATCH", "ISNUMBER", "ISTEXT",
                   "ISERROR"}


def _cannot_fail(condition: str) -> bool:
    text = re.sub(r'"(?:[^"]|"")*"|\{[^}]*\}', "0", condition)  # texts and array constants
    text = re.sub(r"(?<=[<>=(,])-", "", text)  # a negative number after a comparison
    if re.search(r"[-+*/^&]", text):
        return False
    return all(f in _SAFE_FUNCTIONS for f in re.findall(r"([A-Z][A-Z0-9.]*)\(", text))


def _or(conditions: list[str]) -> str:
    if len(conditions) == 1:
        return conditions[0]
    parts = [c[3:-1] if c.startswith("OR(") and _one_call(c) else c for c in conditions]
    return f"OR({','.join(parts)})"


def _one_call(text: str) -> bool:
    """Whether ``text`` is a single call F(...) (its first bracket closes at the end)."""
    depth = 0
    for index, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if depth == 0 and char == ")":
            return index == len(text) - 1
    return False


def _arguments_read(condition: Callable[..., Any], count: int) -> list[int]:
    """Which of its arguments a guard reads, found by rendering it with markers."""
    markers = [f"\x01{i}\x02" for i in range(count)]
    text = rendering(condition)(*markers)
    return [i for i, marker in enumerate(markers) if marker in text]


def _never_fires(condition: Callable[..., Any], rules: list[Bounds | None],
                 read: list[int]) -> bool:
    """Whether a guard stays FALSE for every value its checked arguments may take: over the
    bounds of each and a grid between them (every combination, for up to three arguments;
    a guard that reads more is kept)."""
    if len(read) > 3:
        return False
    points = 1001 if len(read) == 1 else 101
    grids = [np.unique(np.concatenate([rules[i], np.linspace(*rules[i], points)]))  # type: ignore[misc]
             for i in read]
    mesh = np.meshgrid(*grids, indexing="ij")
    values = [np.zeros_like(mesh[0])] * len(rules)
    for i, grid in zip(read, mesh, strict=True):
        values[i] = grid
    with np.errstate(all="ignore"):
        return not np.any(condition(*values))


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
    if text.startswith('"') and text.endswith('"') and len(text) > 1:
        return literal(text[1:-1].replace('""', '"'))
    try:
        return literal(float(text))
    except ValueError:
        return Formula(text, NEGATION if text.startswith("-") else ATOM)


def rendering(expression: Callable[..., Any]) -> Callable[..., str]:
    """The Excel text of a metric's body or guard, for arguments given as Excel text."""
    return lambda *refs: str(expression(*map(operand, refs)))


def _metric(name: str, category: str, summary: str, params: tuple[Param, ...],
            func: Callable[..., Any], example: str, example_result: str) -> Entry:
    """An element-wise metric: its native formula, guard codes and what it returns all
    come from the core function itself."""
    return Entry(name, category, summary, params, func, example, example_result,
                 func.returns, func.outcome, func.__wrapped__,  # type: ignore[attr-defined]
                 func.guards)  # type: ignore[attr-defined]
