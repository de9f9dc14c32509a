"""The doctests of gex_fetch (the root pytest config collects doctests of the core package only)."""

from __future__ import annotations

import doctest

import pytest
from gex_fetch import http, redact, schedule, symbols


@pytest.mark.parametrize("module", [http, redact, schedule, symbols], ids=lambda m: m.__name__)
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
