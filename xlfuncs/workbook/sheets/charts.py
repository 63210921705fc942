"""The Charts sheet: one chart per question, each on its own printed page.

Every series has its own colour, markers drawn with a fill and a size (LibreOffice draws
nothing for a scatter series left to the chart style), its points labelled with the
company's name from the company cell, axes titled with their units, and a log scale
where the values span orders of magnitude. No legend: the labels name the points, so a
legend would only repeat them.
"""

from __future__ import annotations

import numpy as np
from openpyxl.chart import BarChart, ScatterChart, Series
from openpyxl.chart.axis import ChartLines
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.marker import Marker
from openpyxl.chart.series import SeriesLabel, StrRef
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.drawing.line import LineProperties
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.pagebreak import Break

from ..book import NOTE, Book
from .common import FIRST, Layout, Plan, header_rows, spec_column

# Distinct colours (none of them the green of links nor the grey of grid lines)
PALETTE = ("1F77B4", "D62728", "9467BD", "FF7F0E", "17BECF", "8C564B", "E377C2", "BCBD22",
           "000080", "800000")
MAX_NAMED = len(PALETTE)   # more companies than this: one series, unlabelled
CHART_ROWS = 26            # rows a chart covers (13 cm at the default 15 pt row)
CHART_WIDTH, CHART_HEIGHT = 24.0, 13.0   # cm: fits an A4 landscape page
LOG_SPAN = 10.0            # a log axis when the largest value is 10x the smallest


def write_charts(book: Book, plan: Plan, valuation: Layout, burn: Layout) -> None:
    s = book.sheet("Charts")
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.ws.freeze_panes = "A4"
    s.ws.print_title_rows = "1:3"
    header_rows(s, "Charts", "One question a chart, each on its own printed page; the "
                "figures come from the Valuation and Burn sheets.", plan)
    companies = plan.model.companies
    top = 5
    scatter = market_against_revenue(valuation, companies)
    if scatter is None:
        s.append([s.text("No company has both a market value and a revenue: no scatter.",
                         NOTE)])
    else:
        s.ws.add_chart(scatter, f"A{top}")
    top += CHART_ROWS + 2
    s.ws.row_breaks.append(Break(id=top - 3))  # a blank row or two before the chart
    s.ws.add_chart(monthly_burn(burn, companies), f"A{top}")


def _column(layout: Layout, header: str, unit: str) -> tuple[int, np.ndarray]:
    spec = spec_column(layout, header, unit)
    return column_index_from_string(layout.letter(spec)), np.asarray(spec.data, dtype=float)


def _fill(color: str) -> GraphicalProperties:
    return GraphicalProperties(solidFill=color, ln=LineProperties(solidFill=color))


def _titled_axes(chart: ScatterChart | BarChart, x_title: str, y_title: str) -> None:
    chart.x_axis.title, chart.y_axis.title = x_title, y_title
    for axis in (chart.x_axis, chart.y_axis):
        axis.delete = False  # openpyxl 3.1 hides axes unless told
        axis.number_format, axis.numFmt.sourceLinked = "#,##0.##", False  # type: ignore[union-attr]


def _log_if_wide(axis: object, values: np.ndarray) -> str:
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size and positive.max() >= LOG_SPAN * positive.min():
        axis.scaling.logBase = 10  # type: ignore[attr-defined]
        return ", log scale"
    return ""


def market_against_revenue(valuation: Layout, companies: list[str]) -> ScatterChart | None:
    """Does the market pay for revenue? One series per company, named from its cell."""
    v_sheet = valuation.sheet
    x_col, xs = _column(valuation, "Annualised revenue", "HK$ bn")
    y_col, ys = _column(valuation, "Market value", "HK$ bn")
    # a point needs both figures, positive for the log scale
    shown = [i for i in range(len(companies)) if np.isfinite(xs[i]) and np.isfinite(ys[i])
             and xs[i] > 0 and ys[i] > 0]
    if not shown:
        return None
    chart = ScatterChart()
    chart.title = "Is the market paying for revenue? Market value against annualised revenue"
    chart.scatterStyle = "lineMarker"
    x_log = _log_if_wide(chart.x_axis, xs[shown])
    y_log = _log_if_wide(chart.y_axis, ys[shown])
    _titled_axes(chart, f"Annualised revenue (HK$ bn{x_log})", f"Market value (HK$ bn{y_log})")
    chart.y_axis.majorGridlines = ChartLines()
    groups = ([[i] for i in shown] if len(shown) <= MAX_NAMED else [shown])
    for k, group in enumerate(groups):
        color = PALETTE[k % len(PALETTE)]
        for i in group:
            row = FIRST + i
            series = Series(_cell(v_sheet, y_col, row),
                            _cell(v_sheet, x_col, row))
            series.tx = SeriesLabel(strRef=StrRef(f"'{v_sheet}'!$A${row}"))
            series.marker = Marker(symbol="circle", size=11, spPr=_fill(color))
            series.graphicalProperties.line.noFill = True
            series.smooth = False
            if len(shown) <= MAX_NAMED:
                series.dLbls = DataLabelList(showSerName=True, showVal=False, showCatName=False,
                                             showLegendKey=False, showPercent=False,
                                             dLblPos="r")
            chart.series.append(series)
    chart.legend = None
    chart.height, chart.width = CHART_HEIGHT, CHART_WIDTH
    return chart


def _cell(sheet: str, column: int, row: int) -> str:
    return f"'{sheet}'!${get_column_letter(column)}${row}"


def monthly_burn(burn: Layout, companies: list[str]) -> BarChart:
    """How fast does each company spend? Monthly loss-based burn, one bar a company."""
    b_sheet = burn.sheet
    col, _ = _column(burn, "Monthly burn, loss-based", "HK$ bn a month")
    last = FIRST + max(len(companies), 1) - 1
    chart = BarChart()
    chart.type = "bar"
    chart.title = "How fast is each company spending? Monthly burn, loss-based"
    chart.add_data(f"'{b_sheet}'!${get_column_letter(col)}${FIRST}:${get_column_letter(col)}${last}")
    chart.set_categories(f"'{b_sheet}'!$A${FIRST}:$A${last}")
    bars = chart.series[0]
    bars.tx = SeriesLabel(v="Monthly burn (HK$ bn a month)")
    bars.graphicalProperties = _fill(PALETTE[0])
    bars.dLbls = DataLabelList(showVal=True, showSerName=False, showCatName=False,
                               showLegendKey=False, showPercent=False)
    bars.dLbls.numFmt = "#,##0.000"
    chart.gapWidth = 60
    # a bar chart's x axis holds the companies, its y axis the amounts
    _titled_axes(chart, "Company (blank: no loss figure)", "Monthly burn (HK$ bn a month)")
    chart.y_axis.majorGridlines = ChartLines()
    chart.legend = None
    chart.height, chart.width = CHART_HEIGHT, CHART_WIDTH
    return chart

