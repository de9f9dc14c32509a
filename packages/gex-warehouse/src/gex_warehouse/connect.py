"""Opening the warehouse: writers create and migrate it, readers open it read-only.

DuckDB allows **one read-write process per file**, and while it holds the file no other process can open
it, not even read-only. A refused open becomes :class:`WarehouseLockedError`, whose message names the file,
the process holding it and what to do, instead of DuckDB's ``IOException``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from os import PathLike
from pathlib import Path

import duckdb

from gex_warehouse.config import STORAGE_VERSION, warehouse_path
from gex_warehouse.migrate import MigrationError
from gex_warehouse.migrate import migrate as apply_migrations


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened or used (message is meant for people, no traceback needed)."""


class WarehouseUpgradeError(WarehouseError, MigrationError):
    """A writer's open could not bring the warehouse to this version's schema: it was upgraded by a newer version,
    an applied migration file changed, or a migration failed (and was rolled back). Both a :class:`WarehouseError`
    (commands report it in one line, exit 1) and the :class:`~gex_warehouse.migrate.MigrationError` it wraps."""


class WarehouseLockedError(WarehouseError):
    """Another process holds the warehouse file (``cause``: DuckDB's message, naming the holder's PID)."""

    def __init__(self, path: Path, cause: Exception, read_only: bool, waited: float = 0.0, prefix: str = "") -> None:
        super().__init__(prefix + _locked_message(path, cause, read_only, waited))
        self.path, self.cause, self.read_only, self.waited = path, cause, read_only, waited

    def holder(self) -> str:
        """``process 123 (gex backfill ...)``, or ``another process`` when DuckDB did not say."""
        return _holder(self.cause)


_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


def _process_description(pid: int, program: str) -> str:
    """``PID 123 (python -m gex ingest ...)`` from /proc when readable, else DuckDB's program name."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        command = " ".join(a.decode(errors="replace") for a in argv if a)
    except OSError:
        command = ""
    command = command or program
    if len(command) > 100:
        command = command[:97] + "..."
    return f"process {pid} ({command})" if command else f"process {pid}"


def _holder(exc: Exception) -> str:
    match = _LOCK_HOLDER.search(str(exc))
    return _process_description(int(match["pid"]), match["program"]) if match else "another process"


def _locked_message(path: Path, exc: Exception, read_only: bool, waited: float = 0.0) -> str:
    holder = _holder(exc)
    want = "read" if read_only else "write to"
    after = f" (still held after waiting {waited:.0f} s)" if waited >= 1 else ""
    return (
        f"cannot {want} the warehouse {path}: it is in use by {holder}{after}. DuckDB lets one process write a "
        f"warehouse and no other process open it meanwhile. Wait for that process to finish (or stop it), "
        f"then run this again; a warehouse can be read by several read-only processes at once."
    )


def _is_lock_error(exc: Exception) -> bool:
    return "Could not set lock on file" in str(exc)


#: Bytes 8-11 of every DuckDB database file (after an 8-byte checksum of the main header).
DUCKDB_MAGIC = b"DUCK"
_MAGIC_OFFSET = 8


def _looks_like(head: bytes) -> str:
    """A guess at what a non-DuckDB file is, for the message."""
    if head.startswith(b"PAR1"):
        return "Parquet"
    if head.startswith((b"PK\x03\x04",)):
        return "a zip/xlsx archive"
    if head.startswith(b"\x1f\x8b"):
        return "gzip-compressed"
    if head.startswith(b"SQLite format 3"):
        return "SQLite"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"{", b"["):
        return "JSON"
    if b"\x00" in head:
        return "binary data"
    sample = head.decode("utf-8", errors="replace")
    return "CSV" if "," in sample or "\t" in sample else "text"


#: File names (without the extension, any case) a warehouse cannot have: DuckDB names the database after the file,
#: and a database named like one of the warehouse's schemas makes ``raw.chain_snapshots`` ambiguous (the
#: migrations fail with "Ambiguous reference to catalog or schema").
CLASHING_FILE_NAMES = frozenset({"raw", "core", "mart", "meta"})


def quote_ident(name: str) -> str:
    """``name`` as a double-quoted SQL identifier (inner quotes doubled), for the names DuckDB takes no bound
    parameter for (schemas, tables, columns)."""
    return '"' + name.replace('"', '""') + '"'


def check_warehouse_file(path: Path) -> None:
    """Refuse a ``path`` that exists and is not a DuckDB database (DuckDB would open some files, e.g. a CSV,
    as an in-memory database that persists nothing), whose folder is not a folder, or whose name clashes with a
    schema (:data:`CLASHING_FILE_NAMES`).

    An empty file is accepted: DuckDB initialises it as a new database.

    Raises
    ------
    WarehouseError
        One line naming the path and what to give instead.
    """
    if path.stem.lower() in CLASHING_FILE_NAMES:
        raise WarehouseError(f"cannot use the warehouse {path}: DuckDB names a database after its file, and "
                             f"{path.stem!r} is also the name of one of the warehouse's schemas, which makes every "
                             f"query of it ambiguous; give another name, e.g. {path.with_name('gex.duckdb')}")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise WarehouseError(f"cannot use the warehouse {path}: {parent} is a file, not a folder; give a path "
                                     f"inside a folder, e.g. warehouse/gex.duckdb")
            break
    if not path.exists():
        return
    if path.is_dir():
        raise WarehouseError(f"the warehouse {path} is a folder; give a DuckDB file path, e.g. {path / 'gex.duckdb'}")
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        raise WarehouseError(f"cannot read the warehouse {path}: {exc.strerror or exc}") from None
    if head and head[_MAGIC_OFFSET:_MAGIC_OFFSET + len(DUCKDB_MAGIC)] != DUCKDB_MAGIC:
        raise WarehouseError(f"{path} is not a DuckDB warehouse file (it looks like {_looks_like(head)}); "
                             f"give a .duckdb path (a new one is created)")


def _create(path: Path, *, migrated: bool) -> None:
    """Create a new warehouse file in :data:`STORAGE_VERSION` format (readable by duckdb-cli 1.5): a copy of the
    migrated empty template when ``migrated`` (:mod:`gex_warehouse.template_cache`; the caller's migration then
    finds nothing to do), else (or without a usable template) an empty file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(f"cannot create the warehouse {path}: {exc.strerror or exc} ({path.parent})") from None
    if migrated:
        from gex_warehouse.template_cache import create_from_template

        if create_from_template(path):
            return
    _create_empty(path)


