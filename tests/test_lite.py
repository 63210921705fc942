"""xlwings Lite: the generated main.py runs under xlwings' custom-function runtime."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

import xlwings as xw
from xlwings import server

from xlfuncs.cli import main
from xlfuncs.registry import CATALOG

from .test_udfs import ARTICLE_CALLS


def test_lite_files_serve_every_function(tmp_path: Path, capsys) -> None:
    assert main(["lite", "--out", str(tmp_path)]) == 0
    assert "main.py" in capsys.readouterr().out
    requirements = (tmp_path / "requirements.txt").read_text()
    assert "xlfuncs==" in requirements
    spec = importlib.util.spec_from_file_location("lite_main", tmp_path / "main.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    meta = server.custom_functions_meta(module)
    assert {f["id"] for f in meta["functions"]} == {e.name for e in CATALOG}
    for name, (args, expected) in ARTICLE_CALLS.items():
        payload = {"func_name": name.lower(),
                   "args": [a if isinstance(a, list) else [[a]] for a in args],
                   "caller_address": "Sheet1!A1", "formula_name": name,
                   "version": xw.__version__, "runtime": "1.4",
                   "culture_info_name": "en-US", "date_format": "yyyy-mm-dd",
                   "client": "Office.js"}
        result = asyncio.run(server.custom_functions_call(payload, module))
        assert result[0][0] == expected, name


def test_lite_requirement_can_be_a_wheel_url(tmp_path: Path) -> None:
    url = "https://example.org/xlfuncs-0.1.0-py3-none-any.whl"
    assert main(["lite", "--out", str(tmp_path), "--requirement", url]) == 0
    assert (tmp_path / "requirements.txt").read_text().strip().endswith(url)
