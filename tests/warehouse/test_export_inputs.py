"""Exports follow the inputs that arrive after a session is computed (gex_warehouse.export_plan): daily bars
loaded or corrected later, an underlying's latest row that stops being the latest (``data_stale``) and the hedge
settings. After every change and one publish step (hedge advice refresh, export), every exported view holds
exactly the published view's rows, and the files of views that do not read the changed input are untouched."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from gex.conventions import NATIVE
from gex_warehouse import compute as c
from gex_warehouse import export as ex
from gex_warehouse.advice import refresh_hedge_advice
from gex_warehouse.connect import connect
from gex_warehouse.export_plan import (
    ADVICE, CLOSES_AHEAD, CLOSES_AHEAD_BARS, RUNS, CLOSES_BEHIND, CLOSES_BEHIND_BARS, HEDGE, LATEST, Fingerprint, plan_export,
    view_inputs,
)

from tests.warehouse.published_market import built_warehouse, copy_of
from tests.warehouse.test_export import _inodes


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The market published once (warehouse and exports), shared by the tests that start from there."""
    base = tmp_path_factory.mktemp("exported")
    connection = connect(copy_of(built_warehouse(str(tmp_path_factory.getbasetemp() / "published")), base / "w.duckdb"))
    try:
        _publish(connection, base / "exports")
    finally:
        connection.close()
    return base


@pytest.fixture
def published(exported, tmp_path):
    """A copy of :func:`exported`: (writer connection, exports folder)."""
    shutil.copyfile(exported / "w.duckdb", tmp_path / "w.duckdb")
    shutil.copytree(exported / "exports", tmp_path / "exports", symlinks=True)
    connection = connect(tmp_path / "w.duckdb")
    yield connection, tmp_path / "exports"
    connection.close()


@pytest.fixture
def con(published_con):
    return published_con


def _same_rows(con, root, view: str) -> None:
    """The exported files of ``view`` hold exactly its rows (every preset), compared as multisets in DuckDB."""
    files = list((root / view).rglob("*.parquet"))
    con.execute("SET VARIABLE preset = '*'")  # every preset's rows, as exported
    try:
        cols = ", ".join(f'"{c}"' for c in con.table(f"main.{view}").columns)
        exported = (f"SELECT {cols} FROM read_parquet('{root}/{view}/**/*.parquet', hive_partitioning = true)"
                    if files else f"SELECT {cols} FROM main.{view} LIMIT 0")
        for a, b in ((f"SELECT {cols} FROM main.{view}", exported), (exported, f"SELECT {cols} FROM main.{view}")):
            assert con.execute(f"SELECT count(*) FROM (({a}) EXCEPT ALL ({b}))").fetchall() == [(0,)], view
    finally:
        con.execute("RESET VARIABLE preset")


def _publish(con, root):
    """The publish flow's warehouse steps (pipelines.tasks.export_views): advice of the plan, then the export."""
    refresh_hedge_advice(con, plan_export(con).advice_keys)
    result = ex.export(con, root)  # planned again: the new advice is an input of its own
    for view in ex.published_views(con):
        _same_rows(con, root, view)
    assert ex.stale_sessions(con) == []
    return result


def _rewritten(before, after, view: str) -> set[str]:
    return {p.parent.name for p in after if p.parts[-3] == view and before.get(p) != after[p]}


def _sessions(con, underlying: str) -> list[dt.date]:
    return [s for (s,) in con.execute("SELECT DISTINCT session FROM mart.regime_daily WHERE underlying = ? "
                                      "ORDER BY 1", [underlying]).fetchall()]


def test_views_are_classified_by_what_they_read(con):
    got = view_inputs(con)
    assert got["gex_by_strike"] == got["gex_profile"] == got["regime_history"] == frozenset()
    assert got["runs"] == frozenset({RUNS})
    assert got["regime_daily"] == frozenset({CLOSES_BEHIND, LATEST})
    assert got["vol_context"] == frozenset({CLOSES_BEHIND})
    assert got["scanner"] == frozenset({CLOSES_BEHIND, LATEST})
    assert got["level_outcomes"] == frozenset({CLOSES_BEHIND, CLOSES_AHEAD, LATEST})
    assert got["hedge_advice"] == frozenset({ADVICE})
    assert not any(HEDGE in inputs for inputs in got.values())  # the settings reach the views through the advice
    # a view of the user's own over one that reads the closes reads them too
    con.execute("CREATE VIEW main.my_vol AS SELECT session, underlying, rv_21d FROM main.vol_context")
    assert view_inputs(con)["my_vol"] == frozenset({CLOSES_BEHIND})


