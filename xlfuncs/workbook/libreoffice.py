"""LibreOffice headless as an independent formula engine: recalculate a workbook, render it.

LibreOffice keeps the cached values of an .xlsx by default; the user profile made here
tells it to recalculate every formula on load (Tools > Options > Calc > Formula >
"Recalculation on file load: Always"), so what it saves is its own arithmetic.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""
INSTALL_HINT = ("LibreOffice is not installed: apt-get install -y libreoffice-calc-nogui "
                "(Debian/Ubuntu) or install LibreOffice and put soffice on PATH")


def soffice() -> str | None:
    """The LibreOffice executable, if there is one."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str], workdir: Path, timeout: float) -> None:
    executable = soffice()
    if executable is None:
        raise FileNotFoundError(INSTALL_HINT)
    profile = workdir / "profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    settings = profile / "user" / "registrymodifications.xcu"
    if not settings.exists():  # a profile LibreOffice started in keeps what it wrote there
        settings.write_text(RECALC_ALWAYS, "utf-8")
    env = {**os.environ, "HOME": str(workdir)}
    subprocess.run([executable, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                    "--norestore", "--nologo", *args], check=True, cwd=workdir, env=env,
                   timeout=timeout, capture_output=True)


def recalculate(workbook: Path, out_dir: Path, timeout: float = 600) -> Path:
    """Open ``workbook`` in LibreOffice, recalculate everything, save it as .xlsx."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xlfuncs-lo-") as work:
        _run(["--calc", "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir",
              str(out_dir), str(workbook.resolve())], Path(work), timeout)
    result = out_dir / (workbook.stem + ".xlsx")
    if not result.exists():
        raise RuntimeError(f"LibreOffice did not write {result}")
    return result


def to_pdf(workbook: Path, out_dir: Path, timeout: float = 600) -> Path:
    """Render ``workbook`` to PDF with LibreOffice (what a printout looks like)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xlfuncs-lo-") as work:
        _run(["--convert-to", "pdf", "--outdir", str(out_dir), str(workbook.resolve())],
             Path(work), timeout)
    return out_dir / (workbook.stem + ".pdf")
