"""Compact a warehouse file: copy its rows into a fresh file and swap it in, giving back the space DuckDB keeps.

Why: DuckDB reuses the blocks freed by deletes, replaced snapshots and dropped tables for later writes, but never
shrinks the file. A warehouse upgraded by migration 0010 (the detail marts without their key indexes) keeps its
old size: a 5,000-underlying session's 1.1 GB where a fresh build is 0.24 GB, a whole-market year ~226 GB where
~56 GB would do (``docs/warehouse.md``).

How (:func:`compact`), holding the warehouse as its writer the whole time:

1. open the warehouse (upgrading it like every writer), checkpoint it, and measure its blocks; with fewer than
   :data:`MIN_FREE_SHARE` of them or :data:`MIN_FREE_BYTES` free there is nothing worth reclaiming (unless
   ``force``);
2. check the folder has room for the copy (its used blocks, plus a margin);
3. create a new warehouse beside it (``.<name>.compact-<id>.tmp``, the same migrated schema), check that both
   have the same tables, columns, views and macros (a table, view or macro someone added by hand would be lost:
   refused, never dropped), then copy every base table's rows, one table at a time;
4. check every table of the copy against the original: the row count and the sum of the rows' hashes;
5. checkpoint and close the copy, open it again (its lock stops anyone from opening it before the swap), fsync
   it, and ``os.replace`` it onto the warehouse's path; then close the original (its space is freed when closed).

A failure or Ctrl-C before the swap deletes the copy and leaves the warehouse as it was; the swap is one rename,
so there is no moment without a whole warehouse at the path. A copy left by a killed run is deleted by the next
compaction. Readers of the published snapshot are unaffected (another file, and the rows do not change).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import duckdb

from gex_warehouse.config import warehouse_path
from gex_warehouse.connect import WarehouseError, WarehouseLockedError, connect, quote_ident, rollback
from gex_warehouse.load import checkpoint, pause_for_tests
from gex_warehouse.paths import fsync

#: A compaction is skipped (``force`` runs it anyway) when fewer than this share of the file's blocks are free, or
#: fewer than :data:`MIN_FREE_BYTES`: a small file always has a few free blocks (DuckDB's 256 KiB blocks and its
#: metadata), and a copy of a big one for a few percent is not worth its time.
MIN_FREE_SHARE = 0.10
MIN_FREE_BYTES = 32 * 2**20
#: Free space the copy needs beyond the original's used blocks (DuckDB's own files, metadata), bytes.
SPACE_MARGIN_BYTES = 64 * 2**20


class CompactError(WarehouseError):
    """The warehouse cannot be compacted as it is (it is left unchanged)."""


@dataclass(frozen=True)
class CompactResult:
    """What :func:`compact` did: sizes in bytes, tables and rows copied (and checked), seconds taken; ``skipped``
    when too little of the file was free (:data:`MIN_FREE_SHARE`, :data:`MIN_FREE_BYTES`; nothing copied)."""

    path: Path
    bytes_before: int
    bytes_after: int
    free_share_before: float
    tables: int
    rows: int
    seconds: float
    skipped: bool


@dataclass(frozen=True)
class _Blocks:
    block_size: int
    total: int
    used: int
    free: int

    @property
    def free_share(self) -> float:
        return self.free / self.total if self.total else 0.0


def _blocks(con: duckdb.DuckDBPyConnection) -> _Blocks:
    """The current database's block counts (``PRAGMA database_size``)."""
    cur = con.execute("PRAGMA database_size")
    names = [d[0] for d in cur.description]
    row = dict(zip(names, cur.fetchall()[0], strict=True))
    return _Blocks(int(row["block_size"]), int(row["total_blocks"]), int(row["used_blocks"]), int(row["free_blocks"]))


def leftovers(target: Path) -> list[Path]:
    """Copies (and their write-ahead logs) a killed compaction of ``target`` left in its folder."""
    return sorted(target.parent.glob(f".{target.name}.compact-*.tmp*"))


