"""Parquet exports of the published views, hive-partitioned by underlying and session.

Why exports: DuckDB lets one process write the warehouse and no other process open it meanwhile, so
dashboards and notebooks that must not wait for the nightly job read these files instead::

    <exports>/<view>/underlying=SPX/session=2025-01-02/part-0.parquet

The published views are the views of the warehouse's ``main`` schema (``docs/sql-contract.md``); every view
with ``underlying`` and ``session`` columns is partitioned by them (the two columns live in the folder
names, as hive partitioning wants: ``read_parquet('exports/regime_daily/**/*.parquet',
hive_partitioning = true)`` gives them back); a view without them is one file ``<view>/part-0.parquet``.

Incremental and idempotent: ``mart.export_state`` remembers the fingerprint of every exported (underlying,
session) (its chain load, conventions, code version and the schema's migration level). :func:`export`
rewrites the sessions whose fingerprint changed and, because some views look back (realised vol over 21
sessions) or forward (days in regime), every later session of the same underlying as well. Each
partition is written to a temporary folder and renamed into place, so a reader never sees half a file and a
job killed mid-export leaves whole partitions (the state is recorded after the files, so the next run
redoes what was not recorded).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq

from gex_warehouse.config import warehouse_path
from gex_warehouse.paths import UnsafePathError, check_part, safe_child

#: Environment variable naming the exports folder (default: ``exports/`` beside the warehouse file).
ENV_EXPORTS = "GEX_EXPORTS"
#: Partition columns, outermost first.
PARTITION_COLUMNS = ("underlying", "session")
PART_FILE = "part-0.parquet"


def exports_path(explicit: str | PathLike[str] | None = None, warehouse: str | PathLike[str] | None = None) -> Path:
    """The exports folder: ``explicit``, else ``$GEX_EXPORTS``, else ``exports/`` beside the warehouse file.

    >>> exports_path(warehouse="/data/gex.duckdb")
    PosixPath('/data/exports')
    """
    if explicit is not None and str(explicit) != "":
        return Path(explicit)
    env = os.environ.get(ENV_EXPORTS, "").strip()
    return Path(env) if env else warehouse_path(warehouse).parent / "exports"


def published_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the published views (the ``main`` schema's views), sorted."""
    rows = con.execute(
        "SELECT view_name FROM duckdb_views() WHERE database_name = current_database() AND schema_name = 'main' "
        "AND NOT internal AND NOT temporary ORDER BY view_name"
    ).fetchall()
    return [r[0] for r in rows]


def _columns(con: duckdb.DuckDBPyConnection, view: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main' "
        "AND table_name = ? ORDER BY column_index",
        [view],
    ).fetchall()
    return [r[0] for r in rows]


#: ``mart.export_state.preset`` of a partition: it holds the rows of every preset computed.
ALL_PRESETS = "*"


def _fingerprints(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, dt.date], str]:
    """(underlying, session) -> fingerprint of what its exported rows depend on (every preset's rows)."""
    rows = con.execute(
        """
        SELECT underlying, session,
               md5(string_agg(concat_ws('|', coalesce(load_id, ''), preset, CAST(valuation_ts AS VARCHAR),
                                        coalesce(conventions, ''), coalesce(computed_with, '')),
                              '#' ORDER BY preset, valuation_ts)
                   || (SELECT CAST(max(version) AS VARCHAR) FROM meta.schema_migrations))
        FROM mart.regime_daily
        GROUP BY underlying, session
        """
    ).fetchall()
    return {(u, s): f for u, s, f in rows}


