"""Parquet exports of the published views: one file per view and session (hive ``session=D`` folders), the same
rows as the views, incremental (a session is rewritten whole), atomic, idempotent, safe paths, and the upgrade
from the earlier ``underlying=U/session=D`` layout."""

from __future__ import annotations

import datetime as dt
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
    # per-session views (partitioned) and one without a session column (one file)
    "daily": "CREATE VIEW main.daily AS SELECT session, underlying, spot, regime, gamma_flip FROM mart.regime_daily",
    "strikes": "CREATE VIEW main.strikes AS SELECT * FROM mart.gex_by_strike",
    "flips": "CREATE VIEW main.flips AS SELECT * FROM mart.flip_crossings WHERE is_flip",
    "presets": "CREATE VIEW main.presets AS SELECT preset, count(*) AS sessions FROM mart.regime_daily GROUP BY ALL",
}
#: SPX over 4 sessions, NDX over the first 3 of them: sessions with two underlyings and one with one.
MARKETS = (("SPX", 2, 4, 1500, 5000.0), ("NDX", 4, 3, 600, 20000.0))


def _ingested(root: Path) -> Path:
    template = root / "ingested.duckdb"
    con = connect(template)
    try:
        for underlying, seed, sessions, contracts, spot in MARKETS:
            landing = root / f"landing_{underlying}"
            generate_market(landing, sessions=sessions, contracts=contracts, seed=seed, underlying=underlying,
                            spot0=spot)
            for file in expand_paths([landing]):
                assert ingest_file(con, file).ok
        for ddl in VIEWS.values():
            con.execute(ddl)
    finally:
        con.close()
    return template


@pytest.fixture(scope="module")
def ingested(tmp_path_factory) -> Path:
    return _ingested(tmp_path_factory.mktemp("export-market"))


@pytest.fixture(scope="module")
def computed(ingested) -> Path:
    template = ingested.with_name("computed.duckdb")
    shutil.copyfile(ingested, template)
    con = connect(template)
    try:
        compute_all(con)
    finally:
        con.close()
    return template


def _open(template: Path, tmp_path: Path):
    target = tmp_path / "gex.duckdb"
    shutil.copyfile(template, target)
    return connect(target)


@pytest.fixture
def con(computed, tmp_path):
    connection = _open(computed, tmp_path)
    yield connection
    connection.close()


def _read(root: Path, view: str) -> duckdb.DuckDBPyRelation:
    return duckdb.sql(f"SELECT * FROM read_parquet('{root}/{view}/**/*.parquet', hive_partitioning = true)")


def _same_rows(con, root: Path, view: str) -> None:
    con.execute("SET VARIABLE preset = '*'")  # every preset's rows, as exported
    try:
        cols = ", ".join(f'"{c}"' for c in con.table(f"main.{view}").columns)
        exported = _read(root, view).select(cols).fetchall() if list((root / view).rglob("*.parquet")) else []
        published = con.execute(f"SELECT {cols} FROM main.{view}").fetchall()
    finally:
        con.execute("RESET VARIABLE preset")
    assert sorted(exported, key=repr) == sorted(published, key=repr)


def _sessions(con) -> list[dt.date]:
    return sorted({s for _, s in c.loaded_sessions(con)})


def _inodes(root: Path) -> dict[Path, int]:
    return {p: p.stat().st_ino for p in root.rglob("*.parquet")}