def _catalogue(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, set[tuple[str, ...]]]:
    """Base tables with their columns and types, views and macros of ``database`` (the user's objects: what a
    fresh warehouse of the same version must have too)."""
    columns = con.execute(
        "SELECT c.schema_name, c.table_name, c.column_name, c.data_type FROM duckdb_columns() AS c "
        "JOIN duckdb_tables() AS t ON t.database_name = c.database_name AND t.schema_name = c.schema_name "
        "AND t.table_name = c.table_name WHERE c.database_name = ? AND NOT t.temporary", [database]).fetchall()
    views = con.execute("SELECT schema_name, view_name FROM duckdb_views() WHERE database_name = ? "
                        "AND NOT internal AND NOT temporary", [database]).fetchall()
    macros = con.execute("SELECT DISTINCT schema_name, function_name FROM duckdb_functions() "
                         "WHERE database_name = ? AND NOT internal", [database]).fetchall()
    return {"tables": {c[:2] for c in columns}, "columns": set(columns), "views": set(views), "macros": set(macros)}


def _check_same_schema(con: duckdb.DuckDBPyConnection, source: str, copy: str, target: Path) -> list[tuple[str, str]]:
    """The base tables ``(schema, table)`` to copy; :class:`CompactError` naming the first object the warehouse
    has and a fresh one of the same version lacks (or the reverse)."""
    have, fresh = _catalogue(con, source), _catalogue(con, copy)
    what = {"tables": "table", "columns": "column", "views": "view", "macros": "macro"}
    for kind in what:  # tables first: a table of one's own is named as such, not by its first column
        extra, missing = sorted(have[kind] - fresh[kind]), sorted(fresh[kind] - have[kind])
        if extra or missing:
            item = extra[0] if extra else missing[0]
            name = ".".join(item[:3] if kind == "columns" else item)
            where = "is not part of gex's schema" if extra else "is missing from it"
            raise CompactError(
                f"cannot compact {target}: the {what[kind]} {name} {where} (a fresh warehouse of this version "
                f"{'lacks' if extra else 'has'} it); compacting copies gex's own tables only, so it refuses rather "
                "than drop or invent anything: move your own objects to another database first")
    return sorted({(schema, table) for schema, table, _, _ in have["columns"]})


