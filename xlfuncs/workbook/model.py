"""From the facts to the workbook's model: the Facts rows, the companies, the inputs."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pandas as pd

from .. import fx
from ..data import BILLIONS_PER_UNIT, midpoint, name_key
from ..facts_file import COMBINES_SEPARATOR
from ..inputs import date_to_serial

# Metrics that make a row a company of the Valuation and Burn sheets. A fact that says what
# it combines ("MiniMax|Zhipu") is a combined figure: it feeds the checks, not a row.
COMPANY_METRICS = ("market_value", "revenue", "cumulative_loss", "net_profit", "issue_price")
YEAR_SUFFIX = re.compile(r"^(?P<base>.+)_(?P<year>\d{4})$")


@dataclass
class FactRow:
    """One row of the Facts sheet: a company's metric, a range merged into one row."""

    company: str
    metric: str
    value: float          # Excel's convention: percentages as decimals, a range's midpoint
    low: float | None
    high: float | None
    unit: str
    currency: str
    period_start: float | None   # Excel serials
    period_end: float | None
    as_of: float | None
    qualifier: str        # =, >=, ~ or "range"
    source: str
    combines: tuple[str, ...] = ()   # the companies a combined figure is about
    origin: str = ""      # the file (layer) and row(s) it was read from
    row: int = 0          # its row on the Facts sheet, once laid out

    @property
    def billions(self) -> float | None:
        factor = BILLIONS_PER_UNIT.get(self.unit)
        return None if factor is None else self.value * factor


def _serial(value: Any) -> float | None:
    return None if pd.isna(value) else date_to_serial(value.date())


def fact_rows(facts: pd.DataFrame) -> list[FactRow]:
    """One row per company and metric, in file order; low/high rows become one range."""
    rows: dict[tuple[str, str], FactRow] = {}
    for r in facts.itertuples(index=False):
        value = r.value / 100 if r.unit == "%" else float(r.value)
        key = (name_key(r.company), name_key(r.metric))
        if key in rows and r.qualifier in ("low", "high"):
            existing = rows[key]
            setattr(existing, r.qualifier, value)
            existing.value = float(midpoint(existing.low, existing.high))
            if r.source != existing.source:
                existing.source = f"{existing.source} | {r.source}"
            file, first = existing.origin.rsplit(", row ", 1)
            existing.origin = f"{file}, rows {first} and {r.row}"
            continue
        combines = tuple(r.combines.split(COMBINES_SEPARATOR)) if r.combines else ()
        rows[key] = FactRow(
            r.company, r.metric, value,
            value if r.qualifier == "low" else None, value if r.qualifier == "high" else None,
            r.unit, r.currency, _serial(r.period_start), _serial(r.period_end),
            _serial(r.as_of), "range" if r.qualifier in ("low", "high") else r.qualifier,
            r.source, combines, f"{r.file}, row {r.row}")
    return list(rows.values())


LAST_DATE_SERIAL = 2_958_465  # 9999-12-31, the last date Excel has
FIRST_DATE_SERIAL = 61        # 1900-03-01: serials up to it meet Excel's 1900 leap-year bug


