"""The facts dataset: its provenance against the article, and the loader's refusals."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from xlfuncs import data
from xlfuncs.data import COLUMNS, load_facts, parse_facts
from xlfuncs.elementwise import explain
from xlfuncs.errors import NA, VALUE, DataFileError, XlError
from xlfuncs.layers import FRAME_COLUMNS

ARTICLE = Path(__file__).resolve().parents[1].parent / "shared" / "article.txt"
HEADER = ",".join(COLUMNS)
GOOD_ROW = "Acme,revenue,10,m,USD,2025-01-01,2025-12-31,2026-01-01,=,test note"
NUMBER_WORDS = {4: "four"}


def paragraphs() -> list[str]:
    return [line for line in ARTICLE.read_text(encoding="utf-8").splitlines() if line.strip()]


def as_written(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


@pytest.mark.skipif(not ARTICLE.exists() and os.environ.get("CI") != "true",
                    reason="../shared/article.txt is not beside this checkout")
def test_every_fact_appears_in_the_paragraph_its_source_names() -> None:
    paras = paragraphs()
    for fact in load_facts().itertuples():
        number = int(re.search(r"para (\d+)", fact.source).group(1))
        text = paras[number - 1]
        written = as_written(fact.value)
        pattern = rf"(?<![\d.]){re.escape(written)}(?![\d])"
        word = NUMBER_WORDS.get(fact.value)
        assert re.search(pattern, text) or (word and word in text.lower()), (
            f"{fact.company} {fact.metric} {written} not in para {number}: {text[:80]}")


@pytest.mark.skipif(not ARTICLE.exists() and os.environ.get("CI") != "true",
                    reason="../shared/article.txt is not beside this checkout")
def test_every_number_of_the_article_is_a_fact() -> None:
    """The other direction: each figure in the article's body is in the dataset (the
    date line, the page's view counter, years and period words are not figures)."""
    known = {as_written(v) for v in load_facts()["value"]}
    skipped = {"2022", "2024", "2025", "2026", "2027", "2028", "2030"}
    months = "January|February|March|April|May|June|July|August|September|October|" \
             "November|December"
    for number, text in enumerate(paragraphs()[3:], start=4):
        text = re.sub(rf"(?:{months}) \d{{1,2}}, \d{{4}}", "<date>", text)  # period ends
        for figure in re.findall(r"(?<![\w.])\d+(?:\.\d+)?", text):
            if figure not in skipped:
                assert figure in known, f"para {number}: {figure} is not in the dataset"


def test_sources_cite_the_article_and_a_paragraph_in_our_own_words() -> None:
    for fact in load_facts().itertuples():
        assert re.match(r"2026-02-24 article, para \d+: \S", fact.source), fact.source
        if ARTICLE.exists():
            # a short note, never a copied sentence of the article
            for sentence in re.split(r"(?<=[.!?])\s+", ARTICLE.read_text(encoding="utf-8")):
                assert len(sentence) < 40 or sentence not in fact.source


def test_bundled_dataset_loads_with_types() -> None:
    facts = load_facts()
    assert list(facts.columns) == list(FRAME_COLUMNS)
    assert facts["value"].dtype == float
    assert str(facts["period_start"].dtype).startswith("datetime64")
    zhipu_loss = facts[(facts.company == "Zhipu") & (facts.metric == "cumulative_loss")].iloc[0]
    assert (zhipu_loss.value, zhipu_loss.unit, zhipu_loss.currency) == (6.238, "bn", "CNY")
    assert str(zhipu_loss.period_start.date()) == "2022-01-01"
    assert str(zhipu_loss.period_end.date()) == "2025-06-30"
    cambricon = facts[facts.company == "Cambricon"]
    assert sorted(cambricon.qualifier) == ["high", "low"]


def test_data_fact_answers_from_the_dataset() -> None:
    assert data.data_fact("Zhipu", "revenue") == 191
    assert data.data_fact("zhipu", "REVENUE") == 191  # case does not matter
    assert data.data_fact("MiniMax", "cumulative_increase") == pytest.approx(4.94)
    assert data.data_fact("Cambricon", "net_profit") == pytest.approx(2.0)
    assert data.data_fact("Cambricon", "net_profit", "low") == 1.85
    assert data.data_fact("Cambricon", "net_profit", "high") == 2.15
    assert data.data_fact("Zhipu", "market_value", "=") == 323.2
    assert data.data_fact("MiniMax", "market_value", ">=") == 300
    column = data.data_fact([["Zhipu"], ["MiniMax"]], "market_value")
    assert column.shape == (2, 1) and column[:, 0].tolist() == [323.2, 300]


def test_data_fact_says_what_is_missing() -> None:
    unknown = explain(data.data_fact, "Nobody", "revenue")
    assert unknown.code == NA and "Nobody" in unknown.reason
    no_metric = explain(data.data_fact, "Zhipu", "ebitda")
    assert no_metric.code == NA and "revenue" in no_metric.reason  # lists what it has
    bad_pick = explain(data.data_fact, "Cambricon", "net_profit", "median")
    assert bad_pick.code == VALUE
    assert explain(data.data_fact, "", "revenue") is None


def test_data_source_table_and_companies() -> None:
    assert data.data_source("Zhipu", "revenue").startswith("2026-02-24 article, para 20")
    assert isinstance(explain(data.data_source, "Nobody", "revenue"), XlError)
    table = data.data_table("Zhipu")
    assert set(table.company) == {"Zhipu"} and list(table.columns) == list(FRAME_COLUMNS)
    assert len(data.data_table()) == len(load_facts())
    assert data.data_companies()[:3] == ["MiniMax+Zhipu", "MiniMax", "Zhipu"]
    assert {"OpenAI", "Anthropic", "Cambricon"} <= set(data.data_companies())


