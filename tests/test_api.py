"""The Python API as documented: every function at the top level, renamed parameters that
keep working, and pandas in, pandas out."""

from __future__ import annotations

import pytest

import xlfuncs as xf
from xlfuncs.registry import entry


def test_a_renamed_parameter_changes_the_help_not_the_answer() -> None:
    # 'end' is a reserved word in VBA, so the classic add-in's declarations would not
    # compile: the parameter is 'end_value' now, and 'end=' still works, with a warning
    assert [p.name for p in entry("VAL_RETURN").params] == ["start", "end_value"]
    assert [p.name for p in entry("VAL_CAGR").params] == ["start", "end_value", "years"]
    assert xf.val_return(160, end_value=200) == pytest.approx(0.25)  # 200 / 160 - 1
    with pytest.warns(DeprecationWarning, match="'end' is now called 'end_value'"):
        assert xf.val_return(160, end=200) == pytest.approx(0.25)
    with pytest.warns(DeprecationWarning, match="val_cagr"):
        assert xf.val_cagr(start=100, end=121, years=2) == pytest.approx(0.1)  # 1.1 ** 2
    with pytest.raises(TypeError, match="'end_value' and its former name 'end'"):
        xf.val_return(1, end=2, end_value=3)
    assert "end_value is negative" in xf.explain(xf.val_return, 1, -1).reason