class Rule(NamedTuple):
    """What an input cell accepts. One rule serves twice: the Inputs sheet's data validation
    is generated from it, and a value carried from an older workbook must pass it."""

    kind: str                  # "decimal", "whole" or "date"
    low: float | None = None   # inclusive bounds (dates: after FIRST_DATE_SERIAL)
    high: float | None = None

    def describe(self) -> str:
        if self.kind == "date":
            return "a date (yyyy-mm-dd) after 1900-03-01"
        what = "a whole number" if self.kind == "whole" else "a number"
        return f"{what} from {self.low:g} to {self.high:g}"

    @property
    def bounds(self) -> tuple[float, float]:
        """The values the rule lets through, as the formulas reading the input rely on."""
        if self.kind == "date":
            return (FIRST_DATE_SERIAL + 1e-9, float(LAST_DATE_SERIAL))
        return (float(self.low), float(self.high))  # type: ignore[arg-type]

    def check(self, cells: str, low: str, high: str) -> str:
        """The formula (no '=') that says TRUE when every cell of ``cells`` passes, its
        bounds read from the cells ``low`` and ``high``: the rule written once, shown
        beside the input, checked where the input is entered."""
        first = cells.split(":")[0]
        count = f"COUNT({cells})=COLUMNS({cells})" if ":" in cells else f"ISNUMBER({cells})"
        smallest, largest = ((f"MIN({cells})", f"MAX({cells})") if ":" in cells
                             else (first, first))
        above = f"{smallest}>{low}" if self.kind == "date" else f"{smallest}>={low}"
        whole = f",SUMPRODUCT(--(INT({cells})<>{cells}))=0" if self.kind == "whole" else ""
        return f"AND({count},{above},{largest}<={high}{whole})"

    def shown_bounds(self) -> tuple[float, float]:
        """The bounds as the Inputs sheet shows them (a date's: after 1900-03-01)."""
        if self.kind == "date":
            return (float(FIRST_DATE_SERIAL), float(LAST_DATE_SERIAL))
        return self.bounds

    def excel(self) -> dict[str, str]:
        """The arguments of openpyxl's DataValidation for this rule."""
        if self.kind == "date":
            return {"type": "date", "operator": "greaterThan",
                    "formula1": str(FIRST_DATE_SERIAL)}
        return {"type": self.kind, "operator": "between", "formula1": f"{self.low:g}",
                "formula2": f"{self.high:g}"}

    def refusal(self, value: Any) -> str | None:
        """None if ``value`` (as openpyxl reads a cell) passes; otherwise why not."""
        rule = f"rule: {self.describe()}"
        if isinstance(value, bool):  # before numbers: bool is an int in Python
            return f"TRUE/FALSE is not a number; {rule}"
        if self.kind == "date":
            if isinstance(value, dt.datetime):
                value = value.date()
            if isinstance(value, dt.date):
                value = date_to_serial(value)
            if not isinstance(value, (int, float)) or not (
                    FIRST_DATE_SERIAL < value <= LAST_DATE_SERIAL):
                return rule
            return None
        if isinstance(value, (dt.date, dt.datetime, dt.time)):
            return f"a date, not a number; {rule}"
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            return rule
        if not self.low <= value <= self.high or (self.kind == "whole" and value % 1):
            return rule
        return None


CASH_RULE = Rule("decimal", 0, 1e7)            # HK$ bn, per company
DEBT_RULE = Rule("decimal", 0, 1e7)            # HK$ bn, per company
CASH_DATE_RULE = Rule("date")                  # per company
GRID_MULTIPLES_RULE = Rule("decimal", 0.1, 1000)
GRID_YEARS_RULE = Rule("decimal", 0.5, 50)


@dataclass(frozen=True)
class Assumption:
    """A global input of the Inputs sheet, kept as a named range."""

    name: str
    label: str
    value: Any
    unit: str
    number_format: str
    source: str
    low: float | None = None   # data validation bounds
    high: float | None = None
    kind: str = "decimal"      # decimal, date, whole

    @property
    def rule(self) -> Rule:
        return Rule(self.kind, self.low, self.high)


ASSUMPTIONS = (
    Assumption("Valuation_Date", "Valuation date", dt.date(2026, 2, 24), "date", "yyyy-mm-dd",
               "The article's date (2026-02-24)", kind="date"),
    Assumption("FX_As_Of", "FX rates as of", dt.date.fromisoformat(fx.FX_AS_OF), "date",
               "yyyy-mm-dd", "The date the spot rates below are taken at (the article's)",
               kind="date"),
    Assumption("USD_HKD", "USD/HKD exchange rate (spot)", fx.USD_HKD_DEFAULT, "HKD per USD",
               "0.0000", "Centre of the Hong Kong dollar's 7.75-7.85 band (Linked Exchange "
               "Rate System); spot for market values", 1, 20),
    Assumption("USD_HKD_Flows", "USD/HKD for period flows", fx.USD_HKD_DEFAULT,
               "HKD per USD", "0.0000", "Average over the reporting periods, for revenue, "
               "losses, profit and spend (the peg keeps it near the spot rate)", 1, 20),
    Assumption("HKD_Band_Low", "HKD band, strong side", fx.HKD_BAND[0], "HKD per USD",
               "0.00", "Convertibility undertaking, strong side", 1, 20),
    Assumption("HKD_Band_High", "HKD band, weak side", fx.HKD_BAND[1], "HKD per USD",
               "0.00", "Convertibility undertaking, weak side", 1, 20),
    Assumption("USD_CNY", "USD/CNY exchange rate (spot)", fx.USD_CNY_DEFAULT, "CNY per USD",
               "0.0000", "Mean of the rates the article's own conversions imply (paras 20 "
               "and 22: 6.924 and 6.894); spot for market values", 1, 20),
    Assumption("USD_CNY_Flows", "USD/CNY for period flows", fx.USD_CNY_DEFAULT,
               "CNY per USD", "0.0000", "Average over the reporting periods, for revenue, "
               "losses, profit and spend; defaults to the article's implied rate", 1, 20),
    Assumption("FX_Tolerance", "Tolerance of the conversion checks", 0.01, "% (relative)",
               "0.0%", "The article rounds its conversions (RMB 370m, RMB 9.1bn)", 0, 1),
    Assumption("Peer_Multiple", "Peer EV/Sales multiple", 11.5, "x", '0.0"x"',
               "Damodaran, January 2025: US software (system & application) EV/Sales, "
               "about 11.5x", 0.1, 1000),
    Assumption("Target_Multiple", "Target P/S multiple to grow into", 11.5, "x", '0.0"x"',
               "Assumption: the peer multiple; change to test others", 0.1, 1000),
    Assumption("Years", "Years to grow into the target", 5, "years", "0",
               "Assumption", 0.5, 50),
    Assumption("Revenue_Growth", "Revenue growth a year", 0.5, "% a year", "0.0%",
               "Assumption for years-to-justify and the projection", -0.99, 10),
    Assumption("Discount_Rate", "Discount rate (market value grows at)", 0.1, "% a year",
               "0.0%", "Assumption: a cost of equity for young tech companies", -0.99, 1),
    Assumption("Failure_Probability", "Probability of failure", 0.2, "% (probability)",
               "0.0%", "Assumption (Damodaran: failure risk as a probability, not in the "
               "discount rate)", 0, 1),
    Assumption("Check_Tolerance", "Tolerance of exact checks", 1e-9, "relative", "0.0E+00",
               "Floating-point rounding only", 0, 1),
    Assumption("Implied_Tolerance", "Tolerance of the market-implied story check", 1e-6,
               "relative", "0.0E+00", "The implied growth is written to 12 significant "
               "digits and solved to about 1e-6 of the value: the value it gives matches "
               "the market value to that, not to the last bit", 0, 1),
)

