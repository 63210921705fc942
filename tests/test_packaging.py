"""The wheel and the sdist: built with `python -m build`, checked by `twine check`, installed
into a clean virtual environment (no system packages, no xlfuncs) and used from an empty
folder as a new user would: `xlfuncs build`, `xlfuncs functions`, one function from
Python, the bundled dataset included. Building and installing need a package index
(PyPI in CI): without the `build` tool the tests skip and say so, except under CI=true.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from xlfuncs import __version__
from xlfuncs.registry import CATALOG

ROOT = Path(__file__).resolve().parents[1]
SMOKE = """
import xlfuncs as xf
print(xf.val_ps(323.2, 0.2156))
print(xf.data_source("Zhipu", "revenue"))
"""


def run(*argv: str | Path, cwd: Path | None = None, timeout: float = 1200) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{argv}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("build") is None:
        message = 'the wheel test needs the build tool: pip install -e ".[test]"'
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", out, ROOT)  # the sdist, then a wheel from it
    return out


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", venv)  # without the system's packages
    return venv


def test_build_makes_a_wheel_and_an_sdist_that_twine_passes(dist: Path) -> None:
    wheel = dist / f"xlfuncs-{__version__}-py3-none-any.whl"
    sdist = dist / f"xlfuncs-{__version__}.tar.gz"
    assert sorted(dist.iterdir()) == [wheel, sdist]
    assert "PASSED" in run(sys.executable, "-m", "twine", "check", "--strict", wheel, sdist)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {"xlfuncs/data/facts.csv", "xlfuncs/udfs.py", "xlfuncs/workbook/sheets/dcf.py",
            f"xlfuncs-{__version__}.dist-info/licenses/LICENSE"} <= names
    assert not any(n.startswith("tests/") for n in names)
    with tarfile.open(sdist) as archive:
        in_sdist = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {"README.md", "LICENSE", "pyproject.toml", "xlfuncs/data/facts.csv"} <= in_sdist


def smoke_test(venv: Path, folder: Path) -> None:
    """A new user's first minutes, from an empty folder."""
    folder.mkdir()
    built = run(venv / "bin" / "xlfuncs", "build", cwd=folder)
    assert "5 companies, 29 facts, checks pass" in built
    assert (folder / "workbooks" / "llm_valuation.xlsx").stat().st_size > 50_000
    listed = run(venv / "bin" / "xlfuncs", "functions", cwd=folder)
    assert all(e.signature in listed for e in CATALOG)
    ps, source = run(venv / "bin" / "python", "-c", SMOKE, cwd=folder).splitlines()
    assert float(ps) == pytest.approx(323.2 / 0.2156)  # Zhipu's P/S, HK$bn over HK$bn
    # the dataset came with the package: DATA_SOURCE names its file and row
    assert source.endswith("[xlfuncs/data/facts.csv, row 14]")


def test_the_wheel_installs_into_a_clean_venv_and_works_from_an_empty_folder(
        dist: Path, clean_venv: Path, tmp_path: Path) -> None:
    wheel = dist / f"xlfuncs-{__version__}-py3-none-any.whl"
    run(clean_venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel)
    smoke_test(clean_venv, tmp_path / "wheel")


def test_the_sdist_installs_and_works_too(dist: Path, clean_venv: Path, tmp_path: Path) -> None:
    sdist = dist / f"xlfuncs-{__version__}.tar.gz"
    pip = (clean_venv / "bin" / "python", "-m", "pip")
    run(*pip, "uninstall", "--yes", "xlfuncs")  # the wheel's copy, when that test ran first
    run(*pip, "install", "--quiet", sdist)
    smoke_test(clean_venv, tmp_path / "sdist")


def test_a_git_url_installs_too(clean_venv: Path, tmp_path: Path) -> None:
    # the clone itself as a git URL: what `pip install "xlfuncs @ git+https://..."` does
    pip = (clean_venv / "bin" / "python", "-m", "pip")
    run(*pip, "uninstall", "--yes", "xlfuncs")
    run(*pip, "install", "--quiet", f"git+{ROOT.as_uri()}")  # (name @ needs a host)
    smoke_test(clean_venv, tmp_path / "git")
