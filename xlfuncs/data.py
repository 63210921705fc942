"""The facts dataset: every figure of the article, one fact a row, with its provenance.

Columns: ``company, metric, value, unit, currency, period_start, period_end, as_of,
qualifier, source`` and, optionally, ``combines``. ``qualifier`` says how the source
states the figure: ``=`` exactly, ``>=`` "over"/"exceeded"/"beyond" (a lower bound), ``~``
"approximately", ``low``/``high`` the two ends of a range (two rows). ``combines`` marks
a combined figure (``MiniMax|Zhipu``): it feeds the checks, not a company row of its own.
Percentages are stored as written (``494`` with unit ``%``) and returned by
:func:`data_fact` as decimals (4.94), the way Excel stores percentages.

Every entry point takes further CSV files of the same shape, layered over the article's
(:mod:`xlfuncs.layers`): ``path=`` here (one path or a list), ``--data`` (repeatable) on the
command line, and ``XLFUNCS_DATA`` (paths separated by ``os.pathsep``) for the Excel
functions. A malformed file is refused whole, with one line naming file, row and column
(:mod:`xlfuncs.facts_file`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import inputs
from .elementwise import (
    STATUS_BLANK,
    STATUS_OK,
    Guard,
    Outcome,
    broadcast,
    metric,
    python_answer,
)
from .errors import NA, VALUE, DataFileError, XlError, XlfuncsError
from .facts_file import (
    BILLIONS_PER_UNIT,
    COLUMNS,
    CURRENCIES,
    CURRENCY_ALIASES,
    MAX_FILE_BYTES,
    OPTIONAL_COLUMNS,
    QUALIFIERS,
    UNITS,
    name_key,
    parse_rows,
)
from .formula import lookup, not_one_of
from .layers import (
    BUNDLED_LABEL,
    DATA_ENV,
    NO_ARTICLE_ENV,
    DataPaths,
    Layer,
    bundled_path,
    frame_of,
    group_rows,
    load_layers,
    resolve_paths,
)

__all__ = ["BILLIONS_PER_UNIT", "BUNDLED_LABEL", "COLUMNS", "CURRENCIES", "CURRENCY_ALIASES",
           "DATA_ENV", "MAX_FILE_BYTES", "NO_ARTICLE_ENV", "OPTIONAL_COLUMNS", "QUALIFIERS",
           "UNITS", "Layer", "bundled_path", "name_key", "resolve_paths"]

RANGE_PICKS = ("low", "high", "mid")
PICKS = (*RANGE_PICKS, "=", ">=", "~")
# How DATA_SOURCE says a fact's qualifier, so an "over X" is never read as exact.
QUALIFIER_WORDS = {"=": "", ">=": "over (a lower bound): ", "~": "approximately: ",
                   "range": "a range (low to high): "}


def parse_facts(text: str, path: str | os.PathLike[str] = "<facts>") -> pd.DataFrame:
    """Validate one file's CSV text and return its facts (see :func:`load_facts`)."""
    where = Path(path)
    groups = group_rows(parse_rows(text, where))
    return frame_of({key: (group, str(where)) for key, group in groups.items()}, [])


def load_facts(path: DataPaths = None, article: bool | None = None) -> pd.DataFrame:
    """Load, validate and layer facts files (see :func:`xlfuncs.layers.resolve_paths`):
    the article's bundled file, then each given file over it, fact by fact.

    Raises :class:`DataFileError` naming file, row and column for any malformed cell;
    nothing is returned half-loaded. ``frame.attrs["layers"]`` lists the files read.

    >>> facts = load_facts()
    >>> facts.loc[facts.company.eq("Zhipu") & facts.metric.eq("revenue"), "value"].item()
    191.0
    """
    return load_layers(resolve_paths(path, article))


@dataclass(frozen=True)
class Fact:
    """One fact as the Excel functions answer it (a range's two rows as one)."""

    company: str
    metric: str
    qualifier: str            # =, >=, ~ or range
    value: float              # percentages as decimals; a range's midpoint
    low: float | None
    high: float | None
    source: str
    file: str
    rows: str                 # "row 14" or "rows 29-30"


def _facts_of(facts: pd.DataFrame) -> dict[tuple[str, str], Fact]:
    grouped: dict[tuple[str, str], list[Any]] = {}
    for r in facts.itertuples(index=False):
        grouped.setdefault((name_key(r.company), name_key(r.metric)), []).append(r)
    found = {}
    for key, group in grouped.items():
        first = group[0]
        values = {r.qualifier: (r.value / 100 if r.unit == "%" else float(r.value))
                  for r in group}
        source = " | ".join(dict.fromkeys(r.source for r in group))
        rows = "rows " + " and ".join(str(r.row) for r in group) if len(group) > 1 else \
            f"row {first.row}"
        if "low" in values:
            low, high = values["low"], values["high"]
            found[key] = Fact(first.company, first.metric, "range",
                              float(midpoint(low, high)), low, high, source, first.file, rows)
        else:
            found[key] = Fact(first.company, first.metric, first.qualifier,
                              values[first.qualifier], None, None, source, first.file, rows)
    return found


