"""The one mechanism every element-wise metric shares.

A metric is written once as a plain numpy expression plus its *guards*: the inputs for
which it has no meaningful answer, each with the Excel error and the reason. The
``@metric`` decorator turns that into a function that

* takes scalars, lists, nested lists (Excel ranges), numpy arrays or pandas Series;
* broadcasts them like numpy (a column stays a column);
* answers, per element, in a fixed order that the native Excel formula mirrors:
  any blank input -> blank; an input of the wrong type -> #VALUE!; the guards in the
  order written; a result that is not finite -> #NUM!; otherwise the number.

Called from Python it returns a float (scalar inputs) or an ndarray (a pandas Series with
its index when a Series came in), with NaN where the element is blank or in error, like
numpy-financial. ``f.outcome(...)`` returns the full
:class:`Outcome` with each element's Excel error and reason, which the Excel layer and
the workbook builder use.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from . import inputs
from .errors import NUM, VALUE, XlError, XlfuncsError

ArgKind = Literal["number", "date", "text"]
ReturnKind = Literal["number", "date", "text", "bool"]
RETURN_KINDS = ("number", "date", "text", "bool")  # ReturnKind's values, checked at run time

# Outcome.status codes: 0 and 1 are fixed, errors are numbered from 2 upwards.
STATUS_OK = 0
STATUS_BLANK = 1
_FIRST_ERROR = 2


@dataclass(frozen=True)
class Guard:
    """Inputs for which a metric has no meaningful answer.

    ``when`` receives the metric's arguments as broadcast arrays (floats; text for text
    arguments) and returns a boolean array: True where this guard applies. ``native``: the
    body's own Excel formula already answers this error exactly where the guard applies,
    so the workbook's short formula need not spell it out (Python, where the body gives
    inf or NaN, still needs it): "lookup", a lookup that finds nothing is #N/A; "division",
    a division by the zero the guard tests is #DIV/0!.
    """

    code: str
    reason: str
    when: Callable[..., np.ndarray]
    native: str = ""


@dataclass(frozen=True)
class Outcome:
    """Per-element result of a metric: values, and why an element has none."""

    values: np.ndarray
    status: np.ndarray
    errors: tuple[XlError, ...]
    scalar: bool
    returns: ReturnKind = "number"

    def __post_init__(self) -> None:
        # an unknown kind would silently be read as a number by python() and cells()
        if self.returns not in RETURN_KINDS:
            raise ValueError(f"unknown return kind {self.returns!r} (one of {RETURN_KINDS})")

    def error(self, status_code: int) -> XlError | None:
        """The error an element's status code stands for (None for OK and blank)."""
        return self.errors[status_code - _FIRST_ERROR] if status_code >= _FIRST_ERROR else None

    @property
    def has_problems(self) -> bool:
        return bool(np.any(self.status != STATUS_OK))

    def python(self) -> Any:
        """The plain Python answer: float/date for scalars, ndarray otherwise; NaN/NaT/None
        where the element has no value."""
        if self.returns == "text":
            texts = np.where(self.status == STATUS_OK, self.values, None)
            return texts[()] if self.scalar else texts
        values = self.values  # already NaN wherever the status is not OK
        if self.returns == "bool":
            flags = np.where(self.status == STATUS_OK, self.values == 1, None)
            return flags[()] if self.scalar else flags
        if self.returns == "date":
            days = inputs.serials_to_datetime64(values)
            if self.scalar:
                return None if np.isnat(days[()]) else days[()].astype(dt.date)
            return days
        return float(values[()]) if self.scalar else values

    def cells(self) -> list[Any] | Any:
        """Each element as a cell value: a float, a ``datetime.date``, None (blank) or the
        :class:`XlError`. Scalars give one value; arrays give nested lists."""
        flat_values = self.values.ravel()
        flat_status = self.status.ravel()
        out: list[Any] = []
        for value, status in zip(flat_values.tolist(), flat_status.tolist(), strict=True):
            if status == STATUS_OK:
                if self.returns == "date":
                    value = inputs.serial_to_date(value)
                elif self.returns == "bool":
                    value = value == 1
                out.append(value)
            elif status == STATUS_BLANK:
                out.append(None)
            else:
                out.append(self.errors[status - _FIRST_ERROR])
        if self.scalar:
            return out[0]
        # filled cell by cell: np.array(out) would unpack XlError tuples into a new axis
        grid = np.empty(len(out), dtype=object)
        for i, cell in enumerate(out):
            grid[i] = cell
        return grid.reshape(self.values.shape).tolist()