def test_one_file_per_view_and_session_with_underlying_inside_sorted(con, tmp_path, monkeypatch):
    root = tmp_path / "exports"
    written: list[Path] = []
    write = ex.pq.write_table

    def recording(table, where, **options):
        written.append(Path(where))
        write(table, where, **options)

    monkeypatch.setattr(ex.pq, "write_table", recording)
    result = ex.export(con, root)
    sessions = _sessions(con)
    assert set(VIEWS) <= set(result.views)
    assert {"regime_daily", "gex_by_strike", "vol_context", "hedge_advice", "scanner"} <= set(result.views)
    assert list(result.sessions) == sorted(c.loaded_sessions(con)) and len(result.sessions) == 7
    assert list(result.rewritten_sessions) == sessions and ex.stale_sessions(con) == []
    # files are written outside the view folders (a reader's glob would read a file being written)
    assert written and all(p.parent.name.startswith(".") and p.parent.parent == root.resolve() for p in written)

    assert sorted(p.name for p in (root / "daily").iterdir()) == [f"session={s}" for s in sessions]
    assert (root / "presets" / ex.PART_FILE).is_file() and [p.name for p in (root / "presets").iterdir()] == [ex.PART_FILE]
    for view in result.views:  # every published view, the contract's and these tests' own
        _same_rows(con, root, view)
        files = sorted(p.relative_to(root / view).as_posix() for p in (root / view).rglob("*") if p.is_file())
        if view != "presets":  # one file per session with rows, nothing else
            assert files == [f"session={s}/{ex.PART_FILE}" for s in sessions if (root / view / f"session={s}").exists()]
            assert files or view not in ("daily", "strikes", "regime_daily", "gex_by_strike", "scanner"), view
    assert not list(root.rglob("underlying=*")) and not list(root.rglob(".*"))

    # session lives in the folder name and comes back typed; underlying is a column, rows sorted by it first
    schema = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{root}/daily/**/*.parquet', hive_partitioning = true)").fetchall()
    assert ("session", "DATE") in [(r[0], r[1]) for r in schema]
    first = root / "daily" / f"session={sessions[0]}" / ex.PART_FILE
    assert pq.read_schema(first).names == ["underlying", "spot", "regime", "gamma_flip"]
    assert pq.read_table(first).column("underlying").to_pylist() == ["NDX", "SPX"]
    for path in root.rglob(ex.PART_FILE):
        if path.parent.name.startswith("session="):
            underlyings = pq.read_table(path, columns=["underlying"]).column("underlying").to_pylist()
            assert underlyings == sorted(underlyings), path
    last = pq.read_table(root / "daily" / f"session={sessions[-1]}" / ex.PART_FILE)
    assert last.column("underlying").to_pylist() == ["SPX"]  # NDX has 3 sessions


def test_row_groups_are_bounded_and_their_statistics_separate_the_underlyings(con, tmp_path, monkeypatch):
    monkeypatch.setattr(ex, "ROW_GROUP_ROWS", 20)
    root = tmp_path / "exports"
    ex.export(con, root)
    path = root / "strikes" / f"session={_sessions(con)[0]}" / ex.PART_FILE
    meta = pq.read_metadata(path)
    at = pq.read_schema(path).get_field_index("underlying")
    groups = [meta.row_group(i) for i in range(meta.num_row_groups)]
    assert len(groups) > 2 and max(g.num_rows for g in groups) == 20
    ranges = [(g.column(at).statistics.min, g.column(at).statistics.max) for g in groups]
    assert ranges == sorted(ranges) and {r for r in ranges if r[0] == r[1]} >= {("NDX", "NDX"), ("SPX", "SPX")}
    assert sum(1 for lo, hi in ranges if lo <= "NDX" <= hi) < len(ranges)  # a filter on NDX skips groups


def test_exports_are_incremental_and_idempotent(con, tmp_path):
    root = tmp_path / "exports"
    ex.export(con, root)
    files = {p: p.read_bytes() for p in root.rglob("*.parquet")}
    again = ex.export(con, root)
    assert again.sessions == () and again.rewritten_sessions == () and again.files == 0
    assert {p: p.read_bytes() for p in root.rglob("*.parquet")} == files
    # the same rows give the same bytes when rewritten
    assert ex.export(con, root, force=True).files == len(files)
    assert {p: p.read_bytes() for p in root.rglob("*.parquet")} == files
    # recompute SPX's second session under another preset: it and SPX's later sessions are the plan
    sessions = _sessions(con)
    compute_all(con, [("SPX", sessions[1])], preset("perfiliev"))
    assert ex.stale_sessions(con) == [("SPX", sessions[1])]
    before = _inodes(root)
    result = ex.export(con, root)
    assert list(result.sessions) == [("SPX", s) for s in sessions[1:]]
    assert list(result.rewritten_sessions) == sessions[1:]
    after = _inodes(root)
    untouched = {p for p in after if before.get(p) == after[p]}
    assert {p.parent.name for p in untouched if p.parent.name.startswith("session=")} == {f"session={sessions[0]}"}
    for view in VIEWS:
        _same_rows(con, root, view)
    assert not list(root.rglob(".*"))  # no staging or retired folders left behind