def _fingerprint(con: duckdb.DuckDBPyConnection, database: str, schema: str, table: str) -> tuple[int, int]:
    """(rows, sum of the rows' hashes) of one table: equal for equal multisets of rows, whatever their order."""
    name = f"{quote_ident(database)}.{quote_ident(schema)}.{quote_ident(table)}"
    count, total = con.execute(f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM {name} AS t").fetchall()[0]
    return int(count), int(total)


def compact(
    path: str | PathLike[str] | None = None,
    *,
    force: bool = False,
    wait_seconds: float = 0.0,
    on_wait: Callable[[WarehouseLockedError], None] | None = None,
    on_table: Callable[[str, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    connection_wrapper: Callable[[duckdb.DuckDBPyConnection], contextlib.AbstractContextManager[object]] | None = None,
    memory_limit: str | None = None,
) -> CompactResult:
    """Compact the warehouse at ``path`` (default :func:`gex_warehouse.config.warehouse_path`); see the module
    docstring for the steps and guarantees.

    ``on_table(name, done, total)`` is called after each table is copied; ``should_stop()`` is asked between
    tables (``True``: the copy is deleted and :class:`InterruptedError` raised); ``connection_wrapper(con)`` wraps
    the copying statements (the CLI marks the connection busy, so Ctrl-C interrupts a long statement);
    ``memory_limit``: DuckDB's, as :func:`gex_warehouse.connect.connect` takes it (the copy streams).

    Raises :class:`CompactError` (or another :class:`WarehouseError`: none, locked, not a warehouse) with the
    warehouse unchanged; a DuckDB error during the copy (a full disk) becomes a :class:`CompactError`.
    """
    started = time.perf_counter()
    target = warehouse_path(path)
    if not target.is_file():
        raise WarehouseError(f"no warehouse at {target}: nothing to compact")
    con = connect(target, wait_seconds=wait_seconds, on_wait=on_wait, memory_limit=memory_limit)
    copy = target.parent / f".{target.name}.compact-{uuid.uuid4().hex[:12]}.tmp"
    swapped = False
    try:
        for stale in leftovers(target):  # a killed run's copy: we hold the warehouse, so no compaction is running
            stale.unlink(missing_ok=True)
        checkpoint(con)
        before = target.stat().st_size
        blocks = _blocks(con)
        worth = blocks.free_share >= MIN_FREE_SHARE and blocks.free * blocks.block_size >= MIN_FREE_BYTES
        if not worth and not force:
            return CompactResult(target, before, before, blocks.free_share, 0, 0, time.perf_counter() - started, True)
        needed = blocks.used * blocks.block_size + SPACE_MARGIN_BYTES
        free = shutil.disk_usage(target.parent).free
        if free < needed:
            raise CompactError(f"cannot compact {target}: the copy needs ~{needed / 2**20:,.0f} MiB free in "
                               f"{target.parent}, which has {free / 2**20:,.0f} MiB")
        source = con.execute("SELECT current_database()").fetchall()[0][0]
        connect(copy).close()  # a fresh warehouse of this version (the migrated template, or the migrations)
        alias = "gex_compact_" + uuid.uuid4().hex[:12]
        con.execute(f"ATTACH ? AS {alias}", [str(copy)])
        try:
            tables = _check_same_schema(con, source, alias, target)
            # the rows in the original's physical order (writers turn this off for speed): the copy keeps the
            # layout its zone maps were built on (raw rows by load, marts by snapshot), so queries stay as fast
            con.execute("SET preserve_insertion_order = true")
            rows = _copy_tables(con, source, alias, tables, on_table, should_stop, connection_wrapper)
            con.execute(f"CHECKPOINT {alias}")
        finally:
            with contextlib.suppress(duckdb.Error):
                con.execute(f"DETACH {alias}")
        # the copy reopened by this process before the swap: its lock keeps every other process out of the new
        # file until we are done, as the original's lock kept them out of the old one
        holder = duckdb.connect(str(copy))
        try:
            # DuckDB finds a database's log by its path: one left at the warehouse's path would be replayed into
            # the new file. The checkpoint above emptied it and nothing since wrote to the original.
            wal = target.with_name(target.name + ".wal")
            if wal.exists() and wal.stat().st_size:
                raise CompactError(f"cannot compact {target}: its write-ahead log {wal} is not empty after a "
                                   "checkpoint; nothing was changed")
            fsync(copy)
            os.replace(copy, target)
            swapped = True
            fsync(target.parent)
            con.close()  # the old file, unlinked: its space is freed now; the holder still guards the new one
        finally:
            holder.close()
    except BaseException as exc:
        if not swapped:
            for leftover in (copy, copy.with_name(copy.name + ".wal")):
                leftover.unlink(missing_ok=True)
        if isinstance(exc, duckdb.Error) and not isinstance(exc, duckdb.InterruptException):
            message = " ".join(str(exc).split())
            raise CompactError(f"cannot compact {target}: {message}; the warehouse is unchanged") from None
        raise
    finally:
        con.close()  # a no-op when already closed
    return CompactResult(target, before, target.stat().st_size, blocks.free_share, len(tables), rows,
                         time.perf_counter() - started, False)


def _copy_tables(con: duckdb.DuckDBPyConnection, source: str, alias: str, tables: list[tuple[str, str]],
                 on_table: Callable[[str, int, int], None] | None, should_stop: Callable[[], bool] | None,
                 wrapper: Callable[[duckdb.DuckDBPyConnection], contextlib.AbstractContextManager[object]] | None) -> int:
    """Copy every table's rows into ``alias`` (replacing the fresh file's seeded rows: settings, templates, the
    migration log) and check each against the original; returns the rows copied."""
    rows = 0
    for done, (schema, table) in enumerate(tables, start=1):
        if should_stop is not None and should_stop():
            raise InterruptedError("compaction stopped before the copy was complete")
        src = f"{quote_ident(source)}.{quote_ident(schema)}.{quote_ident(table)}"
        dst = f"{alias}.{quote_ident(schema)}.{quote_ident(table)}"
        with wrapper(con) if wrapper is not None else contextlib.nullcontext():
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(f"DELETE FROM {dst}")
                con.execute(f"INSERT INTO {dst} BY NAME SELECT * FROM {src}")
                pause_for_tests()  # test hook (unset in normal use): lets a test stop or kill the copy mid-way
                con.execute("COMMIT")
            except BaseException:
                rollback(con)
                raise
            original, copied = _fingerprint(con, source, schema, table), _fingerprint(con, alias, schema, table)
        if original != copied:
            raise CompactError(f"compaction aborted: {schema}.{table} copied as {copied[0]:,} rows that differ from "
                               f"the original's {original[0]:,} (row hashes differ); the warehouse is unchanged")
        rows += original[0]
        if on_table is not None:
            on_table(f"{schema}.{table}", done, len(tables))
    return rows
