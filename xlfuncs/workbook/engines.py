"""Independent spreadsheet engines that recalculate a workbook: LibreOffice and Gnumeric.

Each engine opens an .xlsx, recomputes every formula with its own arithmetic and saves an
.xlsx whose cached values are its answers; the tests compare those with the values the
Python core cached. Two engines written by different people disagree where one of them
has a bug, which one engine alone cannot show (docs/testing.md lists where they differ).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import libreoffice

GNUMERIC_HINT = ("Gnumeric is not installed: apt-get install -y --no-install-recommends "
                 "gnumeric (Debian/Ubuntu; it provides ssconvert)")
LIBREOFFICE_HINT = ("LibreOffice is not installed: apt-get install -y "
                    "--no-install-recommends libreoffice-calc-nogui (Debian/Ubuntu)")


def ssconvert() -> str | None:
    """Gnumeric's command-line converter, if there is one."""
    return shutil.which("ssconvert")


def recalculate_gnumeric(workbook: Path, out_dir: Path, timeout: float = 600) -> Path:
    """Open ``workbook`` in Gnumeric, recalculate every formula (--recalc), save as .xlsx."""
    executable = ssconvert()
    if executable is None:
        raise FileNotFoundError(GNUMERIC_HINT)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = out_dir / (workbook.stem + ".xlsx")
    with tempfile.TemporaryDirectory(prefix="xlfuncs-gnumeric-") as home:
        # Gnumeric keeps settings under HOME; a fresh one keeps runs independent
        subprocess.run([executable, "--recalc", "--export-type=Gnumeric_Excel:xlsx2",
                        str(workbook.resolve()), str(result)], check=True, timeout=timeout,
                       capture_output=True, env={**os.environ, "HOME": home})
    if not result.exists():
        raise RuntimeError(f"Gnumeric did not write {result}")
    return result


@dataclass(frozen=True)
class Engine:
    """A spreadsheet program that can recalculate an .xlsx without a screen."""

    name: str
    find: Callable[[], str | None]
    recalculate: Callable[[Path, Path], Path]
    install_hint: str

    @property
    def installed(self) -> bool:
        return self.find() is not None


ENGINES: tuple[Engine, ...] = (
    Engine("LibreOffice", libreoffice.soffice, libreoffice.recalculate, LIBREOFFICE_HINT),
    Engine("Gnumeric", ssconvert, recalculate_gnumeric, GNUMERIC_HINT),
)
