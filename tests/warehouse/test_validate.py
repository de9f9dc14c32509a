"""The row rules of gex_warehouse.validate on hand-made frames (pure polars: no database involved)."""

from __future__ import annotations

import datetime as dt
import doctest
import importlib
import math

import polars as pl
import pytest
from gex.chain import CHAIN_SCHEMA
from gex.reference import CLOSES_SCHEMA, EXTERNAL_GEX_SCHEMA, OPEN_INTEREST_SCHEMA, RATES_SCHEMA
from gex_warehouse import validate as v

from tests.warehouse.helpers import snapshot

UTC = dt.timezone.utc
SESSION = dt.date(2024, 1, 5)


@pytest.fixture(scope="module")
def base() -> pl.DataFrame:
    """Three clean contracts from the generator (one unexpired call/put pair and a 0-DTE row)."""
    frame = snapshot().frame
    return pl.concat([frame.filter(pl.col("expiration") > SESSION).head(2), frame.filter(pl.col("expiration") == SESSION).head(1)])


def _with(base: pl.DataFrame, row: int, **values: object) -> pl.DataFrame:
    exprs = [
        pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value, dtype=CHAIN_SCHEMA[name])).otherwise(pl.col(name)).alias(name)
        for name, value in values.items()
    ]
    return base.with_columns(exprs)


def test_clean_rows_pass_and_same_day_rows_count_as_expired(base):
    out = v.validate(base)
    assert out.good.equals(base) and out.rejects.is_empty()
    assert out.expired == 1  # the 0-DTE SPXW row of an evening snapshot has settled


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"strike": 0.0}, "non-positive strike: 0.0"),
        ({"strike": -5.0}, "non-positive strike: -5.0"),
        ({"expiration": dt.date(2024, 1, 4)}, "expiration 2024-01-04 before the session 2024-01-05"),
        ({"symbol": None}, "missing symbol"),
        ({"right": None}, "missing right"),
        ({"bid": -0.05}, "negative bid: -0.05"),
        ({"ask": -1.0}, "negative ask: -1.0"),
        ({"bid": 2.0, "ask": 1.5}, "bid above ask: bid 2.0 > ask 1.5"),
        ({"bid": math.nan}, "non-finite bid: NaN"),
        ({"vendor_gamma": math.inf}, "non-finite vendor_gamma: inf"),
        ({"open_interest": -1}, "negative open_interest: -1"),
        ({"volume": 10**9}, "absurd volume"),
        ({"vendor_iv": -0.1}, "implausible implied volatility: -0.1"),
        ({"vendor_iv": 250.0}, "implausible implied volatility: 250.0"),
        ({"ask": 1e7}, "absurd ask: 1e7 exceeds spot"),
        ({"root": "SPXQ"}, "unknown settlement style for root 'SPXQ'"),
        ({"settlement": "AM"}, "settlement AM contradicts root 'SPXW' (PM-settled)"),
        ({"underlying_price": 0.0}, "non-positive underlying price"),
    ],
)
def test_each_rule_rejects_with_its_reason(base, values, reason):
    frame = _with(base, 0, **values)
    out = v.validate(frame)
    assert out.good.height == base.height - 1
    assert out.rejects.height == 1
    got = out.rejects.row(0, named=True)
    assert got["source_line"] == base["source_line"][0]
    assert reason.replace("1e7", "10000000.0") in got["reason"], got["reason"]


@pytest.mark.parametrize(
    "values",
    [
        {"vendor_iv": 0.0},  # placeholder: kept, the model screens it
        {"vendor_iv": None},
        {"vendor_iv": 24.001},  # Cboe's deep in-the-money placeholder
        {"bid": None, "ask": None},
        {"bid": 0.0, "ask": 0.0},
        {"bid": 3.0, "ask": 0.0},  # zero ask: no offer, not a crossed market
        {"open_interest": None, "volume": None},
        {"open_interest": 0},
    ],
)
def test_what_is_kept(base, values):
    out = v.validate(_with(base, 0, **values))
    assert out.rejects.is_empty() and out.good.height == base.height


def test_identical_duplicates_keep_the_first_copy(base):
    copy = base.head(1).with_columns(source_line=pl.lit(999, pl.Int64))
    out = v.validate(pl.concat([base, copy]))
    assert out.good.equals(base)
    assert out.rejects.rows() == [(999, base["symbol"][0], f"duplicate contract {base['symbol'][0]}: identical copy of line {base['source_line'][0]}")]


