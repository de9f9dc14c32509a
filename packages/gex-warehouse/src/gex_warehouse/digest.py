"""Content hashes of the warehouse tables, to prove that re-running an ingest changes nothing.

Each base table's rows are rendered as JSON text, sorted, and hashed (MD5 inside DuckDB), so two
warehouses holding the same rows give the same digest whatever the physical layout. Volatile columns
(wall-clock times of a load attempt) are excluded **explicitly** by :data:`VOLATILE_COLUMNS`; they are the
only time-of-run values the warehouse stores, and they live in bookkeeping tables only.
"""

from __future__ import annotations

import duckdb

#: Table -> columns that change on every run by design and are left out of its digest.
VOLATILE_COLUMNS: dict[str, tuple[str, ...]] = {
    "raw.load_manifest": ("started_at", "finished_at"),
    "meta.schema_migrations": ("applied_at",),
    # a log of attempts: its ids and times differ on every run (and each run appends a row, so compare
    # digests without this table when re-running `gex compute`)
    "mart.runs": ("run_id", "started_at", "finished_at", "duration_s", "flow_run_id"),
}


def base_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """``schema.table`` of every base table of the warehouse, sorted."""
    rows = con.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables() "
        "WHERE database_name = current_database() AND NOT temporary ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def table_digest(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """MD5 of the sorted JSON rows of ``table`` (one of :func:`base_tables`), volatile columns left out."""
    if table not in base_tables(con):
        raise ValueError(f"no base table {table!r} in the warehouse")
    schema, name = table.split(".")
    excluded = VOLATILE_COLUMNS.get(table, ())
    body = f'SELECT * EXCLUDE ({", ".join(excluded)}) FROM "{schema}"."{name}"' if excluded else f'SELECT * FROM "{schema}"."{name}"'
    sql = f"SELECT count(*), md5(coalesce(string_agg(j, chr(10) ORDER BY j), '')) FROM (SELECT CAST(to_json(t) AS VARCHAR) AS j FROM ({body}) AS t)"
    count, digest = con.execute(sql).fetchall()[0]
    return f"{count}:{digest}"


def table_digests(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """``{table: "rows:md5"}`` for every base table."""
    return {t: table_digest(con, t) for t in base_tables(con)}
