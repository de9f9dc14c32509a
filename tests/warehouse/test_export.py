"""Parquet exports of the published views: hive layout, same rows as the views, incremental, atomic."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from gex.conventions import preset
from gex_market import generate_market
from gex_warehouse import compute as c
from gex_warehouse import export as ex
from gex_warehouse.connect import connect
from gex_warehouse.load import expand_paths, ingest_file

from tests.warehouse.test_compute import compute_all

VIEWS = {
    # per-session views (partitioned) and one without the partition columns (one file)
    "daily": "CREATE VIEW main.daily AS SELECT session, underlying, spot, regime, gamma_flip FROM mart.regime_daily",
    "strikes": "CREATE VIEW main.strikes AS SELECT * FROM mart.gex_by_strike",
    "flips": "CREATE VIEW main.flips AS SELECT * FROM mart.flip_crossings WHERE is_flip",
    "presets": "CREATE VIEW main.presets AS SELECT preset, count(*) AS sessions FROM mart.regime_daily GROUP BY ALL",
}


@pytest.fixture(scope="module")
def computed(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("export-market")
    generate_market(root / "landing", sessions=4, contracts=1500, seed=2)
    template = root / "template.duckdb"
    con = connect(template)
    try:
        for file in expand_paths([root / "landing"]):
            assert ingest_file(con, file).ok
        compute_all(con)
        for ddl in VIEWS.values():
            con.execute(ddl)
    finally:
        con.close()
    return template


@pytest.fixture
def con(computed, tmp_path):
    target = tmp_path / "gex.duckdb"
    shutil.copyfile(computed, target)
    connection = connect(target)
    yield connection
    connection.close()


def _read(root: Path, view: str) -> duckdb.DuckDBPyRelation:
    return duckdb.sql(f"SELECT * FROM read_parquet('{root}/{view}/**/*.parquet', hive_partitioning = true)")


def _same_rows(con, root: Path, view: str) -> None:
    cols = ", ".join(f'"{c}"' for c in con.table(f"main.{view}").columns)
    exported = _read(root, view).select(cols).fetchall() if list((root / view).rglob("*.parquet")) else []
    published = con.execute(f"SELECT {cols} FROM main.{view}").fetchall()
    assert sorted(exported, key=repr) == sorted(published, key=repr)


def test_exports_mirror_every_published_view_in_hive_layout(con, tmp_path):
    root = tmp_path / "exports"
    result = ex.export(con, root)
    assert set(VIEWS) <= set(result.views)
    assert {"regime_daily", "gex_by_strike", "vol_context", "hedge_advice"} <= set(result.views)  # the contract's
    assert len(result.sessions) == 4 and ex.stale_sessions(con) == []
    sessions = [s for _, s in result.sessions]
    assert sorted(p.name for p in (root / "daily" / "underlying=SPX").iterdir()) == [f"session={s}" for s in sessions]
    assert (root / "presets" / ex.PART_FILE).is_file()
    for view in result.views:  # every published view, the contract's and these tests' own
        _same_rows(con, root, view)
    # the partition columns live in the folder names only, and come back typed
    schema = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{root}/daily/**/*.parquet', hive_partitioning = true)").fetchall()
    assert ("session", "DATE") in [(r[0], r[1]) for r in schema]
    inside = pq.read_schema(root / "daily" / "underlying=SPX" / f"session={sessions[0]}" / ex.PART_FILE).names
    assert inside == ["spot", "regime", "gamma_flip"]


def test_exports_are_incremental_and_idempotent(con, tmp_path):
    root = tmp_path / "exports"
    ex.export(con, root)
    files = {p: p.read_bytes() for p in root.rglob("*.parquet")}
    again = ex.export(con, root)
    assert again.sessions == () and again.files == 0
    assert {p: p.read_bytes() for p in root.rglob("*.parquet")} == files
    # recompute the second session under another preset: it and the later sessions are rewritten
    u, s = c.loaded_sessions(con)[1]
    compute_all(con, [(u, s)], preset("perfiliev"))
    assert ex.stale_sessions(con) == [(u, s)]
    result = ex.export(con, root)
    later = [k for k in c.loaded_sessions(con) if k[1] >= s]
    assert list(result.sessions) == later
    for view in VIEWS:
        _same_rows(con, root, view)
    assert not list(root.rglob(".*"))  # no staging or retired folders left behind


def test_a_partition_whose_rows_vanish_is_removed(con, tmp_path):
    root = tmp_path / "exports"
    ex.export(con, root)
    flipped = con.execute("SELECT underlying, session FROM main.flips ORDER BY session").fetchall()
    assert flipped, "seed 2 has flips (see test_compute)"
    u, s = flipped[0]
    con.execute("UPDATE mart.flip_crossings SET is_flip = false WHERE underlying = ? AND session = ?", [u, s])
    ex.export(con, root, [(u, s)])
    assert not (root / "flips" / f"underlying={u}" / f"session={s}").exists()
    _same_rows(con, root, "flips")


def test_an_underlying_folder_linked_outside_the_exports_is_refused_and_nothing_written_through_it(con, tmp_path):
    root = tmp_path / "exports"
    ex.export(con, root)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    folder = root / "daily" / "underlying=SPX"
    shutil.rmtree(folder)
    folder.symlink_to(outside, target_is_directory=True)
    with pytest.raises(ex.UnsafePathError, match="symbolic link"):
        ex.export(con, root, force=True)
    assert list(outside.iterdir()) == []


def test_partition_folders_are_the_checked_paths(tmp_path):
    import datetime as dt

    where = ex._PartitionDirs(tmp_path)
    day = dt.date(2025, 1, 2)
    assert where("daily", "SPX", day) == ex._partition_dir(tmp_path, "daily", "SPX", day)
    for bad in ("../../x", "a/b", "a\\b", "x\x00"):
        with pytest.raises(ex.UnsafePathError, match="not a single folder name"):
            where("daily", bad, day)
    for bad in ("..", ".", ""):
        with pytest.raises(ex.UnsafePathError, match="not a single folder name"):
            ex.check_part(tmp_path, bad)


def test_exports_folder_defaults_beside_the_warehouse(monkeypatch, tmp_path):
    monkeypatch.delenv(ex.ENV_EXPORTS, raising=False)
    assert ex.exports_path(None, tmp_path / "w" / "gex.duckdb") == tmp_path / "w" / "exports"
    monkeypatch.setenv(ex.ENV_EXPORTS, str(tmp_path / "elsewhere"))
    assert ex.exports_path(None, tmp_path / "w" / "gex.duckdb") == tmp_path / "elsewhere"
    assert ex.exports_path(tmp_path / "x") == tmp_path / "x"


def test_force_rewrites_every_computed_session_and_exports_hold_every_preset(con, tmp_path):
    root = tmp_path / "exports"
    ex.export(con, root)
    assert ex.export(con, root).sessions == ()
    forced = ex.export(con, root, force=True)  # `gex publish --force`
    assert list(forced.sessions) == c.loaded_sessions(con)
    u, s = c.loaded_sessions(con)[0]
    compute_all(con, [(u, s)], preset("perfiliev"))  # a second preset beside native
    ex.export(con, root)
    presets = duckdb.sql(f"SELECT DISTINCT preset FROM read_parquet('{root}/regime_daily/**/*.parquet', "
                         "hive_partitioning = true) ORDER BY 1").fetchall()
    assert presets == [("native",), ("perfiliev",)]
