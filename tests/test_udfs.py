"""The Excel functions through xlwings' own custom-function runtime (as Office.js calls them)."""

from __future__ import annotations

import datetime as dt
import inspect
import os
import subprocess
import sys

import pytest
import xlwings as xw
from xlwings import XlwingsError, server

import xlfuncs.udfs as udfs
from xlfuncs.registry import CATALOG, array_constant
from xlfuncs.story.entries import EXAMPLE_STORY

from .helpers import call, error, serial
from .story_reference import reference

EXAMPLE = array_constant(EXAMPLE_STORY)

# Every function called once with the article's figures: (args, expected first cell); the
# args are what Office.js sends, so a date is its serial
ZHIPU_PERIOD = (serial(dt.date(2022, 1, 1)), serial(dt.date(2025, 6, 30)))
MINIMAX_PERIOD = (serial(dt.date(2022, 1, 1)), serial(dt.date(2025, 9, 30)))
NINE_MONTHS_2025 = (serial(dt.date(2025, 1, 1)), serial(dt.date(2025, 9, 30)))
ARTICLE_CALLS = {
    "FX_RATE": (("USD", "HKD"), 7.8),
    "FX_CONVERT": ((300, "HKD", "USD"), pytest.approx(38.4615384615)),
    "VAL_RETURN": ((165, 980.1), pytest.approx(4.94)),
    "VAL_PRICE_FROM_RETURN": ((165, 4.94), pytest.approx(980.1)),
    "VAL_CAGR": ((115, 135, 2), pytest.approx(0.0834726778)),
    "VAL_ANNUALIZE": ((53.44, 9), pytest.approx(71.2533333)),
    "VAL_PS": ((323.2, 0.2156), pytest.approx(1499.0723562)),
    "VAL_PE": ((100, 2), 50.0),
    "VAL_EV": ((300, 10, 25), 285.0),
    "VAL_EV_REVENUE": ((285, 2.5), 114.0),
    "VAL_PREMIUM": ((23, 11.5), 1.0),
    "VAL_IMPLIED_CAGR": ((323.2, 0.2156, 11.5, 5, 0.1), pytest.approx(1.9135, abs=1e-4)),
    "VAL_YEARS_TO_JUSTIFY": ((323.2, 0.2156, 11.5, 1.0, 0.1), pytest.approx(8.146, abs=1e-3)),
    "VAL_DCF": (([[100, 110, 121]], 0.1), pytest.approx(272.7272727)),
    "VAL_FAILURE_ADJUSTED": ((100, 0.2, 30), 86.0),
    "VAL_MARKET_SHARE": ((0.191, 993), pytest.approx(0.191 / 993)),
    "BURN_MONTHS": (ZHIPU_PERIOD, 42.0),
    "BURN_MONTHLY": ((6238, 44562, 45838), pytest.approx(148.5238095)),
    "BURN_ANNUAL": ((1320, *MINIMAX_PERIOD), pytest.approx(352.0)),
    "BURN_NET": ((150, 20), 130.0),
    "BURN_RUNWAY": ((3000, 148.5), pytest.approx(20.2020202)),
    "BURN_CASH_ZERO_DATE": ((1200, 100, serial(dt.date(2026, 2, 24))),
                            {"type": "FormattedNumber", "basicValue": 46442.0,
                             "numberFormat": "yyyy-mm-dd"}),
    "BURN_MULTIPLE": ((150, 50), 3.0),
    "BURN_LOSS_TO_REVENUE": ((1320, *NINE_MONTHS_2025, 53.44, *NINE_MONTHS_2025),
                             pytest.approx(24.7005988)),
    "BURN_RULE_OF_40": ((0.6, -0.3), pytest.approx(0.3)),
    "DATA_FACT": (("Zhipu", "revenue"), 191.0),
    "DATA_QUALIFIER": (("MiniMax", "market_value"), ">="),
    "DATA_SOURCE": (("Zhipu", "revenue"), "2026-02-24 article, para 20: revenue for 2025 "
                    "[xlfuncs/data/facts.csv, row 14]"),
    "DATA_TABLE": (("Zhipu",), "company"),
    "DATA_COMPANIES": ((), "MiniMax+Zhipu"),
    # the story functions on the catalog's example story (its figures are illustrative)
    "VAL_STORY": ((EXAMPLE,), pytest.approx(332.0369678)),
    "VAL_STORY_TABLE": ((EXAMPLE,), ""),
    "VAL_STORY_IMPLIED": ((EXAMPLE, 400, "growth_2_5"), pytest.approx(0.1951882067)),
    "VAL_STORY_SIMULATE": ((EXAMPLE, [["growth_2_5", "uniform", 0.15, 0.15]]), "mean"),
}