def test_the_stored_fingerprint_is_written_the_same_way_in_sql_and_python(con):
    from gex_warehouse.export_plan import _fingerprint, _fingerprint_sql

    rows = con.execute(_fingerprint_sql()).fetchall()
    assert len(rows) == len(c.loaded_sessions(con))
    assert all(_fingerprint(r).encode() == r[-1] and Fingerprint.decode(r[-1]) == _fingerprint(r) for r in rows)


def test_an_earlier_versions_fingerprint_is_its_chain_component():
    old = Fingerprint.decode("0123abcd")
    assert old == Fingerprint("0123abcd")
    now = Fingerprint("0123abcd", ("1", "2", "x@2025-01-02", "h", "a", "r"))
    assert Fingerprint.decode(now.encode()) == now
    assert now.changed_since(old) == frozenset({CLOSES_BEHIND, CLOSES_AHEAD, LATEST, HEDGE, ADVICE, RUNS})
    assert now.changed_since(None) == Fingerprint("other").changed_since(now) == frozenset({"chain"})


def test_a_corrected_close_rewrites_the_sessions_that_read_it_in_the_views_that_read_it(published):
    con, root = published
    spx = _sessions(con, "SPX")
    day = spx[25]  # 4 SPX sessions after it, 25 before
    con.execute('UPDATE raw.underlying_closes SET "close" = "close" * 1.02 WHERE underlying = \'SPX\' AND session = ?',
                [day])
    plan = plan_export(con)
    assert plan.pairs == ()  # no computation changed
    assert {k for k, what in plan.changed.items() if CLOSES_BEHIND in what} == {("SPX", s) for s in spx[25:]}
    assert {k for k, what in plan.changed.items() if CLOSES_AHEAD in what} == \
        {("SPX", s) for s in spx[max(0, 25 - CLOSES_AHEAD_BARS):26]}
    assert plan.advice_keys == [("SPX", s) for s in spx[25:]]
    before = _inodes(root)
    result = _publish(con, root)
    after = _inodes(root)
    assert result.sessions == () and result.rewritten_sessions == tuple(spx[max(0, 25 - CLOSES_AHEAD_BARS):])
    assert _rewritten(before, after, "gex_by_strike") == _rewritten(before, after, "regime_history") == set()
    assert _rewritten(before, after, "vol_context") == {f"session={s}" for s in spx[25:]}
    assert _rewritten(before, after, "level_outcomes") <= {f"session={s}" for s in spx[25 - CLOSES_AHEAD_BARS:]}
    # the advice was recomputed from the new realised vol (the mart, not only the files)
    rows = con.execute(
        "SELECT a.realized_vol, v.rv_21d FROM main.hedge_advice AS a JOIN main.vol_context AS v "
        "USING (underlying, session) WHERE a.underlying = 'SPX' AND v.rv_21d IS NOT NULL AND session >= ?", [day]
    ).fetchall()
    assert rows and all(a == pytest.approx(v, rel=1e-12) for a, v in rows)
    assert CLOSES_BEHIND_BARS >= 22  # rv_21d reads 22 closes


def test_a_close_loaded_tonight_rewrites_the_forward_outcomes_of_the_recent_sessions_only(con, tmp_path):
    root = tmp_path / "exports"
    last = _sessions(con, "SPX")[-1]
    kept = con.execute("SELECT * FROM raw.underlying_closes WHERE session = ?", [last]).fetchall()
    con.execute("DELETE FROM raw.underlying_closes WHERE session = ?", [last])
    _publish(con, root)
    before = _inodes(root)
    con.executemany(f"INSERT INTO raw.underlying_closes VALUES ({', '.join('?' * len(kept[0]))})", kept)
    _publish(con, root)
    after = _inodes(root)
    assert _rewritten(before, after, "gex_by_strike") == set()
    assert f"session={last}" in _rewritten(before, after, "vol_context")


