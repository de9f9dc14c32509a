"""gex.columns: numpy's view of date and time columns equals polars' physical values (nulls, zones, units), and
frames built from Series equal the constructor's and ``with_columns``' (errors included)."""

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gex.columns import date_days, epoch_days, utc_microseconds

_DATES = st.lists(st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2200, 12, 31))), max_size=40)


@settings(max_examples=200, deadline=None)
@given(_DATES)
def test_epoch_days_are_the_physical_values_with_nan_for_null(dates):
    column = pl.Series("expiration", dates, dtype=pl.Date)
    got = epoch_days(column)
    want = column.to_physical().cast(pl.Float64).to_numpy()
    assert got.dtype == np.float64 and got.shape == want.shape
    np.testing.assert_array_equal(got, want)  # NaN equals NaN here


def test_epoch_days_of_another_dtype_are_its_physical_values():
    column = pl.Series("days", [3, None, -7], dtype=pl.Int32)
    np.testing.assert_array_equal(epoch_days(column), np.array([3.0, np.nan, -7.0]))


_INSTANTS = st.lists(st.datetimes(dt.datetime(1950, 1, 1), dt.datetime(2150, 1, 1)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(_INSTANTS, st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata"]), st.sampled_from(["us", "ns", "ms"]))
def test_utc_microseconds_are_the_physical_values(instants, zone, unit):
    # zoned microsecond columns read through numpy; other units (and naive columns) are left to the caller's query
    column = pl.Series("settlement_ts", instants, dtype=pl.Datetime("us")).dt.replace_time_zone("UTC") \
        .dt.convert_time_zone(zone).dt.cast_time_unit(unit)
    got = utc_microseconds(column)
    if unit != "us":
        assert got is None
        return
    want = column.to_physical().to_numpy()
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    assert utc_microseconds(column.dt.replace_time_zone(None)) is None


@settings(max_examples=100, deadline=None)
@given(st.lists(st.dates(dt.date(1900, 1, 1), dt.date(2200, 12, 31)), max_size=40))
def test_date_days_are_the_physical_values(dates):
    column = pl.Series("expiration", dates, dtype=pl.Date)
    np.testing.assert_array_equal(date_days(column), column.to_physical().cast(pl.Int64).to_numpy())
    assert date_days(column.extend_constant(None, 1)) is None and date_days(column.cast(pl.Datetime("us"))) is None


# ---- frames from Series --------------------------------------------------------------------------------------


def _series(names, n, seed):
    rng = np.random.default_rng(seed)
    kinds = [lambda k: pl.Series(k, rng.normal(size=n)), lambda k: pl.Series(k, rng.integers(0, 9, n), dtype=pl.Int64),
             lambda k: pl.Series(k, rng.choice(["AM", "PM"], n).tolist(), dtype=pl.Enum(["AM", "PM"])),
             lambda k: pl.Series(k, [None if v < 0.2 else str(v) for v in rng.random(n)], dtype=pl.String)]
    return [kinds[int(rng.integers(0, len(kinds)))](name) for name in names]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from("abcdef"), max_size=6), st.integers(0, 30), st.integers(0, 2**32 - 1))
def test_frame_of_is_the_frame_constructor(names, n, seed):
    from gex.columns import frame_of

    columns = _series(names, n, seed)
    try:
        want = pl.DataFrame(columns)
    except Exception as exc:  # a name twice: the same error
        with pytest.raises(type(exc)):
            frame_of(columns)
        return
    got = frame_of(columns)
    assert got.schema == want.schema and got.equals(want)


def test_frame_of_refuses_unequal_heights_as_the_constructor_does():
    from gex.columns import frame_of

    columns = [pl.Series("a", [1, 2]), pl.Series("b", [1])]
    with pytest.raises(pl.exceptions.ShapeError):
        pl.DataFrame(columns)
    with pytest.raises(pl.exceptions.ShapeError):
        frame_of(columns)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from("abcd"), min_size=1, max_size=4, unique=True),
       st.lists(st.sampled_from("abxyz"), max_size=4), st.integers(0, 30), st.integers(0, 2**32 - 1))
def test_with_series_is_with_columns(names, new, n, seed):
    # added and replaced columns, a name twice, the empty frame: equal to with_columns, the input frame unchanged
    from gex.columns import with_series

    frame = pl.DataFrame(_series(names, n, seed))
    before = frame.clone()
    series = _series(new, n, seed + 1)
    try:
        want = frame.with_columns(*series)
    except Exception as exc:
        with pytest.raises(type(exc)):
            with_series(frame, *series)
        return
    got = with_series(frame, *series)
    assert got.schema == want.schema and got.equals(want)
    assert frame.equals(before) and frame.columns == before.columns


def test_with_series_of_another_height_is_with_columns_itself():
    from gex.columns import with_series

    frame = pl.DataFrame({"a": [1.0, 2.0, 3.0]})
    one = pl.Series("b", [7.0])
    with pytest.raises(pl.exceptions.InvalidOperationError):  # polars refuses to broadcast a Series
        frame.with_columns(one)
    with pytest.raises(pl.exceptions.InvalidOperationError):
        with_series(frame, one)
