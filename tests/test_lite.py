"""xlwings Lite: what `xlfuncs lite` writes works as it is, with no xlfuncs installed.

Pyodide itself cannot run here, so the generated main.py is run the nearest way there is:
in a fresh virtual environment holding only what requirements.txt names (numpy, pandas,
xlwings, installed from it by pip: every line resolves), under xlwings' Office.js
custom-function runtime (``xlwings.server``, as xlwings Lite calls functions), from an
empty folder. It must define every function of the catalog and answer each catalog
example as xlfuncs itself does, and the article's calls as worked by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from xlfuncs.cli import main
from xlfuncs.lite import REQUIREMENTS, bundled_files, main_py
from xlfuncs.registry import CATALOG, example_arguments

from .helpers import call, payload
from .test_udfs import ARTICLE_CALLS

RUN_MAIN = """
import asyncio, importlib.metadata, importlib.util, json, sys

try:
    import xlfuncs  # noqa: F401
except ImportError:
    pass
else:
    raise SystemExit("xlfuncs is importable without main.py: the test would prove nothing")
from xlwings import server

spec = importlib.util.spec_from_file_location("main", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
with open(sys.argv[2], encoding="utf-8") as f:
    payloads = json.load(f)
print(json.dumps({
    "functions": [f["id"] for f in server.custom_functions_meta(module)["functions"]],
    "answers": [asyncio.run(server.custom_functions_call(p, module)) for p in payloads],
    "installed": sorted(d.metadata["Name"].lower() for d in importlib.metadata.distributions()),
}))
"""


def same(answer: Any, expected: Any) -> bool:
    """Equal after a JSON round trip, floats to 1e-12 (the venv's numpy may be newer)."""
    if isinstance(expected, list):
        return isinstance(answer, list) and len(answer) == len(expected) and all(
            same(a, e) for a, e in zip(answer, expected, strict=True))
    if isinstance(expected, dict):
        return isinstance(answer, dict) and answer.keys() == expected.keys() and all(
            same(answer[k], expected[k]) for k in expected)
    if isinstance(expected, float):
        return answer == pytest.approx(expected, rel=1e-12, abs=1e-300)
    return answer == expected


@pytest.fixture(scope="module")
def lite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`xlfuncs lite`'s folder, and a venv beside it with only requirements.txt in it."""
    root = tmp_path_factory.mktemp("lite")
    assert main(["lite", "--out", str(root / "files")]) == 0
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True)
    installed = subprocess.run(
        [str(root / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet",
         "-r", str(root / "files" / "requirements.txt")],
        capture_output=True, text=True, timeout=1200, check=False)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return root


def test_requirements_name_only_what_pyodide_or_pypi_provides(lite: Path) -> None:
    lines = [line for line in (lite / "files" / "requirements.txt").read_text().splitlines()
             if line and not line.startswith("#")]
    assert lines == list(REQUIREMENTS) == ["xlwings>=0.37", "numpy", "pandas"]
    # numpy and pandas unpinned: Pyodide's own builds, whose version Pyodide decides;
    # xlwings pinned as pyproject.toml pins it (the fixture installed all three with pip)
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert '"xlwings>=0.37"' in pyproject


def test_main_py_defines_every_function_and_answers_as_xlfuncs_does(lite: Path) -> None:
    calls = [(e.name, example_arguments(e)) for e in CATALOG]
    calls += [(name, list(args)) for name, (args, _) in ARTICLE_CALLS.items()]
    (lite / "calls.json").write_text(json.dumps([payload(n, *a) for n, a in calls]))
    empty = lite / "empty"
    empty.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(XLWINGS_ON_SERVER="true", XLWINGS_LICENSE_KEY="noncommercial")
    done = subprocess.run([str(lite / "venv" / "bin" / "python"), "-c", RUN_MAIN,
                           str(lite / "files" / "main.py"), str(lite / "calls.json")],
                          cwd=empty, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert sorted(result["functions"]) == sorted(e.name for e in CATALOG)
    assert {"xlfuncs", "openpyxl", "lxml", "defusedxml"}.isdisjoint(result["installed"])
    assert {"numpy", "pandas", "xlwings"} <= set(result["installed"])
    examples = result["answers"][:len(CATALOG)]
    for (name, args), answer in zip(calls, examples, strict=False):
        expected = json.loads(json.dumps(call(name, *args)))
        assert same(answer, expected), name
    for (name, (_, expected)), answer in zip(ARTICLE_CALLS.items(),
                                             result["answers"][len(CATALOG):], strict=True):
        assert answer[0][0] == expected, name  # figures worked by hand (test_udfs.py)


def test_main_py_refuses_a_damaged_copy(tmp_path: Path) -> None:
    text = main_py(bundled_files(Path(__file__).resolve().parents[1] / "xlfuncs"))
    zip_start = text.index('XLFUNCS_ZIP = """') + len('XLFUNCS_ZIP = """\n')
    damaged = text[:zip_start] + ("B" if text[zip_start] == "A" else "A") + text[zip_start + 1:]
    script = tmp_path / "main.py"
    script.write_text(damaged.split('if "xlfuncs.udfs"')[0] + "_unpack_xlfuncs()\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert "main.py's copy of xlfuncs is damaged" in done.stderr


def test_the_bundle_holds_the_functions_modules_and_the_dataset_only() -> None:
    names = [name for name, _ in bundled_files(Path(__file__).resolve().parents[1] / "xlfuncs")]
    assert "xlfuncs/data/facts.csv" in names and "xlfuncs/udfs.py" in names
    assert not any("/workbook/" in n or n.endswith(("cli.py", "server.py")) for n in names)