def _create_empty(path: Path) -> None:
    """Create an empty DuckDB file in :data:`STORAGE_VERSION` format at ``path`` (its folder exists)."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH ? AS new_warehouse (STORAGE_VERSION '{STORAGE_VERSION}')", [str(path)])
        con.execute("DETACH new_warehouse")
    finally:
        con.close()


def connect(
    path: str | PathLike[str] | None = None,
    *,
    read_only: bool = False,
    migrate: bool = True,
    memory_limit: str | None = None,
    wait_seconds: float = 0.0,
    on_wait: Callable[[WarehouseLockedError], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse.

    Parameters
    ----------
    path:
        Warehouse file; ``None`` resolves it with :func:`gex_warehouse.config.warehouse_path`.
    read_only:
        Readers pass ``True``: the file must exist and is never modified (no migration).
    migrate:
        Writers apply pending migrations (``sql/``) on open (a no-op when up to date).
    memory_limit:
        DuckDB ``memory_limit`` (e.g. ``"512MB"``, see :func:`gex_warehouse.config.ingest_memory_limit`);
        ``None`` keeps DuckDB's default (80% of the machine's memory).
    wait_seconds:
        While another process holds the file, try again (every ~0.5 s) for up to this long before raising
        :class:`WarehouseLockedError` (0: fail at once). Scheduled jobs wait so that overlapping runs queue.
    on_wait:
        Called once, with the refusal (:meth:`WarehouseLockedError.holder` names the holder), when the
        first attempt finds the file held and ``wait_seconds`` > 0, before waiting: say so to the user.

    Raises
    ------
    WarehouseLockedError
        When another process holds the file.
    WarehouseError
        When a read-only open finds no file, the file is not a DuckDB database (checked by its header, see
        :func:`check_warehouse_file`), the path is a folder or its parent is a file.
    """
    target = warehouse_path(path)
    check_warehouse_file(target)
    if read_only and not target.is_file():
        raise WarehouseError(f"no warehouse at {target}: load data first with `gex ingest PATH --warehouse {target}`")
    started = time.monotonic()
    told = False
    while True:
        try:
            return _open(target, read_only=read_only, migrate=migrate, memory_limit=memory_limit)
        except WarehouseLockedError as refused:
            waited = time.monotonic() - started
            if on_wait is not None and not told and wait_seconds > waited:
                told = True
                on_wait(refused)
            if waited >= wait_seconds:
                if waited < 1:
                    raise
                try:  # one last attempt, so the message names the current holder and says how long we waited
                    return _open(target, read_only=read_only, migrate=migrate, memory_limit=memory_limit)
                except WarehouseLockedError as exc:
                    raise WarehouseLockedError(target, exc.cause, read_only, waited) from None
            time.sleep(min(0.5, max(0.05, wait_seconds - waited)))


def _open(target: Path, *, read_only: bool, migrate: bool, memory_limit: str | None) -> duckdb.DuckDBPyConnection:
    """One attempt of :func:`connect`."""
    try:
        if not read_only and not target.exists():
            _create(target, migrated=migrate)
        config = {"memory_limit": memory_limit} if memory_limit else {}
        if not read_only:
            # Rows carry their own keys (and source_line); physical order means nothing here, and not
            # preserving it makes bulk inserts ~35% faster (bench/bench_ingest.py).
            config["preserve_insertion_order"] = False
        con = duckdb.connect(str(target), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        if _is_lock_error(exc):
            raise WarehouseLockedError(target, exc, read_only) from None
        raise WarehouseError(f"cannot open the warehouse {target}: {exc}") from None
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open the warehouse {target}: {exc}") from None
    if not read_only and migrate:
        try:
            apply_migrations(con)
        except MigrationError as exc:
            con.close()
            raise WarehouseUpgradeError(f"cannot open the warehouse {target} for writing: {exc}") from None
        except BaseException:
            con.close()
            raise
    return con


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """``ROLLBACK`` the transaction a failed block opened, for its ``except`` clause: none open is no error. A
    ``COMMIT`` that failed (out of memory, disk full) has already ended the transaction; a second error from the
    rollback would hide the one that says what went wrong."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


def storage_version(con: duckdb.DuckDBPyConnection) -> str:
    """Storage format of the connection's database file, e.g. ``"v1.4.0+"``."""
    row = con.execute(
        "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()
    return str(row[0][0]) if row and row[0][0] is not None else ""
