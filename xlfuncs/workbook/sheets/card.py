"""The Company card sheet: pick a company, see its key figures."""

from __future__ import annotations

from ..book import (
    HEADER,
    INPUT,
    LINK,
    UNIT,
    Book,
)
from .burn import CASH_BASIS
from .common import (
    BN,
    BN_SMALL,
    DATE,
    FIRST,
    MULTIPLE,
    PCT,
    PRICE,
    TF,
    Layout,
    Plan,
    company_list_validation,
    header_rows,
    lookup,
    spec_column,
    styled,
)
from .valuation import IMPLIED_GROWTH, INTRINSIC, INTRINSIC_NOTE, UPSIDE

CARD_FIGURES = (
    ("Valuation", "Market value", "HK$ bn", BN),
    ("Valuation", "Market value", "US$ bn", BN),
    ("Valuation", "Annualised revenue", "HK$ bn", BN_SMALL),
    ("Valuation", "Price to sales", "x", MULTIPLE),
    ("Valuation", "EV to sales", "x", MULTIPLE),
    ("Valuation", "EV/Sales premium over peer EV/Sales", "%", PCT),
    ("Valuation", "Implied share price", "HK$ a share", PRICE),
    ("Valuation", "Revenue CAGR to reach target multiple", "% a year", PCT),
    ("Valuation", "Years to reach target multiple", "years", "0.0"),
    ("Valuation", "Revenue run-rate against China's 2030 AI market",
     "% (today's revenue, 2030 market)", "0.000%"),
    ("Valuation", "Price to earnings", "x", MULTIPLE),
    ("Valuation", INTRINSIC, "HK$ bn", BN),
    ("Valuation", UPSIDE, "%", PCT),
    ("Valuation", INTRINSIC_NOTE, "note", TF),
    ("Valuation", IMPLIED_GROWTH, "% a year", PCT),
    ("Burn", "Monthly burn, loss-based", "HK$ bn a month", BN_SMALL),
    ("Burn", "Runway", "months", "0.0"),
    ("Burn", "Cash runs out", "date", DATE),
    ("Burn", CASH_BASIS, "note", TF),
)


def write_card(book: Book, plan: Plan, layouts: dict[str, Layout]) -> None:
    model = plan.model
    s = book.sheet("Company card")
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.ws.freeze_panes = f"A{FIRST}"
    s.widths(40, 18, 16)
    header_rows(s, "Company card", "Pick a company (the yellow cell); its key figures "
                "appear below, looked up from Valuation and Burn.", plan)
    s.append([s.text("Figure", HEADER), s.text("Value", HEADER), s.text("Unit", HEADER)])
    s.append([s.text("name", UNIT), s.text("", UNIT), s.text("", UNIT)])
    s.append([s.text("Company"), s.text(model.card_company, INPUT), s.text("pick from list",
                                                                            UNIT)])
    book.name("Card_Company", f"'Company card'!$B${FIRST}")
    for sheet, header, unit, fmt in CARD_FIGURES:
        source = spec_column(layouts[sheet], header, unit)
        formula, cached = lookup("A", source, "Card_Company", len(model.companies),
                                 model.companies, model.card_company, sheet)
        s.append([s.text(f"{header}"), s.formula(formula, cached, styled(LINK, fmt)),
                  s.text(unit, UNIT)])
    s.ws.data_validations.append(company_list_validation(model, f"B{FIRST}"))
