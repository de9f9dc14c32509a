"""Schema evolution: strictly sequential migrations for tables, models (views, docs) re-created as code."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from gex.conventions import NATIVE
from gex_warehouse.config import sql_dir
from gex_warehouse.connect import connect, storage_version
from gex_warehouse.digest import table_digests
from gex_warehouse.migrate import (
    MIGRATIONS, MODEL_SCHEMAS, MigrationError, applied, discover, discover_models, level, migrate, undocumented,
)

from tests.warehouse.helpers import rows


@pytest.fixture
def sql_copy(tmp_path) -> Path:
    target = tmp_path / "sql"
    shutil.copytree(sql_dir(), target)
    return target


def test_migrations_run_from_0001_without_gaps_and_models_are_views_or_docs():
    migrations = discover()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert all(m.file.startswith(f"{MIGRATIONS}/") for m in migrations)
    models = discover_models()
    assert {m.schema for m in models} <= set(MODEL_SCHEMAS)
    for m in models:
        statements = [s.query.strip().upper() for s in duckdb.extract_statements(m.sql)]
        assert m.kind in ("view", "macro", "docs"), m.file
        body = statements[1:] if m.kind != "docs" else statements
        assert all(s.startswith("COMMENT ON") for s in body), f"{m.file}: one object per model file"
        if m.kind == "view":  # the file's name is the view's name
            assert f"VIEW {m.schema.upper()}.{m.name.upper()} AS" in statements[0], m.file


def test_fresh_warehouse_applies_everything_then_reopening_changes_nothing(tmp_path):
    path = tmp_path / "w.duckdb"
    con = connect(path)
    try:
        assert set(applied(con)) == {m.version for m in discover()}
        assert level(con) == len(discover())
        before = table_digests(con)
        assert migrate(con) == []  # nothing pending, models unchanged: no write at all
        assert table_digests(con) == before
        assert storage_version(con).startswith("v1.4.0")
    finally:
        con.close()
    again = connect(path)
    try:
        assert table_digests(again) == before
    finally:
        again.close()


def test_every_table_view_and_column_is_documented_once_in_the_models(con):
    assert undocumented(con) == []


def test_fallback_rate_default_mirrors_the_models_default(con):
    assert rows(con, "SELECT value FROM core.settings WHERE name = 'fallback_rate'") == [(NATIVE.rate,)]


def test_a_new_migration_upgrades_in_place_and_a_changed_one_is_refused(tmp_path, sql_copy):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    migrate(con, discover(sql_copy), discover_models(sql_copy))
    top = max(applied(con))
    (sql_copy / MIGRATIONS / f"{top + 1:04d}_demo.sql").write_text("CREATE TABLE mart.demo (x INTEGER);\n")
    assert [m.version for m in migrate(con, discover(sql_copy), discover_models(sql_copy))] == [top + 1]
    assert rows(con, "SELECT count(*) FROM mart.demo") == [(0,)]
    assert migrate(con, discover(sql_copy), discover_models(sql_copy)) == []
    target = sql_copy / MIGRATIONS / "0001_baseline.sql"
    target.write_text(target.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match=r"0001_baseline.sql changed after it was applied"):
        migrate(con, discover(sql_copy))


def test_gaps_and_migrations_from_a_newer_version_are_errors(tmp_path, sql_copy):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    migrate(con, discover(sql_copy), discover_models(sql_copy))
    top = max(applied(con))
    (sql_copy / MIGRATIONS / f"{top + 2:04d}_skips_one.sql").write_text("SELECT 1;\n")
    with pytest.raises(MigrationError, match="without gaps"):
        discover(sql_copy)
    (sql_copy / MIGRATIONS / f"{top + 2:04d}_skips_one.sql").unlink()
    con.execute("INSERT INTO meta.schema_migrations VALUES (?, 'migrations/9999_future.sql', 'x', now())", [top + 1])
    with pytest.raises(MigrationError, match="upgraded by a newer version"):
        migrate(con, discover(sql_copy))


def test_a_failing_migration_rolls_back_and_names_the_file(tmp_path, sql_copy):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    migrate(con, discover(sql_copy), discover_models(sql_copy))
    top = max(applied(con))
    (sql_copy / MIGRATIONS / f"{top + 1:04d}_broken.sql").write_text(
        "CREATE TABLE mart.half (x INTEGER);\nINSERT INTO mart.nowhere VALUES (1);\n")
    with pytest.raises(MigrationError, match=f"{top + 1:04d}_broken.sql failed"):
        migrate(con, discover(sql_copy), discover_models(sql_copy))
    assert rows(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'half'") == [(0,)]
    assert max(applied(con)) == top


def test_models_are_recreated_when_edited_and_dropped_when_deleted(tmp_path, sql_copy):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    migrate(con, discover(sql_copy), discover_models(sql_copy))
    view = sql_copy / "models" / "main" / "flip_crossings.sql"
    view.write_text(view.read_text().replace("    is_flip,", "    is_flip AS is_flip,\n    42 AS answer,", 1))
    migrate(con, discover(sql_copy), discover_models(sql_copy))
    assert "answer" in con.table("main.flip_crossings").columns
    view.unlink()
    migrate(con, discover(sql_copy), discover_models(sql_copy))
    assert rows(con, "SELECT count(*) FROM duckdb_views() WHERE view_name = 'flip_crossings'") == [(0,)]


def test_badly_placed_or_named_files_are_refused(sql_copy):
    (sql_copy / "mart").mkdir()
    (sql_copy / "mart" / "0500_old_layout.sql").write_text("SELECT 1;\n")
    with pytest.raises(MigrationError, match="SQL files live in"):
        discover(sql_copy)
    shutil.rmtree(sql_copy / "mart")
    (sql_copy / MIGRATIONS / "5_bad_name.sql").write_text("SELECT 1;\n")
    with pytest.raises(MigrationError, match="NNNN_lowercase_name"):
        discover(sql_copy)


def test_write_marts_refuses_rows_whose_columns_differ_from_the_table(con):
    from gex_warehouse import compute as c

    from tests.warehouse.helpers import snapshot

    frames = c.compute_session(snapshot(), NATIVE, 0.0)
    con.execute("ALTER TABLE mart.gex_by_dte ADD COLUMN new_key VARCHAR")  # a column without the compute's support
    with pytest.raises(c.MartShapeError, match="mart.gex_by_dte.*new_key"):
        c.write_marts(con, frames)
    assert rows(con, "SELECT count(*) FROM mart.regime_daily") == [(0,)]  # nothing half-written


def test_every_mart_table_has_its_key_not_null_and_only_regime_daily_an_index(con):
    """Migration 0010: the detail marts keep their keys (gex_warehouse.compute.MART_KEYS, NOT NULL) without a
    PRIMARY KEY index; mart.regime_daily, one row per snapshot, keeps its index."""
    from gex_warehouse import compute as c

    assert set(c.MART_KEYS) == set(c.MART_TABLES)
    indexed = {f"mart.{t}": cols for t, cols in rows(
        con, "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
             "WHERE schema_name = 'mart' AND constraint_type = 'PRIMARY KEY'")}
    assert {t for t in c.MART_TABLES if t in indexed} == {"mart.regime_daily"}
    assert indexed["mart.regime_daily"] == ["session", "underlying", "valuation_ts", "preset"]
    for table, key in c.MART_KEYS.items():
        schema, name = table.split(".")
        nullable = dict(rows(con, "SELECT column_name, is_nullable FROM duckdb_columns() "
                                  "WHERE schema_name = ? AND table_name = ?", [schema, name]))
        assert {k: nullable[k] for k in key} == {k: False for k in key}, table


@pytest.mark.parametrize("table", ["mart.gex_profile_by_expiries", "mart.gex_by_strike", "mart.regime_daily"])
def test_rows_repeating_a_mart_key_are_refused_before_anything_is_written(con, table):
    import dataclasses

    from gex_warehouse import compute as c

    from tests.warehouse.helpers import snapshot

    frames = c.compute_session(snapshot(), NATIVE, 0.0)
    attribute = table.split(".", 1)[1]
    frame = getattr(frames, attribute)
    doubled = dataclasses.replace(frames, **{attribute: frame.vstack(frame.tail(1))})
    with pytest.raises(c.MartKeyError, match=f"{table}: 2 computed rows share their key with another row, e.g. "
                                             "session=.*; nothing was written"):
        c.write_marts(con, doubled)
    assert rows(con, "SELECT count(*) FROM mart.regime_daily") == [(0,)]
    c.write_marts(con, frames)  # the same snapshot without the repeat writes, and again: replaced, not doubled
    c.write_marts(con, frames)
    assert rows(con, f"SELECT count(*) FROM {table}") == [(frame.height,)]


def test_a_batch_holding_one_snapshot_twice_is_refused_whole(con):
    """The batch path (write_results) checks the rows of every table of the batch together."""
    import datetime as dt

    from gex_warehouse import compute as c

    from tests.warehouse.helpers import snapshot

    frames = c.compute_session(snapshot(), NATIVE, 0.0)
    now = dt.datetime(2025, 1, 3, 22, tzinfo=dt.timezone.utc)
    run = c.RunRecord("compute", frames.underlying, frames.session, 1, frames.rows, "ok", now, now, "native")
    with pytest.raises(c.MartKeyError, match="mart.gex_by_strike: .* share their key"):
        c.write_results(con, [(frames, run), (frames, run)])
    assert rows(con, "SELECT (SELECT count(*) FROM mart.regime_daily), (SELECT count(*) FROM mart.runs)") == [(0, 0)]
    assert c.write_results(con, [(frames, run)]) == [frames.rows]


def _schema_and_rows(path: Path) -> dict:
    """Everything a new warehouse holds but its migration times: columns of tables and views (types, nullability,
    defaults, comments), views, constraints, the migration and model logs, and every table's rows (digests). Not the
    views' SQL text: DuckDB renders an EXCLUDE list in no fixed order, even between two builds the same way."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            "columns": rows(con, "SELECT schema_name, table_name, column_name, data_type, is_nullable, column_default, "
                                 "comment FROM duckdb_columns() WHERE NOT internal ORDER BY ALL"),
            "views": rows(con, "SELECT schema_name, view_name, comment FROM duckdb_views() WHERE NOT internal "
                               "ORDER BY ALL"),
            "tables": rows(con, "SELECT schema_name, table_name, comment FROM duckdb_tables() ORDER BY ALL"),
            "constraints": rows(con, "SELECT schema_name, table_name, constraint_type, constraint_text FROM "
                                     "duckdb_constraints() ORDER BY ALL"),
            "migrations": rows(con, "SELECT version, file, sha256 FROM meta.schema_migrations ORDER BY version"),
            "models": rows(con, "SELECT * FROM meta.models ORDER BY ALL"),
            "digests": table_digests(con),
        }
    finally:
        con.close()


