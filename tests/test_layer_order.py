"""Which files are layered, in which order, and what each layer records (xlfuncs/layers.py),
without building a workbook: fast, so it runs first against every mutant of layers.py."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import pytest

from xlfuncs.data import COLUMNS
from xlfuncs.errors import XlfuncsError
from xlfuncs.layers import (
    BUNDLED_LABEL,
    DATA_ENV,
    NO_ARTICLE_ENV,
    bundled_path,
    load_layers,
    resolve_paths,
)

from .helpers import documentation

HEADER = ",".join(COLUMNS)
# Zhipu's revenue (the article's row 14) given again, spelled otherwise; a new company
# named like a metric; and a range (two rows, one fact)
OWN_ROWS = [
    "zhipu,REVENUE,312.4,m,CNY,2025-01-01,2025-12-31,2026-03-30,=,annual report",
    "Revenue,cash,4,bn,USD,,,2026-01-01,=,a company named like a metric",
    "Acme,profit,1,bn,USD,2025-01-01,2025-12-31,2026-01-01,low,guide",
    "Acme,profit,3,bn,USD,2025-01-01,2025-12-31,2026-01-01,high,guide",
]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv(DATA_ENV, raising=False)
    monkeypatch.delenv(NO_ARTICLE_ENV, raising=False)
    return monkeypatch


@pytest.fixture
def own(tmp_path: Path) -> Path:
    path = tmp_path / "own.csv"
    path.write_text("\n".join([HEADER, *OWN_ROWS]) + "\n", encoding="utf-8")
    return path


def test_the_article_comes_first_unless_left_out(clean_env: pytest.MonkeyPatch,
                                                 own: Path) -> None:
    article = bundled_path()
    assert article.name == "facts.csv" and article.parent.name == "data" and article.is_file()
    assert resolve_paths() == [article]
    assert resolve_paths("  ") == [article]          # a blank path is no path
    assert resolve_paths(own) == [article, own]      # a Path, not only text
    assert resolve_paths(str(own)) == [article, own]
    assert resolve_paths([own], article=False) == [own]
    # listed by the caller: it stays where the caller put it, once
    assert resolve_paths([own, article]) == [own, article]
    clean_env.setenv(NO_ARTICLE_ENV, "0")            # 0 means "keep the article"
    assert resolve_paths(own) == [article, own]
    clean_env.setenv(NO_ARTICLE_ENV, " 1 ")
    assert resolve_paths(own) == [own]
    with pytest.raises(XlfuncsError, match="no facts file"):
        resolve_paths()


def test_the_environment_lists_files_in_order(clean_env: pytest.MonkeyPatch, own: Path,
                                              tmp_path: Path) -> None:
    second = tmp_path / "second.csv"
    clean_env.setenv(DATA_ENV, os.pathsep.join([str(own), " ", str(second)]))
    assert resolve_paths() == [bundled_path(), own, second]
    assert resolve_paths(str(own)) == [bundled_path(), own]  # an argument beats the variable


def test_each_layer_records_its_label_hash_rows_and_overrides(clean_env: pytest.MonkeyPatch,
                                                              own: Path) -> None:
    article = bundled_path()
    facts = load_layers([article, own])
    first, second = facts.attrs["layers"]
    article_rows = len(article.read_text(encoding="utf-8").strip().splitlines()) - 1
    assert (first.label, first.rows, first.overrides) == (BUNDLED_LABEL, article_rows, 0)
    assert first.sha256 == hashlib.sha256(article.read_bytes()).hexdigest()
    # four rows, three facts; one of them (Zhipu's revenue) replaces the article's
    assert (second.label, second.path, second.rows, second.overrides) == (str(own), own, 4, 1)
    assert second.sha256 == hashlib.sha256(own.read_bytes()).hexdigest()
    with pytest.raises(dataclasses.FrozenInstanceError):
        second.rows = 5  # type: ignore[misc]


def test_a_later_layer_takes_the_first_spelling_and_keeps_its_file_and_row(
        clean_env: pytest.MonkeyPatch, own: Path) -> None:
    facts = load_layers([bundled_path(), own])
    zhipu = facts[(facts.company == "Zhipu") & (facts.metric == "revenue")]
    assert len(zhipu) == 1
    assert (zhipu.value.item(), zhipu.file.item(), zhipu.row.item()) == (312.4, str(own), 2)
    # a company spelled like a metric keeps its own spelling: names of the two kinds apart
    assert "Revenue" in set(facts.company) and "revenue" in set(facts.metric)
    assert "REVENUE" not in set(facts.metric) and "zhipu" not in set(facts.company)
    acme = facts[facts.company == "Acme"]
    assert sorted(acme.qualifier) == ["high", "low"] and set(acme.row) == {4, 5}
    assert set(acme.combines) == {""}
    for column in ("period_start", "period_end", "as_of"):
        assert str(facts[column].dtype).startswith("datetime64"), column
    assert str(zhipu.as_of.item().date()) == "2026-03-30"


def test_the_variables_are_the_ones_the_readme_names() -> None:
    readme = documentation()
    assert (DATA_ENV, NO_ARTICLE_ENV) == ("XLFUNCS_DATA", "XLFUNCS_NO_ARTICLE")
    assert "XLFUNCS_DATA" in readme and "XLFUNCS_NO_ARTICLE" in readme
