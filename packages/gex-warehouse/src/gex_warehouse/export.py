"""Parquet exports of the published views: one file per view and session, hive-partitioned by session.

Why exports: DuckDB lets one process write the warehouse and no other process open it meanwhile, so
dashboards and notebooks that must not wait for the nightly job read these files instead::

    <exports>/<view>/session=2025-01-02/part-0.parquet

The published views are the views of the warehouse's ``main`` schema (``docs/sql-contract.md``); every view
with a ``session`` column is partitioned by it (the column lives in the folder name only, as hive partitioning
wants: ``read_parquet('exports/regime_daily/**/*.parquet', hive_partitioning = true)`` gives it back typed
DATE); a view without one is one file ``<view>/part-0.parquet``. ``underlying`` is an ordinary column: a file
holds every underlying of its session, its rows sorted by underlying, then by every other column (so files
are identical when their rows are), in row groups of at most :data:`ROW_GROUP_ROWS` rows whose statistics let
a reader filtering ``WHERE underlying = 'SPX'`` skip the others. Why not a folder per underlying as well (the
layout before :data:`EXPORT_LAYOUT` 2): a whole-market session (5,000 underlyings) made ~104,000 small files
and writing them took two minutes, the cost being pyarrow's per file and per column; it is now 21 files.

Incremental and idempotent: ``mart.export_state`` remembers the fingerprint of every exported (underlying,
session), component by component (``gex_warehouse.export_plan``): its computation (chain load, conventions,
code version, the schema's migration level and the export layout) and the later-arriving inputs some views
read (the daily bars before and after it, which rows are the latest, the hedge settings). A changed
computation rewrites that session and, because some views look back or forward over an underlying's sessions
(days in regime), every later session of the underlying, in every view; a changed input rewrites the session
in the views that read it only (a close loaded tonight rewrites ``level_outcomes``' last ~22 sessions, not
``gex_by_strike``'s). A session is rewritten whole, every underlying of it (which also refreshes the
cross-sectional ranks of ``scanner``), and every out-of-date (underlying, session) is recorded as exported
with its new fingerprint. Each file is written to a hidden folder outside the view's folder and renamed into
place, so a reader never sees half a file and a job killed mid-export leaves whole files (the state is
recorded after the files, so the next run redoes what was not recorded).

Exports an earlier version wrote (``<view>/underlying=U/session=D/``): the layout is part of the fingerprint,
so the first export of this version rewrites every computed session and removes each view's ``underlying=*``
folders as it writes the view (:func:`_remove_legacy`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gex_warehouse.config import warehouse_path
from gex_warehouse.connect import rollback
from gex_warehouse.export_plan import EXPORT_LAYOUT as EXPORT_LAYOUT  # re-exported
from gex_warehouse.export_plan import ExportPlan, plan_export, view_inputs
from gex_warehouse.paths import UnsafePathError as UnsafePathError  # re-exported: callers catch it from here
from gex_warehouse.paths import check_part, safe_child

#: Environment variable naming the exports folder (default: ``exports/`` beside the warehouse file).
ENV_EXPORTS = "GEX_EXPORTS"
#: The partition column (a folder level); ``underlying`` is the first sort column inside a file.
PARTITION_COLUMN = "session"
SORT_FIRST = "underlying"
PART_FILE = "part-0.parquet"
#: Folder names of layout 1 directly under a view's folder (:func:`_remove_legacy`).
LEGACY_PREFIX = "underlying="


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


#: ``mart.export_state.preset`` of an exported (underlying, session): its rows of every preset computed.
ALL_PRESETS = "*"


def stale_sessions(con: duckdb.DuckDBPyConnection) -> list[tuple[str, dt.date]]:
    """Computed (underlying, session) pairs whose exports are missing or out of date in some view, sorted."""
    return sorted(plan_export(con).changed)


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export` wrote.

    ``sessions`` is the plan (:func:`rewrite_plan`): the (underlying, session) pairs that changed and the
    later sessions of their underlyings. The levels feed and the alerts downstream take these, so it stays
    the pairs that changed rather than every underlying of a rewritten session. ``rewritten_sessions`` are
    the sessions whose files were rewritten whole (every underlying of them); ``files`` and ``rows`` count
    what was written.
    """

    root: Path
    views: tuple[str, ...]
    sessions: tuple[tuple[str, dt.date], ...]
    files: int
    rows: int
    rewritten_sessions: tuple[dt.date, ...] = ()