def test_conflicting_duplicates_are_all_quarantined(base):
    copy = base.head(1).with_columns(source_line=pl.lit(999, pl.Int64), open_interest=pl.col("open_interest") + 1)
    out = v.validate(pl.concat([base, copy]))
    assert out.good.equals(base.slice(1))
    assert out.rejects["source_line"].to_list() == [base["source_line"][0], 999]
    assert all(r.startswith(f"conflicting duplicate contract {base['symbol'][0]} (lines ") for r in out.rejects["reason"])


def test_a_row_failing_a_rule_does_not_count_as_a_duplicate(base):
    copy = base.head(1).with_columns(source_line=pl.lit(999, pl.Int64), strike=pl.lit(-1.0))
    out = v.validate(pl.concat([base, copy]))
    assert out.good.equals(base)
    assert out.rejects.rows() == [(999, base["symbol"][0], "non-positive strike: -1.0")]


def test_first_failing_rule_names_the_reason(base):
    out = v.validate(_with(base, 0, strike=-1.0, bid=-1.0))
    assert out.rejects["reason"].to_list() == ["non-positive strike: -1.0"]


def _frame(schema, **columns):
    return pl.DataFrame(columns, schema=schema)


def test_reference_rules():
    d = dt.date
    oi = _frame(
        OPEN_INTEREST_SCHEMA,
        publish_date=[d(2024, 1, 5)] * 4,
        oi_date=[d(2024, 1, 4), d(2024, 1, 4), d(2024, 1, 5), d(2024, 1, 4)],
        underlying=["SPX"] * 4,
        symbol=["SPX   240119C04700000", "SPX   240119P04700000", "SPX   240119C04800000", "SPX   240119P04800000"],
        root=["SPX"] * 4,
        expiration=[d(2024, 1, 19)] * 4,
        strike=[4700.0, 4700.0, 4800.0, 4800.0],
        right=["C", "P", "C", "P"],
        open_interest=[10, -1, 5, 7],
        source_line=[2, 3, 4, 5],
    )
    out = v.validate_reference("open_interest", oi)
    assert out.good["source_line"].to_list() == [2, 5]
    assert out.rejects["reason"].to_list() == [
        "negative open_interest: -1",
        "oi_date 2024-01-05 not before publish_date 2024-01-05 (OCC publishes the previous close)",
    ]
    rates = _frame(RATES_SCHEMA, date=[d(2024, 1, 5)] * 3, tenor_days=[30, 0, 91], rate=[0.05, 0.05, 5.2], source_line=[2, 3, 4])
    assert v.validate_reference("rates", rates).rejects["reason"].to_list() == [
        "non-positive tenor_days: 0",
        "implausible rate: 5.2 (want -0.05 <= rate <= 0.5, decimal per year)",
    ]
    closes = _frame(
        CLOSES_SCHEMA,
        session=[d(2024, 1, 5), d(2024, 1, 8), d(2024, 1, 9)],
        underlying=["SPX", "SPX", "SPY"],
        open=[None, 4700.0, None],
        high=[None, 4690.0, None],
        low=[None, 4710.0, None],
        close=[4697.24, 4700.0, 470.0],
        volume=[None, None, -5.0],
        source_line=[2, 3, 4],
    )
    assert v.validate_reference("closes", closes).rejects["reason"].to_list() == [
        "high 4690.0 below low 4710.0", "negative volume: -5.0 (shares traded)"]
    ext = _frame(
        EXTERNAL_GEX_SCHEMA,
        session=[d(2024, 1, 5)] * 2,
        underlying=["SPX"] * 2,
        provider=["squeezemetrics"] * 2,
        gex_usd=[1e9, 1e9],
        dix=[0.45, 0.45],
        underlying_close=[4697.24, 4697.24],
        source_line=[2, 3],
    )
    assert v.validate_reference("external_gex", ext).rejects["reason"].to_list() == [
        "duplicate record provider=squeezemetrics, underlying=SPX, session=2024-01-05: identical copy of line 2"
    ]
    with pytest.raises(ValueError, match="unknown reference kind"):
        v.validate_reference("nope", ext)


@pytest.mark.parametrize("module", ["config", "validate", "load", "migrate", "connect", "digest", "sources"])
def test_doctests(module):
    mod = importlib.import_module(f"gex_warehouse.{module}")
    failures, _ = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failures == 0