_COERCE = {"number": inputs.to_numbers, "date": inputs.to_serials, "text": inputs.to_texts}
_EXPECTED = {"number": "a number", "date": "a date", "text": "text"}


def _input_errors(name: str, kind: ArgKind) -> tuple[XlError, XlError]:
    wrong = XlError(VALUE, f"{name}: expected {_EXPECTED[kind]}")
    if kind == "date":
        bad = XlError(NUM, f"{name}: date outside Excel's calendar (1900-03-01 to 9999-12-31)")
    else:
        bad = XlError(NUM, f"{name}: not a finite number (or too large for a double)")
    return wrong, bad


def broadcast(arrays: Sequence[np.ndarray], names: Sequence[str]) -> list[np.ndarray]:
    """numpy broadcasting with an error message an analyst can act on."""
    try:
        return list(np.broadcast_arrays(*arrays))
    except ValueError:
        shapes = ", ".join(f"{n} {'x'.join(map(str, a.shape)) or 'cell'}"
                           for n, a in zip(names, arrays, strict=True))
        raise XlfuncsError(
            f"ranges of different shapes cannot be combined ({shapes}): "
            "use ranges of the same size, or single cells"
        ) from None


def broadcast_shape(arrays: Sequence[np.ndarray], names: Sequence[str]) -> tuple[int, ...]:
    """The shape ``arrays`` broadcast to, with :func:`broadcast`'s message when they don't."""
    try:
        return np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        broadcast(arrays, names)  # raises the analyst's message
        raise


def renamed_keywords(function: str, kwargs: dict[str, Any],
                     renamed: dict[str, str]) -> dict[str, Any]:
    """``kwargs`` with each parameter's former name (a key of ``renamed``) replaced by its
    new one, and a DeprecationWarning that says so: a renamed parameter keeps working."""
    for old, new in renamed.items():
        if old in kwargs:
            if new in kwargs:
                raise TypeError(f"{function}() got '{new}' and its former name '{old}'")
            warnings.warn(f"{function}(): the parameter '{old}' is now called '{new}'; "
                          f"'{old}=' still works but will be removed in a later version",
                          # 5: the metric's caller (1 is here, 2 outcome, 3 python_answer,
                          # 4 the metric itself), so the warning shows the caller's line
                          DeprecationWarning, stacklevel=5)
            kwargs = {(new if k == old else k): v for k, v in kwargs.items()}
    return kwargs