@dataclass(frozen=True)
class Dataset:
    """Loaded, layered facts with the lookups the Excel functions need."""

    facts: pd.DataFrame
    lookup: dict[tuple[str, str], Fact]
    companies: tuple[str, ...]
    metrics: dict[str, tuple[str, ...]]

    @classmethod
    def from_frame(cls, facts: pd.DataFrame) -> Dataset:
        lookup = _facts_of(facts)
        metrics: dict[str, list[str]] = {}
        for fact in lookup.values():
            metrics.setdefault(name_key(fact.company), []).append(fact.metric)
        companies = tuple(dict.fromkeys(f.company for f in lookup.values()))
        return cls(facts, lookup, companies, {k: tuple(v) for k, v in metrics.items()})

    def find(self, company: str, metric: str) -> Fact | XlError:
        """The fact, or the reason there is none."""
        found = self.lookup.get((name_key(company), name_key(metric)))
        if found is not None:
            return found
        if name_key(company) not in self.metrics:
            return XlError(NA, f"company '{company}' is not in the dataset "
                           f"({len(self.companies)} companies; see DATA_COMPANIES())")
        return XlError(NA, f"{company} has no metric '{metric}' (it has: "
                       f"{', '.join(self.metrics[name_key(company)])})")

    def fact(self, company: str, metric: str, pick: str = "") -> float | XlError:
        """One value; ``pick`` a range's low, high or mid, or the qualifier the caller
        expects (=, >=, ~): a fact without it is #N/A, never a silent answer."""
        found = self.find(company, metric)
        if isinstance(found, XlError):
            return found
        if found.qualifier == "range":
            if pick in ("", "mid"):
                return found.value
            if pick in ("low", "high"):
                return found.low if pick == "low" else found.high  # type: ignore[return-value]
        elif pick in ("", found.qualifier):
            return found.value
        return XlError(NA, f"{found.company} / {found.metric} is {describe(found)}: it has "
                       f"no '{pick}' (see DATA_QUALIFIER)")

    def source(self, company: str, metric: str) -> str | XlError:
        found = self.find(company, metric)
        if isinstance(found, XlError):
            return found
        return (f"{QUALIFIER_WORDS[found.qualifier]}{found.source} "
                f"[{found.file}, {found.rows}]")

    def qualifier(self, company: str, metric: str) -> str | XlError:
        found = self.find(company, metric)
        return found if isinstance(found, XlError) else found.qualifier


def describe(fact: Fact) -> str:
    if fact.qualifier == "range":
        return f"a range ({fact.low:g} to {fact.high:g})"
    words = {"=": "exact", ">=": "over: a lower bound", "~": "approximate"}
    return f"a single figure ('{fact.qualifier}', {words[fact.qualifier]})"


@lru_cache(maxsize=8)
def _dataset_cached(paths: tuple[str, ...], stamps: tuple[tuple[int, int], ...]) -> Dataset:
    return Dataset.from_frame(load_layers([Path(p) for p in paths]))


def dataset(path: DataPaths = None, article: bool | None = None) -> Dataset:
    """The layered dataset (see :func:`load_facts`), re-read when a file changes."""
    paths = resolve_paths(path, article)
    stamps = []
    for where in paths:
        try:
            stat = os.stat(where)
        except OSError as exc:
            raise DataFileError(where, None, None, f"cannot be read ({exc.strerror})") from None
        stamps.append((stat.st_mtime_ns, stat.st_size))
    return _dataset_cached(tuple(str(p) for p in paths), tuple(stamps))


def _text_outcome(parts: list[np.ndarray], statuses: list[np.ndarray], names: list[str],
                  answer: Any, returns: str) -> Outcome:
    """Apply ``answer`` to each element of broadcast text arguments."""
    scalar = all(p.ndim == 0 for p in parts)
    parts = broadcast(parts, names)
    statuses = broadcast(statuses, names)
    shape = parts[0].shape
    # a blank or failed element is never written below: it keeps NaN, which Outcome never
    # reads (its status says blank or error)
    values = np.full(shape, np.nan, dtype=object if returns == "text" else np.float64)
    status = np.empty(shape, dtype=np.int16)  # the loop sets every element's status
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
        else:
            values[index] = result
            status[index] = STATUS_OK
    return Outcome(values, status, tuple(errors), scalar, returns)  # type: ignore[arg-type]


