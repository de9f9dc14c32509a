"""The numpy paths of gex.analysis (tenors, 0-DTE sums, vendor/model gap, excluded counts) against the polars
statements they replace, bit for bit: on drawn frames, and on the frames where they must hand over to the
statement (nulls, other datetime units, naive times, several chunks)."""

from __future__ import annotations

import datetime as dt
import struct

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gex.analysis import (
    act365_tenors_reference,
    contract_tenors,
    epoch_microseconds,
    utc_microseconds,
    vendor_model_gap_reference,
    zero_dte_sums,
    zero_dte_sums_reference,
)
from gex.analysis import _vendor_model_gap as vendor_model_gap
from gex.conventions import NATIVE

UTC = dt.timezone.utc
ORIGIN = dt.datetime(2025, 3, 14, 20, 15, 7, 123456, tzinfo=UTC)


def bits(x: float | None) -> bytes | None:
    return None if x is None else struct.pack("<d", x)


def same_series(a: pl.Series, b: pl.Series) -> None:
    assert a.name == b.name and a.dtype == b.dtype and a.len() == b.len()
    assert a.is_null().to_list() == b.is_null().to_list()
    x, y = a.to_numpy(), b.to_numpy()
    assert np.array_equal(x.view(np.int64), y.view(np.int64))


@st.composite
def contracts(draw):
    n = draw(st.integers(0, 40) | st.sampled_from([1, 2, 3, 700]))
    offsets_us = draw(st.lists(st.integers(-10 * 86_400_000_000, 800 * 86_400_000_000), min_size=n, max_size=n))
    gex = draw(st.lists(st.floats(-1e12, 1e12, allow_nan=False), min_size=n, max_size=n))
    gamma = draw(st.lists(st.floats(0, 1, allow_nan=False), min_size=n, max_size=n))
    shares = draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=n, max_size=n))
    vendor = draw(st.lists(st.none() | st.floats(0, 1, allow_nan=False), min_size=n, max_size=n))
    base = epoch_microseconds(ORIGIN)
    frame = pl.DataFrame({
        "settlement_ts": pl.Series([base + o for o in offsets_us], dtype=pl.Int64).cast(pl.Datetime("us", "UTC")),
        "gex_usd_per_1pct": pl.Series(gex, dtype=pl.Float64),
        "gamma": pl.Series(gamma, dtype=pl.Float64),
        "dealer_shares_per_point": pl.Series(shares, dtype=pl.Float64),
        "vendor_gamma": pl.Series(vendor, dtype=pl.Float64),
    })
    return frame


@settings(max_examples=150, deadline=None)
@given(frame=contracts(), cutoff_days=st.integers(-5, 30))
def test_fast_paths_equal_the_polars_statements(frame, cutoff_days):
    same_series(contract_tenors(frame, ORIGIN, NATIVE), act365_tenors_reference(frame, ORIGIN))
    cutoff = ORIGIN + dt.timedelta(days=cutoff_days)
    assert [bits(x) for x in zero_dte_sums(frame, cutoff)] == [bits(x) for x in zero_dte_sums_reference(frame, cutoff)]
    assert bits(vendor_model_gap(frame)) == bits(vendor_model_gap_reference(frame))


def _frame_with(**changes) -> pl.DataFrame:
    base = epoch_microseconds(ORIGIN)
    frame = pl.DataFrame({
        "settlement_ts": pl.Series([base + 3_600_000_000, base + 90 * 86_400_000_000, base - 1], dtype=pl.Int64)
        .cast(pl.Datetime("us", "UTC")),
        "gex_usd_per_1pct": [1.5e9, -2.25e9, 3.0e8],
        "gamma": [0.01, 0.002, 0.03],
        "dealer_shares_per_point": [100.0, -50.0, 25.0],
        "vendor_gamma": [0.011, None, 0.029],
    })
    return frame.with_columns(**changes)


@pytest.mark.parametrize("case", ["nanoseconds", "milliseconds", "null settlement", "null gex", "two chunks",
                                  "all vendor null", "no rows"])
def test_fallbacks_give_the_statements_results(case):
    frame = _frame_with()
    if case == "nanoseconds":
        frame = frame.with_columns(pl.col("settlement_ts").cast(pl.Datetime("ns", "UTC")))
    elif case == "milliseconds":
        frame = frame.with_columns(pl.col("settlement_ts").cast(pl.Datetime("ms", "UTC")))
    elif case == "null settlement":
        frame = frame.with_columns(pl.when(pl.int_range(pl.len()) == 1).then(None)
                                   .otherwise(pl.col("settlement_ts")).alias("settlement_ts"))
    elif case == "null gex":
        frame = frame.with_columns(gex_usd_per_1pct=pl.Series([1.0, None, 2.0], dtype=pl.Float64))
    elif case == "two chunks":
        frame = pl.concat([frame, frame], rechunk=False)
        assert frame.get_column("gex_usd_per_1pct").n_chunks() == 2
    elif case == "all vendor null":
        frame = frame.with_columns(vendor_gamma=pl.lit(None, dtype=pl.Float64))
    elif case == "no rows":
        frame = frame.clear()
    cutoff = ORIGIN + dt.timedelta(days=1)
    same_series(contract_tenors(frame, ORIGIN, NATIVE), act365_tenors_reference(frame, ORIGIN))
    assert [bits(x) for x in zero_dte_sums(frame, cutoff)] == [bits(x) for x in zero_dte_sums_reference(frame, cutoff)]
    assert bits(vendor_model_gap(frame)) == bits(vendor_model_gap_reference(frame))


def test_another_time_zone_gives_the_utc_results():
    """The statement cannot subtract a UTC instant from a New York column (SchemaError); the numpy path reads the
    instants, so the tenors are those of the same instants in UTC (real data is UTC: the loaders convert)."""
    frame = _frame_with()
    new_york = frame.with_columns(pl.col("settlement_ts").dt.convert_time_zone("America/New_York"))
    with pytest.raises(pl.exceptions.SchemaError):
        act365_tenors_reference(new_york, ORIGIN)
    same_series(contract_tenors(new_york, ORIGIN, NATIVE), act365_tenors_reference(frame, ORIGIN))
    cutoff = ORIGIN + dt.timedelta(days=1)
    assert zero_dte_sums(new_york, cutoff) == zero_dte_sums_reference(frame, cutoff)


def test_utc_microseconds_only_reads_what_it_can():
    frame = _frame_with()
    assert utc_microseconds(frame["settlement_ts"]) is not None
    assert utc_microseconds(frame["settlement_ts"].dt.replace_time_zone(None)) is None  # naive: the statement
    assert utc_microseconds(frame["settlement_ts"].cast(pl.Datetime("ns", "UTC"))) is None
    # a naive origin: the statement decides (polars compares naive with aware as it always did)
    naive = ORIGIN.replace(tzinfo=None)
    with pytest.raises(Exception):  # noqa: B017 - whatever polars raises, both paths raise it
        act365_tenors_reference(frame, naive)
    with pytest.raises(Exception):  # noqa: B017
        contract_tenors(frame, naive, NATIVE)


def test_epoch_microseconds_is_exact():
    assert epoch_microseconds(dt.datetime(1970, 1, 1, tzinfo=UTC)) == 0
    assert epoch_microseconds(ORIGIN) == pl.Series([ORIGIN]).to_physical()[0]
    new_york = ORIGIN.astimezone(dt.timezone(dt.timedelta(hours=-4)))
    assert epoch_microseconds(new_york) == epoch_microseconds(ORIGIN)
