"""``xlfuncs lite``: the files a user pastes into xlwings Lite (Python in Excel, via Pyodide).

xlwings Lite runs a ``main.py`` and installs a ``requirements.txt`` with micropip. xlfuncs
is pure Python and its dependencies are all in Pyodide (numpy, pandas, lxml) or pure
Python (openpyxl, defusedxml), so ``main.py`` only has to re-export ``xlfuncs.udfs``:
the same functions, the same answers, as everywhere else.
"""

from __future__ import annotations

from pathlib import Path

from . import __version__
from .registry import CATALOG

MAIN = '''"""xlfuncs in xlwings Lite: valuation and cash-burn functions for AI companies.

Paste this file into xlwings Lite's main.py and requirements.txt beside it into its
requirements.txt, then use the functions in any cell, e.g. =VAL_PS(B2, C2).
Functions: {names}.
"""

from xlfuncs.udfs import *  # noqa: F403  (the decorated functions register themselves)
'''

REQUIREMENTS = """\
# xlwings Lite installs these with micropip when it starts.
# xlfuncs {version}; until it is published, put the URL of a wheel you host here instead
# (python -m build --wheel), e.g. https://example.org/xlfuncs-{version}-py3-none-any.whl
{requirement}
"""


def write_lite(out: Path, requirement: str | None = None) -> list[Path]:
    """Write main.py and requirements.txt for xlwings Lite into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    main = out / "main.py"
    main.write_text(MAIN.format(names=", ".join(e.name for e in CATALOG)), encoding="utf-8")
    requirements = out / "requirements.txt"
    requirements.write_text(REQUIREMENTS.format(
        version=__version__, requirement=requirement or f"xlfuncs=={__version__}"),
        encoding="utf-8")
    return [main, requirements]