def test_a_late_session_of_one_underlying_rewrites_that_whole_session_and_records_every_underlying(
        ingested, tmp_path):
    """NDX arrives after SPX was exported: the session files are rewritten with both, so SPX's cross-sectional
    ranks in the exported scanner are the current ones (docs/sql-contract.md), and every underlying of the
    rewritten sessions is recorded."""
    con = _open(ingested, tmp_path)
    try:
        root = tmp_path / "exports"
        spx = [k for k in c.loaded_sessions(con) if k[0] == "SPX"]
        ndx = [k for k in c.loaded_sessions(con) if k[0] == "NDX"]
        compute_all(con, spx)
        ex.export(con, root)
        counts = duckdb.sql(f"SELECT DISTINCT underlyings_in_session FROM read_parquet('{root}/scanner/**/*.parquet')")
        assert counts.fetchall() == [(1,)]
        late = ndx[-1]
        compute_all(con, [late])
        before = _inodes(root)
        result = ex.export(con, root)
        assert list(result.sessions) == [late] and list(result.rewritten_sessions) == [late[1]]
        after = _inodes(root)
        rewritten = {p.parent.name for p in after if before.get(p) != after[p] and p.parent.name.startswith("session=")}
        assert rewritten == {f"session={late[1]}"}
        scanner = _read(root, "scanner").filter(f"session = DATE '{late[1]}'")
        assert scanner.select("underlying, underlyings_in_session").order("underlying").fetchall() == \
            [("NDX", 2), ("SPX", 2)]
        recorded = con.execute("SELECT underlying FROM mart.export_state WHERE session = ? ORDER BY 1", [late[1]])
        assert recorded.fetchall() == [("NDX",), ("SPX",)]
        assert ex.stale_sessions(con) == []
        for view in ("scanner", "regime_daily", "daily", "strikes"):
            _same_rows(con, root, view)
    finally:
        con.close()


def test_a_session_whose_rows_vanish_loses_its_folder(con, tmp_path):
    root = tmp_path / "exports"
    ex.export(con, root)
    flipped = con.execute("SELECT DISTINCT underlying, session FROM main.flips ORDER BY session").fetchall()
    assert flipped, "seed 2 has flips (see test_compute)"
    s = flipped[0][1]
    keys = [(u, d) for u, d in flipped if d == s]
    con.execute("UPDATE mart.flip_crossings SET is_flip = false WHERE session = ?", [s])
    ex.export(con, root, keys)
    assert not (root / "flips" / f"session={s}").exists()
    _same_rows(con, root, "flips")


def _legacy_fingerprints(con) -> list[tuple[str, dt.date, str]]:
    """mart.export_state's fingerprints as the layout-1 code computed them (no layout in them)."""
    return con.execute(
        """
        SELECT underlying, session,
               md5(string_agg(concat_ws('|', coalesce(load_id, ''), preset, CAST(valuation_ts AS VARCHAR),
                                        coalesce(conventions, ''), coalesce(computed_with, '')),
                              '#' ORDER BY preset, valuation_ts)
                   || (SELECT CAST(max(version) AS VARCHAR) FROM meta.schema_migrations))
        FROM mart.regime_daily GROUP BY underlying, session
        """
    ).fetchall()


def _legacy_exports(con, root: Path) -> None:
    """The exports folder and state as the layout-1 code left them: <view>/underlying=U/session=D/part-0.parquet."""
    con.execute("SET VARIABLE preset = '*'")
    for view in ex.published_views(con):
        columns = con.table(f"main.{view}").columns
        if {"underlying", "session"} <= set(columns):
            for u, s in con.execute(f'SELECT DISTINCT underlying, session FROM main."{view}"').fetchall():
                folder = root / view / f"underlying={u}" / f"session={s}"
                folder.mkdir(parents=True)
                con.execute(f"COPY (SELECT * EXCLUDE (underlying, session) FROM main.\"{view}\" WHERE underlying = "
                            f"'{u}' AND session = DATE '{s}') TO '{folder / ex.PART_FILE}' (FORMAT parquet)")
        else:
            (root / view).mkdir(parents=True)
            con.execute(f"COPY (SELECT * FROM main.\"{view}\") TO '{root / view / ex.PART_FILE}' (FORMAT parquet)")
    con.execute("RESET VARIABLE preset")
    con.executemany("INSERT INTO mart.export_state (underlying, session, fingerprint, preset) VALUES (?, ?, ?, '*')",
                    _legacy_fingerprints(con))


class Killed(BaseException):
    """The job killed mid-export (a signal: not an Exception)."""


