"""Exercise style from the option root (gex.exercise_style): the US market's listing rule."""

from __future__ import annotations

import pytest

from gex.calendar import AM_SETTLED_ROOTS, PM_SETTLED_INDEX_ROOTS
from gex.exercise_style import AMERICAN_INDEX_ROOTS, EUROPEAN_ROOTS, chain_style, exercise_style


@pytest.mark.parametrize("root", ["SPX", "SPXW", "NDX", "NDXP", "RUT", "RUTW", "XSP", "VIX", "VIXW", "DJX",
                                  "MRUT", "XND", "XEO", "spxw", "^SPX", " NDX "])
def test_cash_settled_index_roots_are_european(root):
    assert exercise_style(root) == "european"


@pytest.mark.parametrize("root", ["SPY", "QQQ", "IWM", "AAPL", "AAPL1", "BRKB", "TSLA", "OEX", "oex"])
def test_equity_etf_roots_and_oex_are_american(root):
    assert exercise_style(root) == "american"


def test_every_index_root_the_calendar_knows_is_classified_explicitly():
    """A root the settlement tables accept must not fall to the American default by omission."""
    known = AM_SETTLED_ROOTS | PM_SETTLED_INDEX_ROOTS
    assert known <= EUROPEAN_ROOTS | AMERICAN_INDEX_ROOTS
    assert not EUROPEAN_ROOTS & AMERICAN_INDEX_ROOTS


def test_chain_style():
    assert chain_style(["SPX", "SPXW"]) == "european"
    assert chain_style({"AAPL", "AAPL1"}) == "american"
    assert chain_style(("OEX", "XEO")) == "mixed"
    assert chain_style([]) == "european"