def test_the_decorators_really_registered_the_functions() -> None:
    # xlwings silently makes xw.func a no-op on Linux unless XLWINGS_ON_SERVER was set
    # before its first import: then nothing below would test the real runtime.
    assert udfs.DECORATED, "xw.func was a no-op: set XLWINGS_ON_SERVER=true before xlwings"
    assert udfs.OFFICEJS and udfs.JSNULL_PATCHED == udfs.FAST_PATH
    for entry in CATALOG:
        assert hasattr(getattr(udfs, entry.python_name), "__xlfunc__"), entry.name


def test_every_catalog_function_is_called_through_the_runtime() -> None:
    assert set(ARTICLE_CALLS) == {e.name for e in CATALOG}
    for name, (args, expected) in ARTICLE_CALLS.items():
        assert call(name, *args)[0][0] == expected, name


def test_metadata_describes_every_function_and_parameter() -> None:
    meta = server.custom_functions_meta(udfs)
    by_id = {f["id"]: f for f in meta["functions"]}
    assert set(by_id) == {e.name for e in CATALOG}
    for entry in CATALOG:
        function = by_id[entry.name]
        assert function["description"].startswith(entry.summary)
        # the example too, where Excel keeps it whole (255 characters): the story
        # functions' examples are longer
        assert (entry.example in function["description"]) == (
            len(f"{entry.summary}. Example: {entry.example} gives {entry.example_result}.")
            <= 255)
        names = [p["name"] for p in function["parameters"]]
        assert names == [p.name for p in entry.params]
        for param, meta_param in zip(entry.params, function["parameters"], strict=True):
            assert meta_param["description"] == param.doc
            assert meta_param.get("optional", False) == param.optional


def test_python_signatures_match_the_catalog() -> None:
    for entry in CATALOG:
        parameters = inspect.signature(getattr(udfs, entry.python_name)).parameters
        assert list(parameters) == [p.name for p in entry.params]


def test_a_column_in_is_a_column_out_and_one_bad_cell_spoils_only_itself() -> None:
    result = call("VAL_PS", [[300], [300], [300], [None], ["abc"], [300]],
                  [[2], [0], [-1], [5], [5], [""]])
    assert result == [[150.0], [error("Div0")], [error("Num")], [""], [error("Value")], [""]]
    row = call("VAL_PS", [[300, 600, 900]], 3)
    assert row == [[100.0, 200.0, 300.0]]
    grid = call("VAL_PS", [[300, 600], [900, 1200]], [[3], [6]])
    assert grid == [[100.0, 200.0], [150.0, 200.0]]


def test_ten_thousand_rows_spill_ten_thousand_answers() -> None:
    n = 10_000
    result = call("VAL_PS", [[float(i)] for i in range(n)], [[2.0]] * n)
    assert len(result) == n and result[-1] == [(n - 1) / 2]


def test_a_spilled_grid_of_numbers_sends_non_finite_cells_as_blanks() -> None:
    # the all-numbers shortcut must still blank inf and nan (Excel has no such numbers)
    assert udfs.spill([[1.5, 2.5], [3.0, -4.0]]) == [[1.5, 2.5], [3.0, -4.0]]
    assert udfs.spill([[1.5, float("inf")], [float("nan"), 2.0]]) == [[1.5, ""], ["", 2.0]]
    assert udfs.spill([[1.5, None, "text", True]]) == [[1.5, "", "text", True]]


