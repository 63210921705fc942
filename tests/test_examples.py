"""The catalog's example parser and example answers (registry.example_arguments,
array_constant, example_value), which the Functions sheet and the docs use: tested on
examples written here, with awkward text the catalog's own examples do not have."""

from __future__ import annotations

import dataclasses
import datetime as dt

from xlfuncs.entry import Entry
from xlfuncs.registry import array_constant, entry, example_arguments, example_value


def with_example(name: str, example: str) -> Entry:
    return dataclasses.replace(entry(name), example=example)


def test_text_arguments_keep_their_commas_and_their_own_letters() -> None:
    item = with_example("DATA_FACT", '=DATA_FACT("Xiaomi, Inc X", "revenue")')
    assert example_arguments(item) == ["Xiaomi, Inc X", "revenue"]


def test_every_kind_of_argument_is_read() -> None:
    item = with_example("BURN_MONTHS", "=BURN_MONTHS(DATE(2024, 2, 29), 12.5%)")
    assert example_arguments(item) == [dt.date(2024, 2, 29), 0.125]
    item = with_example("VAL_DCF", '=VAL_DCF({1,-2.5;"Xa",3}, 10%)')
    assert example_arguments(item) == [[[1.0, -2.5], ["Xa", 3.0]], 0.1]


def test_array_constants_keep_text_as_typed() -> None:
    assert array_constant('{"Xa X",1;2,"b"}') == [["Xa X", 1.0], [2.0, "b"]]


def test_an_error_answer_is_its_code() -> None:
    assert example_value(with_example("VAL_PS", "=VAL_PS(300, 0)")) == "#DIV/0!"
    story = entry("VAL_STORY").example.replace('"revenue",100', '"revenue",-100')
    assert example_value(with_example("VAL_STORY", story)) == "#NUM!"


def test_a_range_answer_is_its_first_cell() -> None:
    assert example_value(with_example("VAL_PS", "=VAL_PS({300,600;900,1200}, 100)")) == 3.0
    assert example_value(with_example("VAL_PS", "=VAL_PS({300;800}, {100;200})")) == 3.0
