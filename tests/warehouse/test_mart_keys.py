"""gex_warehouse.mart_keys: key columns built from epoch microseconds equal polars' own construction."""

import datetime as dt
import zoneinfo

import polars as pl
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gex_warehouse.mart_keys import UTC_MICROSECONDS, key_columns, repeated_keys, utc_series

_ZONES = st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=-5)), zoneinfo.ZoneInfo("America/New_York"),
                          zoneinfo.ZoneInfo("Asia/Kathmandu")])
_AWARE = st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2200, 1, 1), timezones=_ZONES)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), _AWARE), max_size=12))
def test_utc_series_equals_the_plain_constructor(instants):
    try:
        want = pl.Series("valuation_ts", instants, dtype=UTC_MICROSECONDS)
    except ValueError:  # polars refuses some zones' instants (a wall time DST skips): nothing to compare with
        assume(False)
    got = utc_series("valuation_ts", instants)
    assert got.dtype == want.dtype and got.name == want.name
    assert got.to_physical().to_list() == want.to_physical().to_list()


def test_a_naive_instant_is_left_to_the_plain_constructor():
    naive = [dt.datetime(2025, 1, 2, 21, 15), None]
    assert utc_series("t", naive).equals(pl.Series("t", naive, dtype=UTC_MICROSECONDS))


def test_keys_repeat_to_the_frame_height():
    v = dt.datetime(2025, 1, 2, 21, 15, 0, 123456, tzinfo=dt.timezone.utc)
    keys = repeated_keys("SPX", dt.date(2025, 1, 2), v, "native", 3)
    assert [k.name for k in keys] == ["session", "underlying", "valuation_ts", "preset"]
    assert pl.DataFrame(keys).rows() == [(dt.date(2025, 1, 2), "SPX", v, "native")] * 3
    assert [k.len() for k in repeated_keys("SPX", dt.date(2025, 1, 2), v, "native", 0)] == [0, 0, 0, 0]
    assert key_columns("SPX", dt.date(2025, 1, 2), v, "native")[2].dtype == UTC_MICROSECONDS
