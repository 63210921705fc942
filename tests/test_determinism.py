"""The workbook's bytes do not depend on the machine: numpy's last-digit results differ
between CPUs, builds and SIMD dispatch, and a fresh clone must still build the committed
file byte for byte."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from xlfuncs.workbook import workbook_bytes
from xlfuncs.workbook.book import CACHED_DIGITS, cached_values, number_text

ROOT = Path(__file__).resolve().parents[1]


def _bytes_in_subprocess(tmp_path: Path, prelude: str, env: dict[str, str]) -> bytes:
    out = tmp_path / "book.xlsx"
    script = prelude + textwrap.dedent(f"""
        from pathlib import Path
        from xlfuncs.workbook import workbook_bytes
        Path({str(out)!r}).write_bytes(workbook_bytes())
    """)
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT, timeout=300,
                   env={**os.environ, **env})
    return out.read_bytes()


def test_bytes_do_not_depend_on_numpys_cpu_dispatch(tmp_path: Path) -> None:
    from numpy._core._multiarray_umath import (  # type: ignore[attr-defined]
        __cpu_dispatch__,
        __cpu_features__,
    )

    dispatched = [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]
    if not dispatched:
        pytest.skip("this CPU runs numpy's baseline kernels only: nothing to switch off")
    off = _bytes_in_subprocess(tmp_path, "", {"NPY_DISABLE_CPU_FEATURES": " ".join(dispatched)})
    assert off == workbook_bytes()


PERTURB = textwrap.dedent("""
    import numpy as np
    import xlfuncs.workbook.columns as columns

    _apply = columns.apply
    _rng = np.random.default_rng(7)

    def perturbed(*args, **kwargs):
        column = _apply(*args, **kwargs)
        if column.data.dtype.kind == "f":
            ulps = _rng.integers(-2, 3, size=column.data.shape)
            data = column.data * (1 + ulps * np.finfo(float).eps)
            return columns.Column(column.ref, data, column.errors, column.template,
                                  column.links)
        return column

    columns.apply = perturbed
    import importlib, pkgutil
    import xlfuncs.workbook.sheets as sheets
    for module in pkgutil.iter_modules(sheets.__path__):
        loaded = importlib.import_module(f"xlfuncs.workbook.sheets.{module.name}")
        if hasattr(loaded, "apply"):
            loaded.apply = perturbed
""")


def test_bytes_do_not_depend_on_the_last_bits_of_computed_values(tmp_path: Path) -> None:
    """Every computed value moved by up to two units in the last place, as another CPU's
    numpy might compute it: the same file."""
    assert _bytes_in_subprocess(tmp_path, PERTURB, {}) == workbook_bytes()


def test_formula_caches_keep_twelve_significant_digits_and_inputs_stay_exact() -> None:
    assert CACHED_DIGITS == 12
    # 1.3231037481932684 and its neighbour one ulp below: numpy's two answers seen on two
    # machines for the same power; both write 1.32310374819
    assert number_text(1.3231037481932684, rounded=True) == b"1.32310374819"
    assert number_text(1.323103748193268, rounded=True) == b"1.32310374819"
    assert number_text(0.1 + 0.2, rounded=True) == b"0.3"
    assert number_text(2.0 ** 70, rounded=True) == b"1.18059162072e+21"
    # a typed input is data: written as given, all 17 digits
    assert number_text(0.1 + 0.2, rounded=False) == b"0.30000000000000004"


def test_a_value_that_is_not_finite_is_num_not_inf() -> None:
    data = np.array([np.inf, -np.inf, np.nan, 1.5])
    errors = np.array([None, None, None, None], dtype=object)
    assert cached_values(data, errors) == [(b' t="e"', b"#NUM!"), (b' t="e"', b"#NUM!"),
                                           (b' t="str"', b""), (b"", b"1.5")]
