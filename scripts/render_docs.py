#!/usr/bin/env python3
"""Render the committed workbook to PNG pictures for the README (LibreOffice + pdftoppm).

    python3 scripts/render_docs.py            # writes docs/workbook-*.png

Each picture is the top of the first printed page of one sheet, as LibreOffice prints
it after recalculating every formula: what a colleague without Python sees.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from xlfuncs.workbook.libreoffice import to_pdf

ROOT = Path(__file__).resolve().parents[1]
WORKBOOK = ROOT / "workbooks" / "llm_valuation.xlsx"
DOCS = ROOT / "docs"
# sheet title -> (picture name, height of the crop in points at 72 dpi)
PICTURES = {"Inputs": ("workbook-inputs", 330), "Facts": ("workbook-facts", 260),
            "Valuation": ("workbook-valuation", 150), "DCF": ("workbook-dcf", 420),
            "Simulation": ("workbook-simulation", 420), "Burn": ("workbook-burn", 170),
            "Scenarios": ("workbook-scenarios", 260), "Company card": ("workbook-card", 300),
            "Charts": ("workbook-charts", 520), "Checks": ("workbook-checks", 170)}
# sheets with a chart a page: every page of them gets a picture (NAME-2.png, ...)
EVERY_PAGE = {"Charts"}
DPI = 110


def pages_of(pdf: Path, pages: int, title: str) -> list[int]:
    """The pages that start with the sheet's title (its print titles repeat it)."""
    found = []
    for page in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout",
                               str(pdf), "-"], capture_output=True, text=True, check=True)
        if text.stdout.lstrip().startswith(title):
            found.append(page)
    if not found:
        raise LookupError(f"no page starts with {title}")
    return found


def main() -> int:
    if not shutil.which("pdftoppm"):
        print("pdftoppm is missing: apt-get install poppler-utils", file=sys.stderr)
        return 1
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        pdf = to_pdf(WORKBOOK, Path(work))
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                              check=True).stdout
        pages = int(next(line.split()[-1] for line in info.splitlines()
                         if line.startswith("Pages:")))
        for title, (base, height) in PICTURES.items():
            found = pages_of(pdf, pages, title)
            for k, page in enumerate(found if title in EVERY_PAGE else found[:1], start=1):
                name = base if k == 1 else f"{base}-{k}"
                subprocess.run(["pdftoppm", "-png", "-singlefile", "-r", str(DPI), "-f", str(page),
                                "-l", str(page), "-x", "0", "-y", str(int(40 * DPI / 72)),
                                "-W", str(int(1190 * DPI / 72)),
                                "-H", str(int(height * DPI / 72)), str(pdf), str(DOCS / name)],
                               check=True)
                print(f"wrote docs/{name}.png (page {page})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
