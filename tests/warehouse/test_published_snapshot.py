"""The published snapshot (gex_warehouse.published): equal to the warehouse's published views, documented
like them, readable by duckdb-cli 1.5's storage format, replaced atomically (an open reader keeps its old
copy), and what every reader opens (falling back to the warehouse before the first snapshot)."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest
from gex_warehouse.config import STORAGE_VERSION
from gex_warehouse.connect import WarehouseLockedError, connect, storage_version
from gex_warehouse.export import published_views
from gex_warehouse.published import INFO_TABLE, is_snapshot, open_published, refresh_snapshot, snapshot_path

from tests.warehouse.published_market import built_warehouse, copy_of


@pytest.fixture
def warehouse(tmp_path_factory, tmp_path):
    return copy_of(built_warehouse(str(tmp_path_factory.getbasetemp() / "published")), tmp_path / "gex.duckdb")


def assert_snapshot_equals_views(path, presets: tuple[str, ...] = ("native", "*")) -> None:
    """Every published view of ``path`` equals the snapshot's view of the same name (as multisets of rows,
    columns in the same order and types, native rows by default and every preset's with the preset variable
    '*'), each backed by a table in the snapshot's ``data`` schema; ``main`` holds nothing else but
    ``snapshot_info``."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute(f"ATTACH '{snapshot_path(path)}' AS snap (READ_ONLY)")
        views = published_views(con)
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'snap' AND schema_name = 'data' ORDER BY 1"
        ).fetchall()]
        assert sorted(tables) == sorted(views)
        assert [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = 'snap' "
                                          "AND schema_name = 'main'").fetchall()] == [INFO_TABLE]
        for view in views:
            described = [con.execute(f"DESCRIBE {db}.main.{view}").fetchall() for db in (con.execute(
                "SELECT current_database()").fetchall()[0][0], "snap")]
            assert [c[:2] for c in described[0]] == [c[:2] for c in described[1]], view
            for preset in presets:
                con.execute(f"SET VARIABLE preset = '{preset}'")
                for a, b in (("main", "snap.main"), ("snap.main", "main")):
                    extra = con.execute(f"SELECT count(*) FROM (FROM {a}.{view} EXCEPT ALL FROM {b}.{view})").fetchall()[0][0]
                    assert extra == 0, (view, a, b, preset)
            con.execute("RESET VARIABLE preset")
        counts = dict(con.execute(f"SELECT table_name, row_count FROM snap.main.{INFO_TABLE}").fetchall())
        con.execute("SET VARIABLE preset = '*'")  # the tables hold every preset's rows
        assert counts == {v: con.execute(f"SELECT count(*) FROM main.{v}").fetchall()[0][0] for v in views}
    finally:
        con.close()


def test_snapshot_equals_the_published_views_with_their_comments(warehouse):
    con = connect(warehouse)
    try:
        result = refresh_snapshot(con, warehouse)
    finally:
        con.close()
    assert result.path == snapshot_path(warehouse) == warehouse.with_name("gex.published.duckdb")
    assert "regime_daily" in result.tables and result.rows > 0 and result.seconds > 0
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["gex.duckdb", "gex.published.duckdb"]  # no temp left
    assert_snapshot_equals_views(warehouse)

    wh, snap = duckdb.connect(str(warehouse), read_only=True), duckdb.connect(str(result.path), read_only=True)
    try:
        view_comments = "SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal"
        assert dict(snap.execute(view_comments).fetchall()) == dict(wh.execute(view_comments).fetchall())
        columns = ("SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = 'main' "
                   "AND table_name <> ? ORDER BY ALL")
        assert snap.execute(columns, [INFO_TABLE]).fetchall() == wh.execute(columns, [INFO_TABLE]).fetchall()
        assert storage_version(snap) == storage_version(wh) and storage_version(snap).startswith(STORAGE_VERSION)
        info = snap.execute(f"SELECT DISTINCT warehouse, schema_version FROM {INFO_TABLE}").fetchall()
        assert info == [(str(warehouse.resolve()), wh.execute("SELECT max(version) FROM meta.schema_migrations").fetchall()[0][0])]
    finally:
        wh.close()
        snap.close()


def test_a_reader_keeps_its_snapshot_while_a_new_one_replaces_it(warehouse):
    con = connect(warehouse)
    try:
        refresh_snapshot(con, warehouse)
        old_reader = open_published(warehouse)
        before = old_reader.execute("SELECT count(*) FROM regime_daily").fetchall()[0][0]
        con.execute("DELETE FROM mart.regime_daily WHERE underlying = 'NDX'")
        refresh_snapshot(con, warehouse)  # replaces the file the old reader has open
        new_reader = open_published(warehouse)
        try:
            assert old_reader.execute("SELECT count(*) FROM regime_daily").fetchall()[0][0] == before == 55
            assert new_reader.execute("SELECT count(*) FROM regime_daily").fetchall()[0][0] == 30
        finally:
            old_reader.close()
            new_reader.close()
    finally:
        con.close()


def test_readers_open_the_snapshot_while_a_writer_holds_the_warehouse(warehouse):
    blocker = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from gex_warehouse.connect import connect; "
         "from gex_warehouse.published import refresh_snapshot; c = connect(sys.argv[1]); refresh_snapshot(c, sys.argv[1]); "
         "print('ok', flush=True); time.sleep(120)", str(warehouse)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert blocker.stdout is not None and blocker.stdout.readline().strip() == "ok"
        with pytest.raises(WarehouseLockedError):
            connect(warehouse, read_only=True)  # the warehouse itself is locked ...
        reader = open_published(warehouse)  # ... its snapshot is not
        try:
            assert is_snapshot(reader)
            assert reader.execute("SELECT count(*) FROM regime_daily").fetchall()[0][0] == 55
        finally:
            reader.close()
        snapshot_path(warehouse).unlink()  # no snapshot and a writer: a clear message
        with pytest.raises(WarehouseLockedError, match=r"no published snapshot yet .*gex publish.*in use by process"):
            open_published(warehouse)
    finally:
        blocker.kill()
        blocker.wait()


def test_without_a_snapshot_the_warehouse_is_read_sandboxed(warehouse):
    reader = open_published(warehouse)
    try:
        assert not is_snapshot(reader)
        assert reader.execute("SELECT count(*) FROM regime_daily").fetchall()[0][0] == 55
        with pytest.raises(duckdb.Error, match="locked"):
            reader.execute("SET threads = 1")
        assert reader.execute("SELECT current_setting('TimeZone')").fetchall()[0][0] == "UTC"
    finally:
        reader.close()