GRID_MULTIPLES = (5.0, 8.0, 11.5, 15.0, 20.0, 30.0)
GRID_YEARS = (3.0, 5.0, 7.0, 10.0, 15.0)
PROJECTION_YEARS = 10


@dataclass
class CompanyInputs:
    """What a person types per company on the Inputs sheet (kept across rebuilds)."""

    cash: float | None = None         # HK$ bn
    cash_as_of: float | None = None   # Excel serial
    comment: str = ""
    debt: float | None = 0.0          # HK$ bn; an assumption: the article gives no debt


ILLUSTRATIVE_CASH = ("Illustrative: half of the >HK$9bn raised by MiniMax and Zhipu "
                     "together (article para 25); replace with the reported cash")


def default_company_inputs(company: str) -> CompanyInputs:
    """The article gives no cash balances; for the two listed start-ups we start from an
    illustrative half each of the HK$9bn they raised together (para 25), said so in the
    comment, for a person to replace with the filings' figure."""
    if company in ("MiniMax", "Zhipu"):
        return CompanyInputs(4.5, date_to_serial(dt.date(2026, 2, 24)), ILLUSTRATIVE_CASH)
    return CompanyInputs()


@dataclass
class Model:
    """Everything the sheets are written from."""

    facts: list[FactRow]
    companies: list[str]
    by_key: dict[tuple[str, str], FactRow]
    assumptions: dict[str, Any]
    company_inputs: dict[str, CompanyInputs]
    grid_multiples: list[float]
    grid_years: list[float]
    card_company: str
    scenario_company: str
    carried: list[str] = field(default_factory=list)       # "USD_HKD: 7.8 -> 7.82"
    not_carried: list[str] = field(default_factory=list)   # why an old input was refused
    chosen: list[str] = field(default_factory=list)        # keys of carried inputs
    # story inputs a person changed, over the defaults of STORY_INPUTS: company -> label
    story_inputs: dict[str, dict[str, float]] = field(default_factory=dict)
    simulation: Simulation = field(default_factory=lambda: default_simulation())

    def cash_basis(self, company: str) -> str:
        """What a company's runway rests on, said beside it: a cash figure typed on the
        Inputs sheet, the illustrative default, or none."""
        inputs = self.company_inputs[company]
        if inputs.cash is None:
            return "No cash figure (Inputs)"
        default = default_company_inputs(company)
        if inputs.comment == ILLUSTRATIVE_CASH and (inputs.cash, inputs.cash_as_of) == (
                default.cash, default.cash_as_of):
            return "Illustrative: half the >HK$9bn raised, not reported"
        return "Cash as typed (Inputs)"

    def story_input(self, company: str, label: str, default: float) -> float:
        return self.story_inputs.get(company, {}).get(label, default)

    def fact(self, company: str, metric: str) -> FactRow | None:
        return self.by_key.get((name_key(company), name_key(metric)))

    def year_series(self) -> list[tuple[str, str, list[FactRow]]]:
        """Metrics with a year suffix (alibaba_cloud_cap_2026...): one series each."""
        series: dict[tuple[str, str], list[FactRow]] = {}
        for fact in self.facts:
            match = YEAR_SUFFIX.match(fact.metric)
            if match:
                series.setdefault((fact.company, match["base"]), []).append(fact)
        return [(c, b, sorted(rows, key=lambda f: f.metric))
                for (c, b), rows in series.items() if len(rows) > 1]


