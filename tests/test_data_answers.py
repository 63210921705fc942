"""DATA_FACT, DATA_SOURCE and DATA_QUALIFIER element by element, on a small file of our own
whose every answer is written out below by hand: the words of each qualifier, a range's
rows and sources, each argument named in its refusal, and two different errors in one call.
Fast (no workbook is built), so it runs against every mutant of xlfuncs/data.py."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from xlfuncs import data
from xlfuncs.data import COLUMNS, parse_facts
from xlfuncs.elementwise import explain
from xlfuncs.errors import NA, VALUE, DataFileError, XlError

ROWS = [
    ",".join(COLUMNS),
    "Acme,revenue,10,m,USD,2025-01-01,2025-12-31,2026-01-01,=,test note",            # row 2
    "Acme,cash,4,bn,USD,,,2026-01-01,~,bank letter",                                 # row 3
    "Acme,profit,1,bn,USD,2025-01-01,2025-12-31,2026-01-01,low,analyst A",            # row 4
    "Acme,profit,3,bn,USD,2025-01-01,2025-12-31,2026-01-01,high,analyst B",           # row 5
    "Acme,users,5,m,,,,2026-01-01,>=,press release",                                 # row 6
    "Beta,margin,12.5,%,,,,2026-01-01,=,annual report",                              # row 7
]


@pytest.fixture
def own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(data.NO_ARTICLE_ENV, "1")  # only this file: the counts are ours
    path = tmp_path / "acme.csv"
    path.write_text("\n".join(ROWS) + "\n", encoding="utf-8")
    return str(path)


def test_each_qualifier_in_words_with_its_file_and_rows(own: str) -> None:
    assert data.data_source("Acme", "revenue", path=own) == f"test note [{own}, row 2]"
    assert data.data_source("Acme", "cash", path=own) == (
        f"approximately: bank letter [{own}, row 3]")
    assert data.data_source("Acme", "users", path=own) == (
        f"over (a lower bound): press release [{own}, row 6]")
    # a range: both rows, both sources, once each
    assert data.data_source("Acme", "profit", path=own) == (
        f"a range (low to high): analyst A | analyst B [{own}, rows 4 and 5]")
    assert [data.data_qualifier("Acme", m, path=own) for m in ("revenue", "cash", "profit",
                                                                "users")] == [
        "=", "~", "range", ">="]


def test_a_range_picks_low_high_and_mid(own: str) -> None:
    # (1 + 3) / 2 = 2 is the midpoint, also the default
    assert data.data_fact("Acme", "profit", path=own) == 2.0
    assert data.data_fact("Acme", "profit", "mid", path=own) == 2.0
    assert data.data_fact("Acme", "profit", " MID ", path=own) == 2.0
    assert data.data_fact("Acme", "profit", "low", path=own) == 1.0
    assert data.data_fact("Acme", "profit", "high", path=own) == 3.0
    # a percentage as a decimal: 12.5% is 0.125
    assert data.data_fact("Beta", "margin", path=own) == 0.125
    # the dataset's own lookup, without a qualifier: the midpoint and the exact figure
    found = data.dataset(own)
    assert found.fact("Acme", "profit") == 2.0 and found.fact("Acme", "revenue") == 10.0


def test_a_qualifier_the_fact_lacks_is_na_describing_what_it_has(own: str) -> None:
    assert explain(data.data_fact, "Acme", "cash", "=", path=own) == XlError(
        NA, "Acme / cash is a single figure ('~', approximate): it has no '=' "
            "(see DATA_QUALIFIER)")
    assert explain(data.data_fact, "Acme", "users", "~", path=own) == XlError(
        NA, "Acme / users is a single figure ('>=', over: a lower bound): it has no '~' "
            "(see DATA_QUALIFIER)")
    assert explain(data.data_fact, "Acme", "revenue", "low", path=own) == XlError(
        NA, "Acme / revenue is a single figure ('=', exact): it has no 'low' "
            "(see DATA_QUALIFIER)")
    assert explain(data.data_fact, "Acme", "profit", "=", path=own) == XlError(
        NA, "Acme / profit is a range (1 to 3): it has no '=' (see DATA_QUALIFIER)")
    assert explain(data.data_fact, "Acme", "profit", "median", path=own) == XlError(
        VALUE, "qualifier: 'median' is not low, high, mid, =, >= or ~")


def test_missing_company_or_metric_lists_what_there_is(own: str) -> None:
    assert explain(data.data_fact, "Acme", "ebitda", path=own) == XlError(
        NA, "Acme has no metric 'ebitda' (it has: revenue, cash, profit, users)")
    assert explain(data.data_source, "Nobody", "revenue", path=own) == XlError(
        NA, "company 'Nobody' is not in the dataset (2 companies; see DATA_COMPANIES())")


def test_two_different_errors_in_one_call_each_keep_their_own(own: str) -> None:
    cells = explain(data.data_fact, [["Nobody"], ["Acme"], ["Acme"], [""]],
                    [["revenue"], ["ebitda"], ["revenue"], ["revenue"]], path=own)
    assert cells[0][0] == XlError(NA, "company 'Nobody' is not in the dataset "
                                      "(2 companies; see DATA_COMPANIES())")
    assert cells[1][0] == XlError(NA, "Acme has no metric 'ebitda' (it has: revenue, cash, "
                                      "profit, users)")
    assert cells[2][0] == 10.0 and cells[3][0] is None  # a blank name: blank
    texts = explain(data.data_qualifier, [["Nobody"], ["Acme"], ["Acme"]],
                    [["revenue"], ["ebitda"], ["cash"]], path=own)
    assert [type(t[0]) for t in texts] == [XlError, XlError, str]
    assert texts[0][0] != texts[1][0] and texts[2][0] == "~"


def test_each_argument_is_named_when_it_is_not_text(own: str) -> None:
    assert explain(data.data_fact, 5, "revenue", path=own) == XlError(
        VALUE, "company: expected text")
    assert explain(data.data_fact, "Acme", 5, path=own) == XlError(VALUE, "metric: expected text")
    assert explain(data.data_fact, "Acme", "revenue", 5, path=own) == XlError(
        VALUE, "qualifier: expected text")
    for function in (data.data_qualifier, data.data_source):
        assert explain(function, 5, "revenue", path=own) == XlError(
            VALUE, "company: expected text")
        assert explain(function, "Acme", True, path=own) == XlError(
            VALUE, "metric: expected text")


def test_a_column_of_facts_is_a_float_array_with_nan_for_errors(own: str) -> None:
    column = data.data_fact([["Acme"], ["Acme"], ["Nobody"]], [["revenue"], ["cash"],
                                                               ["revenue"]], path=own)
    assert column.dtype == np.float64 and column.shape == (3, 1)
    assert column[:2, 0].tolist() == [10.0, 4.0] and np.isnan(column[2, 0])


def test_a_loaded_fact_cannot_be_changed_in_place(own: str) -> None:
    # the dataset is cached between calls: a fact changed in place would change later answers
    found = data.dataset(own)
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.lookup[("acme", "revenue")].value = 11.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.companies = ()  # type: ignore[misc]


def test_text_without_a_path_is_refused_as_facts() -> None:
    with pytest.raises(DataFileError) as caught:
        parse_facts("company,metric\n")
    assert str(caught.value).startswith("<facts>, row 1, column 'value': missing column")


def test_every_public_name_exists() -> None:
    namespace: dict[str, object] = {}
    exec("from xlfuncs.data import *", namespace)  # what a star import gives a user
    assert set(data.__all__) <= set(namespace)
    assert {"COLUMNS", "UNITS", "CURRENCIES", "QUALIFIERS", "name_key", "resolve_paths",
            "bundled_path", "Layer", "DATA_ENV", "NO_ARTICLE_ENV", "BUNDLED_LABEL",
            "MAX_FILE_BYTES", "OPTIONAL_COLUMNS", "CURRENCY_ALIASES"} <= set(data.__all__)
