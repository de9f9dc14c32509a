"""The warehouse's single writer inside one process: open once per job, lend cursors to its steps.

DuckDB allows one read-write process per file. A job (a flow run) that opened and closed the file for every
step would let another job slip in between two steps and fail half-way; it would also pay the open, the
migration check and a checkpoint per step. So a job *holds* the warehouse for its whole run
(:func:`hold`): the file stays locked until it ends, a second job waits for it (``wait_seconds``) or fails
with :class:`gex_warehouse.connect.WarehouseLockedError`, and each step borrows a cursor (:func:`writer`).

Thread safety: every borrow gets its own cursor (DuckDB cursors are separate connections to the same
database and may be used from different threads).

Interrupts: a connection lent to a step, or marked with :func:`busy`, is *busy*. A signal handler asks
:func:`interrupt_busy` to abort the DuckDB statements running on busy connections (``con.interrupt()``:
the statement fails with ``duckdb.InterruptException`` and its transaction rolls back) and, while anything
is busy, must not raise an exception itself: one raised while DuckDB runs a statement only surfaces when
the statement has finished, as ``RuntimeError: Query interrupted`` (checked with duckdb 2.0).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from os import PathLike
from pathlib import Path

import duckdb

from gex_warehouse.config import warehouse_path
from gex_warehouse.connect import WarehouseLockedError, connect
from gex_warehouse.load import checkpoint

_lock = threading.Lock()
#: path -> [connection, number of nested holds]
_held: dict[Path, list] = {}
#: id(connection) -> (connection, interruptible) for the connections doing warehouse work right now
_busy: dict[int, tuple[duckdb.DuckDBPyConnection, bool]] = {}


@contextmanager
def busy(con: duckdb.DuckDBPyConnection, *, interruptible: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """Mark ``con`` as doing warehouse work while the block runs (see the module docstring); with
    ``interruptible=False`` (a checkpoint, a close) :func:`interrupt_busy` leaves its statements alone."""
    key = id(con)
    with _lock:
        outer = _busy.get(key)
        _busy[key] = (con, interruptible and (outer is None or outer[1]))
    try:
        yield con
    finally:
        with _lock:
            if outer is None:
                _busy.pop(key, None)
            else:
                _busy[key] = outer


def is_busy() -> bool:
    """Whether some connection of this process is doing warehouse work (see :func:`busy`)."""
    return bool(_busy)  # a read of a dict's size is atomic: callable from a signal handler


def interrupt_busy() -> int:
    """Abort the statement running on every interruptible busy connection (none running: no effect).
    Returns how many connections were asked. Safe from a signal handler (takes no lock: a handler may run
    while this thread holds it)."""
    asked = 0
    for con, interruptible in list(_busy.values()):
        if interruptible:
            try:
                con.interrupt()
                asked += 1
            except Exception:  # noqa: BLE001 - a connection closed meanwhile
                pass
    return asked


@contextmanager
def hold(
    path: str | PathLike[str] | None, *, wait_seconds: float = 0.0, memory_limit: str | None = None,
    on_wait: Callable[[WarehouseLockedError], None] | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Keep the warehouse open for writing in this process while the block runs.

    Nested holds of the same file share one connection; the outermost checkpoints and closes it.
    ``wait_seconds``: how long to wait for another process to release the file; ``on_wait``: told when the
    wait starts (see :func:`connect`).
    """
    target = warehouse_path(path).resolve()
    with _lock:
        entry = _held.get(target)
        if entry is None:
            entry = _held[target] = [connect(target, memory_limit=memory_limit, wait_seconds=wait_seconds,
                                                   on_wait=on_wait), 0]
        entry[1] += 1
    try:
        yield entry[0]
    finally:
        with _lock:
            entry[1] -= 1
            if entry[1] == 0:
                del _held[target]
                _busy[id(entry[0])] = (entry[0], False)  # a Ctrl-C now waits for the checkpoint and the close
                try:
                    checkpoint(entry[0])
                finally:
                    try:
                        entry[0].close()
                    finally:
                        _busy.pop(id(entry[0]), None)


def is_held(path: str | PathLike[str] | None) -> bool:
    """Whether this process holds ``path`` (see :func:`hold`)."""
    with _lock:
        return warehouse_path(path).resolve() in _held


@contextmanager
def writer(path: str | PathLike[str] | None, *, memory_limit: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to write with: a cursor on the held warehouse, or (when nothing holds it) the warehouse
    opened for this block alone, checkpointed and closed after."""
    target = warehouse_path(path).resolve()
    with _lock:
        entry = _held.get(target)
        cursor = entry[0].cursor() if entry is not None else None
    if cursor is not None:
        try:
            with busy(cursor):
                yield cursor
        finally:
            cursor.close()
        return
    con = connect(target, memory_limit=memory_limit)
    try:
        with busy(con):
            yield con
        with busy(con, interruptible=False):
            checkpoint(con)
    finally:
        con.close()
