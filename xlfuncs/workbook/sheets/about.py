"""The About sheet: what the workbook is, its source, the colour legend, the build."""

from __future__ import annotations

from ... import __version__
from ..book import (
    DATA,
    FORMULA,
    HEADER,
    INPUT,
    LINK,
    SETTING,
    Book,
)
from .common import DATE, Plan, header_rows, styled


def write_about(book: Book, plan: Plan) -> None:
    s = book.sheet("About")
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.widths(24, 160)
    s.ws.freeze_panes = "A4"
    route = plan.live
    header_rows(s, "LLM valuation workbook", "Built by xlfuncs; every number recomputes in "
                "Excel, LibreOffice and Google Sheets without the add-in" + (
                    "." if route is None else f", but for the Live cells (Functions, "
                    f"Simulation): they need {route.needs}."), plan)
    rows = [
        ("What this is", "A valuation and cash-burn model of China's listed LLM start-ups "
         "(MiniMax, Zhipu) with OpenAI, Anthropic and Cambricon as peers, fed by every figure "
         "of the source article (sheet Facts), with inputs on one sheet (Inputs)."),
        ("Source article", "2026-02-24, by Yang Jianyong, Forbes China contributor: the Hong "
         "Kong listings of MiniMax and Zhipu, their market values, revenue, losses and "
         "compute spend."),
        ("Sheets", "Inputs, Facts, Valuation, DCF, Simulation, Burn, Scenarios, Company card, "
         "Charts, Checks, Functions."),
        ("Burn is loss-based", "The article reports cumulative net losses, not cash flows: "
         "monthly and annual burn divide a loss by its months, a proxy that includes non-cash "
         "items."),
        ("Build", f"xlfuncs {__version__}" + ("" if route is None else
                                              f", for the {route.name} route (--live)")),
        ("Data layers", "Each file below overrides the ones above it fact by fact (company "
         "and metric); the Facts sheet says which file each fact came from."),
        *((f"Data layer {i}", f"{layer.label} (SHA-256 {layer.sha256})")
          for i, layer in enumerate(plan.layers, 1)),
        ("Live Excel functions", "The sheet Functions lists them. Three routes bring them "
         "to Excel: xlwings Server (xlfuncs serve), xlwings Lite (xlfuncs lite) or the classic "
         "xlwings add-in (README: Which route to Excel, and docs/install.md). " + (
             "This copy holds no formula that calls them, so it opens without #NAME? "
             "anywhere; xlfuncs build --live server|lite|classic writes one that does."
             if route is None else f"This copy calls them as the {route.name} route names "
             "them, in its Live cells.")),
    ]
    for label, text in rows:
        s.append([s.text(label, styled(HEADER, "@")), s.text(text)])
    # the dates the figures are taken at, as the Inputs sheet has them
    for label, name in (("Valuation date", "Valuation_Date"), ("FX rates as of", "FX_As_Of")):
        s.append([s.text(label, styled(HEADER, "@")),
                  s.formula(f"={name}", plan.model.assumptions[name], styled(LINK, DATE))])
    s.blank_rows()
    s.append([s.text("Colour legend", HEADER)])
    s.append([s.text("1.0", INPUT), s.text("Input: a number you may change (blue on yellow); "
                                           "xlfuncs build --keep-inputs keeps it")])
    s.append([s.text("1.0", SETTING), s.text("Build-time setting: read when the workbook is "
                                             "rebuilt, not by a formula (purple on lavender; "
                                             "Simulation)")])
    s.append([s.text("1.0", DATA), s.text("Data: a figure from the data files (Facts): "
                                          "change it in a file (--data), not here")])
    s.append([s.formula("=Checks_OK", plan.checks_ok, FORMULA),
              s.text("Formula: computed, do not type over (black)")])
    s.append([s.formula("=Checks_OK", plan.checks_ok, LINK),
              s.text("Link: a value taken from another cell (green)")])


