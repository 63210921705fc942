"""Turning what Excel or Python hands us into numpy arrays, element by element.

Every coercion returns ``(values, status)``: a float64 (or object, for text) array and an
int8 array of the same shape saying, per element, whether the value is usable:

* ``OK``: a number (numeric text such as ``"12.5"`` or ``"30%"`` counts, as in Excel);
* ``BLANK``: an empty cell, ``None``, ``""`` or NaN (pandas' "missing");
* ``WRONG_TYPE``: text where a number belongs, a boolean, an unreadable date (#VALUE!);
* ``OUT_OF_RANGE``: an infinity, or a date outside Excel's calendar (#NUM!).

Dates travel as Excel serial numbers (days since 1899-12-30), the form Excel sends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import XlfuncsError

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
    if hasattr(value, "to_numpy"):  # pandas Series/DataFrame
        return value.to_numpy()
    if isinstance(value, (list, tuple)):
        try:
            return np.array(value, dtype=object)
        except ValueError as exc:  # numpy refuses ragged nesting
            raise XlfuncsError(
                "ragged range: every row must have the same number of cells") from exc
    arr = np.empty((), dtype=object)
    arr[()] = value
    return arr


def _number_or_status(value: Any) -> tuple[float, int]:
    if value is None:
        return np.nan, BLANK
    if isinstance(value, (bool, np.bool_)):
        return np.nan, WRONG_TYPE
    if isinstance(value, _NUMBER_TYPES):
        number = float(value)
        if np.isnan(number):
            return np.nan, BLANK
        return (number, OK) if np.isfinite(number) else (np.nan, OUT_OF_RANGE)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return np.nan, BLANK
        scale = 1.0
        if text.endswith("%"):
            text, scale = text[:-1], 0.01
        try:
            number = float(text.replace(",", "")) * scale
        except ValueError:
            return np.nan, WRONG_TYPE
        # "nan"/"inf" typed as text are not numbers a person meant
        return (number, OK) if np.isfinite(number) else (np.nan, WRONG_TYPE)
    if isinstance(value, (dt.date, np.datetime64)):
        return _serial_or_status(value)
    return np.nan, WRONG_TYPE


def _serial_or_status(value: Any) -> tuple[float, int]:
    if value is None:
        return np.nan, BLANK
    if isinstance(value, (bool, np.bool_)):
        return np.nan, WRONG_TYPE
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return np.nan, BLANK
        value = value.astype("datetime64[us]").item()
    if isinstance(value, dt.datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        serial = value.toordinal() - _EPOCH_ORDINAL + seconds / 86400
    elif isinstance(value, dt.date):
        serial = float(value.toordinal() - _EPOCH_ORDINAL)
    elif isinstance(value, _NUMBER_TYPES):
        serial = float(value)
        if np.isnan(serial):
            return np.nan, BLANK
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return np.nan, BLANK
        try:
            return _serial_or_status(dt.date.fromisoformat(text[:10]) if len(text) <= 10
                                     else dt.datetime.fromisoformat(text))
        except ValueError:
            return np.nan, WRONG_TYPE
    else:
        return np.nan, WRONG_TYPE
    if not (MIN_SERIAL <= serial <= MAX_SERIAL + 1):
        return np.nan, OUT_OF_RANGE
    return serial, OK


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
    if arr.dtype.kind == "M":
        arr = arr.astype(object)
    flat = arr.ravel()
    # Ranges from Excel are mostly plain floats: decide that with one pass of type()
    # instead of calling the per-element classifier 100,000 times.
    if flat.size and set(map(type, flat)) <= {float, int}:
        return _coerce(flat.astype(np.float64).reshape(arr.shape), element, numeric_ok)
    values = np.empty(flat.shape, dtype=np.float64)
    status = np.empty(flat.shape, dtype=np.int8)
    for i, item in enumerate(flat):
        values[i], status[i] = element(item)
    return values.reshape(arr.shape), status.reshape(arr.shape)


def to_numbers(value: Any) -> tuple[np.ndarray, np.ndarray]:
    """Numbers from a scalar or range; see the module docstring for the status codes."""
    return _coerce(value, _number_or_status, np.isfinite)


def to_serials(value: Any) -> tuple[np.ndarray, np.ndarray]:
    """Excel date serials from serials, ``date``/``datetime``/``datetime64`` or ISO text."""
    return _coerce(value, _serial_or_status,
                   lambda v: (v >= MIN_SERIAL) & (v <= MAX_SERIAL + 1))


def to_texts(value: Any) -> tuple[np.ndarray, np.ndarray]:
    """Stripped text from a scalar or range; numbers are WRONG_TYPE, blanks BLANK."""
    arr = as_object_array(value)
    flat = arr.ravel()
    texts = np.empty(flat.shape, dtype=object)
    status = np.empty(flat.shape, dtype=np.int8)
    for i, item in enumerate(flat):
        if item is None or (isinstance(item, float) and np.isnan(item)):
            texts[i], status[i] = "", BLANK
        elif isinstance(item, (str, np.str_)):
            text = str(item).strip()
            texts[i], status[i] = text, (OK if text else BLANK)
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
    out = np.full(np.shape(serials), np.datetime64("NaT"), dtype="datetime64[D]")
    finite = np.isfinite(serials)
    days = np.floor(np.where(finite, serials, 0)).astype(np.int64)
    out[finite] = np.datetime64(EXCEL_EPOCH.isoformat(), "D") + days[finite]
    return out
