"""Defined names are unique as Excel reads them (case ignored) whatever the companies are
called: a company whose name starts like another's ('Acme', 'Acme mature') or differs only
in case never takes another's names, and both engines agree with every cached value."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlfuncs.data import COLUMNS
from xlfuncs.workbook import build
from xlfuncs.workbook.book import Book
from xlfuncs.workbook.engines import Engine
from xlfuncs.workbook.model import STORY_INPUTS
from xlfuncs.workbook.sheets.story_inputs import _key, _names

from .recalc import compare

PAIRS = {"prefix": ("Acme", "Acme mature"), "case": ("acme", "Acme mature"),
         "case-only keys": ("acme!", "Acme?")}


def two_companies(path: Path, names: tuple[str, str]) -> Path:
    """Two story companies (a market value and a revenue each) with different figures."""
    rows = [",".join(COLUMNS)]
    for name, market, revenue in zip(names, (100, 50), (1, 2), strict=True):
        rows.append(f"{name},market_value,{market},bn,HKD,,,2026-02-24,=,test")
        rows.append(f"{name},revenue,{revenue},bn,HKD,2025-01-01,2025-12-31,,=,test")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=sorted(PAIRS))
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> tuple[tuple[str, str], Path]:
    names = PAIRS[request.param]
    folder = tmp_path_factory.mktemp("names")
    data = two_companies(folder / "two.csv", names)
    return names, build([data], folder / "two.xlsx", article=False).path


def test_every_name_is_unique_case_insensitively_and_points_at_its_own_company(
        pair: tuple[tuple[str, str], Path]) -> None:
    names, path = pair
    book = openpyxl.load_workbook(path)
    defined = list(book.defined_names)
    assert len({n.casefold() for n in defined}) == len(defined)
    inputs = book["Inputs"]
    header = next(row for row in inputs.iter_rows() if row[1].value == "Label")
    by_column = {cell.column_letter: cell.value for cell in header[2:]}
    for company in names:
        story = [n for n in defined if n.startswith("DCF_")
                 and by_column.get(book.defined_names[n].attr_text.split("$")[1]) == company]
        # every story input of the company, each in the company's own column
        assert len(story) == len(STORY_INPUTS), (company, story)


def test_both_engines_agree_with_every_cached_value(pair: tuple[tuple[str, str], Path],
                                                    engine: Engine, tmp_path: Path) -> None:
    """A silent repoint made Acme mature's DCF read Acme's cells: 90 cached values then
    disagreed with both engines."""
    _, path = pair
    result = compare(path, engine.recalculate(path, tmp_path / engine.name))
    assert result.compared > 300
    assert not result.mismatches, "\n".join(map(str, result.mismatches[:20]))


@given(st.lists(st.text(st.sampled_from("Aa m_2!é"), min_size=1, max_size=8),
                min_size=1, max_size=12))
def test_keys_never_give_two_companies_one_name(companies: list[str]) -> None:
    used: set[str] = set()
    seen: dict[str, str] = {}
    for company in companies:
        for name in _names(_key(company, used)):
            assert name.casefold() not in seen, (company, seen.get(name.casefold()))
            seen[name.casefold()] = company


def test_a_second_definition_of_a_name_is_refused_never_a_silent_repoint() -> None:
    book = Book()
    book.name("DCF_Acme_mature_cost_of_capital", "Inputs!$C$10")
    for again in ("DCF_Acme_mature_cost_of_capital", "dcf_acme_MATURE_cost_of_capital"):
        with pytest.raises(ValueError, match="already defined"):
            book.name(again, "Inputs!$D$9")
    assert book.wb.defined_names["DCF_Acme_mature_cost_of_capital"].attr_text == \
        "Inputs!$C$10"