def test_a_new_warehouse_copied_from_the_template_equals_one_built_by_the_migrations(tmp_path, monkeypatch):
    import datetime as dt

    from gex_warehouse import template_cache

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    started = dt.datetime.now(dt.timezone.utc)
    connect(tmp_path / "first.duckdb").close()  # builds the template, then copies it
    template = template_cache.template_file()
    assert template is not None and template.is_file() and template.parent == tmp_path / "cache"
    connect(tmp_path / "copied.duckdb").close()
    with monkeypatch.context() as m:
        m.setattr(template_cache, "create_from_template", lambda target: False)  # the normal path
        connect(tmp_path / "built.duckdb").close()
    built = _schema_and_rows(tmp_path / "built.duckdb")
    assert _schema_and_rows(tmp_path / "copied.duckdb") == built == _schema_and_rows(tmp_path / "first.duckdb")
    assert len(built["views"]) > 20 and any(c[-1] for c in built["columns"])  # views and comments are there
    con = duckdb.connect(str(tmp_path / "copied.duckdb"), read_only=True)
    try:  # the copy's log says when it was made, not when the template was
        assert all(t >= started for (t,) in rows(con, "SELECT applied_at FROM meta.schema_migrations"))
    finally:
        con.close()
    connect(tmp_path / "copied.duckdb", migrate=False).close()
    # a file that already exists is never replaced by a copy
    (tmp_path / "taken.duckdb").write_bytes(b"")
    assert not template_cache.create_from_template(tmp_path / "taken.duckdb")
    assert (tmp_path / "taken.duckdb").read_bytes() == b""