def test_a_story_of_a_hundred_companies_in_rows_is_valued_company_by_company() -> None:
    # companies as rows, numbers in the label column: none of them is read as a label
    labels = [row[0] for row in EXAMPLE]
    one = [row[1] for row in EXAMPLE]
    many = call("VAL_STORY", [labels] + [one] * 100)
    expected = reference(dict(EXAMPLE))["per_share"]  # the independent plain-float model
    assert len(many) == 100 and all(r == [pytest.approx(expected, rel=1e-9)] for r in many)


def test_single_cell_bad_input_raises_a_readable_error_excel_shows() -> None:
    with pytest.raises(XlwingsError, match="market_cap: expected a number"):
        call("VAL_PS", "abc", 2)
    with pytest.raises(XlwingsError, match="different shapes"):
        call("VAL_PS", [[1], [2], [3]], [[1], [2]])
    with pytest.raises(XlwingsError, match="not in the dataset"):
        call("DATA_TABLE", "Nobody")


def test_single_cell_domain_errors_keep_their_excel_kind() -> None:
    assert call("VAL_PS", 300, 0) == [[error("Div0")]]
    assert call("VAL_PE", 300, -2) == [[error("Num")]]
    assert call("BURN_RUNWAY", 100, 0) == [[error("Num")]]
    assert call("DATA_FACT", "Nobody", "revenue") == [[error("NotAvailable")]]
    assert call("FX_RATE", "EUR", "USD") == [[error("NotAvailable")]]
    assert call("VAL_PS", None, 2) == [[""]]


def test_optional_arguments_left_empty_take_their_defaults() -> None:
    assert call("FX_RATE", "USD", "HKD", None, None) == [[7.8]]
    assert call("VAL_DCF", [[100], [110], [121]], 0.1, None)[0][0] == pytest.approx(272.727272)
    assert call("DATA_FACT", "Cambricon", "net_profit", "low") == [[1.85]]


def test_dates_in_and_out() -> None:
    dates = call("BURN_CASH_ZERO_DATE", [[1200], [-1]], 100, dt.date(2026, 2, 24))
    assert dates[0][0]["basicValue"] == 46442.0  # 2027-02-24
    assert dates[1][0] == error("Num")
    # a date typed as text is text, in any format: the reason names the argument
    with pytest.raises(XlwingsError, match="as_of: expected a date"):
        call("BURN_CASH_ZERO_DATE", 1200, 100, "2026-02-24")
    dates = call("BURN_CASH_ZERO_DATE", 1200, 100, [["2026-02-24"], [dt.date(2026, 2, 24)]])
    assert dates[0][0] == error("Value") and dates[1][0]["basicValue"] == 46442.0


def test_tables_spill_with_headers_and_no_index() -> None:
    table = call("DATA_TABLE", "Cambricon")
    assert table[0][:3] == ["company", "metric", "value"]
    assert [row[2] for row in table[1:]] == [1.85, 2.15]
    companies = call("DATA_COMPANIES")
    assert all(len(row) == 1 for row in companies)  # a column


def test_classic_xlwings_gets_python_values() -> None:
    outcome = CATALOG[0].outcome("USD", [["HKD"], ["EUR"]])  # type: ignore[misc]
    assert udfs.to_excel(outcome, officejs=False).tolist() == [[7.8], ["#N/A"]]
    assert udfs.to_excel(CATALOG[0].outcome("USD", "HKD"), officejs=False) == 7.8


def test_the_runtime_answers_with_the_version_it_is_sent() -> None:
    # the helper sends xlwings' own version; an older Office.js add-in manifest would not
    major, minor = (int(part) for part in xw.__version__.split(".")[:2])
    assert (major, minor) >= (0, 37)  # pyproject: xlwings>=0.37


@pytest.mark.skipif(os.environ.get("XLFUNCS_PLAIN_XLWINGS") == "1",
                    reason="already running on xlwings' own conversions")
def test_the_same_tests_pass_on_xlwings_own_conversions() -> None:
    """XLFUNCS_PLAIN_XLWINGS=1 (no raw conversion, no is_jsnull patch) must behave alike."""
    env = {**os.environ, "XLFUNCS_PLAIN_XLWINGS": "1"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:warnings",
                             "-p", "no:cacheprovider", __file__], env=env, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