def test_data_stale_follows_the_latest_sessions(con, tmp_path):
    """NDX's last session arrives after the export: its earlier latest row stops being stale (NULL) in the
    exported regime_daily and scanner, not only in the views."""
    root = tmp_path / "exports"
    last = _sessions(con, "NDX")[-1]
    tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_columns() WHERE schema_name = 'mart' "
                                        "AND column_name = 'underlying' AND table_name IN (SELECT table_name FROM "
                                        "duckdb_columns() WHERE schema_name = 'mart' AND column_name = 'session') "
                                        "AND table_name <> 'export_state' GROUP BY 1").fetchall()]
    for table in tables:
        con.execute(f"DELETE FROM mart.{table} WHERE underlying = 'NDX' AND session = ?", [last])
    _publish(con, root)
    stale = con.execute("SELECT session FROM main.regime_daily WHERE underlying = 'NDX' AND data_stale").fetchall()
    assert stale == [(_sessions(con, "NDX")[-1],)]
    frames = c.compute_session(c.snapshot_from_warehouse(con, "NDX", last), NATIVE, c.rate_for(con, last),
                               load_id=c.chain_load_id(con, "NDX", last))
    c.write_marts(con, frames)
    result = _publish(con, root)  # _same_rows: the previous latest row is exported with data_stale NULL now
    assert list(result.sessions) == [("NDX", last)] and len(result.rewritten_sessions) == 2
    assert con.execute("SELECT count(*) FROM main.regime_daily WHERE data_stale").fetchall() == [(0,)]


def test_changed_hedge_settings_recompute_and_rewrite_the_advice_of_every_session(published):
    con, root = published
    before = _inodes(root)
    con.execute("UPDATE core.settings SET value = 7.5 WHERE name = 'hedge_cost_bps'")
    plan = plan_export(con)
    assert plan.pairs == () and set(plan.advice_keys) == set(c.loaded_sessions(con))
    _publish(con, root)
    after = _inodes(root)
    assert con.execute("SELECT DISTINCT cost_bps FROM main.hedge_advice").fetchall() == [(7.5,)]
    assert len(_rewritten(before, after, "hedge_advice")) == len({s for _, s in c.loaded_sessions(con)})
    assert _rewritten(before, after, "gex_by_strike") == _rewritten(before, after, "vol_context") == set()


def test_a_failed_attempt_alone_reaches_the_exported_run_log(published):
    """A failed computation writes only its mart.runs row: the exported runs view has it after the publish."""
    con, root = published
    day = dt.date(2025, 1, 3)  # an SPX session before NDX's first: NDX has nothing there
    now = dt.datetime(2025, 1, 3, 22, tzinfo=dt.timezone.utc)
    c.record_run(con, c.RunRecord("compute", "NDX", day, 10, 0, "failed", now, now, "{}", "ValueError: no spot"))
    plan = plan_export(con)
    assert plan.pairs == () and RUNS in plan.changed[("NDX", day)]
    _publish(con, root)  # compares every view with its files
    assert ex.stale_sessions(con) == []


def test_deleted_rows_or_bars_leave_the_exports(published):
    """A session's computed rows deleted (its bars kept), then its bars too: its files lose it and the later
    sessions of its underlying, which look back at it, are rewritten."""
    con, root = published
    first = _sessions(con, "SPX")[0]
    tables = [t for (t,) in con.execute(
        "SELECT table_name FROM duckdb_columns() WHERE schema_name = 'mart' AND column_name IN ('underlying', 'session') "
        "AND table_name NOT IN ('export_state', 'runs') GROUP BY 1 HAVING count(*) = 2").fetchall()]
    for table in tables:
        con.execute(f"DELETE FROM mart.{table} WHERE underlying = 'SPX' AND session = ?", [first])
    plan = plan_export(con)
    assert plan.uncomputed == (("SPX", first),) and plan.pairs[0][0] == "SPX"
    _publish(con, root)
    con.execute("DELETE FROM raw.underlying_closes WHERE underlying = 'SPX' AND session = ?", [first])
    assert plan_export(con).vanished == (("SPX", first),)
    _publish(con, root)
    assert con.execute("SELECT count(*) FROM mart.export_state WHERE session = ?", [first]).fetchall() == [(0,)]