def build_model(facts: pd.DataFrame) -> Model:
    rows = fact_rows(facts)
    by_key = {(name_key(f.company), name_key(f.metric)): f for f in rows}
    named = {name_key(f.company): f.company for f in rows
             if name_key(f.metric) in COMPANY_METRICS and not f.combines}
    companies = list(dict.fromkeys(named.values()))
    first = companies[0] if companies else ""
    return Model(
        rows, companies, by_key,
        {a.name: (date_to_serial(a.value) if a.kind == "date" else a.value)
         for a in ASSUMPTIONS},
        {c: default_company_inputs(c) for c in companies},
        list(GRID_MULTIPLES), list(GRID_YEARS),
        "Zhipu" if "Zhipu" in companies else first,
        "Zhipu" if "Zhipu" in companies else first,
    )


# ---- the story DCF's inputs -------------------------------------------------------------

MAX_STORY_COMPANIES = 25  # DCF blocks written: a 10,000-company universe stays usable


@dataclass(frozen=True)
class StoryInput:
    """A story input of the Inputs sheet: a linked base figure (``link`` says from where)
    or an illustrative assumption (``value``, with its reason), the same for every company
    until a person changes a company's cell."""

    label: str          # the story label (xlfuncs.story)
    description: str
    unit: str
    number_format: str
    rule: Rule
    value: float | None = None   # None: a link (revenue, nol, cash, debt, failure)
    source: str = ""


def _assume(label: str, description: str, unit: str, fmt: str, rule: Rule, value: float,
            why: str) -> StoryInput:
    return StoryInput(label, description, unit, fmt, rule, value,
                      f"Assumption (illustrative): {why}")


