"""The Facts sheet: the dataset as an Excel table, one fact a row, with sources."""

from __future__ import annotations

import math
import warnings

from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from ...registry import entry
from ..book import (
    DATA,
    FORMULA,
    HEADER,
    NOTE,
    Book,
)
from ..columns import ROW, Column, apply, values
from ..model import Model
from .common import DATE, FACTS_HEADER, Plan, Progress, header_rows, styled

FACTS_COLUMNS = ("Company", "Metric", "Value", "Low", "High", "Unit", "Currency",
                 "Period start", "Period end", "As of", "Qualifier", "Value in bn", "Source",
                 "Data file")


def layout_facts(model: Model) -> Column:
    """Give each fact its Facts row; plan the 'Value in bn' column (money amounts only)."""
    for index, fact in enumerate(model.facts):
        fact.row = FACTS_HEADER + 1 + index
    scaled = [f for f in model.facts if f.billions is not None]
    return apply(entry("DATA_IN_BILLIONS"), f"L{ROW}",
                 values(f"C{ROW}", [f.value for f in scaled]),
                 values(f"F{ROW}", [f.unit for f in scaled], text=True))


MOST_DECIMALS = 4


def _decimals(value: float) -> int:
    """The decimals a figure was given with (53.44: 2; 620: 0), at most MOST_DECIMALS."""
    text = f"{value:.12g}"
    if "e" in text:
        return 0 if abs(value) >= 1 else MOST_DECIMALS
    return min(len(text.partition(".")[2]), MOST_DECIMALS)


def _significant(value: float | None) -> int:
    """Decimals that show a value to four significant digits (at most MOST_DECIMALS)."""
    if not value:
        return 0
    return min(max(3 - math.floor(math.log10(abs(value))), 0), MOST_DECIMALS)


def _decimals_format(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def write_facts(book: Book, plan: Plan, in_bn: Column, progress: Progress) -> None:
    model = plan.model
    s = book.sheet("Facts")
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.ws.freeze_panes = f"C{FACTS_HEADER + 1}"
    s.ws.print_title_rows = f"1:{FACTS_HEADER}"
    s.widths(18, 26, 12, 10, 10, 7, 9, 12, 12, 12, 9, 14, 90, 40)
    header_rows(s, "Facts", "Every figure of the source article, one fact a row, with its "
                "source paragraph and the data file (layer) and row it was read from. "
                "Percentages as Excel stores them (494% is 4.94); a range shows its low, "
                "high and midpoint. To change a figure, change a data file (xlfuncs build "
                "--data): a rebuild takes the files' figures.", plan)
    s.blank_rows()
    s.append([s.text(h, HEADER) for h in FACTS_COLUMNS])
    scaled_index = 0
    # a range's value is its midpoint, the registry's formula over its low and high
    midpoint = apply(entry("DATA_MIDPOINT"), f"C{ROW}", values(f"D{ROW}", [0.0]),
                     values(f"E{ROW}", [0.0]))
    # data, not inputs: a rebuild takes the data files' figures, so they are changed there;
    # each figure with the decimals it was given (53.44, not 53.4400 nor Excel's '620.')
    numbers = [styled(DATA, _decimals_format(d)) for d in range(MOST_DECIMALS + 1)]
    percents = [styled(DATA, _decimals_format(d) + "%") for d in range(MOST_DECIMALS + 1)]
    date_style = styled(DATA, DATE)
    # billions to four significant digits: 1,000 bn, 300.0 bn, 0.0534 bn (not 1,000.0000 bn)
    in_bn_styles = [styled(FORMULA, _decimals_format(d) + '" bn"')
                    for d in range(MOST_DECIMALS + 1)]
    for index, fact in enumerate(model.facts):
        row = fact.row
        given = [v for v in (fact.value, fact.low, fact.high) if v is not None]
        scale = 100 if fact.unit == "%" else 1
        style = (percents if fact.unit == "%" else numbers)[max(
            _decimals(v * scale) for v in given)]
        if fact.qualifier == "range":
            value_cell = s.formula(midpoint.formula(0, row) or "", fact.value, styled(FORMULA,
                                                                              style.number_format))
        else:
            value_cell = s.value(fact.value, style)
        bn_cell = None
        if fact.billions is not None:
            bn_cell = s.formula(in_bn.formula(scaled_index, row) or "", in_bn.cell(scaled_index),
                                in_bn_styles[_significant(fact.billions)])
            scaled_index += 1
        s.append([
            s.text(fact.company), s.text(fact.metric), value_cell,
            *((s.value(fact.low, style), s.value(fact.high, style))
              if fact.qualifier == "range" else (None, None)), s.text(fact.unit),
            s.text(fact.currency) if fact.currency else None,
            s.value(fact.period_start, date_style), s.value(fact.period_end, date_style),
            s.value(fact.as_of, date_style), s.text(fact.qualifier), bn_cell,
            s.text(fact.source, NOTE), s.text(fact.origin, NOTE)])
        if index % 20000 == 19999:
            progress(f"Facts: {index + 1:,} of {len(model.facts):,} rows")
    last = FACTS_HEADER + max(1, len(model.facts))
    table = Table(displayName="FactsTable", ref=f"A{FACTS_HEADER}:N{last}")
    table.tableColumns = [TableColumn(id=i, name=h) for i, h in enumerate(FACTS_COLUMNS, 1)]
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    with warnings.catch_warnings():  # "add table columns manually": done just above
        warnings.filterwarnings("ignore", "In write-only mode", UserWarning)
        s.ws.add_table(table)
