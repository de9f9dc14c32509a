"""`gex sql` runs user SQL sandboxed (issue 10, defect 1): every way of writing, reading a file outside the
exports, changing a setting or loading code is refused with one line, and the warehouse (and its published
snapshot) stays byte-identical. Each case is checked twice: through the CLI (both layers), and against the
sandboxed connection alone (layer 2: what the parser check would let through is still stopped).

The CLI runs in this process (``gex_cli.main.app`` under Typer's runner: the same command, exit code and
stderr, without a ~1 s interpreter start per statement); one refusal and one allowed read also go through a
real ``python -m gex_cli`` process (tests/cli/test_sql_cli.py runs `gex sql` as a user does throughout)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest
from gex_warehouse.published import open_published, refresh_snapshot, snapshot_path
from gex_warehouse.readonly import QueryRefused, check_query

from tests.gex_runner import gex_in_process as gex
from tests.gex_runner import gex_process
from tests.warehouse.published_market import QUERIES_DIR, built_warehouse, copy_of


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> tuple[Path, Path]:
    """A private copy of the generated warehouse, with exports (one Parquet file) and a published snapshot."""
    base = tmp_path_factory.mktemp("sandbox")
    path = copy_of(built_warehouse(str(tmp_path_factory.getbasetemp() / "published")), base / "gex.duckdb")
    exports = base / "exports"
    (exports / "regime_daily").mkdir(parents=True)
    con = duckdb.connect(str(path))
    try:
        con.execute(f"COPY (SELECT * FROM main.regime_daily) TO '{exports}/regime_daily/part-0.parquet' (FORMAT parquet)")
        refresh_snapshot(con, path)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    (base / "secret.txt").write_text("not for gex sql\n")
    return path, exports


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refusals(base: Path, warehouse: Path) -> list[str]:
    secret = base / "secret.txt"
    return [
        f"COPY (SELECT 42 AS x) TO '{warehouse}' (FORMAT csv)",
        f"COPY (SELECT 42 AS x) TO '{snapshot_path(warehouse)}' (FORMAT csv)",
        f"COPY regime_daily TO '{base}/out.csv'",
        f"EXPORT DATABASE '{base}/dump'",
        f"SELECT content FROM read_text('{secret}')",
        "SELECT content FROM read_text('/etc/passwd')",
        f"SELECT * FROM read_csv('{secret}')",
        f"SELECT * FROM read_blob('{warehouse}')",
        f"SELECT * FROM read_parquet('{base}/exports/../secret.txt')",
        f"SELECT * FROM glob('{base}/*')",
        f"SELECT * FROM '{warehouse}'",
        f"ATTACH '{base}/other.duckdb' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET threads = 1",
        "RESET threads",
        "SET enable_external_access = true",
        "PRAGMA enable_profiling",
        "CHECKPOINT",
        "FORCE CHECKPOINT",
        "VACUUM",
        "CALL pragma_version()",
        "SELECT * FROM checkpoint()",
        f"SELECT * FROM query('SELECT * FROM read_text(''{secret}'')')",
        "SELECT 1; SELECT 2",
        "CREATE TABLE main.scratch AS SELECT 1 AS x",
        "CREATE VIEW v2 AS SELECT 1 AS x",
        "DROP TABLE regime_daily",
        "ALTER TABLE regime_daily RENAME TO r",
        "INSERT INTO regime_daily SELECT * FROM regime_daily",
        "UPDATE regime_daily SET regime = 'negative'",
        "DELETE FROM regime_daily",
        "BEGIN TRANSACTION",
        "USE system",
    ]


def test_every_escape_is_refused_in_one_line_and_nothing_changes(setup):
    path, exports = setup
    base = path.parent
    snap = snapshot_path(path)
    before = (digest(path), digest(snap), sorted(p.name for p in base.iterdir()))
    for n, sql in enumerate(_refusals(base, path)):
        done = (gex_process if n == 0 else gex)("sql", sql, "-w", str(path))
        assert done.returncode in (1, 2), (sql, done.stdout, done.stderr)
        message = done.stderr.strip()
        assert len(message.splitlines()) == 1 and message.startswith("gex: error: "), (sql, message)
        assert "Traceback" not in message and "not for gex sql" not in done.stdout, sql
        assert "refused" in message or "give one SQL statement" in message, (sql, message)
    assert (digest(path), digest(snap), sorted(p.name for p in base.iterdir())) == before


def test_the_connection_itself_refuses_what_a_parser_check_might_miss(setup):
    """Layer 2 alone: the sandboxed connection, given the statements without the parser check."""
    path, exports = setup
    base = path.parent
    before = digest(snapshot_path(path))
    con = open_published(path, exports=exports)
    try:
        for sql in (f"COPY (SELECT 42) TO '{snapshot_path(path)}' (FORMAT csv)", f"EXPORT DATABASE '{base}/dump2'",
                    f"SELECT * FROM read_text('{base}/secret.txt')", "SELECT * FROM read_text('/etc/passwd')",
                    f"SELECT * FROM glob('{base}/*')", f"ATTACH '{base}/x.duckdb' AS x", "SET threads = 1",
                    "SET enable_external_access = true", "SET allowed_directories = ['/']", "LOAD httpfs",
                    "CREATE TABLE t AS SELECT 1", "DROP TABLE regime_daily"):
            with pytest.raises(duckdb.Error):
                con.execute(sql).fetchall()
        # what it may do: read the published tables and the exports folder
        n = con.execute(f"SELECT count(*) FROM read_parquet('{exports}/regime_daily/*.parquet')").fetchall()[0][0]
        assert n == con.execute("SELECT count(*) FROM regime_daily").fetchall()[0][0] == 55
    finally:
        con.close()
    assert digest(snapshot_path(path)) == before
    assert not (base / "dump2").exists() and not (base / "x.duckdb").exists()


@pytest.mark.parametrize(
    "sql",
    ["SELECT count(*) AS n FROM regime_daily", "WITH a AS (SELECT 1 AS x) SELECT * FROM a", "FROM regime_daily LIMIT 1",
     "DESCRIBE regime_daily", "SUMMARIZE SELECT spot FROM regime_daily", "EXPLAIN SELECT * FROM regime_daily",
     "SELECT * FROM range(3)", "VALUES (1), (2)", "(SELECT 1 AS x) UNION ALL (SELECT 2)",
     "SELECT * FROM duckdb_columns() WHERE table_name = 'regime_daily'"],
)
def test_reading_statements_run(setup, sql):
    path, _ = setup
    done = gex("sql", sql, "-w", str(path), "-f", "csv")
    assert done.returncode == 0, (sql, done.stderr)


def test_the_exports_folder_may_be_read(setup):
    path, exports = setup
    done = gex_process("sql", f"SELECT count(*) AS n FROM read_parquet('{exports}/regime_daily/*.parquet')", "-w",
                       str(path), "-f", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"n": 55}]


def test_every_shipped_example_query_passes_the_check():
    for file in sorted(QUERIES_DIR.glob("*.sql")):
        check_query(file.read_text(encoding="utf-8"), exports=None)


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [("SELECT * FROM read_parquet($p)", "literal paths"), ("SELECT * FROM read_parquet(lower('/x'))", "literal paths"),
     ("SELECT * FROM read_parquet('exports/x.parquet')", "reading files is not allowed"),
     ("EXPLAIN COPY regime_daily TO '/tmp/x.csv'", "only EXPLAIN of a SELECT"),
     ("PIVOT regime_daily ON regime", "PIVOT")],
)
def test_check_query_reasons(sql, fragment):
    with pytest.raises(QueryRefused, match=fragment):
        check_query(sql, exports=None)


def test_paths_inside_the_exports_pass_and_a_symlink_out_does_not(tmp_path):
    exports = tmp_path / "exports"
    (exports / "v").mkdir(parents=True)
    check_query(f"SELECT * FROM read_parquet('{exports}/v/**/*.parquet', hive_partitioning = true)", exports)
    check_query(f"SELECT * FROM read_parquet(['{exports}/v/a.parquet', '{exports}/v/b.parquet'])", exports)
    (exports / "out").symlink_to(tmp_path)
    with pytest.raises(QueryRefused, match="outside the exports"):
        check_query(f"SELECT * FROM read_parquet('{exports}/out/x.parquet')", exports)
    with pytest.raises(QueryRefused, match="outside the exports"):
        check_query(f"SELECT * FROM read_parquet('{exports}/v/../../x.parquet')", exports)
    with pytest.raises(QueryRefused, match="outside the exports"):
        check_query(f"SELECT * FROM read_parquet('{exports}2/x.parquet')", exports)
    with pytest.raises(QueryRefused, match="remote files"):
        check_query("SELECT * FROM read_parquet('https://example.com/x.parquet')", exports)