def test_the_template_follows_the_sql_files_and_failures_fall_back_to_the_migrations(tmp_path, monkeypatch, sql_copy):
    from gex_warehouse import template_cache

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    before = template_cache.template_file()
    connect(tmp_path / "a.duckdb").close()
    assert before is not None and before.is_file()
    # any change to a migration or a model names another template; building it removes the old one
    model = next((sql_copy / "models" / "mart").glob("*.sql"))
    model.write_text(model.read_text() + "\n-- edited\n")
    monkeypatch.setattr(template_cache, "sql_dir", lambda: sql_copy)
    after = template_cache.template_file()
    assert after is not None and after != before
    monkeypatch.undo()
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    # a damaged template: the warehouse is created by the migrations and the template is dropped (rebuilt next time)
    before.write_bytes(b"not a duckdb file")
    connect(tmp_path / "b.duckdb").close()
    assert not before.exists()
    assert rows(duckdb.connect(str(tmp_path / "b.duckdb"), read_only=True),
                "SELECT max(version) FROM meta.schema_migrations") == [(len(discover()),)]
    # a cache folder that cannot be made (a file in its place): created by the migrations, nothing cached
    (tmp_path / "blocked").write_text("a file")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "blocked" / "cache"))
    connect(tmp_path / "c.duckdb").close()
    assert _schema_and_rows(tmp_path / "c.duckdb") == _schema_and_rows(tmp_path / "a.duckdb")
