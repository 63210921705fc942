"""Turning what Excel or Python hands us into numpy arrays, element by element.

Every coercion returns ``(values, status)``: a float64 (or object, for text) array and an
int8 array of the same shape saying, per element, whether the value is usable:

* ``OK``: a number: Python int/float, ``Decimal``, ``Fraction``, any numpy integer or
  float; a date (``date``, ``datetime``, pandas ``Timestamp``, ``datetime64``) as its
  serial;
* ``BLANK``: an empty cell, ``None``, ``""``, NaN of any type, ``NaT``, ``pd.NA``;
* ``WRONG_TYPE`` (#VALUE!): any text where a number or a date belongs (``"12"``,
  ``"30%"``, ``"2025-06-30"`` and ``" "`` included), a boolean, a complex number, a
  ``timedelta64``, any other object;
* ``OUT_OF_RANGE`` (#NUM!): a number a double cannot hold (``10**400``, ``inf``,
  ``Decimal("Infinity")``), or a date outside Excel's calendar.

Text is never read as a number or a date. A native formula could not do the same:
Excel converts ``"12"`` in arithmetic but compares it as text, above every number, in
a guard such as ``x<0``, and reads ``"2025-06-30"`` by the machine's locale; so both the
add-in and the workbook's formulas answer #VALUE! for text, with the reason. Type
numbers and dates as numbers and dates (``=DATE(2025, 6, 30)`` in Excel).

Dates travel as Excel serial numbers (days since 1899-12-30), the form Excel sends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from .errors import XlError, XlfuncsError

OK, BLANK, WRONG_TYPE, OUT_OF_RANGE = 0, 1, 2, 3

EXCEL_EPOCH = dt.date(1899, 12, 30)
_EPOCH_ORDINAL = EXCEL_EPOCH.toordinal()
# Excel's calendar runs from 1900-03-01 (serial 61; earlier serials carry Excel's
# 1900 leap-year bug, which we refuse rather than reproduce) to 9999-12-31.
MIN_SERIAL = 61.0
MAX_SERIAL = 2958465.0

_NUMBER_TYPES = (int, float, np.integer, np.floating)


def as_object_array(value: Any) -> np.ndarray:
    """Wrap a scalar, list, nested list, tuple, Series or array as an ndarray, no copy of data."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "to_numpy"):  # pandas Series/DataFrame (a Timestamp has it too)
        arr = value.to_numpy()
        if isinstance(arr, np.ndarray):
            return arr
    if isinstance(value, (list, tuple)) and not isinstance(value, XlError):  # a cell, not a row
        try:
            arr = np.array(value, dtype=object)
        except ValueError:  # ragged, or an XlError (a tuple) numpy tried to unpack
            return _nested_cells(value)
        # numpy unpacked an XlError cell into a new axis, or kept a ragged range's rows
        # (or a list inside a cell) as cells: read it cell by cell, which refuses those
        if arr.ndim != _depth(value) or _holds_rows(arr):
            return _nested_cells(value)
        return arr
    arr = np.empty((), dtype=object)
    arr[()] = value
    return arr


