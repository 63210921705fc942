"""The Simulation sheet: drivers of every story drawn from distributions, the statistics of
value per share and a histogram against the market value, per story company.

A Monte Carlo run of 10,000 stories is no spreadsheet formula, so its settings are
build-time settings, shown as such (purple on lavender, not the inputs' blue on yellow):
xlfuncs computes the statistics and the histogram when it builds the workbook, and a
person who edits the settings rebuilds (``xlfuncs build --out FILE --keep-inputs FILE``
carries them through the same rules as the sheet's validation). What stays live is
native: the market value, its marker on the histogram, and a check that says whether the
story and the market value are still those the simulation was computed on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.text import RichText
from openpyxl.drawing.text import (
    CharacterProperties,
    Paragraph,
    ParagraphProperties,
    RichTextProperties,
)
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.pagebreak import Break

from ...registry import entry
from ...story import simulate
from ..book import FORMULA, HEADER, LINK, NOTE, SETTING, TITLE, UNIT, Book, Sheet
from ..columns import apply
from ..model import (
    PARAMETER_RULE,
    SIMULATION_DRAWS_RULE,
    SIMULATION_ROWS,
    SIMULATION_SEED_RULE,
    STORY_DISTRIBUTIONS,
    STORY_INPUTS,
)
from ..routes import for_route
from .common import (
    ILLUSTRATIVE,
    Plan,
    cell_column,
    header_rows,
    named,
    styled,
)
from .dcf import FILLED, CompanyDcf, rounded
from .inputs import _validation

BINS = 20          # about this many bins, of a round width
LIVE = "H"         # the column of the live add-in cells (a build for a route)
REBUILD = "xlfuncs build --out FILE --keep-inputs FILE"
STAT_LABELS = {"mean": "Mean", "p5": "5th percentile", "p25": "25th percentile",
               "p50": "Median", "p75": "75th percentile", "p95": "95th percentile",
               "P(value >= price)": "P(value >= market value)", "draws valued": "Draws valued"}
DISTRIBUTIONS = '"uniform,triangular,normal,lognormal"'
FORMATS = {spec.label: spec.number_format for spec in STORY_INPUTS}   # as on Inputs
WHY = {(label, name, params): why for label, name, params, why in STORY_DISTRIBUTIONS}


@dataclass
class Simulated:
    dcf: CompanyDcf
    names: list[str]
    stats: list[object]
    edges: np.ndarray | None      # bin edges (None: no draw had a value)
    counts: np.ndarray | None
    decimals: int                 # of the edges, as labels show them
    story_value: Any              # the DCF's value per share the draws vary
    market: Any                   # the market value, when simulated


def plan_simulation(plan: Plan) -> list[Simulated]:
    settings = plan.model.simulation
    table = settings.table()
    out = []
    for d in plan.dcf or []:
        given = d.company.given()
        market = d.market.cell(0)
        price = market if isinstance(market, float) else None
        names, [stats] = simulate.simulate(given, table, settings.draws, settings.seed, price)
        values, _ = simulate.simulated_values(given, table, settings.draws, settings.seed)
        valued = values[0][np.isfinite(values[0])]
        edges = counts = None
        decimals = 0
        if valued.size:
            lo, hi = np.percentile(valued, [1, 99])
            if price is not None:
                lo, hi = min(lo, price), max(hi, price)
            edges, decimals = round_edges(float(lo), float(hi))
            # values beyond the ends are counted in the end bins (said on the sheet)
            counts, _ = np.histogram(np.clip(valued, edges[0], edges[-1]), edges)
        out.append(Simulated(d, names, stats, edges, counts, decimals,
                             d.story.cell["per_share"].cell(0), market))
    return out


def round_edges(lo: float, hi: float) -> tuple[np.ndarray, int]:
    """About BINS bins of a round width (1, 2, 2.5 or 5 times a power of ten) from a
    multiple of it at or below ``lo`` to one at or above ``hi``: labels such as '-20 to
    0', never '-0.0 to 19.0'. Also the decimals the edges need."""
    wanted = (hi - lo if hi > lo else max(abs(lo), 1.0)) / BINS
    least = math.floor(math.log10(wanted))
    k, power = next((k, power) for power in (least, least + 1) for k in (1, 2, 2.5, 5)
                    if k * 10.0 ** power >= wanted * (1 - 1e-12))
    decimals = max(0, -power + (1 if k == 2.5 else 0))   # 0.25 has two, 25 none
    step = k * 10.0 ** power
    # a tolerance far above a last-bit difference (another CPU's numpy, test_determinism):
    # an end exactly at a round number, such as a market value of 300, keeps its bins
    first = math.floor(lo / step + 1e-9)
    last = max(math.ceil(hi / step - 1e-9), first + 1)
    # + 0.0: -0.0 is 0.0, so no label reads '-0'
    return np.array([round(n * step, decimals) + 0.0 for n in range(first, last + 1)]), decimals


