"""The facts dataset: every figure of the article, one fact a row, with its provenance.

Columns: ``company, metric, value, unit, currency, period_start, period_end, as_of,
qualifier, source``. ``qualifier`` says how the article states the figure: ``=`` exactly,
``>=`` "over"/"exceeded"/"beyond", ``~`` "approximately", ``low``/``high`` the two ends
of a range (two rows). Percentages are stored as written (``494`` with unit ``%``) and
returned by :func:`data_fact` as decimals (4.94), the way Excel stores percentages.

Every entry point takes its own CSV of the same shape: ``path=`` here, ``--data`` on the
command line, and the ``XLFUNCS_DATA`` environment variable for the Excel functions.
A malformed file is refused whole, with one message naming file, row and column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import inputs
from .elementwise import STATUS_BLANK, STATUS_OK, Guard, Outcome, broadcast, metric
from .errors import NA, VALUE, DataFileError, XlError, XlfuncsError

COLUMNS = ("company", "metric", "value", "unit", "currency", "period_start", "period_end",
           "as_of", "qualifier", "source")
UNITS = ("tn", "bn", "m", "k", "", "%", "x", "price", "years", "months", "count")
CURRENCIES = ("HKD", "USD", "CNY", "")
CURRENCY_ALIASES = {"RMB": "CNY"}
QUALIFIERS = ("=", ">=", "~", "low", "high")
RANGE_PICKS = ("low", "high", "mid")
MAX_FILE_BYTES = 64 * 1024 * 1024  # a 10,000-company universe is a few MB
DATA_ENV = "XLFUNCS_DATA"


def bundled_path() -> Path:
    """The article dataset shipped inside the package."""
    return Path(str(resources.files("xlfuncs") / "data" / "facts.csv"))


def resolve_path(path: str | os.PathLike[str] | None = None) -> Path:
    """``path``, else ``$XLFUNCS_DATA``, else the bundled dataset."""
    chosen = path or os.environ.get(DATA_ENV) or bundled_path()
    return Path(chosen)


def _date(text: str, path: Path, row: int, column: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise DataFileError(path, row, column,
                            f"'{text}' is not an ISO date (YYYY-MM-DD)") from None


def _one_of(text: str, allowed: tuple[str, ...], path: Path, row: int, column: str) -> str:
    if text not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        raise DataFileError(path, row, column, f"'{text}' is not one of {shown}")
    return text


def _parse_row(raw: dict[str, str | None], path: Path, row: int) -> dict[str, Any]:
    cells = {}
    for column in COLUMNS:
        value = raw.get(column)
        if value is None:
            raise DataFileError(path, row, column, "the row has too few cells")
        cells[column] = value.strip()
    if None in raw:  # csv puts surplus cells under the key None
        raise DataFileError(path, row, None, "the row has more cells than the header")
    for column in ("company", "metric", "source"):
        if not cells[column]:
            raise DataFileError(path, row, column, "must not be empty")
    try:
        value = float(cells["value"].replace(",", ""))
    except ValueError:
        raise DataFileError(path, row, "value",
                            f"'{cells['value']}' is not a number") from None
    if not math.isfinite(value):
        raise DataFileError(path, row, "value", f"'{cells['value']}' is not a finite number")
    currency = CURRENCY_ALIASES.get(cells["currency"].upper(), cells["currency"].upper())
    start = _date(cells["period_start"], path, row, "period_start")
    end = _date(cells["period_end"], path, row, "period_end")
    if (start is None) != (end is None):
        missing = "period_end" if end is None else "period_start"
        raise DataFileError(path, row, missing, "a period needs both its start and its end")
    if start and end and end < start:
        raise DataFileError(path, row, "period_end",
                            f"the period ends ({end}) before it starts ({start})")
    return {
        "company": cells["company"],
        "metric": cells["metric"],
        "value": value,
        "unit": _one_of(cells["unit"], UNITS, path, row, "unit"),
        "currency": _one_of(currency, CURRENCIES, path, row, "currency"),
        "period_start": start,
        "period_end": end,
        "as_of": _date(cells["as_of"], path, row, "as_of"),
        "qualifier": _one_of(cells["qualifier"], QUALIFIERS, path, row, "qualifier"),
        "source": cells["source"],
        "_row": row,
    }


def _check_ranges(rows: list[dict[str, Any]], path: Path) -> None:
    seen: dict[tuple[str, str, str], int] = {}
    kinds: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for r in rows:
        key = (r["company"].casefold(), r["metric"].casefold(), r["qualifier"])
        if key in seen:
            raise DataFileError(path, r["_row"], "qualifier",
                                f"duplicate fact: {r['company']} / {r['metric']} / "
                                f"'{r['qualifier']}' is already on row {seen[key]}")
        seen[key] = r["_row"]
        kinds.setdefault(key[:2], {})[r["qualifier"]] = r
    for by_qualifier in kinds.values():
        ends = {q: r for q, r in by_qualifier.items() if q in ("low", "high")}
        if not ends:
            continue
        last = max(ends.values(), key=lambda r: r["_row"])
        if len(ends) == 1:
            missing = "high" if "low" in ends else "low"
            raise DataFileError(path, last["_row"], "qualifier",
                                f"a range needs both a 'low' and a 'high' row; '{missing}' "
                                f"is missing for {last['company']} / {last['metric']}")
        if ends["low"]["value"] > ends["high"]["value"]:
            raise DataFileError(path, last["_row"], "value",
                                "the range's 'low' value is above its 'high' value")
        if len(by_qualifier) > 2:
            raise DataFileError(path, last["_row"], "qualifier",
                                f"{last['company']} / {last['metric']} has both a range and "
                                "a single value")


def parse_facts(text: str, path: str | os.PathLike[str] = "<facts>") -> pd.DataFrame:
    """Validate CSV text and return the facts DataFrame (see :func:`load_facts`)."""
    where = Path(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise DataFileError(where, 1, missing[0],
                            f"missing column (the header needs: {', '.join(COLUMNS)})")
    reader.fieldnames = header
    rows = []
    try:
        for raw in reader:
            if not any((v or "").strip() for k, v in raw.items() if k is not None):
                continue  # blank line
            rows.append(_parse_row(raw, where, reader.line_num))
    except csv.Error as exc:
        raise DataFileError(where, reader.line_num, None, f"not valid CSV: {exc}") from None
    if not rows:
        raise DataFileError(where, None, None, "the file holds no facts")
    _check_ranges(rows, where)
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "_row"]).drop(columns="_row")
    for column in ("period_start", "period_end", "as_of"):
        frame[column] = pd.to_datetime(frame[column])
    frame.attrs["path"] = str(where)
    return frame


def load_facts(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load and validate a facts CSV (default: ``$XLFUNCS_DATA`` or the bundled article data).

    Raises :class:`DataFileError` naming file, row and column for any malformed cell;
    nothing is returned half-loaded.

    >>> facts = load_facts()
    >>> facts.loc[facts.company.eq("Zhipu") & facts.metric.eq("revenue"), "value"].item()
    191.0
    """
    where = resolve_path(path)
    try:
        size = where.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DataFileError(where, None, None,
                                f"the file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
        text = where.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise DataFileError(where, None, None, f"cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise DataFileError(where, None, None, f"is not UTF-8 text ({exc.reason})") from None
    return parse_facts(text, where)


@dataclass(frozen=True)
class Dataset:
    """A loaded facts file with the lookups the Excel functions need."""

    facts: pd.DataFrame
    lookup: dict[tuple[str, str], dict[str, tuple[float, str]]]
    companies: tuple[str, ...]
    metrics: dict[str, tuple[str, ...]]

    @classmethod
    def from_frame(cls, facts: pd.DataFrame) -> Dataset:
        lookup: dict[tuple[str, str], dict[str, tuple[float, str]]] = {}
        metrics: dict[str, list[str]] = {}
        for r in facts.itertuples(index=False):
            value = r.value / 100 if r.unit == "%" else r.value
            lookup.setdefault((r.company.casefold(), r.metric.casefold()), {})[r.qualifier] = (
                value, r.source)
            metrics.setdefault(r.company.casefold(), [])
            if r.metric not in metrics[r.company.casefold()]:
                metrics[r.company.casefold()].append(r.metric)
        companies = tuple(dict.fromkeys(facts["company"]))
        return cls(facts, lookup, companies, {k: tuple(v) for k, v in metrics.items()})

    def fact(self, company: str, metric: str, pick: str) -> float | XlError:
        """One value, or the reason there is none."""
        found = self.lookup.get((company.casefold(), metric.casefold()))
        if found is None:
            if company.casefold() not in self.metrics:
                return XlError(NA, f"company '{company}' is not in the dataset "
                               f"({len(self.companies)} companies; see DATA_COMPANIES())")
            return XlError(NA, f"{company} has no metric '{metric}' (it has: "
                           f"{', '.join(self.metrics[company.casefold()])})")
        if "low" in found:
            low, high = found["low"][0], found["high"][0]
            mid = float(midpoint(low, high))
            return {"low": low, "high": high, "mid": mid, "": mid}[pick]
        return next(iter(found.values()))[0]

    def source(self, company: str, metric: str) -> str | XlError:
        found = self.lookup.get((company.casefold(), metric.casefold()))
        if found is None:
            error = self.fact(company, metric, "")
            assert isinstance(error, XlError)
            return error
        return " | ".join(dict.fromkeys(source for _, source in found.values()))


@lru_cache(maxsize=8)
def _dataset_cached(path: str, mtime_ns: int, size: int) -> Dataset:
    return Dataset.from_frame(load_facts(path))


def dataset(path: str | os.PathLike[str] | None = None) -> Dataset:
    """The dataset at ``path`` (see :func:`resolve_path`), re-read when the file changes."""
    where = resolve_path(path)
    try:
        stat = where.stat()
    except OSError as exc:
        raise DataFileError(where, None, None, f"cannot be read ({exc.strerror})") from None
    return _dataset_cached(str(where), stat.st_mtime_ns, stat.st_size)


def _text_outcome(parts: list[np.ndarray], statuses: list[np.ndarray], names: list[str],
                  answer: Any, returns: str) -> Outcome:
    """Apply ``answer`` to each element of broadcast text arguments."""
    scalar = all(p.ndim == 0 for p in parts)
    parts = broadcast(parts, names)
    statuses = broadcast(statuses, names)
    shape = parts[0].shape
    values = np.empty(shape, dtype=object if returns == "text" else np.float64)
    status = np.zeros(shape, dtype=np.int16)
    errors: dict[XlError, int] = {}
    for index in np.ndindex(shape):
        element_status = [int(s[index]) for s in statuses]
        if any(s == inputs.BLANK for s in element_status[:2]):
            status[index] = STATUS_BLANK
            continue
        bad = next((n for n, s in zip(names, element_status, strict=True)
                    if s == inputs.WRONG_TYPE), None)
        result = (XlError(VALUE, f"{bad}: expected text") if bad
                  else answer(*(str(p[index]) for p in parts)))
        if isinstance(result, XlError):
            status[index] = 2 + errors.setdefault(result, len(errors))
            values[index] = None if returns == "text" else np.nan
        else:
            values[index] = result
            status[index] = STATUS_OK
    return Outcome(values, status, tuple(errors), scalar, returns)  # type: ignore[arg-type]


def data_fact_outcome(company: Any, metric: Any, qualifier: Any = None,
                      path: str | None = None) -> Outcome:
    """:func:`data_fact` with each element's error, for the Excel layer."""
    data = dataset(path)
    names = ["company", "metric", "qualifier"]
    parts, statuses = zip(*(inputs.to_texts(v) for v in (company, metric, qualifier)),
                          strict=True)

    def answer(company: str, metric: str, pick: str) -> float | XlError:
        pick = pick.casefold()
        if pick and pick not in RANGE_PICKS:
            return XlError(VALUE, f"qualifier: '{pick}' is not low, high or mid")
        return data.fact(company, metric, pick)

    return _text_outcome(list(parts), list(statuses), names, answer, "number")


def data_fact(company: Any, metric: Any, qualifier: Any = None, path: str | None = None) -> Any:
    """A figure from the dataset, in its unit (percentages as decimals); for a range,
    ``qualifier`` picks ``low``, ``high`` or ``mid`` (the default).

    >>> data_fact("Zhipu", "revenue")
    191.0
    >>> data_fact("Cambricon", "net_profit")  # RMB 1.85-2.15bn
    2.0
    >>> data_fact("MiniMax", "cumulative_increase")  # 494%
    4.94
    """
    return data_fact_outcome(company, metric, qualifier, path).python()


def data_source_outcome(company: Any, metric: Any, path: str | None = None) -> Outcome:
    """:func:`data_source` with each element's error, for the Excel layer."""
    data = dataset(path)
    parts, statuses = zip(*(inputs.to_texts(v) for v in (company, metric)), strict=True)
    return _text_outcome(list(parts), list(statuses), ["company", "metric"], data.source, "text")


def data_source(company: Any, metric: Any, path: str | None = None) -> Any:
    """Where a figure comes from: the article's date, paragraph and a note.

    >>> data_source("Zhipu", "revenue")
    '2026-02-24 article, para 20: revenue for 2025'
    """
    return data_source_outcome(company, metric, path).python()


def data_table(company: str | None = None, path: str | None = None) -> pd.DataFrame:
    """The dataset, or one company's rows, with its columns as headers."""
    facts = dataset(path).facts
    if company is None or (isinstance(company, str) and not company.strip()):
        return facts.copy()
    if not isinstance(company, str):
        raise XlfuncsError("company: expected one company's name as text")
    chosen = facts[facts["company"].str.casefold() == company.strip().casefold()]
    if chosen.empty:
        raise XlfuncsError(f"company '{company}' is not in the dataset")
    return chosen.reset_index(drop=True)


def data_companies(path: str | None = None) -> list[str]:
    """The companies of the dataset, in the order they first appear.

    >>> data_companies()[:3]
    ['MiniMax+Zhipu', 'MiniMax', 'Zhipu']
    """
    return list(dataset(path).companies)


data_fact.outcome = data_fact_outcome  # type: ignore[attr-defined]
data_source.outcome = data_source_outcome  # type: ignore[attr-defined]

BILLIONS_PER_UNIT = {"tn": 1000.0, "bn": 1.0, "m": 0.001, "k": 0.000001}
SCALE_UNITS = tuple(BILLIONS_PER_UNIT)


def _billions_per_unit(units: np.ndarray) -> np.ndarray:
    lookup = np.vectorize(lambda u: BILLIONS_PER_UNIT.get(str(u), np.nan), otypes=[float])
    return lookup(units) if units.size else units.astype(float)


@metric(
    Guard(NA, "unit is not a scale of money (tn, bn, m or k)",
          lambda v, u: np.isnan(_billions_per_unit(u))),
    kinds={"unit": "text"},
)
def in_billions(value, unit):
    """An amount in billions of its currency, from its unit (tn, bn, m or k).

    >>> in_billions(53.44, "m")
    0.05344
    """
    return value * _billions_per_unit(unit)


@metric()
def midpoint(low, high):
    """The middle of a range, as DATA_FACT's ``mid`` (Cambricon's RMB 1.85-2.15bn: 2.0).

    >>> midpoint(1.85, 2.15)
    2.0
    """
    return (low + high) / 2