def test_exports_of_the_earlier_layout_are_rewritten_and_its_folders_removed(con, tmp_path, monkeypatch):
    root = tmp_path / "exports"
    _legacy_exports(con, root)
    assert list((root / "daily").glob("underlying=*/session=*/*.parquet"))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.parquet").write_bytes(b"not ours")
    (root / "daily" / "underlying=LINK").symlink_to(outside, target_is_directory=True)
    (root / "daily" / "underlying=notes.txt").write_text("a file, not a layout-1 folder: left alone")
    # every exported session is stale under the new layout
    assert ex.stale_sessions(con) == sorted(c.loaded_sessions(con))

    # killed part-way: some views already moved, nothing recorded; the next run completes the move
    calls = {"n": 0}
    replace = ex._replace_dir

    def dies_after_a_few(*args):
        calls["n"] += 1
        if calls["n"] > 10:
            raise Killed
        return replace(*args)

    monkeypatch.setattr(ex, "_replace_dir", dies_after_a_few)
    with pytest.raises(Killed):
        ex.export(con, root)
    monkeypatch.setattr(ex, "_replace_dir", replace)
    assert ex.stale_sessions(con) == sorted(c.loaded_sessions(con))

    result = ex.export(con, root)
    assert list(result.sessions) == sorted(c.loaded_sessions(con)) and ex.stale_sessions(con) == []
    assert [p for p in root.glob("*/underlying=*") if p.is_dir() or p.is_symlink()] == []
    assert (root / "daily" / "underlying=notes.txt").is_file()
    assert [p.name for p in outside.iterdir()] == ["keep.parquet"]  # the link was removed, not followed
    for view in result.views:
        _same_rows(con, root, view)
    assert ex.export(con, root).files == 0  # moved for good


def test_a_session_folder_linked_outside_is_replaced_not_followed(con, tmp_path):
    root = tmp_path / "exports"
    ex.export(con, root)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / ex.PART_FILE).write_bytes(b"someone else's")
    folder = root / "daily" / f"session={_sessions(con)[0]}"
    shutil.rmtree(folder)
    folder.symlink_to(outside, target_is_directory=True)
    ex.export(con, root, force=True)
    assert not folder.is_symlink() and (folder / ex.PART_FILE).is_file()
    assert [(p.name, p.read_bytes()) for p in outside.iterdir()] == [(ex.PART_FILE, b"someone else's")]
    _same_rows(con, root, "daily")
    assert not list(root.rglob(".*"))


def test_a_view_folder_linked_outside_the_exports_is_refused_and_nothing_written_through_it(con, tmp_path):
    root = tmp_path / "exports"
    ex.export(con, root)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    folder = root / "daily"
    shutil.rmtree(folder)
    folder.symlink_to(outside, target_is_directory=True)
    with pytest.raises(ex.UnsafePathError, match="resolves to"):
        ex.export(con, root, force=True)
    assert list(outside.iterdir()) == []


def test_session_folders_are_checked_names(tmp_path):
    day = dt.date(2025, 1, 2)
    assert ex._session_dir(tmp_path, day) == tmp_path / "session=2025-01-02"
    for bad in ("..", ".", "", "../../x", "a/b", "a\\b", "x\x00"):
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
    assert list(forced.sessions) == sorted(c.loaded_sessions(con))
    u, s = c.loaded_sessions(con)[0]
    compute_all(con, [(u, s)], preset("perfiliev"))  # a second preset beside native
    ex.export(con, root)
    presets = duckdb.sql(f"SELECT DISTINCT preset FROM read_parquet('{root}/regime_daily/**/*.parquet', "
                         "hive_partitioning = true) ORDER BY 1").fetchall()
    assert presets == [("native",), ("perfiliev",)]


def test_a_killed_exports_litter_is_swept_but_a_fresh_staging_folder_is_left(con, tmp_path):
    # a job killed between writing a file and renaming it leaves a hidden staging folder in the exports root;
    # the next export removes it once it is old, but never one another exporter may be writing right now
    import os
    import time

    root = tmp_path / "exports"
    old_tmp = root / ".session=2024-01-02.0123abcd.tmp"
    old_old = root / ".session=2024-01-02.4567ef01.old"
    fresh = root / ".session=2024-01-03.89abcdef.tmp"
    for folder in (old_tmp, old_old, fresh):
        folder.mkdir(parents=True)
        (folder / ex.PART_FILE).write_bytes(b"half a file")
    stale = time.time() - 2 * ex.LITTER_AGE_SECONDS
    for folder in (old_tmp, old_old):
        os.utime(folder, (stale, stale))
    ex.export(con, root)
    assert not old_tmp.exists() and not old_old.exists()
    assert fresh.is_dir()
    assert ex.sweep_litter(root, older_than_seconds=0.0) == 1 and not fresh.exists()