RATE = Rule("decimal", -0.99, 10)
SHARE = Rule("decimal", 0, 1)
AMOUNT = Rule("decimal", -1e7, 1e7)
POSITIVE = Rule("decimal", 1e-9, 1e7)      # revenue: a DCF grows it, so it must be above 0
NOT_NEGATIVE = Rule("decimal", 0, 1e7)     # losses carried forward
STORY_INPUTS = (
    StoryInput("revenue", "Revenue, base year (annualised run-rate)", "HK$ bn", "0.0000",
               POSITIVE, source="Link: Valuation, Annualised revenue (HK$ bn)"),
    _assume("growth_next", "Revenue growth, year 1", "% a year", "0.0%", RATE, 1.0,
            "revenue doubles next year, as young model makers' revenue has"),
    _assume("growth_2_5", "Revenue growth, years 2-5", "% a year", "0.0%", RATE, 0.6,
            "fast growth that slows; the market-implied growth is solved on the DCF sheet"),
    _assume("margin_next", "Operating margin, year 1", "%", "0.0%", Rule("decimal", -100, 1),
            -4.0, "the current operating margin is deeply negative: losses are several "
            "times revenue"),
    _assume("target_margin", "Target operating margin", "%", "0.0%", Rule("decimal", -1, 1),
            0.25, "a mature software company's operating margin"),
    _assume("convergence_year", "Year the margin reaches the target", "year (1-10)", "0.0",
            Rule("decimal", 1, 10), 10, "margins take the whole decade to mature"),
    _assume("sales_to_capital_1_5", "Sales to capital, years 1-5", "x", "0.00",
            Rule("decimal", 0.01, 100), 1.5, "compute-heavy growth: HK$1 of capital a "
            "HK$1.5 of added revenue"),
    _assume("sales_to_capital_6_10", "Sales to capital, years 6-10", "x", "0.00",
            Rule("decimal", 0.01, 100), 1.5, "the same as years 1-5"),
    _assume("riskfree", "Riskfree rate", "% a year", "0.0%", Rule("decimal", -0.05, 0.5),
            0.04, "about the 10-year US Treasury yield (HK$ is pegged to US$)"),
    _assume("cost_of_capital", "Cost of capital, years 1-5", "% a year", "0.0%",
            Rule("decimal", 0, 1), 0.12, "a young, risky technology company"),
    _assume("mature_cost_of_capital", "Cost of capital, year 10 on", "% a year", "0.0%",
            Rule("decimal", 0, 1), 0.085, "riskfree + 4.5% (the model's default)"),
    _assume("stable_growth", "Growth after year 10", "% a year", "0.0%",
            Rule("decimal", -0.5, 0.5), 0.04, "the riskfree rate (the model's default)"),
    _assume("stable_roc", "Return on capital after year 10", "%", "0.0%",
            Rule("decimal", 0.001, 10), 0.085, "the mature cost of capital: no excess "
            "returns forever (the model's default)"),
    _assume("effective_tax", "Tax rate, years 1-5", "%", "0.0%", SHARE, 0.25,
            "China's statutory corporate income tax rate"),
    _assume("marginal_tax", "Tax rate, year 10 on", "%", "0.0%", SHARE, 0.25,
            "China's statutory corporate income tax rate"),
    StoryInput("nol", "Losses carried forward: the article's cumulative losses, taken as the "
               "NOL", "HK$ bn", "0.0000", NOT_NEGATIVE,
               source="Formula: Facts cumulative_loss converted with FX_CONVERT at the "
               "flow rates (0 where the article gives none)"),
    StoryInput("failure_probability", "Probability of failure", "% (probability)", "0.0%",
               SHARE, source="Link: Inputs, Failure_Probability"),
    _assume("distress_fraction", "Proceeds on failure, share of going concern", "%", "0.0%",
            SHARE, 0.5, "half the going-concern value is recovered (the model's default)"),
    StoryInput("cash", "Cash", "HK$ bn", "0.00", AMOUNT,
               source="Link: Inputs, Company inputs, Cash"),
    StoryInput("debt", "Debt", "HK$ bn", "0.00", AMOUNT,
               source="Link: Inputs, Company inputs, Debt"),
    _assume("minority", "Minority interests", "HK$ bn", "0.00", AMOUNT, 0.0,
            "the article gives none"),
    _assume("non_operating", "Non-operating assets", "HK$ bn", "0.00", AMOUNT, 0.0,
            "the article gives none"),
    _assume("options", "Value of employee options", "HK$ bn", "0.00", AMOUNT, 0.0,
            "the article gives none"),
    _assume("shares", "Shares", "count (1: per share = equity value, HK$ bn)", "0",
            Rule("decimal", 1e-9, 1e12), 1.0, "one 'share', so value per share is the "
            "equity value in HK$ bn, comparable with the market value in HK$ bn"),
)

# The Simulation sheet's settings: the distributions every story company's drivers are
# drawn from (illustrative), draws and seed. Build-time settings: the statistics are
# computed when the workbook is built (a person edits them, then rebuilds with
# --keep-inputs, which carries them through these rules).
SIMULATION_SEED = 2026
SIMULATION_DRAWS = 10_000
SIMULATION_ROWS = 6                                # driver rows: four given, two free
SIMULATION_DRAWS_RULE = Rule("whole", 1, 100_000)  # x 25 story companies: a build, not a night
SIMULATION_SEED_RULE = Rule("whole", 0, 2**31 - 1)
PARAMETER_RULE = Rule("decimal", -1e7, 1e7)
STORY_DISTRIBUTIONS: tuple[tuple[str, str, tuple[float, ...], str], ...] = (
    ("growth_2_5", "triangular", (0.2, 0.6, 1.5),
     "Assumption (illustrative): the story's 60% most likely, 20% to 150%"),
    ("target_margin", "triangular", (0.1, 0.25, 0.4),
     "Assumption (illustrative): a commodity model maker (10%) to a dominant platform (40%)"),
    ("cost_of_capital", "normal", (0.12, 0.02),
     "Assumption (illustrative): the story's 12%, give or take 2 points"),
    ("failure_probability", "uniform", (0.1, 0.4),
     "Assumption (illustrative): anywhere from 10% to 40%"),
)


Driver = tuple[str, str, tuple[float, ...]]   # story label, distribution, its parameters


@dataclass
class Simulation:
    drivers: list[Driver]
    draws: int = SIMULATION_DRAWS
    seed: int = SIMULATION_SEED

    def table(self) -> dict[str, tuple[Any, ...]]:
        """The distributions as :func:`xlfuncs.story.simulate.simulate` takes them."""
        return {label: (name, *params) for label, name, params in self.drivers}


def default_simulation() -> Simulation:
    return Simulation([(label, name, params) for label, name, params, _ in STORY_DISTRIBUTIONS])
