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
    with pytest.warns(DeprecationWarning) as caught:
        assert xf.val_return(160, end=200) == pytest.approx(0.25)
    assert str(caught[0].message) == ("val_return(): the parameter 'end' is now called "
                                      "'end_value'; 'end=' still works but will be removed "
                                      "in a later version")
    assert caught[0].filename == __file__  # the warning points at the caller's line
    with pytest.warns(DeprecationWarning, match="val_cagr"):
        assert xf.val_cagr(start=100, end=121, years=2) == pytest.approx(0.1)  # 1.1 ** 2
    with pytest.raises(TypeError, match="'end_value' and its former name 'end'"):
        xf.val_return(1, end=2, end_value=3)
    assert "end_value is negative" in xf.explain(xf.val_return, 1, -1).reason


def test_every_function_of_the_catalog_is_at_the_top_level() -> None:
    # the story functions take a story range in Excel and keywords in Python: their
    # Python names are story_value, story_table, story_implied and story_simulate
    from xlfuncs.registry import CATALOG

    for item in CATALOG:
        if item.name.startswith("VAL_STORY"):
            continue
        assert getattr(xf, item.python_name) is item.func, item.name
        assert item.python_name in xf.__all__
    assert xf.data_fact("Zhipu", "revenue") == 191.0  # the article: RMB 191m for 2025
    assert xf.data_companies()[:2] == ["MiniMax+Zhipu", "MiniMax"]


def test_a_series_in_gives_a_series_out_with_its_index() -> None:
    import pandas as pd

    market_value = pd.Series([323.2, 300.0, 50.0], index=["Zhipu", "MiniMax", "Acme"])
    revenue = pd.Series([0.2156, 0.0, 2.0], index=market_value.index)
    multiple = xf.val_ps(market_value, revenue)
    assert isinstance(multiple, pd.Series) and list(multiple.index) == list(revenue.index)
    assert multiple["Zhipu"] == pytest.approx(323.2 / 0.2156)
    assert pd.isna(multiple["MiniMax"]) and multiple["Acme"] == 25.0  # zero revenue: blank
    assert list(xf.val_ps(market_value, 2.0)) == [161.6, 150.0, 25.0]  # a scalar broadcasts
    names = pd.Series(["Zhipu", "Nobody"], index=[10, 20])
    facts = xf.data_fact(names, "revenue")
    assert list(facts.index) == [10, 20] and facts[10] == 191.0 and pd.isna(facts[20])
    assert list(xf.data_qualifier(names, "revenue").index) == [10, 20]
    days = xf.burn_cash_zero_date(pd.Series([1200.0], index=["x"]), 100, pd.Timestamp(2026, 2, 24))
    assert days["x"] == pd.Timestamp(2027, 2, 24)  # 12 months of 365.25 / 12 days
    story = xf.story_value(pd.Series([100.0], index=["co"]), 0.2, 0.15, 0.1, 0.2, 5, 2, 2,
                           0.04, 0.1, shares=10)
    assert list(story.index) == ["co"]


def test_series_with_different_indexes_are_refused_not_paired_by_position() -> None:
    import pandas as pd

    a = pd.Series([1.0, 2.0], index=["x", "y"])
    with pytest.raises(xf.XlfuncsError, match="different indexes"):
        xf.val_ps(a, a[::-1])
    assert not isinstance(xf.val_ps([1.0, 2.0], [1.0, 4.0]), pd.Series)  # lists: ndarray
    # a Series against a column broadcasts to a grid: no longer one answer a row, so numpy's
    grid = xf.val_ps(a, [[1.0], [2.0]])
    assert not isinstance(grid, pd.Series) and grid.tolist() == [[1.0, 2.0], [0.5, 1.0]]
