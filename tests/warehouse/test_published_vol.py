"""main.vol_context: the SQL window functions agree with gex.volatility's numpy functions, bars are chosen
by the documented preference, and missing inputs give NULL rather than a partial window."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from gex.volatility import close_to_close_vol, parkinson_vol
from gex_warehouse.connect import connect

from tests.warehouse.published_market import built_warehouse, copy_of, read_only


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return built_warehouse(str(tmp_path_factory.getbasetemp() / "published"))


def _view(con, underlying: str) -> dict[str, np.ndarray]:
    rows = con.execute(
        "SELECT session, \"close\", rv_5d, rv_10d, rv_21d, rv_range_21d, close_source FROM vol_context "
        "WHERE underlying = ? ORDER BY session", [underlying]).fetchall()
    cols = list(zip(*rows))
    out = {name: np.array([np.nan if v is None else v for v in col], dtype=float)
           for name, col in zip(("close", "rv_5d", "rv_10d", "rv_21d", "rv_range_21d"), cols[1:6])}
    out["session"] = np.array(cols[0])
    out["close_source"] = np.array(cols[6])
    return out


def _bars(con, underlying: str, source: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = con.execute("SELECT \"close\", high, low FROM raw.underlying_closes WHERE underlying = ? AND source = ? "
                       "ORDER BY session", [underlying, source]).fetchall()
    close, high, low = (np.array([np.nan if v is None else v for v in col], dtype=float) for col in zip(*rows))
    return close, high, low


def _assert_same(sql_values: np.ndarray, numpy_values: np.ndarray) -> None:
    assert np.array_equal(np.isnan(sql_values), np.isnan(numpy_values))
    ok = ~np.isnan(numpy_values)
    np.testing.assert_allclose(sql_values[ok], numpy_values[ok], rtol=1e-12)


@pytest.mark.parametrize("underlying", ["SPX", "NDX"])
def test_sql_realized_vol_equals_the_numpy_reference(warehouse, underlying):
    con = read_only(warehouse)
    try:
        view = _view(con, underlying)
        close, high, low = _bars(con, underlying, "closes")  # the reference file covers every session here
    finally:
        con.close()
    assert set(view["close_source"]) == {"closes"}, "a reference file's bars win over the chain's closes"
    np.testing.assert_array_equal(view["close"], close)
    for window in (5, 10, 21):
        _assert_same(view[f"rv_{window}d"], close_to_close_vol(close, window))
    _assert_same(view["rv_range_21d"], parkinson_vol(high, low, 21))
    assert np.isfinite(view["rv_21d"]).sum() == len(close) - 21  # the first value needs 21 returns


def test_a_session_without_a_reference_bar_uses_the_chain_close(warehouse, tmp_path):
    path = copy_of(warehouse, tmp_path / "w.duckdb")
    con = connect(path)
    try:
        sessions = [s for (s,) in con.execute("SELECT session FROM raw.underlying_closes WHERE underlying = 'SPX' "
                                              "AND source = 'closes' ORDER BY session").fetchall()]
        gap = sessions[24]
        con.execute("DELETE FROM raw.underlying_closes WHERE underlying = 'SPX' AND source = 'closes' AND session = ?",
                    [gap])
        chain_close = con.execute("SELECT \"close\" FROM raw.underlying_closes WHERE underlying = 'SPX' AND "
                                  "source = 'chain' AND session = ?", [gap]).fetchall()[0][0]
        view = _view(con, "SPX")
        ref_close, high, low = _bars(con, "SPX", "closes")
    finally:
        con.close()
    at = int(np.flatnonzero(view["session"] == gap)[0])
    assert view["close_source"][at] == "chain" and view["close"][at] == chain_close
    # close-to-close runs over the mixed series; the range vol has no high/low that day: NULL for 21 sessions
    mixed = np.insert(ref_close, at, chain_close)
    _assert_same(view["rv_5d"], close_to_close_vol(mixed, 5))
    _assert_same(view["rv_range_21d"], parkinson_vol(np.insert(high, at, np.nan), np.insert(low, at, np.nan), 21))
    assert np.isnan(view["rv_range_21d"][at:]).all()


def test_without_highs_and_lows_the_range_vol_is_null_not_zero(warehouse, tmp_path):
    path = copy_of(warehouse, tmp_path / "w.duckdb")
    con = connect(path)
    try:
        con.execute("UPDATE raw.underlying_closes SET high = NULL, low = NULL WHERE underlying = 'NDX'")
        rows = con.execute("SELECT count(*), count(rv_range_21d), count(rv_21d) FROM vol_context "
                           "WHERE underlying = 'NDX'").fetchall()
        spx = con.execute("SELECT count(rv_range_21d) FROM regime_daily WHERE underlying = 'SPX'").fetchall()
    finally:
        con.close()
    assert rows == [(25, 0, 4)]
    assert spx[0][0] > 0  # the other underlying keeps its own


bar = st.tuples(st.floats(1.0, 1e5), st.one_of(st.none(), st.floats(0.0, 0.1)), st.floats(0.0, 0.1))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bars=st.lists(bar, min_size=1, max_size=45))
def test_sql_matches_numpy_on_any_series(con, bars):
    """``con`` is an empty migrated warehouse (tests/warehouse/conftest.py); each example replaces its bars."""
    con.execute("DELETE FROM raw.underlying_closes")
    start = dt.date(2024, 1, 1)
    close = np.array([c for c, _, _ in bars])
    high = np.array([np.nan if up is None else c * (1 + up) for c, up, _ in bars])
    low = np.array([np.nan if up is None else c * (1 - down) for c, up, down in bars])
    con.executemany(
        "INSERT INTO raw.underlying_closes (load_id, source, underlying, session, high, low, \"close\") "
        "VALUES ('test', 'closes', 'SPX', ?, ?, ?, ?)",
        [[start + dt.timedelta(days=i), None if np.isnan(h) else float(h), None if np.isnan(lo) else float(lo), float(c)]
         for i, (c, h, lo) in enumerate(zip(close, high, low))],
    )
    view = _view(con, "SPX")
    for window in (5, 10, 21):
        _assert_same(view[f"rv_{window}d"], close_to_close_vol(close, window))
    _assert_same(view["rv_range_21d"], parkinson_vol(high, low, 21))
