"""The ``engine`` fixture: every test that asks for it runs once per spreadsheet engine."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from xlfuncs.workbook.engines import ENGINES, Engine

# scripts/mutation.py runs each mutant against the tests: fewer examples, no deadline
settings.register_profile("mutation", max_examples=25, deadline=None)


@pytest.fixture(params=ENGINES, ids=[e.name for e in ENGINES])
def engine(request: pytest.FixtureRequest) -> Engine:
    """An installed engine; a missing one skips the test, except in CI where it fails."""
    found: Engine = request.param
    if not found.installed:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs {found.name} for the recalculation tests: "
                        f"{found.install_hint}", pytrace=False)
        pytest.skip(found.install_hint)
    return found