def metric(
    *guards: Guard,
    kinds: dict[str, ArgKind] | None = None,
    returns: ReturnKind = "number",
    renamed: dict[str, str] | None = None,
) -> Callable[[Callable[..., np.ndarray]], Any]:
    """Make an element-wise metric from a numpy body and its guards (see module doc).
    ``renamed`` maps a parameter's former name to its name now (the former keeps working,
    with a DeprecationWarning)."""
    kinds = kinds or {}
    renamed = renamed or {}

    def decorate(body: Callable[..., np.ndarray]) -> Any:
        signature = inspect.signature(body)
        names = list(signature.parameters)
        arg_kinds: dict[str, ArgKind] = {n: kinds.get(n, "number") for n in names}
        defaults = {n: p.default for n, p in signature.parameters.items()
                    if p.default is not inspect.Parameter.empty}
        errors: list[XlError] = []
        for name in names:
            errors.extend(_input_errors(name, arg_kinds[name]))
        errors.extend(XlError(g.code, g.reason) for g in guards)
        overflow = XlError(NUM, "the result is too large or not a finite number")
        errors.append(overflow)
        error_table = tuple(errors)

        readers = [_COERCE[arg_kinds[n]] for n in names]
        fallbacks = [defaults.get(n) for n in names]  # None: no default

        def outcome(*args: Any, **kwargs: Any) -> Outcome:
            if kwargs and renamed:
                kwargs = renamed_keywords(body.__name__, kwargs, renamed)
            return evaluate(args, kwargs, frozenset())

        def evaluate(args: tuple[Any, ...], kwargs: dict[str, Any],
                     skipped: frozenset[int]) -> Outcome:
            if kwargs or len(args) != len(names):
                given = signature.bind(*args, **kwargs).arguments
                args = tuple(given.get(n, defaults.get(n)) for n in names)
            values, statuses, flagged = [], [], []
            for i, (raw, read, default) in enumerate(zip(args, readers, fallbacks,
                                                         strict=True)):
                if raw is None and default is not None:
                    raw = default  # an empty optional cell takes the default
                v, s = read(raw)
                if s.any():  # the usual clean range skips all of this
                    if default is not None and (blank := s == inputs.BLANK).any():
                        # an empty optional cell inside a range takes the default too
                        v = np.where(blank, read(default)[0], v)
                        s = np.where(blank, inputs.OK, s).astype(np.int8)
                    if s.any():
                        flagged.append(i)
                values.append(v)
                statuses.append(s)
            scalar = all(v.ndim == 0 for v in values)
            # numpy broadcasts inside the body and guards; only the shape is needed here
            shape = (values[0].shape if len({v.shape for v in values}) == 1
                     else broadcast_shape(values, names)) if values else ()
            status = np.zeros(shape, dtype=np.int16)
            undecided = np.ones(shape, dtype=bool)

            def settle(mask: np.ndarray, code: int) -> None:
                if not mask.any():
                    return
                hit = undecided & mask
                status[hit] = code
                undecided[hit] = False

            # Order matters and mirrors the Excel formula: blanks, inputs, guards, body.
            if flagged:
                settle(np.logical_or.reduce(
                    [np.broadcast_to(statuses[i] == inputs.BLANK, shape) for i in flagged]),
                    STATUS_BLANK)
            for i in flagged:
                settle(statuses[i] == inputs.WRONG_TYPE, _FIRST_ERROR + 2 * i)
                settle(statuses[i] == inputs.OUT_OF_RANGE, _FIRST_ERROR + 2 * i + 1)
            with np.errstate(all="ignore"):
                for j, guard in enumerate(guards):
                    if j not in skipped and undecided.any():
                        settle(np.asarray(guard.when(*values), dtype=bool),
                               _FIRST_ERROR + 2 * len(names) + j)
                result = np.array(body(*values), dtype=np.float64)  # never an input's view
                if result.shape != shape:
                    result = np.array(np.broadcast_to(result, shape))  # writable, its own
            settle(~np.isfinite(result), _FIRST_ERROR + len(error_table) - 1)
            if status.any():
                result = np.where(status == STATUS_OK, result, np.nan)
            return Outcome(result, status, error_table, scalar, returns)

        @functools.wraps(body)
        def call(*args: Any, **kwargs: Any) -> Any:
            return python_answer(body.__name__, outcome, args, kwargs)

        def outcome_without(skipped: Any) -> Callable[..., Outcome]:
            """The outcome with some guards left out: the workbook's formula leaves out a
            guard that its inputs' own checks already hold (see Entry.workbook_formula)."""
            return lambda *args, **kwargs: evaluate(args, kwargs, frozenset(skipped))

        call.outcome = outcome  # type: ignore[attr-defined]
        call.outcome_without = outcome_without  # type: ignore[attr-defined]
        call.guards = guards  # type: ignore[attr-defined]
        call.arg_kinds = arg_kinds  # type: ignore[attr-defined]
        call.returns = returns  # type: ignore[attr-defined]
        return call

    return decorate


def series_index(values: Iterable[Any]) -> Any:
    """The index of the pandas Series among ``values``, or None when there is none. Series
    whose indexes differ are refused: numpy would pair their elements by position, pandas
    by label, and either would be a silent guess."""
    pandas = sys.modules.get("pandas")  # not imported: no Series can have been made
    if pandas is None:
        return None
    indexes = [v.index for v in values if isinstance(v, pandas.Series)]
    for other in indexes[1:]:
        if not indexes[0].equals(other):
            raise XlfuncsError("Series with different indexes: align them first "
                               "(a, b = a.align(b)) or pass their .to_numpy()")
    return indexes[0] if indexes else None


def python_answer(name: str, outcome: Callable[..., Outcome], args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> Any:
    """What a function answers in Python: :meth:`Outcome.python`, as a pandas Series with
    the inputs' index when a Series came in and the answer has one element per row."""
    index = series_index((*args, *kwargs.values()))
    answer = outcome(*args, **kwargs).python()
    if index is None or not isinstance(answer, np.ndarray) or answer.shape != (len(index),):
        return answer
    return sys.modules["pandas"].Series(answer, index=index, name=name)


def explain(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Each element of ``func(*args)`` as a cell value: number, date, None or XlError.

    >>> from xlfuncs import val_ps
    >>> explain(val_ps, 300, 0)
    XlError(code='#DIV/0!', reason='annual_revenue is zero: the ratio is undefined')
    """
    return func.outcome(*args, **kwargs).cells()  # type: ignore[attr-defined]
