"""OSI symbol parsing (scalar and vectorised) and root/ticker/name -> underlying normalisation."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from gex_sources.osi import OsiSymbol, osi_columns, parse_osi_symbol
from gex_sources.roots import normalise_ticker, underlying_for_root, underlying_from_name


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("SPXW250107C05930000", OsiSymbol("SPXW", dt.date(2025, 1, 7), "C", 5930.0)),
        ("SPX261218P10000000", OsiSymbol("SPX", dt.date(2026, 12, 18), "P", 10000.0)),
        ("SPY200622P00150500", OsiSymbol("SPY", dt.date(2020, 6, 22), "P", 150.5)),
        ("NDXP220207C11000000", OsiSymbol("NDXP", dt.date(2022, 2, 7), "C", 11000.0)),
        ("SPY1200622C00150000", OsiSymbol("SPY1", dt.date(2020, 6, 22), "C", 150.0)),  # adjusted root
        ("SPY   200622C00150000", OsiSymbol("SPY", dt.date(2020, 6, 22), "C", 150.0)),  # OCC padded form
        ("A250117C00012500", OsiSymbol("A", dt.date(2025, 1, 17), "C", 12.5)),
    ],
)
def test_parse_osi_symbol(symbol: str, expected: OsiSymbol) -> None:
    assert parse_osi_symbol(symbol) == expected


@pytest.mark.parametrize(
    "symbol",
    [
        "SPXW25010C05930000",  # 5-digit date
        "SPXW250107X05930000",  # right is not C/P
        "SPXW250107C0593000",  # 7-digit strike
        "SPXW251307C05930000",  # month 13
        "SPXW250230C05930000",  # 30 February
        "spxw250107c05930000",  # lower case
        "TOOLONGR250107C05930000",  # root of 7+ characters
        "250107C05930000",  # no root
        "",
    ],
)
def test_malformed_osi_symbols_raise(symbol: str) -> None:
    with pytest.raises(ValueError):
        parse_osi_symbol(symbol)


def test_vectorised_osi_matches_scalar_and_nulls_bad_symbols() -> None:
    symbols = ["SPXW250107C05930000", "SPY200622P00150500", "SPXW251307C05930000", "junk", None]
    osi = osi_columns(pl.col("s"))
    out = pl.DataFrame({"s": symbols}).select(
        valid=osi.valid, root=osi.root, expiration=osi.expiration, right=osi.right, milli=osi.strike_milli
    )
    assert out["valid"].to_list() == [True, True, False, False, False]
    assert out["root"].to_list() == ["SPXW", "SPY", None, None, None]
    assert out["expiration"].to_list() == [dt.date(2025, 1, 7), dt.date(2020, 6, 22), None, None, None]
    assert out["right"].to_list() == ["C", "P", None, None, None]
    assert out["milli"].to_list() == [5930000, 150500, None, None, None]


@pytest.mark.parametrize(
    ("root", "underlying"),
    [
        ("SPXW", "SPX"),
        ("SPX", "SPX"),
        ("SPXPM", "SPX"),
        ("NDXP", "NDX"),
        ("NDX", "NDX"),
        ("RUTW", "RUT"),
        ("VIXW", "VIX"),
        ("^SPX", "SPX"),
        ("_SPX", "SPX"),
        ("SPY", "SPY"),
        ("SPY1", "SPY"),
        ("XSP", "XSP"),  # mini-SPX is its own underlying (a tenth of SPX), never an alias
        ("MRUT", "MRUT"),
    ],
)
def test_underlying_for_root(root: str, underlying: str) -> None:
    assert underlying_for_root(root) == underlying


@pytest.mark.parametrize(
    ("ticker", "normalised"), [("^SPX", "SPX"), ("_SPX", "SPX"), ("$SPX.X", "SPX"), (" spy ", "SPY"), ("^VIX", "VIX")]
)
def test_normalise_ticker(ticker: str, normalised: str) -> None:
    assert normalise_ticker(ticker) == normalised


@pytest.mark.parametrize(
    ("name", "ticker"),
    [
        ("Standard & Poors 500 Index", "SPX"),
        ("S&P 500 INDEX", "SPX"),
        ("SP 500 INDEX", "SPX"),
        ("NASDAQ 100", "NDX"),
        ("Livevol Forward Russell 2000 Index", "RUT"),
        ("SPDR S&P 500 ETF Trust", "SPY"),  # an ETF that also says "S&P 500"
        ("PowerShares QQQ Trust, Series 1 (ETF)", "QQQ"),
        ("Invesco QQQ Trust", "QQQ"),
        ("iShares Russell 2000 ETF", "IWM"),
        ("CBOE Volatility Index", "VIX"),
        ("SPX", "SPX"),
        ("Apple Inc.", None),
        ("", None),
    ],
)
def test_underlying_from_name(name: str, ticker: str | None) -> None:
    assert underlying_from_name(name) == ticker