def _is_row(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and not isinstance(value, XlError)


def _holds_rows(arr: np.ndarray) -> bool:
    """True when a cell of the array is itself a row (a list or tuple, not an XlError)."""
    # by the set of the cells' types: one C-level pass, ~6x faster than a call per cell
    return any(issubclass(kind, (list, tuple)) and not issubclass(kind, XlError)
               for kind in set(map(type, arr.flat)))


def _depth(value: Any) -> int:
    depth = 0
    while _is_row(value):
        depth += 1
        if not value:
            break
        value = value[0]
    return depth


def _nested_cells(value: Any) -> np.ndarray:
    """Nested lists as an object array, cell by cell: an XlError stays one cell."""
    shape: list[int] = []
    probe = value
    while _is_row(probe):
        shape.append(len(probe))
        if not probe:
            break
        probe = probe[0]
    arr = np.empty(shape, dtype=object)

    def fill(item: Any, index: tuple[int, ...]) -> None:
        if len(index) == len(shape):
            if _is_row(item):
                raise XlfuncsError("ragged range: every row must have the same number of cells")
            arr[index] = item
            return
        if not _is_row(item) or len(item) != shape[len(index)]:
            raise XlfuncsError("ragged range: every row must have the same number of cells")
        for i, sub in enumerate(item):
            fill(sub, (*index, i))

    fill(value, ())
    return arr


def _is_missing(value: Any) -> bool:
    """pandas' NaT and NA, without importing pandas: both are blanks, like NaN."""
    return type(value).__name__ in ("NaTType", "NAType")


def _real_or_status(value: Any) -> tuple[float, int]:
    """A real number of any Python or numpy type as a double: NaN is a blank, anything
    beyond a double's range (10**400, Decimal('Infinity'), inf) is OUT_OF_RANGE."""
    if isinstance(value, Decimal):
        if value.is_nan():  # also the signalling NaN, which float() refuses
            return np.nan, BLANK
        if value.is_infinite():
            return np.nan, OUT_OF_RANGE
    try:
        number = float(value)
    except OverflowError:  # int, Fraction: too large for a double
        return np.nan, OUT_OF_RANGE
    if np.isnan(number):
        return np.nan, BLANK
    return (number, OK) if np.isfinite(number) else (np.nan, OUT_OF_RANGE)


def _is_real(value: Any) -> bool:
    # timedelta64 is a numpy integer and bool a Python int: neither is a number here
    return (isinstance(value, (*_NUMBER_TYPES, Decimal, Fraction))
            and not isinstance(value, (bool, np.bool_, np.timedelta64)))


def _number_or_status(value: Any) -> tuple[float, int]:
    if value is None or _is_missing(value):
        return np.nan, BLANK
    if _is_real(value):
        return _real_or_status(value)
    if isinstance(value, str):  # "" is an empty cell; any other text is not a number
        return np.nan, (BLANK if value == "" else WRONG_TYPE)
    if isinstance(value, (dt.date, np.datetime64)):
        return _serial_or_status(value)
    return np.nan, WRONG_TYPE


_EPOCH64 = np.datetime64(EXCEL_EPOCH.isoformat(), "D")
_FIRST_DAY64, _LAST_DAY64 = np.datetime64("1900-03-01"), np.datetime64("9999-12-31")


def _datetime64_serial(value: np.datetime64) -> tuple[float, int]:
    if np.isnat(value):
        return np.nan, BLANK
    if np.datetime_data(value.dtype)[0] in ("ps", "fs", "as"):
        # numpy cannot turn these into days (the factor overflows); they span at most
        # 106 days around 1970, which nanoseconds hold
        value = value.astype("datetime64[ns]")
    # by the day, first: a far year would overflow in microseconds
    if not _FIRST_DAY64 <= value.astype("datetime64[D]") <= _LAST_DAY64:
        return np.nan, OUT_OF_RANGE
    # exact for whole days too: a day's microseconds, 2**13 x 10546875, times a day count
    # below 2**22 stays within a double's 53 bits, and the division is then exact
    micros = (value.astype("datetime64[us]") - _EPOCH64).astype(np.int64)
    return _range_checked(float(micros) / 86_400e6)  # 9999-12-31T23:59:59.99999 rounds up


def _range_checked(serial: float) -> tuple[float, int]:
    if not (MIN_SERIAL <= serial < MAX_SERIAL + 1):  # 9999-12-31 ends before 10000-01-01
        return np.nan, OUT_OF_RANGE
    return serial, OK


def _serial_or_status(value: Any) -> tuple[float, int]:
    if value is None or _is_missing(value):
        return np.nan, BLANK
    if isinstance(value, np.datetime64):
        return _datetime64_serial(value)
    if isinstance(value, dt.datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return _range_checked(value.toordinal() - _EPOCH_ORDINAL + seconds / 86400)
    if isinstance(value, dt.date):
        return _range_checked(float(value.toordinal() - _EPOCH_ORDINAL))
    if _is_real(value):
        serial, status = _real_or_status(value)
        return _range_checked(serial) if status == OK else (serial, status)
    if isinstance(value, str):  # "" is an empty cell; text is not a date (see above)
        return np.nan, (BLANK if value == "" else WRONG_TYPE)
    return np.nan, WRONG_TYPE


def _coerce(value: Any, element: Callable[[Any], tuple[float, int]],
            numeric_ok: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    arr = as_object_array(value)
    if arr.dtype.kind in "iuf":
        values = arr.astype(np.float64, copy=False)
        usable = numeric_ok(values)
        if usable.all():  # the common case: one pass, no copies
            return values, np.zeros(values.shape, dtype=np.int8)
        status = np.where(np.isnan(values), BLANK, np.where(usable, OK, OUT_OF_RANGE))
        return np.where(status == OK, values, np.nan), status.astype(np.int8)
    flat = arr.ravel()  # datetime64, bool, text, complex arrays: one numpy scalar each
    # Ranges from Excel are mostly plain floats: decide that with one pass of type()
    # instead of calling the per-element classifier 100,000 times.
    if flat.size and set(map(type, flat)) <= {float, int}:
        try:
            floats = flat.astype(np.float64)
        except OverflowError:  # an int beyond a double: the per-element path says #NUM!
            pass
        else:
            return _coerce(floats.reshape(arr.shape), element, numeric_ok)
    values = np.empty(flat.shape, dtype=np.float64)
    status = np.empty(flat.shape, dtype=np.int8)
    for i, item in enumerate(flat):
        values[i], status[i] = element(item)
    return values.reshape(arr.shape), status.reshape(arr.shape)


def to_numbers(value: Any) -> tuple[np.ndarray, np.ndarray]:
    """Numbers from a scalar or range; see the module docstring for the status codes."""
    return _coerce(value, _number_or_status, np.isfinite)


def to_serials(value: Any) -> tuple[np.ndarray, np.ndarray]:
    """Excel date serials from serials or ``date``/``datetime``/``Timestamp``/``datetime64``."""
    return _coerce(value, _serial_or_status,
                   lambda v: (v >= MIN_SERIAL) & (v < MAX_SERIAL + 1))


def to_texts(value: Any) -> tuple[np.ndarray, np.ndarray]:
    """Text from a scalar or range, its outer spaces trimmed as Excel's TRIM does; numbers
    are WRONG_TYPE. Only ``""`` is blank: a cell holding spaces is text, as in Excel."""
    arr = as_object_array(value)
    flat = arr.ravel()
    texts = np.empty(flat.shape, dtype=object)
    status = np.empty(flat.shape, dtype=np.int8)
    for i, item in enumerate(flat):
        if item is None or _is_missing(item) or (
                _is_real(item) and _real_or_status(item)[1] == BLANK) or (
                isinstance(item, np.datetime64) and np.isnat(item)):
            texts[i], status[i] = "", BLANK
        elif isinstance(item, (str, np.str_)):
            texts[i], status[i] = str(item).strip(" "), (OK if item != "" else BLANK)
        else:
            texts[i], status[i] = "", WRONG_TYPE
    return texts.reshape(arr.shape), status.reshape(arr.shape)


def serial_to_date(serial: float) -> dt.date:
    """The calendar date of an Excel serial (its whole-day part)."""
    return dt.date.fromordinal(_EPOCH_ORDINAL + int(np.floor(serial)))


def date_to_serial(day: dt.date) -> float:
    """The Excel serial number of a date (time of day ignored)."""
    return float(day.toordinal() - _EPOCH_ORDINAL)


def serials_to_datetime64(serials: np.ndarray) -> np.ndarray:
    """Whole-day datetime64[D] for an array of serials; NaN becomes NaT."""
    serials = np.asarray(serials)
    out = np.full(serials.shape, np.datetime64("NaT"), dtype="datetime64[D]")
    finite = np.isfinite(serials)
    out[finite] = _EPOCH64 + np.floor(serials[finite]).astype(np.int64)
    return out