def write_simulation(book: Book, plan: Plan, simulated: list[Simulated]) -> None:
    s = book.sheet("Simulation")
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.ws.freeze_panes = "A4"
    s.ws.print_title_rows = "1:3"
    s.widths(34, 14, 14, 14, 14, 60, 4, 18)
    header_rows(s, "Simulation", "Per story company: drivers drawn from the distributions "
                "below, the statistics of value per share (HK$ bn) and a histogram against "
                "the market value. Other inputs: the Inputs sheet's 'Story inputs (DCF)'.",
                plan, ILLUSTRATIVE + "the distributions are assumptions, and the story they "
                "vary is the Inputs' illustrative story.")
    _settings(s, plan)
    for k, sim in enumerate(simulated):
        if k:  # each further company's block starts a printed page: no table cut in two
            s.ws.row_breaks.append(Break(id=s.rows))
        _block(s, sim, plan)


def _settings(s: Sheet, plan: Plan) -> None:
    """The build-time settings, named so that --keep-inputs finds them."""
    settings = plan.model.simulation
    s.blank_rows()
    s.append([s.text("Settings (build-time, for every story company)", HEADER)])
    s.append([s.text("Purple cells are build-time settings, not inputs a formula reads: the "
                     "statistics and histograms below were computed from them, and from the "
                     "Inputs as they were, when the workbook was built. To change them, edit "
                     f"them here, then rebuild: {REBUILD} (FILE: this workbook).", NOTE)])
    s.append([s.text(h, HEADER) for h in ("Driver", "Distribution", "Parameter 1",
                                          "Parameter 2", "Parameter 3", "Source")])
    first = s.rows + 1
    blank = [(None, None, ())] * (SIMULATION_ROWS - len(settings.drivers))
    for label, name, params in [*settings.drivers, *blank]:
        fmt = FORMATS.get(label or "", "General")
        s.append([s.text(label, SETTING) if label else s.value(None, SETTING),
                  s.text(name, SETTING) if name else s.value(None, SETTING),
                  *(s.value(params[k] if k < len(params) else None, styled(SETTING, fmt))
                    for k in range(3)),
                  s.text(WHY.get((label, name, params), "Your setting (carried by "
                                 "--keep-inputs)"), NOTE) if label else None])
    last = s.rows
    draws = s.append([s.text("Draws"), s.value(float(settings.draws),
                                               styled(SETTING, "#,##0"))])
    seed = s.append([s.text("Seed"), s.value(float(settings.seed), styled(SETTING, "0"))])
    s.append([s.text("Parameters: uniform low high; triangular low mode high; normal mean "
                     "sd; lognormal mean sd (of the variable itself). Rates as decimals "
                     "(60% is 0.6); blank rows are not drawn.", NOTE)])
    book = s.book
    book.name("Simulation_Drivers", f"Simulation!$A${first}:$E${last}")
    book.name("Simulation_Draws", f"Simulation!$B${draws}")
    book.name("Simulation_Seed", f"Simulation!$B${seed}")
    labels = plan.inputs_rows.get("story_labels")
    lists = ([(f"=Inputs!$B${labels}:$B${plan.inputs_rows['story_labels_last']}", "A")]
             if labels else []) + [(DISTRIBUTIONS, "B")]
    for formula, letter in lists:
        validation = DataValidation(type="list", formula1=formula)
        validation.showErrorMessage = True
        validation.add(f"{letter}{first}:{letter}{last}")
        s.ws.data_validations.append(validation)
    for rule, cells, label, unit in (
            (PARAMETER_RULE, f"C{first}:E{last}", "Parameter", "the driver's unit"),
            (SIMULATION_DRAWS_RULE, f"B{draws}", "Draws", "draws"),
            (SIMULATION_SEED_RULE, f"B{seed}", "Seed", "a whole number")):
        s.ws.data_validations.append(_validation(rule, cells, label, unit))


def _block(s: Sheet, sim: Simulated, plan: Plan) -> None:
    d = sim.dcf
    settings = plan.model.simulation
    s.append([s.text(f"{d.company.name}: simulated value per share (HK$ bn)", TITLE)])
    market_row = s.append([s.text("Market value (Valuation)"),
                           s.formula("=" + d.market.ref, d.market.cell(0),
                                     styled(LINK, "#,##0.00")), s.text("HK$ bn", UNIT)])
    then_market = s.append([s.text("Market value when simulated"),
                            s.value(_value(sim.market), styled(FORMULA, "#,##0.00")),
                            s.text("HK$ bn", UNIT)])
    story_ref = d.story.ref("per_share")
    now_story = s.append([s.text("Story's value per share (DCF)"),
                          s.formula("=" + story_ref, _value(sim.story_value),
                                    styled(LINK, "#,##0.00")), s.text("HK$ bn", UNIT)])
    then_story = s.append([s.text("Story's value per share when simulated"),
                           s.value(_value(sim.story_value), styled(FORMULA, "#,##0.00")),
                           s.text("HK$ bn", UNIT)])
    formula, cached = _still_current(plan, ((market_row, then_market), _value(sim.market)),
                                     ((now_story, then_story), _value(sim.story_value)))
    s.append([s.text("Simulated on the story and market value above"),
              s.formula(formula, cached, FORMULA),
              s.text(f"FALSE: an input changed since the build; rebuild ({REBUILD}) to "
                     "simulate again", NOTE)])
    route = plan.live
    s.append([s.text(f"Computed by xlfuncs at build time (seed {settings.seed}, "
                     f"{settings.draws:,} draws), written to 12 significant digits"
                     + ("; the live cell recomputes with the add-in." if route else "."),
                     NOTE)])
    s.append([s.text("Statistic", HEADER), s.text("Value", HEADER), None, None, None, None,
              None, s.text(f"Live ({route.name} route)", HEADER) if route else None])
    index = next(k for k, c in enumerate(plan.dcf) if c is d)
    live = for_route(f"=INDEX(VAL_STORY_SIMULATE(Story_Inputs,Simulation_Drivers,"
                     f"Simulation_Draws,Simulation_Seed,$B${market_row}),0,{index + 2})",
                     route) if route else None
    for k, (name, value) in enumerate(zip(sim.names, sim.stats, strict=True)):
        fmt = "#,##0.0%" if name.startswith("P(") else "#,##0" if name == "draws valued" \
            else "#,##0.00"
        cells = [s.text(STAT_LABELS.get(name, name)), s.value(_value(value),
                                                              styled(FORMULA, fmt)),
                 None, None, None, None, None]
        if k == 0 and live:
            cells.append(s.formula(live, _value(sim.stats[0]), styled(FORMULA, "#,##0.00")))
        s.append(cells)
    _histogram(s, sim, market_row)
    s.blank_rows(2)


def _still_current(plan: Plan, *pairs: tuple[tuple[int, int], Any]
                   ) -> tuple[str, Any]:
    """AND of CHECK_CLOSE(now, when simulated) for pairs of rows (column B) and its value
    at build time (TRUE, unless a value is an error)."""
    tolerance = named("Check_Tolerance", plan.model)
    # the values when simulated are typed at build time, never blank: no test of theirs
    checks = [apply(entry("CHECK_CLOSE"), "", cell_column(f"$B${now}", value),
                    replace(cell_column(f"$B${then}", value), rule=FILLED), tolerance)
              for (now, then), value in pairs]
    cached = [c.cell(0) for c in checks]
    errors = [v for v in cached if isinstance(v, str)]
    return ("=AND(" + ",".join(str(c.template) for c in checks) + ")",
            errors[0] if errors else all(cached))


def _value(value: object) -> object:
    if isinstance(value, float):
        return rounded(value)
    return getattr(value, "code", value)   # an XlError: its code


def _histogram(s: Sheet, sim: Simulated, market_row: int) -> None:
    if sim.edges is None or sim.counts is None:
        s.append([s.text("No draw had a value: no histogram.", NOTE)])
        return
    s.blank_rows()
    s.append([s.text(h, HEADER) for h in ("Bin (HK$ bn)", "From", "To", "Draws",
                                          "Market value")])
    first, last = s.rows + 1, s.rows + len(sim.counts)
    decimals = sim.decimals
    fmt = "#,##0" + ("." + "0" * decimals if decimals else "")
    tallest = f"MAX($D${first}:$D${last})"
    # as cached (12 digits), so the marked bin does not hang on the last bit of the value
    market = _value(sim.market) if isinstance(sim.market, float) else None
    for b, count in enumerate(sim.counts):
        lo, hi = float(sim.edges[b]), float(sim.edges[b + 1])
        row = first + b
        # the market value's bin: a bar as tall as the tallest, in its own colour
        inside = market is not None and lo <= market and (market < hi or b == len(
            sim.counts) - 1)
        s.append([s.text(f"{lo:,.{decimals}f} to {hi:,.{decimals}f}"),
                  s.value(lo, styled(FORMULA, fmt)), s.value(hi, styled(FORMULA, fmt)),
                  s.value(float(count), styled(FORMULA, "#,##0")),
                  s.formula(f'=IF(AND($B${market_row}>=B{row},OR($B${market_row}<C{row},'
                            f'C{row}=$C${last})),{tallest},"")',
                            float(max(sim.counts)) if inside else "",
                            styled(FORMULA, "#,##0"))])
    s.append([s.text("Values beyond the first and last bins are counted in them; the "
                     "market value's bin is the orange bar (as tall as the tallest).", NOTE)])
    chart = BarChart()
    chart.type = "col"
    chart.grouping = "clustered"
    chart.overlap = 100
    chart.title = (f"{sim.dcf.company.name}: could the story be worth the market's "
                   f"HK${market:,.0f}bn?" if market is not None else
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
    chart.x_axis.title = "Value per share (HK$ bn), lower end of each bin"
    # the bins' labels turned, so that none breaks over two lines ('-' above '175')
    chart.x_axis.txPr = RichText(bodyPr=RichTextProperties(rot=-2_700_000, vert="horz"),
                                 p=[Paragraph(pPr=ParagraphProperties(defRPr=CharacterProperties()),
                                              endParaRPr=CharacterProperties())])
    # beside the bins' table, in the empty Source column: on the block's page, readable
    chart.height, chart.width = 11, 17
    s.ws.add_chart(chart, f"F{first - 1}")
