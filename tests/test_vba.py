"""The classic route: the VBA that xlwings' *Import Functions* writes for ``xlfuncs.udfs``
compiles (tests/vba.py runs xlwings' own generator, with its Windows-only imports stubbed).
A module that does not compile breaks every function in it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from xlfuncs.registry import CATALOG

from .vba import (
    MAX_DOC,
    MAX_LINE,
    Declaration,
    compiles_in_libreoffice,
    declarations,
    generate,
    problems,
)


@pytest.fixture(scope="module")
def generated() -> tuple[str, dict[str, list]]:
    return generate()


def test_every_function_is_declared_with_its_parameters(generated) -> None:
    vba, _ = generated
    declared = {d.name: d.params for d in declarations(vba)}
    assert declared == {e.python_name: tuple(p.name for p in e.params) for e in CATALOG}
    assert vba.count("End Function") == len(CATALOG)


def test_no_name_is_a_vba_reserved_word_or_over_vbas_limits(generated) -> None:
    vba, _ = generated
    assert {d.name: problems(d) for d in declarations(vba) if problems(d)} == {}
    assert max(len(line) for line in vba.splitlines()) <= MAX_LINE


def test_excel_gets_every_description_whole(generated) -> None:
    # xlwings cuts what it passes to Excel's MacroOptions to 255 characters
    _, docs = generated
    for name, (summary, parameters) in docs.items():
        assert len(summary) <= MAX_DOC, name
        assert all(len(doc) <= MAX_DOC for doc in parameters), name


@pytest.mark.parametrize(("declaration", "reason"), [
    (Declaration("val_return", ("start", "end")), "'end' is a reserved word in VBA"),
    (Declaration("f", ("Range",)), "would shadow a name the generated body uses"),
    (Declaration("f", ("x", "X")), "case-insensitive"),
    (Declaration("abc12", ()), "reads as a cell reference"),
    (Declaration("f", ("_x",)), "is not a VBA name"),
])
def test_the_checks_catch_what_would_not_compile(declaration: Declaration, reason: str) -> None:
    assert any(reason in p for p in problems(declaration))


@pytest.fixture
def soffice() -> str:
    found = shutil.which("soffice")
    if found is None:
        message = "LibreOffice (soffice) compiles the VBA: apt-get install libreoffice-calc-nogui"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


def test_libreoffice_basic_compiles_the_module_in_vba_mode(generated, soffice: str,
                                                           tmp_path: Path) -> None:
    vba, _ = generated
    assert compiles_in_libreoffice(vba, tmp_path / "module", soffice)
    # and the check has teeth: the declaration xlwings wrote before the rename does not
    broken = vba.replace("Function val_return(start, end_value)", "Function val_return(start, end)")
    assert broken != vba
    assert not compiles_in_libreoffice(broken, tmp_path / "broken", soffice, wait=10)
