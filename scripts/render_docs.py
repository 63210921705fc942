#!/usr/bin/env python3
"""Render the committed workbook to PNG pictures for the README (LibreOffice + pdftoppm).

    python3 scripts/render_docs.py            # writes docs/workbook-*.png

Each picture is one printed page of a sheet, cropped to what is printed on it, as
LibreOffice prints it after recalculating every formula: what a colleague without Python
sees.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from xlfuncs.workbook.libreoffice import to_pdf

ROOT = Path(__file__).resolve().parents[1]
WORKBOOK = ROOT / "workbooks" / "llm_valuation.xlsx"
DOCS = ROOT / "docs"
# sheet title -> picture name; every printed page of the sheet gets one (NAME-2.png, ...),
# cropped to what is printed on it
PICTURES = {"LLM valuation workbook": "workbook-about", "Inputs": "workbook-inputs",
            "Facts": "workbook-facts",
            "Valuation": "workbook-valuation", "DCF": "workbook-dcf",
            "Simulation": "workbook-simulation", "Burn": "workbook-burn",
            "Scenarios": "workbook-scenarios", "Company card": "workbook-card",
            "Charts": "workbook-charts", "Checks": "workbook-checks",
            "Functions": "workbook-functions"}
DPI = 110
MARGIN = 12  # pixels of white kept around the printed content


def content_box(pdf: Path, page: int) -> tuple[int, int, int, int]:
    """(x, y, width, height) in pixels of what is printed on a page (not white)."""
    raw = subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-f", str(page), "-l",
                          str(page), str(pdf)], capture_output=True, check=True).stdout
    width, height = map(int, raw.split(maxsplit=4)[1:3])
    ink = np.frombuffer(raw[-width * height:], np.uint8).reshape(height, width) < 245
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    if not rows.size:
        return 0, 0, width, height
    x0, y0 = max(cols[0] - MARGIN, 0), max(rows[0] - MARGIN, 0)
    return (int(x0), int(y0), int(min(cols[-1] + MARGIN, width) - x0),
            int(min(rows[-1] + MARGIN, height) - y0))


def sheet_pages(pdf: Path, pages: int) -> dict[str, list[int]]:
    """The printed pages of each sheet: every page starts with its sheet's title (repeated
    by the print titles, or by column A on a wide table's pages across; tests/test_render.py
    checks it); a page that starts with none is counted with the sheet before it."""
    found: dict[str, list[int]] = {}
    current = None
    for page in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout",
                               str(pdf), "-"], capture_output=True, text=True, check=True)
        first = text.stdout.lstrip()
        current = next((t for t in PICTURES if first.startswith(t)), current)
        if current is not None:
            found.setdefault(current, []).append(page)
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
        printed = sheet_pages(pdf, pages)
        for title, base in PICTURES.items():
            if title not in printed:
                raise LookupError(f"no page starts with {title}")
            # a page the sheet no longer prints: its old picture goes
            for stale in DOCS.glob(f"{base}-*.png"):
                number = stale.stem.removeprefix(f"{base}-")
                if number.isdigit() and int(number) > len(printed[title]):
                    stale.unlink()
                    print(f"removed docs/{stale.name}")
            for k, page in enumerate(printed[title], start=1):
                name = base if k == 1 else f"{base}-{k}"
                x, y, w, h = content_box(pdf, page)
                subprocess.run(["pdftoppm", "-png", "-singlefile", "-r", str(DPI), "-f",
                                str(page), "-l", str(page), "-x", str(x), "-y", str(y),
                                "-W", str(w), "-H", str(h), str(pdf), str(DOCS / name)],
                               check=True)
                print(f"wrote docs/{name}.png (page {page})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
