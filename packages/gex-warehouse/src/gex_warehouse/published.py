"""The published snapshot: a copy of the published views that readers open while a writer holds the warehouse.

DuckDB lets one process write a database file and no other process open it meanwhile, not even read-only,
so a backfill holding ``warehouse/gex.duckdb`` for minutes would lock out ``gex sql``, ``gex report``,
``gex advise`` and dashboards. Readers therefore open the **published snapshot** beside it::

    warehouse/gex.duckdb            the warehouse (one writer)
    warehouse/gex.published.duckdb  one TABLE per published view of the warehouse's main schema (same names,
                                    same table and column comments) + snapshot_info; meta.snapshot_state
                                    and meta.snapshot_meta: what it holds (for the next refresh)

The writer refreshes it (:func:`refresh_snapshot`, from ``gex publish``, ``gex compute`` and, throttled,
during a backfill): it ATTACHes a temporary file in the same folder to its own connection (a copy of the last
snapshot, in which only the out-of-date sessions of each view are replaced; or, for a whole rebuild, an empty
file), fills it in **one read transaction** (so the tables are mutually consistent), detaches, fsyncs and
``os.replace``-s it onto the snapshot path. The rename is atomic: a reader that has the old snapshot open
keeps reading the old file (its inode lives until closed); a reader that opens afterwards sees the new one;
nobody ever sees half a file, and no reader waits for the writer (no lock is shared).

Readers call :func:`open_published`: the snapshot, sandboxed (:mod:`gex_warehouse.readonly`); before the
first snapshot exists, the warehouse itself read-only (same sandbox), which works when no writer holds it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import duckdb
import pyarrow as pa

from gex_warehouse.config import STORAGE_VERSION, code_version, warehouse_path
from gex_warehouse.connect import WarehouseError, WarehouseLockedError, check_warehouse_file, quote_ident, rollback
from gex_warehouse.export import PARTITION_COLUMN, exports_path, published_views
from gex_warehouse.export_plan import ExportPlan, plan_export, view_inputs
from gex_warehouse.paths import fsync
from gex_warehouse.readonly import open_sandboxed

#: Suffix replacing ``.duckdb``: ``gex.duckdb`` -> ``gex.published.duckdb``.
SNAPSHOT_SUFFIX = ".published.duckdb"
#: Table of the snapshot describing it (not a published view).
INFO_TABLE = "snapshot_info"
#: Default minimum seconds between two refreshes during a long job (:class:`ThrottledRefresh`).
REFRESH_INTERVAL_SECONDS = 15.0


class SnapshotError(WarehouseError):
    """The snapshot could not be written (the warehouse itself is untouched)."""


@dataclass(frozen=True)
class SnapshotResult:
    """One refresh: the snapshot file, its tables (published views copied), their total rows, wall seconds."""

    path: Path
    tables: tuple[str, ...]
    rows: int
    seconds: float


def snapshot_path(warehouse: str | PathLike[str] | None = None) -> Path:
    """The snapshot beside the warehouse file.

    >>> snapshot_path("/data/gex.duckdb")
    PosixPath('/data/gex.published.duckdb')
    """
    target = warehouse_path(warehouse)
    return target.with_name(target.stem + SNAPSHOT_SUFFIX)


#: Schema of the snapshot's tables (every preset); ``main`` holds views over them with the preset filter.
DATA_SCHEMA = "data"


def _literal(text: str) -> str:
    # COMMENT ON takes no bound parameter; comments come from our own catalogue, quoted all the same
    return "'" + text.replace("'", "''") + "'"


def _schema_level(con: duckdb.DuckDBPyConnection) -> int | None:
    try:
        from gex_warehouse.migrate import applied

        done = applied(con)
    except duckdb.Error:
        return None
    return max(done) if done else None


#: Schema of the snapshot's own bookkeeping: what it holds (:data:`STATE_TABLE`) and how it was built
#: (:data:`META_TABLE`); not a published view.
STATE_SCHEMA = "meta"
#: (underlying, session, fingerprint) of every pair the snapshot holds, as ``mart.export_state`` for the exports.
STATE_TABLE = "snapshot_state"
#: One row: the catalogue signature the snapshot was built under and the incremental refreshes since its full build.
META_TABLE = "snapshot_meta"
#: A full rebuild after this many incremental refreshes, so the space of deleted rows is given back (DuckDB
#: reuses freed blocks but never shrinks a file) and any drift would not outlive a few weeks of nights.
REBUILD_EVERY = 20


def refresh_snapshot(con: duckdb.DuckDBPyConnection, warehouse: str | PathLike[str] | None, *,
                     full: bool = False) -> SnapshotResult:
    """Refresh the published snapshot of ``warehouse`` from the writer's connection ``con``.

    Every view of the warehouse's ``main`` schema (enumerated from the catalogue: a new view is included
    without code changes) becomes a table of the same name, with its comments; ``snapshot_info`` holds one
    row per table (rows, generation instant in UTC, warehouse path, schema migration level). Built in a
    temporary file in the snapshot's folder (storage version :data:`STORAGE_VERSION`, so duckdb-cli 1.5
    reads it), then atomically renamed onto :func:`snapshot_path`.

    **Incremental**: when a snapshot exists, was built under the same catalogue (views, comments, schema
    level: :func:`_signature`) and fewer than :data:`REBUILD_EVERY` refreshes ago in full, the temporary file is
    a copy of it in which only the out-of-date sessions are replaced, view by view, as the exports decide
    (:func:`gex_warehouse.export_plan.plan_export` against the snapshot's own :data:`STATE_TABLE`); views
    without a session column are replaced whole. So a night costs a file copy and the new sessions' rows, not
    a re-evaluation of every view over the whole history. ``full``, or anything unexpected in the old
    snapshot (missing, damaged, another version's), rebuilds it whole.

    Raises
    ------
    SnapshotError
        The copy or the rename failed (the previous snapshot, if any, is left as it was).
    """
    started = time.perf_counter()
    target = snapshot_path(warehouse)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    alias = f"gex_snapshot_{uuid.uuid4().hex[:12]}"
    cur = con.cursor()  # its own transaction, whatever the caller's connection is doing
    attached = False
    try:
        source = cur.execute("SELECT current_database()").fetchall()[0][0]
        views = published_views(cur)
        signature = _signature(cur, source)
        refreshes = None if full else _incremental_base(cur, target, signature)
        if refreshes is not None:
            shutil.copyfile(target, temporary)
        cur.execute(f"ATTACH ? AS {alias} (STORAGE_VERSION '{STORAGE_VERSION}')", [str(temporary)])
        attached = True
        if refreshes is not None:
            counts = _apply_changes(cur, alias, source, views, refreshes + 1, warehouse)
        else:
            counts = _build_whole(cur, alias, source, views, signature, warehouse)
        cur.execute(f"CHECKPOINT {alias}")
        cur.execute(f"DETACH {alias}")
        attached = False
        fsync(temporary)
        os.replace(temporary, target)  # atomic: readers see the old file or the new one, never a mix
        fsync(target.parent)
    except (duckdb.Error, OSError) as exc:
        message = " ".join(str(exc).split())
        raise SnapshotError(f"could not write the published snapshot {target}: {message}") from None
    finally:
        if attached:
            with contextlib.suppress(duckdb.Error):  # already failing: the temporary file goes below
                cur.execute(f"DETACH {alias}")
        cur.close()
        for leftover in (temporary, temporary.with_name(temporary.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return SnapshotResult(target, tuple(counts), sum(counts.values()), time.perf_counter() - started)


_EXCLUDE = re.compile(r"EXCLUDE \(([^()]*)\)")


def _signature(cur: duckdb.DuckDBPyConnection, source: str) -> str:
    """MD5 of what the snapshot's shape and meaning follow: every view's SQL (any schema: a changed ``core``
    view changes the published rows), the published views' and columns' comments, the schema level and the
    code version (a new release rebuilds the snapshot whole).

    DuckDB prints an ``EXCLUDE (a, b)`` list in an order that changes from process to process (a set), so
    each list is sorted before hashing.
    """
    views = cur.execute(
        "SELECT schema_name, view_name, coalesce(sql, ''), coalesce(comment, '') FROM duckdb_views() "
        "WHERE database_name = ? AND NOT internal AND NOT temporary ORDER BY schema_name, view_name", [source]
    ).fetchall()
    columns = cur.execute(
        "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE database_name = ? "
        "AND schema_name = 'main' AND comment IS NOT NULL ORDER BY table_name, column_index", [source]
    ).fetchall()
    digest = hashlib.md5()
    for schema, view, sql, comment in views:
        sql = _EXCLUDE.sub(lambda m: "EXCLUDE (" + ", ".join(sorted(x.strip() for x in m.group(1).split(","))) + ")", sql)
        digest.update(f"{schema}.{view}|{sql}|{comment}#".encode())
    for row in columns:
        digest.update("|".join(map(str, row)).encode() + b"#")
    digest.update(f"{_schema_level(cur)}|{code_version()}".encode())
    return digest.hexdigest()


def _incremental_base(cur: duckdb.DuckDBPyConnection, target: Path, signature: str) -> int | None:
    """Incremental refreshes since the existing snapshot's full build, or ``None`` when it must be rebuilt
    whole (none yet, unreadable, built by an earlier version or under another catalogue, or due)."""
    if not target.is_file():
        return None
    alias = f"gex_snapshot_old_{uuid.uuid4().hex[:12]}"
    try:
        cur.execute(f"ATTACH ? AS {alias} (READ_ONLY)", [str(target)])
    except duckdb.Error:
        return None  # damaged or not a database: rebuilt whole
    try:
        row = cur.execute(f"SELECT signature, incremental_refreshes FROM {alias}.{STATE_SCHEMA}.{META_TABLE}").fetchall()
        cur.execute(f"SELECT underlying, session, fingerprint FROM {alias}.{STATE_SCHEMA}.{STATE_TABLE} LIMIT 0")
    except duckdb.Error:
        return None  # a snapshot of an earlier version (no bookkeeping)
    finally:
        cur.execute(f"DETACH {alias}")
    if len(row) != 1 or row[0][0] != signature or row[0][1] >= REBUILD_EVERY - 1:
        return None
    return int(row[0][1])


def _build_whole(cur: duckdb.DuckDBPyConnection, alias: str, source: str, views: list[str], signature: str,
                 warehouse: str | PathLike[str] | None) -> dict[str, int]:
    """Copy every published view into the empty database ``alias``; returns rows per view."""
    level = _schema_level(cur)
    comments = dict(cur.execute(
        "SELECT view_name, comment FROM duckdb_views() WHERE database_name = ? AND schema_name = 'main'", [source]
    ).fetchall())
    columns = cur.execute(
        "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE database_name = ? "
        "AND schema_name = 'main' AND comment IS NOT NULL ORDER BY table_name, column_index", [source]
    ).fetchall()
    generated = dt.datetime.now(dt.timezone.utc)
    counts: dict[str, int] = {}
    # Every preset's rows are copied (the views filter by the session variable `preset`); in the snapshot
    # each published name is a view over its table in schema `data` with the same filter, so readers get
    # native rows unless they ask (`gex sql --preset`, SET VARIABLE preset = '...').
    cur.execute(f"CREATE SCHEMA {alias}.{DATA_SCHEMA}")
    cur.execute(f"CREATE SCHEMA {alias}.{STATE_SCHEMA}")
    with _every_preset_in_one_transaction(cur):
        plan = plan_export(cur, force=True)  # in the same read snapshot as the rows
        for view in views:
            table = f"{alias}.{DATA_SCHEMA}.{quote_ident(view)}"
            cur.execute(f"CREATE TABLE {table} AS SELECT * FROM {quote_ident(source)}.main.{quote_ident(view)}")
            counts[view] = int(cur.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
            has_preset = "preset" in cur.table(table).columns
            # preset NULL: a row of no computation (vol_context's bar without a chain), shown under every preset
            # as the warehouse's view shows it
            where = (" WHERE preset IS NULL OR coalesce(getvariable('preset'), 'native') IN (preset, '*')"
                     if has_preset else "")
            cur.execute(f"CREATE VIEW {alias}.main.{quote_ident(view)} AS SELECT * FROM {DATA_SCHEMA}.{quote_ident(view)}{where}")
            if comments.get(view):
                cur.execute(f"COMMENT ON VIEW {alias}.main.{quote_ident(view)} IS {_literal(comments[view])}")
                cur.execute(f"COMMENT ON TABLE {table} IS {_literal(comments[view])}")
        for view, column, comment in columns:
            if view in counts and comment:
                cur.execute(f"COMMENT ON COLUMN {alias}.main.{quote_ident(view)}.{quote_ident(column)} IS {_literal(comment)}")
        cur.execute(
            f"CREATE TABLE {alias}.main.{INFO_TABLE} (table_name VARCHAR NOT NULL, row_count BIGINT NOT NULL, "
            "generated_at TIMESTAMPTZ NOT NULL, warehouse VARCHAR NOT NULL, schema_version INTEGER)"
        )
        cur.executemany(
            f"INSERT INTO {alias}.main.{INFO_TABLE} VALUES (?, ?, ?, ?, ?)",
            [[view, n, generated, str(Path(warehouse_path(warehouse)).resolve()), level] for view, n in counts.items()],
        )
        cur.execute(f"COMMENT ON TABLE {alias}.main.{INFO_TABLE} IS "
                    f"{_literal('When this published snapshot was taken, from which warehouse; one row per table copied')}")
        cur.execute(f"CREATE TABLE {alias}.{STATE_SCHEMA}.{META_TABLE} (signature VARCHAR NOT NULL, "
                    "incremental_refreshes INTEGER NOT NULL)")
        cur.execute(f"INSERT INTO {alias}.{STATE_SCHEMA}.{META_TABLE} VALUES (?, 0)", [signature])
        cur.execute(f"CREATE TABLE {alias}.{STATE_SCHEMA}.{STATE_TABLE} (underlying VARCHAR NOT NULL, "
                    "session DATE NOT NULL, fingerprint VARCHAR NOT NULL)")
        _record(cur, alias, plan)
    return counts


@contextlib.contextmanager
def _every_preset_in_one_transaction(cur: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Every preset's rows (the views filter by the session variable ``preset``) read in one transaction, so
    the snapshot's tables are one consistent read of the warehouse; committed, or rolled back on any exit."""
    cur.execute("SET VARIABLE preset = '*'")
    cur.execute("BEGIN TRANSACTION")
    try:
        yield
        cur.execute("COMMIT")
    except BaseException:
        rollback(cur)
        raise
    finally:
        cur.execute("RESET VARIABLE preset")


def _record(cur: duckdb.DuckDBPyConnection, alias: str, plan: ExportPlan) -> None:
    """Record the plan's out-of-date pairs as current in the snapshot's :data:`STATE_TABLE` (one frame)."""
    keys = sorted(plan.changed)
    state = pa.table({"underlying": pa.array([u for u, _ in keys], pa.string()),
                      "session": pa.array([s for _, s in keys], pa.date32()),
                      "fingerprint": pa.array([plan.current[k].encode() for k in keys], pa.string())})
    cur.register("_snapshot_state_rows", state)
    try:
        table = f"{alias}.{STATE_SCHEMA}.{STATE_TABLE}"
        cur.execute(f"DELETE FROM {table} AS s USING _snapshot_state_rows AS n "
                    "WHERE s.underlying = n.underlying AND s.session = n.session")
        cur.execute(f"INSERT INTO {table} SELECT underlying, session, fingerprint FROM _snapshot_state_rows")
    finally:
        cur.unregister("_snapshot_state_rows")
    if plan.vanished:
        cur.executemany(f"DELETE FROM {alias}.{STATE_SCHEMA}.{STATE_TABLE} WHERE underlying = ? AND session = ?",
                        [list(k) for k in plan.vanished])


def _apply_changes(cur: duckdb.DuckDBPyConnection, alias: str, source: str, views: list[str], refreshes: int,
                   warehouse: str | PathLike[str] | None) -> dict[str, int]:
    """In ``alias`` (a copy of the last snapshot), replace each view's out-of-date sessions (their rows deleted,
    then copied from the view) and every view without a session column; returns rows per view."""
    generated = dt.datetime.now(dt.timezone.utc)
    state = f"{alias}.{STATE_SCHEMA}.{STATE_TABLE}"
    counts: dict[str, int] = {}
    with _every_preset_in_one_transaction(cur):
        plan = plan_export(cur, state=state)
        inputs = view_inputs(cur)
        for view in views:
            table = f"{alias}.{DATA_SCHEMA}.{quote_ident(view)}"
            published = f"{quote_ident(source)}.main.{quote_ident(view)}"
            if PARTITION_COLUMN not in cur.table(table).columns:
                cur.execute(f"DELETE FROM {table}")
                cur.execute(f"INSERT INTO {table} SELECT * FROM {published}")
            elif days := plan.sessions_for(inputs.get(view, frozenset())):
                cur.register("_snapshot_sessions", pa.table({PARTITION_COLUMN: pa.array(days, pa.date32())}))
                try:
                    cur.execute(f"DELETE FROM {table} WHERE {PARTITION_COLUMN} IN "
                                f"(SELECT {PARTITION_COLUMN} FROM _snapshot_sessions)")
                    cur.execute(f"INSERT INTO {table} SELECT * FROM {published} "
                                f"SEMI JOIN _snapshot_sessions USING ({PARTITION_COLUMN})")
                finally:
                    cur.unregister("_snapshot_sessions")
            counts[view] = int(cur.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
        _record(cur, alias, plan)
        cur.execute(f"UPDATE {alias}.{STATE_SCHEMA}.{META_TABLE} SET incremental_refreshes = ?", [refreshes])
        info = f"{alias}.main.{INFO_TABLE}"
        cur.executemany(f"UPDATE {info} SET row_count = ?, generated_at = ?, warehouse = ? WHERE table_name = ?",
                        [[n, generated, str(Path(warehouse_path(warehouse)).resolve()), view]
                         for view, n in counts.items()])
    return counts


class ThrottledRefresh:
    """Refresh the snapshot at most every ``interval_seconds`` during a long job (a backfill calls it after
    each session written); :meth:`__call__` returns the result, or ``None`` when it was too soon."""

    def __init__(self, con: duckdb.DuckDBPyConnection, warehouse: str | PathLike[str] | None,
                 interval_seconds: float = REFRESH_INTERVAL_SECONDS) -> None:
        self.con, self.warehouse, self.interval = con, warehouse, interval_seconds
        self.last = time.monotonic()

    def __call__(self, *_: object) -> SnapshotResult | None:
        if time.monotonic() - self.last < self.interval:
            return None
        result = refresh_snapshot(self.con, self.warehouse)
        self.last = time.monotonic()
        return result


def open_published(
    warehouse: str | PathLike[str] | None = None, *, exports: str | PathLike[str] | None = None
) -> duckdb.DuckDBPyConnection:
    """A sandboxed read-only connection to the published contract of ``warehouse`` (tables or views named
    as in ``docs/sql-contract.md``, in the ``main`` schema).

    The published snapshot when it exists (never locked by a writer), else the warehouse itself. Both are
    sandboxed (:func:`gex_warehouse.readonly.sandbox`): no file but ``exports`` (default: ``$GEX_EXPORTS``,
    else ``exports/`` beside the warehouse) may be read, no setting changed, instants in UTC.

    Raises
    ------
    WarehouseLockedError
        No snapshot yet and a writer holds the warehouse (the message says so and what writes the snapshot).
    WarehouseError
        No warehouse, or a file that is not a DuckDB database.
    """
    target = warehouse_path(warehouse)
    folder = exports_path(exports, target)
    snapshot = snapshot_path(target)
    check_warehouse_file(target)  # a CSV, a folder, a path under a file: one clear line
    if snapshot.is_file():
        return open_sandboxed(snapshot, exports=folder)
    if not target.is_file():
        raise WarehouseError(f"no warehouse at {target}: load data first with `gex ingest PATH --warehouse {target}`")
    try:
        return open_sandboxed(target, exports=folder)
    except WarehouseLockedError as exc:
        raise WarehouseLockedError(target, exc.cause, True, exc.waited,
                                   prefix=f"no published snapshot yet ({snapshot}); it is written by `gex publish`/`gex "
                                          f"compute` and during `gex backfill`, so readers never wait for a writer. "
                                          f"Until then: ") from None


def opened_file(con: duckdb.DuckDBPyConnection) -> Path:
    """The database file ``con`` reads (the snapshot or the warehouse itself)."""
    row = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return Path(row[0][0]) if row and row[0][0] else Path()


def is_snapshot(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con`` reads a published snapshot (it has :data:`INFO_TABLE`)."""
    return opened_file(con).name.endswith(SNAPSHOT_SUFFIX)
