"""``xlfuncs lite``: the two files a user pastes into xlwings Lite (Python in Excel, via
Pyodide), usable as they are, with no package index to host xlfuncs.

xlwings Lite runs the editor's ``main.py`` and installs its ``requirements.txt``. xlfuncs
is not on PyPI, so ``main.py`` carries it: the modules the Excel functions need (not the
workbook builder, the command line or the server) and the article's dataset, as a zip
inside the file. Run, it checks the zip's SHA-256, unpacks it into a fresh temporary
folder of Pyodide's in-memory file system, puts that folder first on ``sys.path`` and
re-exports :mod:`xlfuncs.udfs`: the same functions and answers as every other route.
``requirements.txt`` names only what those modules import and Pyodide or PyPI provide:
numpy and pandas (built by Pyodide, so unpinned, as xlwings Lite's documentation asks)
and xlwings (pure Python, pinned as pyproject.toml does).
"""

from __future__ import annotations

import base64
import hashlib
import io
import textwrap
import zipfile
from pathlib import Path, PurePosixPath

from . import __version__
from .registry import CATALOG

# What the Excel functions do not import: the workbook, the command, the server, the
# benchmark universes and this module.
LEFT_OUT = ("workbook/", "cli.py", "lite.py", "sample.py", "server.py", "server_app.py",
            "server_requests.py")
# Pyodide builds numpy and pandas (its version decides theirs); xlwings is pure Python.
REQUIREMENTS = ("xlwings>=0.37", "numpy", "pandas")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the same bytes on every run
LINE = 76

MAIN = '''"""xlfuncs {version} in xlwings Lite: valuation and cash-burn functions for AI companies.

Written by `xlfuncs lite`. Paste this whole file into xlwings Lite's main.py, and
requirements.txt beside it into its requirements.txt; then type =VAL_PS(B2, C2) in a
cell. This file carries xlfuncs itself (the zip below, {files} files), so nothing needs
to be hosted or installed. After pasting a new version, restart xlwings Lite.

Functions:
{names}
"""

import base64
import hashlib
import io
import sys
import tempfile
import zipfile


def _unpack_xlfuncs():
    bundle = base64.b64decode(XLFUNCS_ZIP)
    if hashlib.sha256(bundle).hexdigest() != XLFUNCS_SHA256:
        raise RuntimeError("main.py's copy of xlfuncs is damaged (its SHA-256 differs): "
                           "write it again with `xlfuncs lite` and paste the whole file")
    folder = tempfile.mkdtemp(prefix="xlfuncs-")
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        archive.extractall(folder)
    sys.path.insert(0, folder)


XLFUNCS_SHA256 = "{digest}"
XLFUNCS_ZIP = """
{bundle}
"""

if "xlfuncs.udfs" not in sys.modules:  # xlwings Lite may run main.py again: unpack once
    _unpack_xlfuncs()

from xlfuncs.udfs import *  # noqa: E402, F403  (the decorated functions register themselves)
'''

REQUIREMENTS_TEXT = """\
# xlfuncs {version} for xlwings Lite: main.py carries xlfuncs; these are what it imports.
# numpy and pandas come built for Pyodide, whose version decides theirs: leave them unpinned.
{lines}
"""


def bundled_files(package: Path) -> list[tuple[str, bytes]]:
    """The files of ``package`` that the Excel functions need, as (path in the zip, bytes),
    sorted: every module but :data:`LEFT_OUT`, and the article's dataset."""
    found = []
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package).as_posix()
        wanted = path.suffix == ".py" or relative == "data/facts.csv"
        if path.is_file() and wanted and not relative.startswith(LEFT_OUT) and (
                "__pycache__" not in relative):
            found.append((str(PurePosixPath(package.name, relative)), path.read_bytes()))
    return found


def bundle(files: list[tuple[str, bytes]]) -> bytes:
    """A zip of ``files`` whose bytes depend only on their names and contents."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files:
            entry = zipfile.ZipInfo(name, ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, content, compresslevel=9)
    return buffer.getvalue()


def main_py(files: list[tuple[str, bytes]]) -> str:
    """The text of xlwings Lite's main.py, carrying ``files``."""
    archive = bundle(files)
    text = base64.b64encode(archive).decode("ascii")
    return MAIN.format(version=__version__, files=len(files),
                       digest=hashlib.sha256(archive).hexdigest(),
                       names=textwrap.fill(", ".join(e.name for e in CATALOG) + ".", 88),
                       bundle="\n".join(text[i:i + LINE] for i in range(0, len(text), LINE)))


def write_lite(out: Path) -> list[Path]:
    """Write main.py and requirements.txt for xlwings Lite into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    main = out / "main.py"
    main.write_text(main_py(bundled_files(Path(__file__).resolve().parent)), encoding="utf-8")
    requirements = out / "requirements.txt"
    requirements.write_text(REQUIREMENTS_TEXT.format(version=__version__,
                                                     lines="\n".join(REQUIREMENTS)),
                            encoding="utf-8")
    return [main, requirements]