def stale_sessions(con: duckdb.DuckDBPyConnection) -> list[tuple[str, dt.date]]:
    """Computed (underlying, session) pairs whose exports are missing or out of date, sorted."""
    done = dict(
        ((u, s), f) for u, s, f in con.execute("SELECT underlying, session, fingerprint FROM mart.export_state").fetchall()
    )
    return sorted(k for k, f in _fingerprints(con).items() if done.get(k) != f)


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export` wrote: the folder, the views, the sessions rewritten and the files written."""

    root: Path
    views: tuple[str, ...]
    sessions: tuple[tuple[str, dt.date], ...]
    files: int
    rows: int


#: Partitions of at least this many rows are zstd-compressed, smaller ones snappy (Parquet's default codec).
ZSTD_MIN_ROWS = 1000


def compression_for(rows: int) -> str:
    """The Parquet codec of a partition of ``rows`` rows. Why: zstd sets up a context per column chunk, ~50 us
    each, so a one-row file of a 47-column view cost 4 ms to write against 1.8 ms with snappy, and a
    whole-market session writes ~100,000 such files; on a few rows zstd saves nothing anyway.

    >>> compression_for(1), compression_for(50_000)
    ('snappy', 'zstd')
    """
    return "zstd" if rows >= ZSTD_MIN_ROWS else "snappy"


def _replace_dir(final: Path, frame: pl.DataFrame | None) -> int:
    """Make ``final`` hold exactly ``frame`` as one Parquet file (no folder when ``frame`` is None/empty),
    swapping folders so that readers see the old or the new partition, never a mix. Returns files written."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".{final.name}.{uuid.uuid4().hex}.tmp"
    retired = final.parent / f".{final.name}.{uuid.uuid4().hex}.old"
    written = 0
    if frame is not None and frame.height:
        staging.mkdir()
        pq.write_table(frame.to_arrow(), staging / PART_FILE, compression=compression_for(frame.height))
        written = 1
    if final.exists():
        final.rename(retired)
    if written:
        staging.rename(final)
    shutil.rmtree(retired, ignore_errors=True)
    return written


def _partition_dir(root: Path, view: str, underlying: str, session: dt.date) -> Path:
    # the underlying comes from file contents: validated at ingest, and checked again here (gex_warehouse.paths)
    return safe_child(root, view, f"underlying={underlying}", f"session={session.isoformat()}")


class _PartitionDirs:
    """:func:`_partition_dir` for many partitions without resolving each path (that walks the file system, ~10
    system calls a path; a whole-market session has ~100,000 partitions). Each ``<exports>/<view>`` is resolved
    and checked once (:func:`safe_child`); the ``underlying=U`` and ``session=D`` names are checked as single
    folder names (:func:`check_part`) and joined to it; an ``underlying=U`` folder that is a symbolic link is
    refused (one ``lstat``), which is what resolving it would catch. The session folder is only ever created,
    renamed or removed inside its parent (``_replace_dir``): a link there would be replaced, never followed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._views: dict[str, Path] = {}

    def __call__(self, view: str, underlying: str, session: dt.date) -> Path:
        base = self._views.get(view)
        if base is None:
            base = self._views[view] = safe_child(self.root, view)
        folder, name = f"underlying={underlying}", f"session={session.isoformat()}"
        check_part(self.root, folder)
        check_part(self.root, name)
        parent = base / folder
        if parent.is_symlink():
            raise UnsafePathError(f"refusing to write outside {self.root}: {view}/{folder} is a symbolic link")
        return parent / name


def rewrite_plan(
    con: duckdb.DuckDBPyConnection, sessions: Iterable[tuple[str, dt.date]] | None = None, *, force: bool = False
) -> list[tuple[str, dt.date]]:
    """The (underlying, session) partitions :func:`export` will rewrite: every computed session from each
    underlying's earliest stale one (or one of ``sessions``) onwards (every computed session with
    ``force``), sorted."""
    fingerprints = _fingerprints(con)
    if force:
        return sorted(fingerprints)
    todo = set(stale_sessions(con)) | {k for k in (sessions or ()) if k in fingerprints}
    start: dict[str, dt.date] = {}
    for u, s in todo:
        start[u] = min(s, start.get(u, s))
    return sorted(k for k in fingerprints if k[0] in start and k[1] >= start[k[0]])


def export(
    con: duckdb.DuckDBPyConnection,
    root: str | PathLike[str],
    sessions: Iterable[tuple[str, dt.date]] | None = None,
    *,
    force: bool = False,
) -> ExportResult:
    """Write the published views of the stale sessions (``sessions``: these as well; ``force``: every
    computed session) to ``root``, with the rows of every preset (the ``preset`` column tells them apart).

    For each underlying, every session from its earliest stale one onwards is rewritten in every
    partitioned view (see the module docstring), then recorded in ``mart.export_state``. Views without the
    partition columns are rewritten whole whenever anything is. Row order in a file is ``ORDER BY ALL``,
    so files are identical when their rows are.
    """
    out = Path(root)
    fingerprints = _fingerprints(con)
    rewrite = rewrite_plan(con, sessions, force=force)
    views = published_views(con)
    if not rewrite:
        return ExportResult(out, tuple(views), (), 0, 0)
    con.execute("SET VARIABLE preset = '*'")  # ALL_PRESETS; the views' filter (core.preset_selected): every preset
    try:
        files, rows = _write_views(con, out, views, rewrite)
    finally:
        con.execute("RESET VARIABLE preset")
    con.execute("BEGIN TRANSACTION")
    try:
        state = pl.DataFrame(
            [(u, s, fingerprints[(u, s)], ALL_PRESETS) for u, s in rewrite],
            schema={"underlying": pl.String, "session": pl.Date, "fingerprint": pl.String, "preset": pl.String},
            orient="row",
        )
        # one statement each, not one per partition (a whole-market night records thousands)
        con.register("_export_state_rows", state)
        try:
            con.execute("DELETE FROM mart.export_state AS e USING _export_state_rows AS n "
                        "WHERE e.underlying = n.underlying AND e.session = n.session")
            con.execute("INSERT INTO mart.export_state (underlying, session, fingerprint, preset) "
                        "SELECT underlying, session, fingerprint, preset FROM _export_state_rows")
        finally:
            con.unregister("_export_state_rows")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return ExportResult(out, tuple(views), tuple(rewrite), files, rows)


def _write_views(con: duckdb.DuckDBPyConnection, out: Path, views: list[str],
                 rewrite: list[tuple[str, dt.date]]) -> tuple[int, int]:
    """Write every view's partitions of ``rewrite`` under ``out``; returns (files, rows) written.

    One query per view for every partition at once (a whole-market night rewrites thousands of underlyings;
    one query per underlying cost ~25 ms each), split by (underlying, session) in memory; the partition files
    are written by a few threads (pyarrow releases the GIL while it encodes and writes). Every partition name
    is checked (:func:`check_part`) before anything is written, every folder as it is written
    (:class:`_PartitionDirs`).
    """
    for u in {u for u, _ in rewrite}:
        check_part(out, f"underlying={u}")  # every name checked before anything is written
    keys = pl.DataFrame(rewrite, schema={"underlying": pl.String, "session": pl.Date}, orient="row")  # noqa: F841
    files = rows = 0
    where = _PartitionDirs(out)
    con.execute("CREATE OR REPLACE TEMP TABLE _export_keys AS SELECT * FROM keys")
    try:
        with ThreadPoolExecutor(max_workers=WRITE_THREADS) as pool:
            for view in views:
                columns = _columns(con, view)
                # view names come from duckdb_views() (the warehouse's own catalogue), never from users
                if not set(PARTITION_COLUMNS) <= set(columns):
                    frame = _query(con, f'SELECT * FROM main."{view}" ORDER BY ALL')
                    files += _replace_dir(safe_child(out, view), frame)
                    rows += frame.height
                    continue
                frame = _query(con, f'SELECT * FROM main."{view}" SEMI JOIN _export_keys USING (underlying, session) '
                                    "ORDER BY ALL")
                parts = frame.partition_by(list(PARTITION_COLUMNS), as_dict=True, maintain_order=True,
                                           include_key=False) if frame.height else {}
                jobs = [pool.submit(_replace_dir, where(view, u, s), parts.get((u, s))) for u, s in rewrite]
                files += sum(j.result() for j in jobs)
                rows += frame.height
    finally:
        con.execute("DROP TABLE IF EXISTS _export_keys")
    return files, rows


#: Threads writing partition files (each file is small: the cost is per file, encoding and file system).
WRITE_THREADS = 4


def _query(con: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame:
    frame = pl.from_arrow(con.sql(sql).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame
