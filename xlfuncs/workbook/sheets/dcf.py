"""The DCF sheet: per story company, the story DCF with years as columns, then the
market-implied story (the same block at the revenue growth the market value implies).

Each line is one STORY_* registry formula, the same across the year columns; its cached
values come from the core through :func:`columns.apply`, cell by cell, so a block's value
per share is the composition of its row formulas (tests: it equals ``xf.story_value``).
Columns: A line, B unit, C base year, D..M years 1-10, N terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from openpyxl.worksheet.pagebreak import Break

from ...registry import entry
from ...story import implied as story_implied
from ..book import (
    CACHED_DIGITS,
    FORMULA,
    HEADER,
    LINK,
    NOTE,
    TITLE,
    UNIT,
    Book,
    Cell,
    Sheet,
    Style,
)
from ..columns import ROW, Column, apply, constant, is_link
from ..model import STORY_INPUTS, Model
from .checks import CheckRow, place
from .common import (
    FIRST,
    ILLUSTRATIVE,
    Layout,
    Plan,
    header_rows,
    named,
    spec_column,
    styled,
)
from .story_inputs import StoryCompany, StoryPlan

STORY_RULES = {spec.label: spec.rule for spec in STORY_INPUTS}
YEARS = "DEFGHIJKLM"
BASE, TERMINAL = "C", "N"
TOP = 6            # the first block's title row
BLOCK_GAP = 2      # blank rows between blocks
IMPLIED_DRIVER = "growth_2_5"
COMPUTED = "computed by xlfuncs at build time"
# intrinsic value and its upside: defined here once; Valuation and the Company card link them
AFTER_OPTIONS = "Equity value after options (intrinsic value)"
UPSIDE = "Upside (+) / downside (-) against the market value"
Arg = Callable[[str, str], Column]   # (this year's letter, the year before's) -> argument


@dataclass
class Row:
    label: str
    unit: str
    cells: dict[str, Column] = field(default_factory=dict)   # letter -> cell
    fmt: str = "#,##0.000"
    note: str = ""
    link: bool = False   # its cells bring inputs in (green), whatever their formula


@dataclass
class Block:
    company: StoryCompany
    title: str
    top: int
    rows: list[Row] = field(default_factory=list)
    cell: dict[str, Column] = field(default_factory=dict)    # bridge line -> its C cell

    def ref(self, line: str) -> str:
        return f"DCF!$C${self.cell[line].ref[1:]}"


@dataclass
class CompanyDcf:
    company: StoryCompany
    market: Column            # its Valuation cell (ref: Valuation!$X$n)
    story: Block
    implied: Block
    implied_growth: Column    # the DCF cell holding the market-implied growth
    implied_reason: str = ""  # why there is none, when there is none


def rounded(value: float) -> float:
    """As every computed cache: 12 significant digits, so the bytes do not vary by CPU."""
    return float(format(value, f".{CACHED_DIGITS}g"))


NEGATIVE = ("Negative: a story worth less than nothing is not viable as written (limited "
            "liability: shareholders lose at most their stake); revise the story")
NEGATIVE_SHORT = "Negative: not viable as written (limited liability)"


def negative_note(ref: str, value: Column, value_ref: str, note: str = NEGATIVE) -> Column:
    """At ``ref``: ``note`` where ``value`` (at ``value_ref``) is below zero, else blank;
    its error where it is one."""
    data = np.asarray(value.data, dtype=float)
    texts = np.where(np.isfinite(data) & (data < 0), note, None).astype(object)
    return Column(ref, texts, value.errors,
                  template=f'IF({value_ref}="","",IF({value_ref}<0,"{note}",""))')


def link(source: Column, ref: str, target: str | None = None) -> Column:
    """A cell at ``ref`` holding ``=target`` (default: the source's own ref)."""
    return Column(ref, source.data, source.errors, template=target or source.ref)


# Bounds of what a row holds when its story's inputs are within their rules: the formulas
# reading it leave out the blank tests and the guards these bounds hold (Entry.
# workbook_formula); the Inputs sheet checks the rules, and a test values random stories
# within them both ways. FILLED: a number, no bounds.
FILLED = (-1e300, 1e300)
POSITIVE = (1e-300, 1e300)        # revenue: a positive base grown at more than -100%
NOT_NEGATIVE = (0.0, 1e300)       # losses carried forward: MAX(..., 0) from a base >= 0
GROWTH = STORY_RULES["growth_2_5"].bounds  # growth moves between the growth inputs' bounds
SHARE_BOUNDS = (0.0, 1.0)         # tax rates move between two rates of 0-100%
CAPITAL_RATE = (0.0, 1.0)         # cost of capital between the two inputs' 0-100%
DISCOUNT = (1e-300, 1.0)          # 1 / products of (1 + a rate of 0-100%)
YEAR = (1.0, 10.0)


def bounded(column: Column, bounds: tuple[float, float]) -> Column:
    return replace(column, rule=bounds)


GATE = "IF(ISNUMBER("   # how a story input comes onto the sheet (gate)


def gate(source: Column, ref: str, label: str) -> Column:
    """A story input brought onto the DCF sheet at ``ref``, once: its value when it is a
    number, #N/A when it is blank or text (never a zero from an emptied cell); the formulas
    reading it rely on its rule, which the Inputs sheet checks."""
    name = source.ref
    return Column(ref, source.data, source.errors,
                  template=f"{GATE}{name}),{name},NA())",
                  rule=STORY_RULES[label].bounds)


def _sum(ref: str, cells: list[Column], letters: str, row: int) -> Column:
    """SUM over the year columns: the first error wins, blanks count as nothing."""
    errors = [c.errors[()] for c in cells if c.errors[()] is not None]
    total = float(np.nansum([float(c.data) for c in cells]))
    return Column(ref, np.array(np.nan if errors else total),
                  np.array(errors[0] if errors else None, dtype=object),
                  template=f"SUM({letters[0]}{row}:{letters[-1]}{row})")


# The story inputs the year lines read, brought onto the sheet once above them (the
# market-implied block's growth in years 2-5 is its own first line).
DRIVERS = ("growth_next", "stable_growth", "margin_next", "target_margin", "convergence_year",
           "effective_tax", "marginal_tax", "sales_to_capital_1_5", "sales_to_capital_6_10",
           "cost_of_capital", "mature_cost_of_capital", "stable_roc")
DESCRIPTION = {spec.label: (spec.description, spec.unit, spec.number_format)
               for spec in STORY_INPUTS}


def plan_block(c: StoryCompany, title: str, top: int, growth: Column, market: Column,
               growth_label: str = "Revenue growth, years 2-5 (Inputs)") -> Block:
    """One DCF block whose growth in years 2-5 is ``growth``: its title at ``top``, the
    header row below it, then the growth (at C{top+2}), the story's drivers, the years and
    the lines."""
    b = Block(c, title, top)
    r = top + 2
    b.rows.append(Row(growth_label, "% a year",
                      {BASE: Column(f"C{r}", growth.data, growth.errors, growth.template,
                                    rule=GROWTH)}, "0.00%", link=growth.template is not None))
    i = {IMPLIED_DRIVER: Column(f"$C${r}", growth.data, growth.errors, rule=GROWTH)}
    for label in DRIVERS:
        r += 1
        description, unit, fmt = DESCRIPTION[label]
        cell = gate(c.inputs[label], f"C{r}", label)
        b.rows.append(Row(f"{description} (Inputs)", unit, {BASE: cell}, fmt, link=True))
        i[label] = replace(cell, ref=f"$C${r}")
    r += 1  # the years
    years = {L: constant(f"{L}${r}", float(t), YEAR) for t, L in enumerate(YEARS, 1)}
    b.rows.append(Row("Year", "", {BASE: constant(f"C{r}", 0.0), **{
        L: Column(f"{L}{r}", years[L].data, years[L].errors) for L in YEARS}}, "0"))
    lines: dict[str, Row] = {}

    def at(line: str) -> Arg:
        return lambda L, p: lines[line].cells[L]

    def before(line: str) -> Arg:
        return lambda L, p: lines[line].cells[p]

    def given(label: str) -> Arg:
        return lambda L, p: i[label]

    def year(L: str, p: str) -> Column:
        return years[L]

    def line(key: str, label: str, unit: str, fmt: str, function: str, args: list[Arg],
             bounds: tuple[float, float], base: Column | None = None) -> Row:
        row = len(b.rows) + top + 2   # +1 title, +1 header
        out = lines[key] = Row(label, unit, {}, fmt)
        if base is not None:  # a story input brought in, or the typed 1 of the factors
            out.cells[BASE] = bounded(gate(base, f"C{row}", key) if key in STORY_RULES
                                      else Column(f"C{row}", base.data, base.errors), bounds)
        for t, L in enumerate(YEARS, 1):
            previous = BASE if t == 1 else YEARS[t - 2]
            out.cells[L] = bounded(apply(entry(function), f"{L}{row}",
                                         *(a(L, previous) for a in args)), bounds)
        b.rows.append(out)
        return out

    def terminal(key: str, cell: Callable[[str], Column]) -> None:
        row = lines[key]
        ref = f"{TERMINAL}{top + 1 + b.rows.index(row) + 1}"
        row.cells[TERMINAL] = bounded(cell(ref), row.cells["D"].rule or FILLED)

    pct, bn = "0.0%", "#,##0.000"
    line("growth", "Revenue growth", "%", pct, "STORY_GROWTH",
         [year, given("growth_next"), given(IMPLIED_DRIVER), given("stable_growth")], GROWTH)
    terminal("growth", lambda ref: link(i["stable_growth"], ref))
    line("revenue", "Revenue", "HK$ bn", bn, "STORY_REVENUE", [before("revenue"), at("growth")],
         POSITIVE, c.inputs["revenue"])
    terminal("revenue", lambda ref: apply(entry("STORY_REVENUE"), ref,
                                          lines["revenue"].cells["M"],
                                          lines["growth"].cells[TERMINAL]))
    line("margin", "Operating margin", "%", pct, "STORY_MARGIN",
         [year, given("margin_next"), given("target_margin"), given("convergence_year")],
         FILLED)
    terminal("margin", lambda ref: link(i["target_margin"], ref))
    line("ebit", "Operating income (EBIT)", "HK$ bn", bn, "STORY_EBIT",
         [at("revenue"), at("margin")], FILLED)
    terminal("ebit", lambda ref: apply(entry("STORY_EBIT"), ref, lines["revenue"].cells[
        TERMINAL], lines["margin"].cells[TERMINAL]))
    line("nol", "Losses carried forward (NOL), end of year", "HK$ bn", bn, "STORY_NOL",
         [at("ebit"), before("nol")], NOT_NEGATIVE, c.inputs["nol"])
    line("tax rate", "Tax rate", "%", pct, "STORY_TAX_RATE",
         [year, given("effective_tax"), given("marginal_tax")], SHARE_BOUNDS)
    terminal("tax rate", lambda ref: link(i["marginal_tax"], ref))
    line("taxes", "Taxes (after the NOL)", "HK$ bn", bn, "STORY_TAXES",
         [at("ebit"), before("nol"), at("tax rate")], FILLED)
    line("s2c", "Sales to capital", "x", "0.00", "STORY_SALES_TO_CAPITAL",
         [year, given("sales_to_capital_1_5"), given("sales_to_capital_6_10")],
         STORY_RULES["sales_to_capital_1_5"].bounds)
    line("reinvestment", "Reinvestment", "HK$ bn", bn, "STORY_REINVESTMENT",
         [at("revenue"), before("revenue"), at("s2c")], FILLED)
    line("fcff", "Free cash flow to the firm (FCFF)", "HK$ bn", bn, "STORY_FCFF",
         [at("ebit"), at("taxes"), at("reinvestment")], FILLED)
    line("coc", "Cost of capital", "%", pct, "STORY_COST_OF_CAPITAL",
         [year, given("cost_of_capital"), given("mature_cost_of_capital")], CAPITAL_RATE)
    terminal("coc", lambda ref: link(i["mature_cost_of_capital"], ref))
    line("df", "Discount factor", "", "0.0000", "STORY_DISCOUNT_FACTOR",
         [before("df"), at("coc")], DISCOUNT, constant("1", 1.0))
    lines["df"].cells[BASE] = constant(lines["df"].cells[BASE].ref, 1.0, DISCOUNT)  # typed 1
    pv = line("pv", "Present value of FCFF", "HK$ bn", bn, "STORY_PRESENT_VALUE",
              [at("fcff"), at("df")], FILLED)
    _bridge(b, c, i, lines, pv, market, upside=growth.template is not None)
    return b


def _bridge(b: Block, c: StoryCompany, i: dict[str, Column], lines: dict[str, Row], pv: Row,
            market: Column, upside: bool) -> None:
    """Sum of PVs -> going concern -> operating value -> equity -> per share, vs market."""
    b.rows.append(Row("", ""))
    first = b.top + 1 + len(b.rows) + 1

    def add(key: str, label: str, unit: str, make: Callable[[str], Column],
            fmt: str = "#,##0.000", bounds: tuple[float, float] = FILLED,
            brought: bool = False) -> Column:
        ref = f"C{first + len(b.cell)}"
        cell = b.cell[key] = bounded(make(ref), bounds)
        b.rows.append(Row(label, unit, {BASE: cell}, fmt, link=brought))
        return cell

    def calc(function: str, *args: Column) -> Callable[[str], Column]:
        return lambda ref: apply(entry(function), ref, *args)

    def story(label: str) -> Callable[[str], Column]:
        return lambda ref: gate(c.inputs[label], ref, label)

    def bring(key: str, label: str, unit: str, fmt: str = "#,##0.000") -> Column:
        return add(key, label, unit, story(key), fmt, STORY_RULES[key].bounds, True)

    pv_cells = [pv.cells[L] for L in YEARS]
    pv_row_number = int(pv.cells["D"].ref[1:])
    total = add("sum_pv", "Sum of PV of FCFF, years 1-10", "HK$ bn",
                lambda ref: _sum(ref, pv_cells, YEARS, pv_row_number))
    tv = add("terminal", "Terminal value, end of year 10", "HK$ bn",
             calc("STORY_TERMINAL_VALUE", lines["revenue"].cells["M"], i["stable_growth"],
                  i["target_margin"], i["marginal_tax"], i["stable_roc"],
                  i["mature_cost_of_capital"]))
    pv_tv = add("pv_terminal", "PV of terminal value", "HK$ bn",
                calc("STORY_PRESENT_VALUE", tv, lines["df"].cells["M"]))
    going = add("going_concern", "Going-concern value", "HK$ bn",
                calc("STORY_GOING_CONCERN", total, pv_tv))
    p = bring("failure_probability", "Probability of failure", "%", "0.0%")
    d = bring("distress_fraction", "Proceeds on failure, share of going concern", "%", "0.0%")
    operating = add("operating", "Operating value (failure-adjusted)", "HK$ bn",
                    calc("STORY_OPERATING_VALUE", going, p, d))
    parts = {k: bring(k, label, "HK$ bn")
             for k, label in (("debt", "- Debt"), ("cash", "+ Cash"),
                              ("minority", "- Minority interests"),
                              ("non_operating", "+ Non-operating assets"))}
    equity = add("equity", "Equity value", "HK$ bn",
                 calc("STORY_EQUITY", operating, parts["cash"], parts["debt"],
                      parts["minority"], parts["non_operating"]))
    options = bring("options", "- Value of employee options", "HK$ bn")
    after = add("after_options", AFTER_OPTIONS, "HK$ bn",
                calc("STORY_EQUITY_AFTER_OPTIONS", equity, options))
    b.rows[-1].cells["D"] = negative_note(f"D{after.ref[1:]}", after, after.ref)
    shares = bring("shares", "Shares", "count", "0")
    add("per_share", "Value per share (shares = 1: equity value after options)", "HK$ bn",
        calc("STORY_PER_SHARE", equity, options, shares))
    mv = add("market", "Market value (Valuation)", "HK$ bn", lambda ref: link(market, ref),
             bounds=FILLED, brought=True)
    mv = replace(mv, rule=None)  # a figure of the data, not a checked input: tested
    if upside:  # not in the implied block: there it is ~0, all rounding, engine-dependent
        # against the equity value after options, as Valuation and the Company card show it
        add("upside", UPSIDE, "%", calc("STORY_UPSIDE", after, mv), "0.0%")


def block_rows(b: Block) -> int:
    return 2 + len(b.rows)   # title and header rows besides the planned rows


def plan_dcf(plan: Plan, story: StoryPlan, valuation: Layout) -> list[CompanyDcf]:
    mv = spec_column(valuation, "Market value", "HK$ bn")
    letter = valuation.letter(mv)
    companies = story.companies
    if not companies:
        return []
    given = {k: np.array([c.given()[k] for c in companies]) for k in companies[0].inputs}
    targets = np.array([float(mv.cell(c.index)) for c in companies])
    outcome = story_implied.implied(given, targets, IMPLIED_DRIVER)
    lo, hi = story_implied.BRACKETS[IMPLIED_DRIVER]
    out, top = [], TOP
    for k, c in enumerate(companies):
        market = Column(f"Valuation!${letter}${FIRST + c.index}",
                        np.array(mv.data[c.index]), np.array(mv.errors[c.index], dtype=object))
        story_block = plan_block(c, f"{c.name}: the story (inputs on the Inputs sheet)", top,
                                 gate(c.inputs[IMPLIED_DRIVER], "C0", IMPLIED_DRIVER), market)
        top += block_rows(story_block) + BLOCK_GAP
        status, reason = int(outcome.status[k]), ""
        error = c.first_error()
        if error is None and status == 0:
            growth = constant("C0", rounded(float(outcome.values[k])))
        else:
            code = error or (outcome.error(status).code if status > 1 else "#NUM!")
            reason = (f"no revenue growth (years 2-5) in [{lo:g}, {hi:g}] gives the market "
                      "value" if error is None and status <= 1 else
                      str(outcome.error(status) or f"an input is {error}"))
            growth = Column("C0", np.array(np.nan), np.array(code, dtype=object))
        implied_block = plan_block(c, f"{c.name}: the market-implied story (growth in years "
                                   f"2-5 solved so that value = market value)", top, growth,
                                   market, f"Revenue growth, years 2-5 ({COMPUTED})")
        top += block_rows(implied_block) + BLOCK_GAP
        out.append(CompanyDcf(c, market, story_block, implied_block,
                              implied_block.rows[0].cells[BASE], reason))
    return out


def write_dcf(book: Book, plan: Plan) -> None:
    s = book.sheet("DCF")
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.ws.freeze_panes = "C6"
    s.ws.print_title_rows = "1:3"   # the title, its note and the banner on every page
    s.widths(46, 12, 12, *([11] * 10), 12, 60)
    header_rows(s, "DCF", "The story DCF per company (years as columns, one formula per row) "
                "and the market-implied story: the same block at the revenue growth (years "
                "2-5) at which value equals the market value. Inputs: the Inputs sheet's "
                "'Story inputs (DCF)'. All amounts HK$ bn.", plan,
                ILLUSTRATIVE + "every story input but the base figures (revenue, losses, "
                "cash, debt, failure) is an assumption (Inputs, 'Story inputs (DCF)'), and "
                "the cash of MiniMax and Zhipu is illustrative.")
    s.blank_rows(TOP - 1 - s.rows)
    header = [s.text(h, HEADER) for h in ("Line", "Unit", "Base year",
                                          *(f"Year {t}" for t in range(1, 11)), "Terminal")]
    for company in plan.dcf or []:
        for b in (company.story, company.implied):
            assert s.rows + 1 == b.top, (s.rows, b.top)
            if b.top > TOP:  # each block starts a printed page, under its title and header
                s.ws.row_breaks.append(Break(id=s.rows))
            s.append([s.text(b.title, TITLE)])
            s.append(header)
            _write_row(s, b.rows[0], b is company.implied, company)
            for row in b.rows[1:]:
                _write_row(s, row, False, company)
            s.blank_rows(BLOCK_GAP)


def _write_row(sheet: Sheet, row: Row, implied_growth: bool, company: CompanyDcf) -> None:
    cells: list[Cell | None] = [sheet.text(row.label) if row.label else None,
                                sheet.text(row.unit, UNIT) if row.unit else None]
    for letter in (BASE, *YEARS, TERMINAL):
        cell = row.cells.get(letter)
        if cell is None:
            cells.append(None)
            continue
        cells.append(_cell(sheet, cell, row.fmt, row.link))
    if implied_growth:
        note = (f"{COMPUTED}: VAL_STORY_IMPLIED for growth_2_5 against the market value, "
                f"written to {CACHED_DIGITS} significant digits")
        if company.implied_reason:
            note = f"{company.implied_reason} ({COMPUTED})"
        cells.append(sheet.text(note, NOTE))
    sheet.append(cells)


def _cell(sheet: Sheet, cell: Column, fmt: str, link: bool = False) -> Cell | None:
    value = cell.cell(0)
    if cell.template is None and isinstance(value, str) and value.startswith("#"):
        return sheet.formula("=" + value, value, styled(FORMULA, fmt))  # an error, e.g. =#NUM!
    if cell.template is None:
        return sheet.value(value, styled(FORMULA, fmt))
    brought = link or is_link(cell.template) or cell.template.startswith(GATE)
    style: Style = LINK if brought else FORMULA
    return sheet.formula("=" + cell.template, value, styled(style, fmt))


def dcf_checks(dcf: list[CompanyDcf], model: Model) -> list[CheckRow]:
    """Per story company: its growth after year 10 is at most the riskfree rate (Damodaran's
    cap: no company outgrows the economy forever; the riskfree rate is the economy's
    nominal growth); with a market-implied growth, the implied block's value per share,
    recomputed natively, equals the market value."""
    checks = []
    for d in dcf:
        riskfree = place(d.company.inputs["riskfree"], "B")
        growth = place(d.company.inputs["stable_growth"], "C")
        checks.append(CheckRow(
            f"{d.company.name}: the riskfree rate is at least the growth after year 10 (no "
            "company outgrows the economy forever)", riskfree, growth,
            apply(entry("CHECK_AT_LEAST"), f"D{ROW}", riskfree, growth),
            "Inputs, Story inputs (DCF): riskfree, stable_growth"))
    for d in dcf:
        if d.implied_reason:
            continue  # no growth reproduces the price: the DCF sheet says why
        per_share = d.implied.cell["per_share"]
        value = place(Column(d.implied.ref("per_share"), per_share.data, per_share.errors),
                      "B")
        expected = place(d.market, "C")
        result = apply(entry("CHECK_CLOSE"), f"D{ROW}", value, expected,
                       named("Implied_Tolerance", model))
        checks.append(CheckRow(f"{d.company.name}: the market-implied story (DCF sheet) is "
                               "worth the market value", value, expected, result,
                               "DCF: value per share at the market-implied growth, years 2-5"))
    return checks
