"""The Charts sheet."""

from __future__ import annotations

from openpyxl.chart import BarChart, Reference, ScatterChart, Series
from openpyxl.utils import column_index_from_string

from ..book import (
    Book,
)
from .common import FIRST, Layout, Plan, header_rows, spec_column


def write_charts(book: Book, plan: Plan, valuation: Layout, burn: Layout) -> None:
    s = book.sheet("Charts")
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.ws.freeze_panes = "A4"
    header_rows(s, "Charts", "Market value against annualised revenue, and monthly burn, by "
                "company (from Valuation and Burn).", plan)
    n = max(len(plan.model.companies), 1)
    last = FIRST + n - 1
    v_sheet = next(x for x in book.sheets if x.title == "Valuation").ws
    b_sheet = next(x for x in book.sheets if x.title == "Burn").ws

    def col(layout: Layout, header: str, unit: str) -> int:
        return column_index_from_string(layout.letter(spec_column(layout, header, unit)))

    scatter = ScatterChart()
    scatter.title = "Market value against annualised revenue (HK$ bn)"
    scatter.style = 13
    scatter.x_axis.title = "Annualised revenue (HK$ bn)"
    scatter.y_axis.title = "Market value (HK$ bn)"
    xs = Reference(v_sheet, min_col=col(valuation, "Annualised revenue", "HK$ bn"),
                   min_row=FIRST, max_row=last)
    ys = Reference(v_sheet, min_col=col(valuation, "Market value", "HK$ bn"), min_row=FIRST,
                   max_row=last)
    series = Series(ys, xs, title="Companies")
    series.marker.symbol = "circle"
    series.graphicalProperties.line.noFill = True
    scatter.series.append(series)
    scatter.height, scatter.width = 9, 18
    s.ws.add_chart(scatter, "A5")

    bars = BarChart()
    bars.type = "bar"
    bars.title = "Monthly burn, loss-based (HK$ bn a month)"
    data = Reference(b_sheet, min_col=col(burn, "Monthly burn, loss-based", "HK$ bn a month"),
                     min_row=FIRST, max_row=last)
    bars.add_data(data, titles_from_data=False)
    bars.set_categories(Reference(b_sheet, min_col=1, min_row=FIRST, max_row=last))
    bars.legend = None
    bars.height, bars.width = 9, 18
    s.ws.add_chart(bars, "A25")
