"""The migration runner and the layout rules of sql/."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from gex.conventions import NATIVE
from gex_warehouse.config import sql_dir
from gex_warehouse.connect import connect, storage_version
from gex_warehouse.digest import table_digests
from gex_warehouse.migrate import LAYERS, NOT_MIGRATIONS, MigrationError, applied, discover, migrate

from tests.warehouse.helpers import rows


@pytest.fixture
def sql_copy(tmp_path) -> Path:
    target = tmp_path / "sql"
    shutil.copytree(sql_dir(), target)
    return target


def test_layers_exist_and_every_file_is_one_idempotent_object():
    root = sql_dir()
    assert [p.name for p in sorted(root.iterdir()) if p.is_dir() and p.name not in NOT_MIGRATIONS] == sorted(LAYERS)
    migrations = discover()
    assert migrations, "no migration files"
    for m in migrations:
        statements = duckdb.extract_statements(m.sql)
        head, rest = statements[0], statements[1:]
        text = head.query.strip().upper()
        assert text.startswith(
            ("CREATE SCHEMA IF NOT EXISTS", "CREATE TABLE IF NOT EXISTS", "CREATE OR REPLACE VIEW", "INSERT INTO",
             "ALTER TABLE")
        ), m.file
        if text.startswith("ALTER TABLE"):
            assert "ADD COLUMN IF NOT EXISTS" in text, f"{m.file}: an ALTER must be idempotent"
        if text.startswith("INSERT INTO"):
            assert "WHERE NOT EXISTS" in text, f"{m.file}: a seed must be idempotent"
        assert all(s.query.strip().upper().startswith("COMMENT ON") for s in rest), f"{m.file}: one object per file"


def test_fresh_warehouse_applies_everything_then_rerun_is_a_noop(tmp_path):
    path = tmp_path / "w.duckdb"
    con = connect(path)
    try:
        assert set(applied(con)) == {m.version for m in discover()}
        before = table_digests(con)
        assert migrate(con) == []  # nothing pending
        assert table_digests(con) == before
        assert storage_version(con).startswith("v1.4.0")
    finally:
        con.close()
    again = connect(path)  # opening again migrates nothing either
    try:
        assert table_digests(again) == before
    finally:
        again.close()


def test_every_table_column_says_its_unit_or_meaning(con):
    undocumented = rows(
        con,
        "SELECT schema_name || '.' || table_name || '.' || column_name FROM duckdb_columns() "
        "WHERE schema_name = 'raw' AND comment IS NULL ORDER BY 1",  # core views reuse the raw names
    )
    assert undocumented == []
    tables = rows(con, "SELECT table_name FROM duckdb_tables() WHERE schema_name IN ('raw', 'core') AND comment IS NULL")
    views = rows(con, "SELECT view_name FROM duckdb_views() WHERE schema_name = 'core' AND comment IS NULL")
    assert tables == [] and views == []


def test_fallback_rate_default_mirrors_the_models_default(con):
    assert rows(con, "SELECT value FROM core.settings WHERE name = 'fallback_rate'") == [(NATIVE.rate,)]


def test_new_file_upgrades_an_existing_warehouse_in_place(tmp_path, sql_copy):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    migrate(con, discover(sql_copy))
    con.execute("CREATE TABLE raw.keep_me AS SELECT 42 AS answer")
    top = max(applied(con))
    (sql_copy / "mart" / f"{top + 1:04d}_demo.sql").write_text(
        "CREATE TABLE IF NOT EXISTS mart.demo (session DATE, gex_usd_per_pct DOUBLE);\n"
        "COMMENT ON COLUMN mart.demo.gex_usd_per_pct IS 'dollars per 1% move';\n"
    )
    done = migrate(con, discover(sql_copy))
    assert [m.file for m in done] == [f"mart/{top + 1:04d}_demo.sql"]
    assert rows(con, "SELECT answer FROM raw.keep_me") == [(42,)]
    assert rows(con, "SELECT count(*) FROM mart.demo") == [(0,)]
    assert rows(con, "SELECT file FROM meta.schema_migrations WHERE version = ?", [top + 1]) == [(done[0].file,)]
    assert migrate(con, discover(sql_copy)) == []


def test_changed_applied_file_is_an_error_not_reapplied(tmp_path, sql_copy):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    migrate(con, discover(sql_copy))
    target = sql_copy / "core" / "0032_sessions.sql"
    target.write_text(target.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match=r"core/0032_sessions.sql changed after it was applied"):
        migrate(con, discover(sql_copy))


def test_vanished_or_out_of_order_files_are_errors(tmp_path, sql_copy):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    migrate(con, discover(sql_copy))
    (sql_copy / "raw" / "0009_late.sql").write_text("CREATE TABLE IF NOT EXISTS raw.late (x INTEGER);\n")
    with pytest.raises(MigrationError, match="renumber it above"):
        migrate(con, discover(sql_copy))
    (sql_copy / "raw" / "0009_late.sql").unlink()
    (sql_copy / "raw" / "0013_quarantine.sql").unlink()
    with pytest.raises(MigrationError, match="its file is gone"):
        migrate(con, discover(sql_copy))


@pytest.mark.parametrize(
    ("relative", "message"),
    [
        ("raw/12_bad_name.sql", "NNNN_lowercase_name.sql"),
        ("staging/0100_x.sql", "layer one of"),
        ("raw/0010_duplicate_version.sql", "already used"),
    ],
)
def test_badly_placed_files_are_refused(sql_copy, relative, message):
    (sql_copy / relative).parent.mkdir(exist_ok=True)
    (sql_copy / relative).write_text("CREATE SCHEMA IF NOT EXISTS raw;\n")
    with pytest.raises(MigrationError, match=message):
        discover(sql_copy)


def test_a_failing_migration_rolls_back_and_names_the_file(tmp_path, sql_copy):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    migrate(con, discover(sql_copy))
    top = max(applied(con))
    (sql_copy / "mart" / f"{top + 1:04d}_broken.sql").write_text("CREATE TABLE IF NOT EXISTS mart.broken AS SELECT * FROM nowhere;\n")
    with pytest.raises(MigrationError, match=f"mart/{top + 1:04d}_broken.sql failed"):
        migrate(con, discover(sql_copy))
    assert top + 1 not in applied(con)
