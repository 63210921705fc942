"""The FX check on the Checks sheet can fail: it compares the article's two USD/CNY
conversions with each other, not with the Inputs rate derived from them."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

import xlfuncs as xf
from xlfuncs.workbook import build

FACTS = Path(xf.__file__).parent / "data" / "facts.csv"


def with_conversions(tmp_path: Path, revenue_cny_m: str, loss_cny_bn: str) -> Path:
    lines = FACTS.read_text().splitlines(keepends=True)
    out = []
    for line in lines:
        if line.startswith("MiniMax,revenue_converted,370,"):
            line = line.replace(",370,", f",{revenue_cny_m},", 1)
        if line.startswith("MiniMax,cumulative_loss_converted,9.1,"):
            line = line.replace(",9.1,", f",{loss_cny_bn},", 1)
        out.append(line)
    path = tmp_path / "facts.csv"
    path.write_text("".join(out))
    return path


def fx_checks(tmp_path: Path, data: Path | None) -> tuple[list[tuple], object]:
    path = build(data, tmp_path / "book.xlsx").path
    rows = list(openpyxl.load_workbook(path, data_only=True)["Checks"].iter_rows(
        values_only=True))
    found = [r for r in rows if r[0] and str(r[0]).startswith("USD/CNY")]
    master = next(r[3] for r in rows if r[0] == "All checks pass")
    return found, master


def test_the_article_s_conversions_agree_with_each_other(tmp_path: Path) -> None:
    found, master = fx_checks(tmp_path, None)
    assert len(found) == 1 and master is True
    label, value, expected, result = found[0][:4]
    assert "imply the same rate" in label and "370" in label and "9.1" in label
    # by hand: 9100 / 1320 and 370 / 53.44
    assert value == pytest.approx(9100 / 1320) and expected == pytest.approx(370 / 53.44)
    assert result is True


def test_one_changed_conversion_makes_the_check_false(tmp_path: Path) -> None:
    found, master = fx_checks(tmp_path, with_conversions(tmp_path, "400", "9.1"))
    assert found[0][3] is False and master is False  # 7.49 against 6.89


def test_the_check_does_not_depend_on_the_inputs_rate(tmp_path: Path) -> None:
    # both conversions at 7.30 CNY per USD: consistent with each other, far from 6.91
    found, master = fx_checks(tmp_path, with_conversions(tmp_path, f"{53.44 * 7.3:.3f}",
                                                         f"{1.32 * 7.3:.4f}"))
    assert len(found) == 1 and found[0][3] is True and master is True


def test_the_fx_defaults_are_the_workbooks_and_the_pegs() -> None:
    """The defaults Excel users see in the add-in are the workbook's inputs: the same
    as-of date, and the Hong Kong dollar's band as the HKMA's convertibility
    undertakings set it (7.75 strong side, 7.85 weak side, since 2005)."""
    import datetime as dt

    from xlfuncs import fx
    from xlfuncs.workbook.model import ASSUMPTIONS

    inputs = {a.name: a.value for a in ASSUMPTIONS}
    assert dt.date.fromisoformat(fx.FX_AS_OF) == inputs["FX_As_Of"] == dt.date(2026, 2, 24)
    assert fx.HKD_BAND == (7.75, 7.85)
    assert (inputs["HKD_Band_Low"], inputs["HKD_Band_High"]) == (7.75, 7.85)
    assert inputs["USD_HKD"] == 7.8 and inputs["USD_CNY"] == 6.91
