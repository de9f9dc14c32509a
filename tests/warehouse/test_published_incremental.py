"""The published snapshot refreshed incrementally (gex_warehouse.published): after each kind of change (a new
session computed, a corrected close, new hedge settings, an underlying's latest row going stale), a copy of
the last snapshot with only the out-of-date sessions replaced equals the published views exactly, as a full
rebuild does, and so after a session's rows or bars are deleted; a changed catalogue, a damaged or
pre-bookkeeping snapshot and every :data:`REBUILD_EVERY`-th refresh rebuild it whole; a refresh that dies leaves the old snapshot as it was."""

from __future__ import annotations

import duckdb
import pytest
from gex.conventions import NATIVE
from gex_warehouse import compute as c
from gex_warehouse import published as pub
from gex_warehouse.advice import refresh_hedge_advice
from gex_warehouse.connect import connect
from gex_warehouse.export_plan import plan_export
from gex_warehouse.published import refresh_snapshot, snapshot_path

from tests.warehouse.published_market import built_warehouse, copy_of
from tests.warehouse.test_published_snapshot import assert_snapshot_equals_views


@pytest.fixture
def warehouse(tmp_path_factory, tmp_path):
    return copy_of(built_warehouse(str(tmp_path_factory.getbasetemp() / "published")), tmp_path / "gex.duckdb")


def _refreshes(warehouse) -> int:
    snap = duckdb.connect(str(snapshot_path(warehouse)), read_only=True)
    try:
        return snap.execute(f"SELECT incremental_refreshes FROM {pub.STATE_SCHEMA}.{pub.META_TABLE}").fetchall()[0][0]
    finally:
        snap.close()


def _refresh_and_check(warehouse, con, expected_refreshes: int, presets: tuple[str, ...] = ("*",)) -> None:
    """Refresh, check how, close ``con`` and compare every view (every preset's rows: the tables hold them all;
    the native filter is the same view definition whatever the refresh, checked at the end of each test)."""
    refresh_snapshot(con, warehouse)
    assert _refreshes(warehouse) == expected_refreshes
    con.execute("CHECKPOINT")
    con.close()  # the check opens the warehouse read-only in this process
    assert_snapshot_equals_views(warehouse, presets)


def _ndx_last(con):
    return con.execute("SELECT max(session) FROM mart.regime_daily WHERE underlying = 'NDX'").fetchall()[0][0]


def _drop_session(con, underlying: str, session) -> None:
    tables = [t for (t,) in con.execute(
        "SELECT table_name FROM duckdb_columns() WHERE schema_name = 'mart' AND column_name IN ('underlying', 'session') "
        "AND table_name NOT IN ('export_state', 'runs') GROUP BY 1 HAVING count(*) = 2").fetchall()]
    for table in tables:
        con.execute(f"DELETE FROM mart.{table} WHERE underlying = ? AND session = ?", [underlying, session])


def test_each_kind_of_change_is_applied_incrementally_and_equals_the_views(warehouse):
    con = connect(warehouse)
    last = _ndx_last(con)
    _drop_session(con, "NDX", last)  # NDX's last session arrives later
    _refresh_and_check(warehouse, con, 0)  # the first snapshot is built whole

    con = connect(warehouse)  # a new session computed: its rows, and NDX's previous row no longer stale
    c.write_marts(con, c.compute_session(c.snapshot_from_warehouse(con, "NDX", last), NATIVE, c.rate_for(con, last),
                                         load_id=c.chain_load_id(con, "NDX", last)))
    refresh_hedge_advice(con, plan_export(con).advice_keys)
    _refresh_and_check(warehouse, con, 1)

    con = connect(warehouse)  # a corrected close in the middle of SPX's history
    day = con.execute("SELECT session FROM mart.regime_daily WHERE underlying = 'SPX' ORDER BY session "
                      "LIMIT 1 OFFSET 20").fetchall()[0][0]
    con.execute("UPDATE raw.underlying_closes SET \"close\" = \"close\" * 0.97 WHERE underlying = 'SPX' AND session = ?",
                [day])
    refresh_hedge_advice(con, plan_export(con).advice_keys)
    _refresh_and_check(warehouse, con, 2)

    con = connect(warehouse)  # new hedge settings and the advice recomputed
    con.execute("UPDATE core.settings SET value = 2.0 WHERE name = 'hedge_fee_usd_per_order'")
    refresh_hedge_advice(con, plan_export(con).advice_keys)
    _refresh_and_check(warehouse, con, 3)

    con = connect(warehouse)  # the advice changed in the mart after the last refresh (as gex compute, then publish)
    con.execute("UPDATE core.settings SET value = 3.0 WHERE name = 'hedge_fee_usd_per_order'")
    _refresh_and_check(warehouse, con, 4)
    con = connect(warehouse)
    refresh_hedge_advice(con, c.loaded_sessions(con))
    _refresh_and_check(warehouse, con, 5)

    con = connect(warehouse)  # nothing changed: still a valid snapshot (the run log is replaced whole)
    _refresh_and_check(warehouse, con, 6, ("native", "*"))


