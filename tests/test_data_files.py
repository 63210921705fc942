"""The strict facts-file reader: every row counts, every value is what it says.

Examples from issue 8 first, then properties over generated files: a valid file loads with
every row present and every value equal to what was written; one injected defect is
refused naming the row and column that hold it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from xlfuncs.data import COLUMNS, load_facts, parse_facts
from xlfuncs.errors import DataFileError

from .helpers import documentation

HEADER = ",".join(COLUMNS)
ROW = "Acme,revenue,10,m,USD,2025-01-01,2025-12-31,2026-01-01,=,test note"


def refusal(text: str, tmp_path: Path) -> DataFileError:
    path = tmp_path / "facts.csv"
    path.write_text(text, encoding="utf-8", newline="")
    with pytest.raises(DataFileError) as caught:
        load_facts(path, article=False)
    assert "\n" not in str(caught.value)  # one line
    return caught.value


def other(company: str) -> str:
    return ROW.replace("Acme", company)


# ---- 1. one physical line is one row ---------------------------------------------------

def test_an_unterminated_quote_is_refused_at_the_row_it_opens(tmp_path: Path) -> None:
    # passed as "1 facts, 1 companies, valid" before: the quote swallowed two rows
    text = f'{HEADER}\n{ROW.replace("test note", chr(34) + "oops")}\n{other("B")}\n{other("C")}\n'
    error = refusal(text, tmp_path)
    assert (error.row, error.column) == (2, "source")
    assert "does not close on this line" in str(error)


def test_a_field_that_spans_lines_is_refused(tmp_path: Path) -> None:
    text = f'{HEADER}\n{ROW.replace("test note", chr(34) + "two")}\nlines"\n{other("B")}\n'
    error = refusal(text, tmp_path)
    assert (error.row, error.column) == (2, "source")


@pytest.mark.parametrize(("cell", "column"), [('"Acme"x', "company"), ('Ac"me', "company"),
                                              ('te"st', "source")])
def test_stray_quotes_inside_a_line_are_refused(tmp_path: Path, cell: str, column: str) -> None:
    written = ROW.replace("Acme" if column == "company" else "test note", cell)
    text = f"{HEADER}\n{other('B')}\n{written}\n"
    error = refusal(text, tmp_path)
    assert (error.row, error.column) == (3, column)


def test_every_row_is_read_whatever_its_line_endings(tmp_path: Path) -> None:
    for ending in ("\n", "\r\n", "\r"):
        text = ending.join([HEADER, ROW, other("B"), "", other("C")]) + ending
        facts = parse_facts(text)
        assert list(facts.company) == ["Acme", "B", "C"]
        assert list(facts.row) == [2, 3, 5]


# ---- 2. numbers are plain decimal notation ---------------------------------------------

@pytest.mark.parametrize("written", ['"1,5"', '"1,0,0"', "1_000", "0x10", "inf", "-inf", "nan",
                                     "' 1 2'", "1e", "--1", "1.2.3", "١٢", "1e400", "½"])
def test_anything_but_a_plain_number_is_refused(tmp_path: Path, written: str) -> None:
    written = written.replace("'", '"')
    error = refusal(f"{HEADER}\n{ROW.replace(',10,', f',{written},')}\n", tmp_path)
    assert (error.row, error.column) == (2, "value"), str(error)


@pytest.mark.parametrize(("written", "value"), [("10", 10.0), ("-1.5", -1.5), (".5", 0.5),
                                                ("5.", 5.0), ("+2E3", 2000.0), ("1e-3", 0.001),
                                                (" 7 ", 7.0)])
def test_plain_numbers_are_read_exactly(written: str, value: float) -> None:
    assert parse_facts(f"{HEADER}\n{ROW.replace(',10,', f',{written},')}\n").value[0] == value


# ---- 3. one key is one fact; one spelling per name ---------------------------------------

def test_the_same_company_and_metric_twice_is_refused_naming_both_rows(tmp_path: Path) -> None:
    # before: the workbook showed 11 and DATA_FACT 10
    second = ROW.replace(",10,", ",11,").replace(",=,", ",~,")
    error = refusal(f"{HEADER}\n{ROW}\n{other('B')}\n{second}\n", tmp_path)
    assert (error.row, error.column) == (4, "metric") and "already on row 2" in str(error)


def test_one_company_spelled_two_ways_is_refused(tmp_path: Path) -> None:
    rows = [ROW, other("B"), other("C"), other("D"), other("E"),
            ROW.replace("Acme", "acme").replace("revenue", "cost")]
    error = refusal("\n".join([HEADER, other("Z"), *rows]) + "\n", tmp_path)
    assert (error.row, error.column) == (8, "company")
    assert "'acme' and 'Acme' (row 3) are one company spelled two ways: use one spelling" \
        in str(error)
    error = refusal(f"{HEADER}\n{ROW}\n{other('B').replace('revenue', 'Revenue')}\n", tmp_path)
    assert (error.row, error.column) == (3, "metric")


@pytest.mark.parametrize(("column", "old", "new"), [
    ("unit", ",bn,", ",m,"), ("currency", "CNY", "USD"),
    ("period_start", "2025-01-01", "2025-02-01"), ("period_end", "2025-12-31", "2025-11-30")])
def test_a_range_s_two_ends_share_unit_currency_and_period(tmp_path: Path, column: str,
                                                           old: str, new: str) -> None:
    low = "Acme,net_profit,1,bn,CNY,2025-01-01,2025-12-31,,low,guidance"
    high = low.replace(",1,", ",2,").replace(",low,", ",high,")
    assert parse_facts(f"{HEADER}\n{low}\n{high}\n").value.tolist() == [1, 2]
    # before: "1 bn CNY" to "500 m USD" became one bn CNY range with midpoint 250.5
    error = refusal(f"{HEADER}\n{low}\n{high.replace(old, new, 1)}\n", tmp_path)
    assert (error.row, error.column) == (3, column) and "share" in str(error)


def test_a_range_s_refusal_names_the_column_in_words_and_quotes_a_blank(tmp_path: Path
                                                                      ) -> None:
    low = "Acme,net_profit,1,bn,CNY,,,,low,guidance"
    high = "Acme,net_profit,2,bn,CNY,2025-01-01,2025-12-31,,high,guidance"
    error = refusal(f"{HEADER}\n{low}\n{high}\n", tmp_path)
    assert str(error).endswith(
        "column 'period_start': a range's two ends must share the period start (row 2 has '')")


# ---- 4, 5, 7. values that overflow, text XML cannot hold, dates, headers --------------

def test_a_range_whose_midpoint_overflows_is_refused(tmp_path: Path) -> None:
    low = "Acme,net_profit,1e308,,,,,,low,guidance"
    high = low.replace(",low,", ",high,").replace("1e308", "1.5e308")
    error = refusal(f"{HEADER}\n{low}\n{high}\n", tmp_path)
    assert (error.row, error.column) == (3, "value") and "midpoint" in str(error)


def test_a_value_that_overflows_once_scaled_is_refused(tmp_path: Path) -> None:
    # before: 1e306 tn wrote 'inf' into the workbook while the build said "checks pass"
    error = refusal(f"{HEADER}\n{ROW.replace(',10,m,', ',1e306,tn,')}\n", tmp_path)
    assert (error.row, error.column) == (2, "value") and "fit a double" in str(error)
    assert parse_facts(f"{HEADER}\n{ROW.replace(',10,m,', ',1e305,tn,')}\n").value[0] == 1e305


@pytest.mark.parametrize("char", ["\ufffe", "\uffff", "\x00", "\x0b", "\x1f", "\ud800"])
def test_characters_xml_forbids_are_refused_with_their_code_point(char: str) -> None:
    with pytest.raises(DataFileError) as caught:
        parse_facts(f"{HEADER}\n{ROW.replace('Acme', 'Ac' + char + 'me')}\n")
    assert (caught.value.row, caught.value.column) == (2, "company")
    assert f"U+{ord(char):04X}" in str(caught.value)


def test_tabs_and_other_xml_text_load() -> None:
    name = "Tab\there \u2028 \x85 \u200f\U0001f600"
    assert parse_facts(f"{HEADER}\n{ROW.replace('Acme', name)}\n").company[0] == name


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "1900-01-01", "1900-02-28"])
def test_dates_before_march_1900_are_refused_saying_why(tmp_path: Path, day: str) -> None:
    error = refusal(f"{HEADER}\n{ROW.replace('2026-01-01', day)}\n", tmp_path)
    assert (error.row, error.column) == (2, "as_of")
    assert "before 1900-03-01" in str(error) and "29 February 1900" in str(error)
    assert parse_facts(f"{HEADER}\n{ROW.replace('2026-01-01', '1900-03-01')}\n").size


@pytest.mark.parametrize("day", ["20260101", "2026-W01-1", "2026-1-1", " 2026-01-01x"])
def test_only_iso_dates(tmp_path: Path, day: str) -> None:
    error = refusal(f"{HEADER}\n{ROW.replace('2026-01-01', day)}\n", tmp_path)
    assert error.column == "as_of"


def test_a_duplicated_or_unknown_header_column_is_refused(tmp_path: Path) -> None:
    # before: the last 'value' won silently
    error = refusal(f"{HEADER},value\n{ROW},99\n", tmp_path)
    assert (error.row, error.column) == (1, "value") and "columns 3 and 11" in str(error)
    error = refusal(f"{HEADER},combine\n{ROW},x\n", tmp_path)
    assert (error.row, error.column) == (1, "combine") and "unknown column" in str(error)
    # the refusal lists what the header takes, as a person would type it
    assert str(error).endswith(
        "unknown column (the header takes: company, metric, value, unit, currency, "
        "period_start, period_end, as_of, qualifier, source, combines)")
    error = refusal(f"{HEADER.replace(',source', '')}\n", tmp_path)
    assert (error.row, error.column) == (1, "source")
    assert str(error).endswith(
        "missing column (the header needs: company, metric, value, unit, currency, "
        "period_start, period_end, as_of, qualifier, source)")


def test_a_field_of_exactly_a_cell_s_limit_loads(tmp_path: Path) -> None:
    path = tmp_path / "facts.csv"
    path.write_text(f"{HEADER}\n{ROW.replace('test note', 'n' * 32_767)}\n", encoding="utf-8")
    assert load_facts(path, article=False)["source"].str.len().tolist() == [32_767]
    path.write_text(f"{HEADER}\n{ROW.replace('test note', 'n' * 32_768)}\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="field too large"):
        load_facts(path, article=False)


def test_a_field_too_large_names_the_row_that_holds_it(tmp_path: Path) -> None:
    big = "x" * 40_000
    text = f"{HEADER}\n{ROW}\n{other('B').replace('test note', big)}\n{other('C')}\n"
    error = refusal(text, tmp_path)
    assert (error.row, error.column) == (3, "source") and "field too large" in str(error)


def test_directories_fifos_and_devices_are_refused_before_reading(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="is a directory"):
        load_facts(tmp_path, article=False)
    with pytest.raises(DataFileError, match="not a regular file"):
        load_facts("/dev/zero", article=False)  # before: read past the 64 MiB limit
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    # before: the read waited forever for a writer; a subprocess keeps a hang visible
    result = subprocess.run([sys.executable, "-m", "xlfuncs.cli", "facts", "--check", "--data",
                             str(fifo)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr == f"xlfuncs: {fifo}: is not a regular file (a FIFO, device or " \
        "socket); give a CSV file\n"


def test_an_oversized_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xlfuncs import facts_file

    monkeypatch.setattr(facts_file, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.csv"
    path.write_text(f"{HEADER}\n{ROW}\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="over 100 bytes"):
        load_facts(path, article=False)



def test_a_file_of_exactly_the_limit_is_read_and_one_byte_more_is_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xlfuncs import facts_file

    monkeypatch.setattr(facts_file, "MAX_FILE_BYTES", 100)
    path = tmp_path / "edge.csv"
    path.write_bytes(b"x" * 100)
    assert facts_file.read_bytes(path) == b"x" * 100
    path.write_bytes(b"x" * 101)
    with pytest.raises(DataFileError, match="over 100 bytes"):
        facts_file.read_bytes(path)


def test_every_unit_a_facts_file_may_use_loads(tmp_path: Path) -> None:
    from xlfuncs import facts_file

    assert facts_file.UNITS == ("tn", "bn", "m", "k", "", "%", "x", "price", "years",
                                "months", "count")
    rows = "\n".join(f"Acme,metric {i},2,{unit},,,,,=,test"
                     for i, unit in enumerate(facts_file.UNITS))
    path = tmp_path / "units.csv"
    path.write_text(f"{HEADER}\n{rows}\n", encoding="utf-8")
    facts = load_facts(path, article=False)
    assert list(facts["unit"]) == list(facts_file.UNITS)


def test_names_compare_trimmed_with_single_spaces_and_case_folded() -> None:
    from xlfuncs.facts_file import name_key

    assert name_key(" ACME  corp\t") == "acme corp"
    assert name_key("Straße") == name_key("STRASSE") == "strasse"


def test_the_size_limit_is_the_64_mib_the_readme_promises() -> None:
    from xlfuncs import facts_file

    readme = documentation()
    assert "regular UTF-8 file of at most 64 MiB" in readme
    assert facts_file.MAX_FILE_BYTES == 64 * 2**20 == 67_108_864


def test_a_fifo_swapped_in_after_the_check_cannot_hang_the_open(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import signal

    from xlfuncs import facts_file

    fifo = tmp_path / "swapped.csv"
    os.mkfifo(fifo)
    real = facts_file._must_be_regular
    calls: list[int] = []

    def first_check_passes(path: Path, mode: int) -> None:  # as if swapped just after it
        calls.append(mode)
        if len(calls) > 1:
            real(path, mode)

    monkeypatch.setattr(facts_file, "_must_be_regular", first_check_passes)

    def hung(*_: object) -> None:
        raise TimeoutError("the open waited for a writer")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(5)
    try:
        with pytest.raises(DataFileError, match="not a regular file"):
            facts_file.read_bytes(fifo)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert len(calls) == 2


def test_cells_beyond_the_header_and_unnamed_columns_are_numbered(tmp_path: Path) -> None:
    # an eleventh cell (the header has ten): named by its number, 11, counted from 1
    error = refusal(f"{HEADER}\n{ROW},bad\x01\n", tmp_path)
    assert (error.row, error.column) == (2, "11") and "U+0001" in str(error)
    error = refusal("company,,metric\n", tmp_path)
    assert (error.row, error.column) == (1, "2") and "a column with no name" in str(error)


def test_an_empty_first_cell_before_a_quoted_one_is_the_empty_company(tmp_path: Path) -> None:
    row = ROW.replace("Acme", "").replace("test note", '"a quoted note"')
    error = refusal(f"{HEADER}\n{row}\n", tmp_path)
    assert (error.row, error.column) == (2, "company") and "must not be empty" in str(error)


@pytest.mark.parametrize("combines", ["Acme", "Acme|", "Acme| acme ", "|B"])
def test_combines_needs_two_different_named_companies(tmp_path: Path, combines: str) -> None:
    header = HEADER + ",combines"
    error = refusal(f"{header}\n{ROW},{combines}\n", tmp_path)
    assert (error.row, error.column) == (2, "combines") and "two or more different" in str(error)
    facts = parse_facts(f"{header}\n{ROW},A | B\n")
    assert facts.iloc[0].combines == "A|B"


# ---- generated files ----------------------------------------------------------------

FORBIDDEN = "\x00\x01\x08\x0b\x0c\x0e\x1f\ufffe\uffff"
CONTROLS = "".join(chr(c) for c in range(32) if c != 9)  # tab is text; CR/LF end lines
text_chars = st.characters(blacklist_categories=("Cs",),
                           blacklist_characters=CONTROLS + "\ufffe\uffff")
texts = st.text(text_chars, min_size=1, max_size=12).map(str.strip).filter(bool)
days = st.dates(dt.date(1900, 3, 1), dt.date(9999, 12, 31))
SCALES = {"tn": 1000.0, "bn": 1.0, "m": 0.001, "k": 1e-6}


@st.composite
def fact_files(draw: st.DrawFn) -> tuple[list[list[str]], list[list[str]], bool]:
    """(header, rows as written, whether the 'combines' column is there): unique keys,
    one spelling a name, ranges as a low and a high row sharing unit, currency, period."""
    from xlfuncs.data import name_key

    companies = draw(st.lists(texts, min_size=1, max_size=4, unique_by=name_key))
    metrics = draw(st.lists(texts, min_size=1, max_size=4, unique_by=name_key))
    keys = draw(st.lists(st.tuples(st.sampled_from(companies), st.sampled_from(metrics)),
                         min_size=1, max_size=8, unique=True))
    combines = draw(st.booleans())
    header = [*COLUMNS, *(["combines"] if combines else [])]
    rows: list[list[str]] = []
    for company, metric in keys:
        unit = draw(st.sampled_from(("tn", "bn", "m", "k", "", "%", "x", "count")))
        # the value in bn fits, and a range's low + high fits too (1.7e308 / 0.001 is inf)
        limit = min(1.7e308, 1.7e308 / SCALES.get(unit, 1.0)) / 2
        value = draw(st.floats(-limit, limit, allow_nan=False, allow_infinity=False))
        currency = draw(st.sampled_from(("HKD", "USD", "CNY", "")))
        start = draw(st.none() | days)
        end = None if start is None else draw(st.dates(start, dt.date(9999, 12, 31)))
        as_of = draw(st.none() | days)
        source = draw(texts)
        period = [start.isoformat() if start else "", end.isoformat() if end else ""]
        base = [company, metric, "", unit, currency, *period,
                as_of.isoformat() if as_of else ""]
        extra = [] if not combines else [""]
        if draw(st.booleans()):
            other = draw(st.floats(value, limit, allow_nan=False, allow_infinity=False))
            rows.append([*base[:2], repr(value), *base[3:], "low", source, *extra])
            rows.append([*base[:2], repr(other), *base[3:], "high", source, *extra])
        else:
            qualifier = draw(st.sampled_from(("=", ">=", "~")))
            rows.append([*base[:2], repr(value), *base[3:], qualifier, source, *extra])
    order = draw(st.permutations(range(len(rows))))
    return header, [rows[i] for i in order], combines


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@settings(max_examples=150, deadline=None)
@given(fact_files())
def test_a_valid_generated_file_loads_every_row_as_written(case: tuple) -> None:
    header, rows, _ = case
    facts = parse_facts(csv_text(header, rows))
    assert len(facts) == len(rows)
    by_row = {r.row: r for r in facts.itertuples()}
    for line, written in enumerate(rows, start=2):
        got = by_row[line]
        assert (got.company, got.metric, got.source) == (written[0], written[1], written[9])
        assert got.value == float(written[2])
        assert (got.unit, got.currency, got.qualifier) == (written[3], written[4], written[8])
        for column, text in zip(("period_start", "period_end", "as_of"), written[5:8],
                                strict=True):
            shown = getattr(got, column)
            assert (shown.date().isoformat() if text else shown != shown) == (text or True)


DEFECTS = ("stray quote", "grouped number", "bad number", "duplicate key", "overflow",
           "forbidden character", "early date", "duplicated header", "range mismatch")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fact_files(), st.sampled_from(DEFECTS), st.data())
def test_one_injected_defect_is_refused_naming_its_row_and_column(
        case: tuple, defect: str, data: st.DataObject) -> None:
    header, rows, _ = case
    rows = [list(r) for r in rows]
    index = data.draw(st.integers(0, len(rows) - 1), label="row")
    line = index + 2
    raw: dict[int, str] = {}   # rows written by hand, not by the csv module
    if defect == "stray quote":
        column = data.draw(st.sampled_from(COLUMNS), label="column")
        cells = ['"' + c.replace('"', '""') + '"' for c in rows[index]]  # all quoted
        cells[COLUMNS.index(column)] = '"oops' + data.draw(st.sampled_from(("", "x")))
        raw[index] = ",".join(cells)
    elif defect in ("grouped number", "bad number"):
        column = "value"
        bad = (data.draw(st.sampled_from(("1,5", "1,0,0", "12,345.6"))) if defect ==
               "grouped number" else data.draw(st.sampled_from(
                   ("1_000", "0x10", "inf", "nan", " 1 2", "1e", "NaN", "-", "1.2.3", "e5"))))
        rows[index][2] = bad
    elif defect == "duplicate key":
        column = "metric"
        copy = list(rows[index])
        copy[8] = data.draw(st.sampled_from(("=", ">=", "~")))
        rows.append(copy)
        first = min(i for i, r in enumerate(rows) if (r[0], r[1]) == (copy[0], copy[1]))
        line = len(rows) + 1
    elif defect == "overflow":
        column = "value"
        rows[index][2], rows[index][3] = "1e306", "tn"
    elif defect == "forbidden character":
        column = data.draw(st.sampled_from(("company", "metric", "source")), label="column")
        char = data.draw(st.sampled_from(FORBIDDEN), label="char")
        at = COLUMNS.index(column)
        rows[index][at] = rows[index][at][:1] + char + rows[index][at][1:]
    elif defect == "early date":
        column = data.draw(st.sampled_from(("as_of", "period_start")), label="column")
        early = data.draw(st.dates(dt.date(1, 1, 1), dt.date(1900, 2, 28))).isoformat()
        rows[index][COLUMNS.index(column)] = early
        if column == "period_start" and not rows[index][6]:
            rows[index][6] = "2000-01-01"
    elif defect == "duplicated header":
        column = data.draw(st.sampled_from(header), label="column")
        header = [*header, column]
        line = 1
    else:  # range mismatch
        pairs = [i for i, r in enumerate(rows) if r[8] == "high"]
        assume(pairs)
        index = data.draw(st.sampled_from(pairs), label="high row")
        column = data.draw(st.sampled_from(("unit", "currency")), label="column")
        at = COLUMNS.index(column)
        choices = ("bn", "m") if column == "unit" else ("USD", "HKD")
        rows[index][at] = choices[0] if rows[index][at] != choices[0] else choices[1]
        low = next(i for i, r in enumerate(rows) if r[:2] == rows[index][:2] and i != index)
        line = max(index, low) + 2
    text = csv_text(header, rows)
    if raw:
        lines = text.split("\n")
        for i, content in raw.items():
            lines[i + 1] = content
        text = "\n".join(lines)
    with pytest.raises(DataFileError) as caught:
        parse_facts(text, "gen.csv")
    error = caught.value
    assert (error.row, error.column) == (line, column), (defect, str(error))
    assert str(error).startswith(f"gen.csv, row {line}, column '{column}': ")
    if defect == "duplicate key":
        assert f"already on row {first + 2}" in str(error)
    if defect == "forbidden character":
        assert f"U+{ord(char):04X}" in str(error)


# ---- the README shows each refusal exactly as printed -------------------------------

README = Path(__file__).resolve().parents[1] / "README.md"
PRINTED = [
    ([ROW.replace("test note", '"oops'), other("B")], "row 2, column 'source': a quote opens"),
    ([ROW.replace(",10,", ',"1,5",')], "row 2, column 'value': '1,5' is not a number"),
    ([ROW.replace(",10,m,", ",1e306,tn,")], "'1e306' tn does not fit a double"),
    ([ROW, ROW.replace(",=,", ",~,")], "Acme / revenue is already on row 2"),
    ([ROW, ROW.replace("Acme,revenue", "acme,cost")], "one company spelled two ways"),
    (["Acme,net_profit,1,bn,CNY,2025-01-01,2025-12-31,,low,g",
      "Acme,net_profit,500,m,USD,2025-01-01,2025-12-31,,high,g"], "share the unit"),
    ([ROW.replace("Acme", "Ac\ufffeme")], "U+FFFE is not allowed"),
    ([ROW.replace("test note", "x" * 40_000)], "field too large"),
    ([ROW.replace("2026-01-01", "1899-12-31")], "before 1900-03-01"),
    ([*(other(f"C{i}") for i in range(5)), ROW.replace("USD", "EUR")], "'EUR' is not one of"),
]


@pytest.mark.parametrize(("rows", "words"), PRINTED, ids=[p[1] for p in PRINTED])
def test_the_readme_shows_each_refusal_as_printed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        rows: list[str], words: str) -> None:
    from xlfuncs.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    assert main(["facts", "--check", "--no-article", "--data", "mine.csv"]) == 2
    printed = capsys.readouterr().err
    assert words in printed and printed.count("\n") == 1
    assert f"`{printed.strip()}`" in documentation()


def test_the_readme_shows_the_file_type_refusals_as_printed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from xlfuncs.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "dir").mkdir()
    readme = documentation()
    for path in ("dir", "/dev/zero"):
        assert main(["facts", "--check", "--data", path]) == 2
        assert f"`{capsys.readouterr().err.strip()}`" in readme


# ---- layers of generated files --------------------------------------------------------

def respelled(name: str, style: int) -> str:
    """The same name as name_key sees it: other case, padded, inner spaces doubled
    (as written where a case change makes another name: dotless i upper-cases to I)."""
    from xlfuncs.data import name_key

    other = [name.upper(), f"  {name.lower()} ", name.replace(" ", "  "), name][style % 4]
    return other if name_key(other) == name_key(name) else name


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fact_files(), fact_files(), st.integers(0, 3))
def test_layers_of_generated_files_override_fact_by_fact(first: tuple, second: tuple,
                                                         style: int) -> None:
    """Expected values worked from the rows as written, independently of the loader:
    the later file's rows for a key replace the earlier file's, whole."""
    import tempfile

    from xlfuncs import data
    from xlfuncs.data import name_key

    expected: dict[tuple[str, str], list[list[str]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for number, (header, rows, _) in enumerate((first, second)):
            path = Path(folder) / f"layer{number}.csv"
            path.write_text(csv_text(header, rows), encoding="utf-8")
            paths.append(path)
            written: dict[tuple[str, str], list[list[str]]] = {}
            for r in rows:
                written.setdefault((name_key(r[0]), name_key(r[1])), []).append(r)
            expected.update(written)
        facts = load_facts(paths, article=False)
        assert len(facts) == sum(len(rows) for rows in expected.values())
        for rows in expected.values():
            company, metric = respelled(rows[0][0], style), respelled(rows[0][1], style)
            by_qualifier = {r[8]: float(r[2]) / (100 if r[3] == "%" else 1) for r in rows}
            if "low" in by_qualifier:
                low, high = by_qualifier["low"], by_qualifier["high"]
                assert data.data_qualifier(company, metric, path=paths) == "range"
                assert data.data_fact(company, metric, "low", path=paths) == low
                assert data.data_fact(company, metric, "high", path=paths) == high
                assert data.data_fact(company, metric, path=paths) == (low + high) / 2
            else:
                (qualifier, value), = by_qualifier.items()
                assert data.data_qualifier(company, metric, path=paths) == qualifier
                assert data.data_fact(company, metric, path=paths) == value
                assert data.data_fact(company, metric, qualifier, path=paths) == value


def test_a_combined_figure_means_the_same_companies_on_every_row(tmp_path: Path) -> None:
    header = HEADER + ",combines"
    first = ROW.replace("Acme", "A+B") + ",A|B"
    second = ROW.replace("Acme", "A+B").replace("revenue", "cash") + ",A|C"
    error = refusal(f"{header}\n{first}\n{second}\n", tmp_path)
    assert (error.row, error.column) == (3, "combines")
    assert str(error).endswith("row 3, column 'combines': A+B's rows disagree on what it "
                               "combines (see row 2)")


def test_a_range_is_exactly_one_low_and_one_high_row(tmp_path: Path) -> None:
    high = ROW.replace(",=,", ",high,")
    error = refusal(f"{HEADER}\n{high}\n", tmp_path)  # a high end alone
    assert (error.row, error.column) == (2, "qualifier") and "'low' is missing" in str(error)
    low = ROW.replace(",=,", ",low,").replace(",10,", ",5,")
    error = refusal(f"{HEADER}\n{low}\n{high}\n{high}\n", tmp_path)  # a third row
    assert (error.row, error.column) == (4, "metric") and "already on row 2" in str(error)


def test_a_period_with_one_end_names_the_missing_one(tmp_path: Path) -> None:
    error = refusal(f"{HEADER}\n{ROW.replace('2025-01-01,', ',', 1)}\n", tmp_path)
    assert (error.row, error.column) == (2, "period_start")
    error = refusal(f"{HEADER}\n{ROW.replace('2025-12-31,', ',', 1)}\n", tmp_path)
    assert (error.row, error.column) == (2, "period_end")


def test_a_file_saved_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"  # Excel's "CSV UTF-8" starts with one
    path.write_bytes(f"\ufeff{HEADER}\n{ROW}\n".encode())
    assert list(load_facts(path, article=False)["company"]) == ["Acme"]
    # and text already decoded, handed to parse_facts, may still carry it
    assert list(parse_facts(f"\ufeff{HEADER}\n{ROW}\n")["company"]) == ["Acme"]