#: Files of at least this many rows are zstd-compressed, smaller ones snappy (Parquet's default codec).
ZSTD_MIN_ROWS = 1000
#: Rows per Parquet row group. A reader's ``WHERE underlying = 'SPX'`` reads only the groups whose min/max
#: statistics admit SPX; smaller groups prune finer but compress worse and cost more metadata (measured on a
#: whole-market session in docs/performance.md).
ROW_GROUP_ROWS = 65_536


def compression_for(rows: int) -> str:
    """The Parquet codec of a file of ``rows`` rows. Why: zstd sets up a context per column chunk, ~50 us
    each, which on a file of a few rows (a session of a small universe) costs more than it saves; on a
    whole-market session's files it writes 7% less than snappy (122 against 131 MB, the values are mostly
    doubles) for about the same CPU (2.3 against 2.1 s).

    >>> compression_for(1), compression_for(50_000)
    ('snappy', 'zstd')
    """
    return "zstd" if rows >= ZSTD_MIN_ROWS else "snappy"


def _remove(path: Path) -> None:
    """Remove folder ``path``, or the file or symbolic link ``path`` itself (never what a link points to;
    ``rmtree`` does not follow the links inside a folder either)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _replace_dir(final: Path, table: pa.Table | None, spare: Path) -> int:
    """Make folder ``final`` hold exactly ``table`` as one Parquet file (no folder when ``table`` is None or
    empty), swapping folders so that readers see the old or the new file, never half of one. Returns files
    written.

    The file is written in a hidden folder in ``spare`` (the view folder's parent), and the old folder is
    retired there: not inside the view's folder, because DuckDB's glob ``<view>/**/*.parquet`` does not skip
    hidden folders and would read a file being written. ``spare`` and ``final`` share a file system, so the
    renames are atomic. ``final`` is only ever renamed or removed, never entered: a symbolic link there is
    replaced, not followed.
    """
    tag = f".{final.name}.{uuid.uuid4().hex}"
    staging, retired = spare / f"{tag}.tmp", spare / f"{tag}.old"
    written = 0
    if table is not None and table.num_rows:
        staging.mkdir(parents=True)
        pq.write_table(table, staging / PART_FILE, compression=compression_for(table.num_rows),
                       row_group_size=ROW_GROUP_ROWS)
        written = 1
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.is_symlink() or final.exists():
        final.rename(retired)
    if written:
        staging.rename(final)
    # the new file is in place: a retired folder that will not go is litter (sweep_litter removes it on a later
    # export once it is an hour old), not a failed export
    with contextlib.suppress(OSError):
        _remove(retired)
    return written


#: Staging (``.tmp``) and retired (``.old``) folders of :func:`_replace_dir` older than this are litter of a
#: job killed mid-export (a running export renames or removes its own within seconds), seconds.
LITTER_AGE_SECONDS = 3600.0


def sweep_litter(out: Path, older_than_seconds: float = LITTER_AGE_SECONDS) -> int:
    """Remove :func:`_replace_dir`'s hidden ``.session=...`` folders left in ``out`` by a killed job (outside
    every view's glob, so harmless to readers, but they pile up); returns how many. Only those older than
    ``older_than_seconds``: another warehouse exporting to the same folder right now keeps its own. Links are
    unlinked, never followed; a folder that will not go is left for the next run."""
    if not out.is_dir():
        return 0
    cutoff = time.time() - older_than_seconds
    removed = 0
    with os.scandir(out) as entries:
        litter = [Path(e.path) for e in entries
                  if e.name.startswith(f".{PARTITION_COLUMN}=") and e.name.endswith((".tmp", ".old"))
                  and e.stat(follow_symlinks=False).st_mtime < cutoff]
    for path in litter:
        with contextlib.suppress(OSError):  # one that will not go is tried again on the next export
            _remove(path)
            removed += 1
    return removed


def _session_dir(view_dir: Path, session: dt.date) -> Path:
    """``<view_dir>/session=D``: ``view_dir`` is resolved and checked once (:func:`safe_child`), the session
    name as a single folder name (:func:`check_part`); it is joined, not resolved, as :func:`_replace_dir`
    never enters it."""
    name = f"{PARTITION_COLUMN}={session.isoformat()}"
    check_part(view_dir, name)
    return view_dir / name


def _remove_legacy(view_dir: Path) -> int:
    """Remove the ``underlying=*`` entries directly under ``view_dir`` (layout 1's folders; a symbolic link of
    that name is unlinked, never followed); returns how many. ``view_dir`` is already resolved under the
    exports root, and nothing deeper is looked at, so nothing outside it is touched."""
    if not view_dir.is_dir():
        return 0
    with os.scandir(view_dir) as entries:
        legacy = [Path(e.path) for e in entries
                  if e.name.startswith(LEGACY_PREFIX) and (e.is_symlink() or e.is_dir(follow_symlinks=False))]
    for path in legacy:
        _remove(path)
    return len(legacy)


def rewrite_plan(
    con: duckdb.DuckDBPyConnection, sessions: Iterable[tuple[str, dt.date]] | None = None, *, force: bool = False
) -> list[tuple[str, dt.date]]:
    """The (underlying, session) pairs whose computation changed since their export (or in ``sessions``) and every
    later computed session of their underlyings (every computed pair with ``force``), sorted: the sessions
    :func:`export` rewrites in every view (:class:`gex_warehouse.export_plan.ExportPlan`; the views that read
    later-arriving inputs are rewritten for more sessions)."""
    return list(plan_export(con, sessions, force=force).pairs)


def export(
    con: duckdb.DuckDBPyConnection,
    root: str | PathLike[str],
    sessions: Iterable[tuple[str, dt.date]] | None = None,
    *,
    force: bool = False,
    plan: ExportPlan | None = None,
) -> ExportResult:
    """Write the published views of the stale sessions (``sessions``: these as well; ``force``: every
    computed session) to ``root``, with the rows of every preset (the ``preset`` column tells them apart).

    Each view's files are rewritten, each whole, for the sessions of :func:`rewrite_plan`'s pairs and for those
    where an input the view reads changed (``gex_warehouse.export_plan``: closes behind or ahead, the latest
    sessions, the hedge settings); then every pair that was out of date is recorded in ``mart.export_state``. Views without a ``session`` column are rewritten whole whenever
    anything is. ``plan``: one already made (:func:`gex_warehouse.export_plan.plan_export` with the same
    arguments, nothing written since).
    """
    out = Path(root)
    plan = plan or plan_export(con, sessions, force=force)
    views = published_views(con)
    if plan.empty:
        return ExportResult(out, tuple(views), (), 0, 0)
    inputs = view_inputs(con)
    days_by_view = {view: plan.sessions_for(inputs.get(view, frozenset())) for view in views}
    days = sorted(set().union(*days_by_view.values()))
    sweep_litter(out)
    con.execute("SET VARIABLE preset = '*'")  # ALL_PRESETS; the views' filter (core.preset_selected): every preset
    try:
        files, rows = _write_views(con, out, days_by_view)
    finally:
        con.execute("RESET VARIABLE preset")
    # every pair that was out of date is now current: each view reading what changed in it was rewritten for its
    # session (the other pairs of a rewritten session have their current fingerprints recorded already)
    state = pl.DataFrame(
        [(u, s, plan.current[(u, s)].encode(), ALL_PRESETS) for u, s in sorted(plan.changed)],
        schema={"underlying": pl.String, "session": pl.Date, "fingerprint": pl.String, "preset": pl.String},
        orient="row",
    )
    con.execute("BEGIN TRANSACTION")
    try:
        # one statement each, not one per pair (a whole-market night records thousands)
        con.register("_export_state_rows", state)
        try:
            con.execute("DELETE FROM mart.export_state AS e USING _export_state_rows AS n "
                        "WHERE e.underlying = n.underlying AND e.session = n.session")
            if plan.vanished:
                con.executemany("DELETE FROM mart.export_state WHERE underlying = ? AND session = ?",
                                [list(k) for k in plan.vanished])
            con.execute("INSERT INTO mart.export_state (underlying, session, fingerprint, preset) "
                        "SELECT underlying, session, fingerprint, preset FROM _export_state_rows")
        finally:
            con.unregister("_export_state_rows")
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
    return ExportResult(out, tuple(views), plan.pairs, files, rows, tuple(days))


#: Rows per batch of a view's result stream (a session's rows are gathered from several).
READ_BATCH_ROWS = 1_000_000
#: Threads writing files (pyarrow releases the GIL while it encodes, compresses and writes).
WRITE_THREADS = 4


def _write_views(con: duckdb.DuckDBPyConnection, out: Path, days_by_view: dict[str, list[dt.date]]) -> tuple[int, int]:
    """Write every view's files of its sessions (``days_by_view``) under ``out``; returns (files, rows) written.

    One query per view for all its sessions at once, read as a stream ordered by session (a force-republish of
    a year of a whole market does not fit in memory at once), each session's rows gathered into one table
    and handed to a writer thread. At most :data:`WRITE_THREADS` tables wait for or are in a writer, so the
    memory held is a few sessions of one view, whatever the number of sessions. A view without a ``session``
    column is written whole.
    """
    files = rows = 0
    pending: deque[Future[int]] = deque()
    with ThreadPoolExecutor(max_workers=WRITE_THREADS) as pool:
        for view, days in days_by_view.items():
            columns = _columns(con, view)
            if PARTITION_COLUMN in columns and not days:
                continue
            view_dir = safe_child(out, view)  # resolved once: inside the exports root, or UnsafePathError
            # Layout 1's folders go before the view's new files are written, so that a reader's glob finds
            # one layout at any moment: both at once is a "Hive partition mismatch" error in DuckDB (or
            # every row twice in a reader without hive partitioning). Meanwhile the view lacks the sessions
            # not yet written; a job killed then has recorded nothing, so the next run (its fingerprints
            # still of layout 1) rewrites every session.
            _remove_legacy(view_dir)
            # registered under an explicit name (a replacement scan of a Python variable could resolve to a table)
            con.register("_export_sessions", pa.table({PARTITION_COLUMN: pa.array(days, pa.date32())}))
            try:
                for final, table in _view_files(con, view, columns, view_dir, days):
                    rows += 0 if table is None else table.num_rows
                    pending.append(pool.submit(_replace_dir, final, table, view_dir.parent))
                    while len(pending) > WRITE_THREADS:
                        files += pending.popleft().result()
            finally:
                con.unregister("_export_sessions")
        while pending:
            files += pending.popleft().result()
    return files, rows


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _view_files(con: duckdb.DuckDBPyConnection, view: str, columns: list[str], view_dir: Path,
                days: list[dt.date]) -> Iterator[tuple[Path, pa.Table | None]]:
    """(folder, rows) of every file of ``view`` (its ``columns``) to write: one per session of ``days`` (None: the
    session has no rows, its folder goes), or the view's one file when it has no ``session`` column."""
    # underlying first, then every other column: ORDER BY ALL's order with underlying moved ahead
    order = ", ".join(_quote(c) for c in sorted((c for c in columns if c != PARTITION_COLUMN),
                                                key=lambda c: c != SORT_FIRST))
    # view names come from duckdb_views() (the warehouse's own catalogue), never from users
    if PARTITION_COLUMN not in columns:
        yield view_dir, con.sql(f"SELECT * FROM main.{_quote(view)} ORDER BY {order}").to_arrow_table()
        return
    reader = con.sql(f"SELECT * FROM main.{_quote(view)} SEMI JOIN _export_sessions USING ({PARTITION_COLUMN}) "
                     f"ORDER BY {PARTITION_COLUMN}, {order}").to_arrow_reader(READ_BATCH_ROWS)
    missing = set(days)
    for day, table in _by_session(reader):
        missing.discard(day)
        yield _session_dir(view_dir, day), table.drop_columns([PARTITION_COLUMN])
    for day in sorted(missing):
        yield _session_dir(view_dir, day), None


def _by_session(reader: pa.RecordBatchReader) -> Iterator[tuple[dt.date, pa.Table]]:
    """The rows of each session as one table (one chunk: the bytes written do not depend on how DuckDB
    batched its result), from ``reader`` ordered by session."""
    held: list[pa.RecordBatch] = []
    held_day: dt.date | None = None
    for batch in reader:
        if not batch.num_rows:
            continue
        runs = pc.run_end_encode(batch.column(PARTITION_COLUMN))
        start = 0
        for day, end in zip(runs.values.to_pylist(), runs.run_ends.to_pylist(), strict=True):
            if held and day != held_day:
                yield held_day, pa.Table.from_batches(held).combine_chunks()  # type: ignore[misc]
                held = []
            held.append(batch.slice(start, end - start))
            held_day, start = day, end
    if held:
        yield held_day, pa.Table.from_batches(held).combine_chunks()  # type: ignore[misc]