def test_users_point_the_functions_at_their_own_file(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    own = tmp_path / "universe.csv"
    own.write_text(f"{HEADER}\n{GOOD_ROW}\n", encoding="utf-8")
    assert data.data_fact("Acme", "revenue", path=str(own)) == 10
    monkeypatch.setenv(data.DATA_ENV, str(own))
    assert data.data_companies()[-1] == "Acme"  # layered over the article's companies
    assert "Zhipu" in data.data_companies()
    monkeypatch.setenv(data.NO_ARTICLE_ENV, "1")
    assert data.data_companies() == ["Acme"]
    # edited while in use: the next call sees the new figure
    own.write_text(f"{HEADER}\n{GOOD_ROW.replace(',10,', ',12,')}\n", encoding="utf-8")
    os.utime(own, ns=(1, 1))
    assert data.data_fact("Acme", "revenue") == 12


MALFORMED = [
    # (file text, row, column, words in the message)
    ("company,metric,unit\nx,y,m\n", 1, "value", "missing column"),
    (f"{HEADER}\n{GOOD_ROW.replace(',10,', ',ten,')}\n", 2, "value", "not a number"),
    (f"{HEADER}\n{GOOD_ROW.replace(',10,', ',inf,')}\n", 2, "value", "not a number"),
    (f"{HEADER}\n{GOOD_ROW}\n{GOOD_ROW.replace('USD', 'EUR').replace('Acme', 'B')}\n", 3,
     "currency", "'EUR' is not one of"),
    (f"{HEADER}\n{GOOD_ROW.replace('2025-12-31', '2024-12-31')}\n", 2, "period_end",
     "ends (2024-12-31) before it starts"),
    (f"{HEADER}\n{GOOD_ROW.replace('2025-12-31', '31/12/2025')}\n", 2, "period_end",
     "not an ISO date"),
    (f"{HEADER}\n{GOOD_ROW.replace(',2025-12-31,', ',,')}\n", 2, "period_end",
     "both its start and its end"),
    (f"{HEADER}\n{GOOD_ROW}\n{GOOD_ROW}\n", 3, "metric", "is already on row 2"),
    (f"{HEADER}\n{GOOD_ROW}\n{GOOD_ROW.replace('Acme', 'ACME')}\n", 3, "company",
     "one company spelled two ways"),
    (f"{HEADER}\n{GOOD_ROW.replace(',=,', ',about,')}\n", 2, "qualifier", "not one of"),
    (f"{HEADER}\n{GOOD_ROW.replace(',m,', ',gallons,')}\n", 2, "unit", "not one of"),
    (f"{HEADER}\n{GOOD_ROW.replace('Acme', '')}\n", 2, "company", "must not be empty"),
    (f"{HEADER}\n{GOOD_ROW.replace(',test note', ',')}\n", 2, "source", "must not be empty"),
    (f"{HEADER}\n{GOOD_ROW.replace(',=,', ',low,')}\n", 2, "qualifier", "'high' is missing"),
    (f"{HEADER}\n{GOOD_ROW.replace(',=,', ',low,')}\n"
     f"{GOOD_ROW.replace(',=,', ',high,').replace(',10,', ',5,')}\n", 3, "value",
     "'low' value is above"),
    (f"{HEADER}\n{GOOD_ROW},extra\n", 2, None, "more cells than the header"),
    (f"{HEADER}\nAcme,revenue,10\n", 2, "unit", "too few cells"),
    (f"{HEADER}\n", None, None, "no facts"),
]


@pytest.mark.parametrize(("text", "row", "column", "words"), MALFORMED,
                         ids=[m[3] for m in MALFORMED])
def test_malformed_files_are_refused_naming_file_row_and_column(
        tmp_path: Path, text: str, row: int | None, column: str | None, words: str) -> None:
    path = tmp_path / "facts.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        load_facts(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert words in message
    if row is not None:
        assert f"row {row}" in message
    if column is not None:
        assert f"column '{column}'" in message
    assert (caught.value.row, caught.value.column) == (row, column)


def test_unreadable_files_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="cannot be read"):
        load_facts(tmp_path / "missing.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataFileError, match="not UTF-8"):
        load_facts(binary)


def test_rmb_is_accepted_as_an_alias_and_thousands_separators_are_refused() -> None:
    row = GOOD_ROW.replace("USD", "RMB")
    facts = parse_facts(f"{HEADER}\n{row}\n")
    assert facts.iloc[0].currency == "CNY" and facts.iloc[0].value == 10
    with pytest.raises(DataFileError, match="row 2, column 'value': '1,500' is not a number"):
        parse_facts(HEADER + "\n" + row.replace(",10,", ',"1,500",') + "\n")


def test_text_that_looks_like_a_formula_stays_text() -> None:
    hostile = '"=HYPERLINK(""http://x"",""y"")"'
    facts = parse_facts(f"{HEADER}\n{GOOD_ROW.replace('Acme', hostile)}\n")
    assert facts.iloc[0].company == '=HYPERLINK("http://x","y")'


def test_amounts_in_billions_by_hand() -> None:
    # 1.5 tn = 1,500 bn; 2 bn = 2 bn; 53.44 m = 0.05344 bn; 7 k = 0.000007 bn
    assert data.in_billions([1.5, 2.0, 53.44, 7.0], ["tn", "bn", "m", "k"]).tolist() == \
        pytest.approx([1500.0, 2.0, 0.05344, 0.000007], rel=1e-15)
    assert explain(data.in_billions, 5.0, "%").code == NA  # a percentage is not money
