"""The About sheet: what the workbook is, its source, the colour legend, the build."""

from __future__ import annotations

from ... import __version__
from ..book import (
    FORMULA,
    HEADER,
    INPUT,
    LINK,
    Book,
)
from .common import Plan, header_rows, styled


def write_about(book: Book, plan: Plan) -> None:
    s = book.sheet("About")
    # layout first: write-only sheets stream <cols> and panes before the rows
    s.fit_width()
    s.widths(24, 160)
    s.ws.freeze_panes = "A4"
    header_rows(s, "LLM valuation workbook", "Built by xlfuncs; every number recomputes in "
                "Excel, LibreOffice and Google Sheets without the add-in.", plan)
    rows = [
        ("What this is", "A valuation and cash-burn model of China's listed LLM start-ups "
         "(MiniMax, Zhipu) with OpenAI, Anthropic and Cambricon as peers, fed by every figure "
         "of the source article (sheet Facts), with inputs on one sheet (Inputs)."),
        ("Source article", "2026-02-24, by Yang Jianyong, Forbes China contributor: the Hong "
         "Kong listings of MiniMax and Zhipu, their market values, revenue, losses and "
         "compute spend."),
        ("Sheets", "Inputs, Facts, Valuation, Burn, Scenarios, Company card, Charts, Checks, "
         "Functions."),
        ("Burn is loss-based", "The article reports cumulative net losses, not cash flows: "
         "monthly and annual burn divide a loss by its months, a proxy that includes non-cash "
         "items."),
        ("Build", f"xlfuncs {__version__}"),
        ("Data layers", "Each file below overrides the ones above it fact by fact (company "
         "and metric); the Facts sheet says which file each fact came from."),
        *((f"Data layer {i}", f"{layer.label} (SHA-256 {layer.sha256})")
          for i, layer in enumerate(plan.layers, 1)),
        ("Live Excel functions", "pip install xlfuncs; then xlwings addin install and set "
         "UDF Modules to xlfuncs.udfs (Windows), or serve them with xlwings Server / xlwings "
         "Lite. The sheet Functions lists them."),
    ]
    for label, text in rows:
        s.append([s.text(label, styled(HEADER, "@")), s.text(text)])
    s.blank_rows()
    s.append([s.text("Colour legend", HEADER)])
    s.append([s.value(1.0, INPUT), s.text("Input: a number you may change (blue on yellow)")])
    s.append([s.formula("=Checks_OK", plan.checks_ok, FORMULA),
              s.text("Formula: computed, do not type over (black)")])
    s.append([s.formula("=Checks_OK", plan.checks_ok, LINK),
              s.text("Link: a value taken from another cell (green)")])