def test_a_changed_catalogue_rebuilds_whole_and_deleted_sessions_go(warehouse):
    con = connect(warehouse)
    refresh_snapshot(con, warehouse)
    refresh_snapshot(con, warehouse)
    assert _refreshes(warehouse) == 1
    con.execute("CREATE VIEW main.my_view AS SELECT session, underlying, spot FROM mart.regime_daily")
    _refresh_and_check(warehouse, con, 0)  # the new view is in it
    con = connect(warehouse)
    refresh_snapshot(con, warehouse)
    assert _refreshes(warehouse) == 1
    first = con.execute("SELECT min(session) FROM mart.regime_daily").fetchall()[0][0]
    _drop_session(con, "SPX", first)  # its computed rows deleted, its bars kept
    _refresh_and_check(warehouse, con, 2)
    con = connect(warehouse)
    con.execute("DELETE FROM raw.underlying_closes WHERE underlying = 'SPX' AND session = ?", [first])  # and its bars
    _refresh_and_check(warehouse, con, 3, ("native", "*"))


def test_every_nth_refresh_is_whole_and_a_snapshot_without_bookkeeping_is_rebuilt(warehouse, monkeypatch):
    monkeypatch.setattr(pub, "REBUILD_EVERY", 2)
    con = connect(warehouse)
    try:
        seen = []
        for _ in range(3):
            refresh_snapshot(con, warehouse)
            seen.append(_refreshes(warehouse))
        assert seen == [0, 1, 0]
        # a snapshot written by an earlier version (no bookkeeping schema) or a damaged file: rebuilt whole
        snap = duckdb.connect(str(snapshot_path(warehouse)))
        snap.execute(f"DROP SCHEMA {pub.STATE_SCHEMA} CASCADE")
        snap.close()
        refresh_snapshot(con, warehouse)
        assert _refreshes(warehouse) == 0
        snapshot_path(warehouse).write_bytes(b"not a database")
        refresh_snapshot(con, warehouse)
        assert _refreshes(warehouse) == 0
        refresh_snapshot(con, warehouse)
        refresh_snapshot(con, warehouse, full=True)
        assert _refreshes(warehouse) == 0
    finally:
        con.close()
    assert_snapshot_equals_views(warehouse)


class Killed(BaseException):
    """The job killed mid-refresh (a signal: not an Exception)."""


def test_a_refresh_that_dies_leaves_the_old_snapshot(warehouse, monkeypatch):
    con = connect(warehouse)
    try:
        refresh_snapshot(con, warehouse)
        before = snapshot_path(warehouse).read_bytes()
        con.execute("UPDATE raw.underlying_closes SET \"close\" = \"close\" * 1.01 WHERE underlying = 'NDX'")

        def dies(*_args, **_kwargs):
            raise Killed

        monkeypatch.setattr(pub, "_record", dies)
        with pytest.raises(Killed):
            refresh_snapshot(con, warehouse)
        assert snapshot_path(warehouse).read_bytes() == before
        assert not [p.name for p in warehouse.parent.iterdir() if p.name.startswith(".")]  # no temporary copy left
        monkeypatch.undo()
        refresh_snapshot(con, warehouse)
        assert _refreshes(warehouse) == 1
    finally:
        con.close()
    assert_snapshot_equals_views(warehouse)
