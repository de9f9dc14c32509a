"""Every warehouse an earlier version made opens, upgrades and ends complete.

The project's own SQL as of each commit that changed it is in ``schema_history.json`` (regenerate with
``scripts/schema_history.py``). For each earlier version the test builds a warehouse exactly as that version's
migration runner did (its files, in version order, each recorded in ``meta.schema_migrations``), loads the
same files as a fresh warehouse and, where that version had marts, writes them as it would have (its columns
only, no preset key, and none of the tables added after it). Opening it with the current code upgrades it;
``gex compute --all`` and the publish step then leave published views equal to the fresh build's.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

import duckdb
import pytest
from gex.conventions import NATIVE
from gex_market import generate_market
from gex_service import compute as svc
from gex_warehouse import compute as c
from gex_warehouse.advice import refresh_hedge_advice
from gex_warehouse.config import STORAGE_VERSION
from gex_warehouse.connect import connect
from gex_warehouse.export import export, rewrite_plan
from gex_warehouse.load import ingest_file

HISTORY = Path(__file__).with_name("schema_history.json")
LEGACY_LAYERS = ("raw", "core", "mart", "published")


@lru_cache(maxsize=1)
def history() -> dict:
    return json.loads(HISTORY.read_text())


LEGACY = [v for v in history()["versions"] if v["layout"] == "legacy"]
SQL = Path(__file__).resolve().parents[2] / "sql"


def _current_files() -> dict[str, str]:
    """The current sql/ files (relative path -> git blob sha), as the history records them."""
    out = {}
    for path in sorted(SQL.rglob("*.sql")):
        rel = path.relative_to(SQL).as_posix()
        if not rel.startswith("queries/"):
            data = path.read_bytes()
            out[rel] = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    return out


def _released(version: dict) -> bool:
    """Its applied migrations are the current files. 3401bfb is the one commit that is not: its 0002 was amended
    30 minutes later in the same session, before anything was released (CI runs on a session's last commit), so
    no warehouse of it exists outside that session; the runner refuses such a warehouse with a clear message."""
    now = _current_files()
    return all(now.get(f) == sha for f, sha in version["files"].items() if f.startswith("migrations/"))


#: Versions since the migrations/models split whose SQL differs from the current files (the current one needs
#: no upgrade).
MODELS = [v for v in history()["versions"]
          if v["layout"] == "models" and v["files"] != _current_files() and _released(v)]


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("history") / "landing"
    generate_market(folder, sessions=3, contracts=800, seed=5)
    return folder


def _files(landing: Path) -> list[Path]:
    return sorted(p for p in landing.rglob("*") if p.is_file())


def _legacy_warehouse(path: Path, version: dict) -> duckdb.DuckDBPyConnection:
    """A warehouse made by that version's runner: its files by version number, each recorded."""
    boot = duckdb.connect()
    boot.execute(f"ATTACH ? AS w (STORAGE_VERSION '{STORAGE_VERSION}')", [str(path)])
    boot.execute("DETACH w")
    boot.close()
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA IF NOT EXISTS meta; CREATE TABLE IF NOT EXISTS meta.schema_migrations (version INTEGER "
                "PRIMARY KEY, file VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)")
    files = sorted(((int(Path(f).name[:4]), f, sha) for f, sha in version["files"].items()
                    if f.split("/")[0] in LEGACY_LAYERS), key=lambda t: t[0])
    for number, file, sha in files:
        text = history()["blobs"][sha]
        con.execute(text)
        con.execute("INSERT INTO meta.schema_migrations VALUES (?, ?, ?, now())",
                    [number, file, hashlib.sha256(text.encode()).hexdigest()])
    return con


def _models_warehouse(path: Path, version: dict) -> duckdb.DuckDBPyConnection:
    """A warehouse made by a version after the split: its migrations and models, applied by the runner."""
    from gex_warehouse import migrate as m

    folder = path.parent / f"sql-{version['commit']}"
    for rel, sha in version["files"].items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(history()["blobs"][sha])
    boot = duckdb.connect()
    boot.execute(f"ATTACH ? AS w (STORAGE_VERSION '{STORAGE_VERSION}')", [str(path)])
    boot.execute("DETACH w")
    boot.close()
    con = duckdb.connect(str(path))
    m.migrate(con, m.discover(folder), m.discover_models(folder))
    return con


def _daily_contents(con: duckdb.DuckDBPyConnection, columns: dict[str, list[str]]) -> dict[str, str]:
    """Digest of each published view, restricted to ``columns`` (view -> the columns an older version had)."""
    con.execute("SET VARIABLE preset = '*'")
    out = {}
    for name, cols in columns.items():
        listed = ", ".join(f'"{c}"' for c in cols)  # names from the catalogue
        rows = con.execute(f'SELECT {listed} FROM main."{name}" ORDER BY ALL').fetchall()
        out[name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


def _old_marts(con: duckdb.DuckDBPyConnection, computed: list[c.MartFrames]) -> None:
    """Write native marts as that version did: its tables' columns only (no preset key); tables it lacks
    (gex_by_strike_root, hedge_advice, ...) stay empty, columns it lacks (atm_iv_30d) absent."""
    tables = {f"{s}.{t}" for s, t in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
    if "mart.regime_daily" not in tables:
        return
    for frames in computed:
        for table, frame in frames.tables().items():
            if table not in tables or frame.height == 0:
                continue
            columns = [col for col in con.table(table).columns if col in frame.columns]
            con.from_arrow(frame.select(columns).to_arrow()).insert_into(table)


def _complete(path: Path, exports: Path) -> duckdb.DuckDBPyConnection:
    """Open with the current code (upgrading), then `gex compute --all` and the publish step."""
    con = connect(path)
    svc.compute(con, svc.plan(con))
    refresh_hedge_advice(con, rewrite_plan(con))
    export(con, exports)
    return con


def _views(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Content digest of every published view (every preset), the runs log excepted (it records attempts)."""
    con.execute("SET VARIABLE preset = '*'")
    names = [r[0] for r in con.execute(
        "SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal ORDER BY 1").fetchall()]
    out = {}
    for name in names:
        if name == "runs":
            continue
        rows = con.execute(f'SELECT * FROM main."{name}" ORDER BY ALL').fetchall()  # names from the catalogue
        out[name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out


@pytest.fixture(scope="module")
def fresh(tmp_path_factory, landing) -> tuple[dict[str, str], list[c.MartFrames]]:
    """The fresh build's published views, and the native mart rows an earlier version would have written."""
    path = tmp_path_factory.mktemp("fresh") / "gex.duckdb"
    con = connect(path)
    for f in _files(landing):
        ingest_file(con, f)
    computed = [c.compute_chain(c.read_chain(con, u, s), NATIVE) for u, s in c.loaded_sessions(con)]
    con.close()
    con = _complete(path, path.parent / "exports")
    try:
        return _views(con), computed
    finally:
        con.close()


def test_history_covers_every_earlier_schema():
    assert len(LEGACY) >= 7  # f659a33 .. 3ee4685: every commit that changed sql/ before the models split
    for v in LEGACY:
        assert all(re.match(r"^(raw|core|mart|published)/\d{4}_[a-z0-9_]+\.sql$", f) for f in v["files"]), v["commit"]


@pytest.mark.slow
@pytest.mark.parametrize("version", LEGACY, ids=[v["commit"] for v in LEGACY])
def test_a_warehouse_of_each_earlier_version_upgrades_to_the_fresh_build(tmp_path, landing, fresh, version):
    path = tmp_path / "old.duckdb"
    con = _legacy_warehouse(path, version)
    try:
        for f in _files(landing):
            ingest_file(con, f)  # the raw layer has kept its shape since the first version
        _old_marts(con, fresh[1])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    upgraded = _complete(path, tmp_path / "exports")
    try:
        assert upgraded.execute("SELECT count(*) FROM mart.pending_recompute").fetchall() == [(0,)]
        assert upgraded.execute("SELECT count(*) FROM meta.legacy_schema_migrations").fetchall()[0][0] == \
            sum(f.split("/")[0] in LEGACY_LAYERS for f in version["files"])
        assert _views(upgraded) == fresh[0]
        assert svc.plan(upgraded) == []  # nothing left pending
    finally:
        upgraded.close()


def test_history_lists_the_versions_since_the_split():
    assert len(MODELS) >= 2  # a40f8d8, 4f29c4e: before every snapshot was kept (migration 0005)


@pytest.mark.slow
@pytest.mark.parametrize("version", MODELS, ids=[v["commit"] for v in MODELS])
def test_a_warehouse_since_the_split_upgrades_with_its_daily_views_unchanged(tmp_path, landing, fresh, version):
    """An end-of-day-only warehouse made by a version since the split (one chain per session) upgrades in place:
    its daily views hold the same rows before and after (columns they had), and it ends equal to a fresh build."""
    path = tmp_path / "old.duckdb"
    con = _models_warehouse(path, version)
    try:
        for f in _files(landing):
            ingest_file(con, f)
        _old_marts(con, fresh[1])
        con.execute("CHECKPOINT")
        names = [r[0] for r in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal AND view_name <> 'runs'"
        ).fetchall()]
        columns = {n: [r[0] for r in con.execute(f'DESCRIBE main."{n}"').fetchall()] for n in names}
        before = _daily_contents(con, columns)
    finally:
        con.close()
    upgraded = _complete(path, tmp_path / "exports")
    try:
        assert svc.plan(upgraded) == []
        assert upgraded.execute("SELECT count(*) FROM mart.pending_recompute").fetchall() == [(0,)]
        assert _daily_contents(upgraded, {n: cols for n, cols in columns.items() if n != "hedge_advice"}) == \
            {n: d for n, d in before.items() if n != "hedge_advice"}
        assert _views(upgraded) == fresh[0]
    finally:
        upgraded.close()
