"""The Simulation sheet: per story company, drivers drawn from distributions (inputs),
the statistics of value and a histogram against the market value.

The statistics and the bin counts are computed by xlfuncs at build time (stated seed and
draws) and written as values, rounded as every computed cache; beside them a live
VAL_STORY_SIMULATE cell recomputes them where the add-in is installed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from openpyxl.chart import BarChart, Reference
from openpyxl.worksheet.pagebreak import Break

from ...story import simulate
from ..book import FORMULA, HEADER, INPUT, LINK, NOTE, TITLE, UNIT, Book, Sheet
from ..model import SIMULATION_DRAWS, SIMULATION_SEED, STORY_DISTRIBUTIONS
from ..routes import for_route
from .common import Plan, header_rows, styled
from .dcf import CompanyDcf, rounded

BINS = 20
LIVE = "H"   # the column of the live add-in cells
STAT_LABELS = {"mean": "Mean", "p5": "5th percentile", "p25": "25th percentile",
               "p50": "Median", "p75": "75th percentile", "p95": "95th percentile",
               "P(value >= price)": "P(value >= market value)", "draws valued": "Draws valued"}


@dataclass
class Simulated:
    dcf: CompanyDcf
    names: list[str]
    stats: list[object]
    edges: np.ndarray | None      # BINS + 1 bin edges (None: no draw had a value)
    counts: np.ndarray | None
    market_bin: int | None


def plan_simulation(plan: Plan) -> list[Simulated]:
    out = []
    table = {d: (name, *params) for d, name, params, _ in STORY_DISTRIBUTIONS}
    for d in plan.dcf or []:
        given = d.company.given()
        market = d.market.cell(0)
        price = market if isinstance(market, float) else None
        names, [stats] = simulate.simulate(given, table, SIMULATION_DRAWS, SIMULATION_SEED,
                                           price)
        values, _ = simulate.simulated_values(given, table, SIMULATION_DRAWS,
                                              SIMULATION_SEED)
        valued = values[0][np.isfinite(values[0])]
        edges = counts = bin_of_market = None
        if valued.size:
            lo, hi = np.percentile(valued, [1, 99])
            if price is not None:
                lo, hi = min(lo, price), max(hi, price)
            if hi <= lo:
                hi = lo + 1.0
            edges = np.linspace(lo, hi, BINS + 1)
            # values beyond the ends are counted in the end bins (said on the sheet)
            counts, _ = np.histogram(np.clip(valued, lo, hi), edges)
            if price is not None:
                bin_of_market = int(min(np.searchsorted(edges, price, "right") - 1, BINS - 1))
        out.append(Simulated(d, names, stats, edges, counts, bin_of_market))
    return out


def write_simulation(book: Book, plan: Plan, simulated: list[Simulated]) -> None:
    s = book.sheet("Simulation")
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.ws.freeze_panes = "A4"
    s.ws.print_title_rows = "1:3"
    s.widths(30, 14, 14, 14, 14, 60, 4, 18)
    header_rows(s, "Simulation", "Per story company: drivers drawn from distributions "
                "(blue: illustrative assumptions), the statistics of value (HK$ bn) and a "
                "histogram against the market value. Other inputs: the Inputs sheet's "
                "'Story inputs (DCF)'.", plan)
    for k, sim in enumerate(simulated):
        if k:  # each company's block starts a printed page: no table cut in two
            s.ws.row_breaks.append(Break(id=s.rows - 1))
        _block(s, sim, k, plan)


def _block(s: Sheet, sim: Simulated, k: int, plan: Plan) -> None:
    d = sim.dcf
    s.append([s.text(f"{d.company.name}: simulated value (HK$ bn)", TITLE)])
    s.append([s.text(h, HEADER) for h in ("Driver", "Distribution", "Parameter 1",
                                          "Parameter 2", "Parameter 3", "Source")])
    first = s.rows + 1
    for driver, name, params, why in STORY_DISTRIBUTIONS:
        s.append([s.text(driver, INPUT), s.text(name, INPUT),
                  *(s.value(p, styled(INPUT, "0.00")) for p in params),
                  *([None] * (3 - len(params))), s.text(why, NOTE)])
    last = s.rows
    draws_row = s.append([s.text("Draws"), s.value(float(SIMULATION_DRAWS),
                                                   styled(INPUT, "#,##0"))])
    seed_row = s.append([s.text("Seed"), s.value(float(SIMULATION_SEED), styled(INPUT, "0"))])
    market = d.market
    market_row = s.append([s.text("Market value (Valuation)"),
                           s.formula("=" + market.ref, market.cell(0), styled(LINK, "#,##0.00")),
                           s.text("HK$ bn", UNIT)])
    route = plan.live
    s.append([s.text(f"Computed by xlfuncs at build time (seed {SIMULATION_SEED}, "
                     f"{SIMULATION_DRAWS:,} draws), written to 12 significant digits"
                     + ("; the live cell recomputes with the add-in." if route else "."),
                     NOTE)])
    s.append([s.text("Statistic", HEADER), s.text("Value", HEADER), None, None, None, None,
              None, s.text(f"Live ({route.name} route)", HEADER) if route else None])
    live = for_route(f"=INDEX(VAL_STORY_SIMULATE(Story_Inputs,$A${first}:$E${last},"
                     f"$B${draws_row},$B${seed_row},$B${market_row}),0,{k + 2})",
                     route) if route else None
    for index, (name, value) in enumerate(zip(sim.names, sim.stats, strict=True)):
        cached = _value(value)
        fmt = "0.0%" if name.startswith("P(") else "#,##0" if name == "draws valued" \
            else "#,##0.00"
        cells = [s.text(STAT_LABELS.get(name, name)), s.value(cached, styled(FORMULA, fmt)),
                 None, None, None, None, None]
        cells.append(s.formula(live, _value(sim.stats[0]), styled(FORMULA, "#,##0.00"))
                     if index == 0 and live else None)
        s.append(cells)
    _histogram(s, sim)
    s.blank_rows(2)


def _value(value: object) -> object:
    if isinstance(value, float):
        return rounded(value)
    return getattr(value, "code", value)   # an XlError: its code


def _histogram(s: Sheet, sim: Simulated) -> None:
    if sim.edges is None or sim.counts is None:
        s.append([s.text("No draw had a value: no histogram.", NOTE)])
        return
    s.blank_rows()
    s.append([s.text(h, HEADER) for h in ("Bin (HK$ bn)", "From", "To", "Draws",
                                          "Market value's bin")])
    first = s.rows + 1
    for b in range(BINS):
        lo, hi = rounded(float(sim.edges[b])), rounded(float(sim.edges[b + 1]))
        marked = float(sim.counts[b]) if b == sim.market_bin else None
        label = f"{lo:,.1f} to {hi:,.1f}" + (" (market value)" if b == sim.market_bin else "")
        s.append([s.text(label), s.value(lo, styled(FORMULA, "#,##0.0")),
                  s.value(hi, styled(FORMULA, "#,##0.0")),
                  s.value(float(sim.counts[b]), styled(FORMULA, "#,##0")),
                  s.value(marked if marked is not None else 0.0, styled(FORMULA, "#,##0"))])
    last = s.rows
    s.append([s.text("Values beyond the first and last bins are counted in them; the "
                     "market value's bin is marked in orange.", NOTE)])
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "clustered"
    chart.overlap = 100
    market = sim.dcf.market.cell(0)
    chart.title = (f"{sim.dcf.company.name}: could the story be worth the market's "
                   f"HK${market:,.0f}bn?" if isinstance(market, float) else
                   f"{sim.dcf.company.name}: simulated value")
    chart.y_axis.title = "Draws"
    chart.add_data(Reference(s.ws, min_col=4, max_col=5, min_row=first - 1, max_row=last),
                   titles_from_data=True)
    # each bin named by its lower end: short labels leave the bars room to draw
    chart.set_categories(Reference(s.ws, min_col=2, min_row=first, max_row=last))
    # colours of its own (not left to each program's palette), named in the legend below
    chart.series[0].graphicalProperties.solidFill = "1F77B4"
    chart.series[1].graphicalProperties.solidFill = "ED7D31"
    chart.legend.position = "b"
    for axis in (chart.x_axis, chart.y_axis):
        axis.delete = False  # openpyxl 3.1 hides axes unless told
    chart.x_axis.title = "Value (HK$ bn), lower end of each bin"
    # beside the bins' table, in the empty Source column: on the block's page, readable
    chart.height, chart.width = 11, 17
    s.ws.add_chart(chart, f"F{first - 1}")