def _texts(*values: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    parts, statuses = zip(*(inputs.to_texts(v) for v in values), strict=True)
    return list(parts), list(statuses)


def data_fact_outcome(company: Any, metric: Any, qualifier: Any = None,
                      path: DataPaths = None) -> Outcome:
    """:func:`data_fact` with each element's error, for the Excel layer."""
    data = dataset(path)

    def answer(company: str, metric: str, pick: str) -> float | XlError:
        pick = pick.strip().casefold()
        if pick and pick not in PICKS:
            return XlError(VALUE, f"qualifier: '{pick}' is not low, high, mid, =, >= or ~")
        return data.fact(company, metric, pick)

    return _text_outcome(*_texts(company, metric, qualifier), ["company", "metric", "qualifier"],
                         answer, "number")


def data_fact(company: Any, metric: Any, qualifier: Any = None,
              path: DataPaths = None) -> Any:
    """A figure from the dataset, in its unit (percentages as decimals). For a range,
    ``qualifier`` picks ``low``, ``high`` or ``mid`` (the default); for a single figure it
    may name the qualifier expected (``=``, ``>=``, ``~``). A qualifier the fact does not
    have is #N/A with the reason: ``DATA_QUALIFIER`` says which one it has.

    >>> data_fact("Zhipu", "revenue")
    191.0
    >>> data_fact("Cambricon", "net_profit")  # RMB 1.85-2.15bn
    2.0
    >>> data_fact("MiniMax", "cumulative_increase")  # 494%
    4.94
    """
    return python_answer("data_fact", data_fact_outcome, (company, metric, qualifier),
                         {"path": path})


def data_qualifier_outcome(company: Any, metric: Any, path: DataPaths = None) -> Outcome:
    """:func:`data_qualifier` with each element's error, for the Excel layer."""
    return _text_outcome(*_texts(company, metric), ["company", "metric"],
                         dataset(path).qualifier, "text")


def data_qualifier(company: Any, metric: Any, path: DataPaths = None) -> Any:
    """How the source states a figure: ``=`` exactly, ``>=`` over it (a lower bound),
    ``~`` approximately, or ``range`` (DATA_FACT's low, high and mid).

    >>> data_qualifier("MiniMax", "market_value")
    '>='
    """
    return python_answer("data_qualifier", data_qualifier_outcome, (company, metric),
                         {"path": path})


def data_source_outcome(company: Any, metric: Any, path: DataPaths = None) -> Outcome:
    """:func:`data_source` with each element's error, for the Excel layer."""
    return _text_outcome(*_texts(company, metric), ["company", "metric"],
                         dataset(path).source, "text")


def data_source(company: Any, metric: Any, path: DataPaths = None) -> Any:
    """Where a figure comes from: the source's note, the file and row it was read from,
    and, unless it is exact, its qualifier in words.

    >>> data_source("Zhipu", "revenue")
    '2026-02-24 article, para 20: revenue for 2025 [xlfuncs/data/facts.csv, row 14]'
    >>> data_source("MiniMax", "market_value")[:22]
    'over (a lower bound): '
    """
    return python_answer("data_source", data_source_outcome, (company, metric),
                         {"path": path})


def data_table(company: str | None = None, path: DataPaths = None) -> pd.DataFrame:
    """The dataset, or one company's rows, with its columns as headers (and the file and
    row each fact was read from)."""
    facts = dataset(path).facts
    if company is None or (isinstance(company, str) and not company.strip()):
        return facts.copy()
    if not isinstance(company, str):
        raise XlfuncsError("company: expected one company's name as text")
    chosen = facts[facts["company"].map(name_key) == name_key(company)]
    if chosen.empty:
        raise XlfuncsError(f"company '{company}' is not in the dataset")
    return chosen.reset_index(drop=True)


def data_companies(path: DataPaths = None) -> list[str]:
    """The companies of the dataset, in the order they first appear.

    >>> data_companies()[:3]
    ['MiniMax+Zhipu', 'MiniMax', 'Zhipu']
    """
    return list(dataset(path).companies)


data_fact.outcome = data_fact_outcome  # type: ignore[attr-defined]
data_source.outcome = data_source_outcome  # type: ignore[attr-defined]
data_qualifier.outcome = data_qualifier_outcome  # type: ignore[attr-defined]

SCALE_UNITS = tuple(BILLIONS_PER_UNIT)


@metric(
    Guard(NA, "unit is not a scale of money (tn, bn, m or k)",
          lambda v, u: not_one_of(u, SCALE_UNITS), native="lookup"),
    kinds={"unit": "text"},
)
def in_billions(value, unit):
    """An amount in billions of its currency, from its unit (tn, bn, m or k).

    >>> in_billions(53.44, "m")
    0.05344
    """
    return value * lookup(unit, SCALE_UNITS, tuple(BILLIONS_PER_UNIT.values()))


@metric()
def midpoint(low, high):
    """The middle of a range, as DATA_FACT's ``mid`` (Cambricon's RMB 1.85-2.15bn: 2.0).

    >>> midpoint(1.85, 2.15)
    2.0
    """
    return (low + high) / 2
