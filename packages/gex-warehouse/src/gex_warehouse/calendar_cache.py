"""A copy on disk of the NYSE session table the core's calendar builds from ``exchange_calendars``.

Why: building it costs every process that looks up a session ~2.5 s (pandas, the library and its rules), and
a whole-market ``gex compute`` starts an analysis worker per core besides the command itself. The core does no
I/O, so the cache lives here: :func:`install` (run when :mod:`gex_warehouse` is imported, so by every command,
flow and analysis worker) makes :func:`gex.calendar._session_table` read this copy.

The copy is the library's own output (``np.savez``: sessions as datetime64[D], opens and closes as int64 UTC
epoch microseconds), kept beside numba's compiled kernels (``$NUMBA_CACHE_DIR``, else the core package's
``__pycache__``) under a name that carries everything it depends on: the calendar's span and the versions of
``exchange_calendars`` and ``pandas`` (an upgrade of either builds a new one). Written to a temporary file and
renamed (readers in other processes see the whole file or none); an unreadable or inconsistent copy is ignored
and rewritten; a folder that cannot be written means no copy (the table is built each time, as without it).
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from importlib import metadata
from pathlib import Path

import gex
import numpy as np
from gex import calendar

Table = tuple[np.ndarray, np.ndarray, np.ndarray]


def cache_folder() -> Path:
    """The folder of the project's on-disk caches (this table, the warehouse template of
    :mod:`gex_warehouse.template_cache`): beside numba's compiled kernels, ``$NUMBA_CACHE_DIR``, else the core
    package's ``__pycache__``."""
    return (Path(os.environ["NUMBA_CACHE_DIR"]) if os.environ.get("NUMBA_CACHE_DIR")
            else Path(gex.__file__).resolve().parent / "__pycache__")


def cache_file() -> Path | None:
    """Where the copy is kept; ``None`` when the library versions cannot be read (then nothing is cached)."""
    try:
        versions = "-".join(metadata.version(name) for name in ("exchange_calendars", "pandas"))
    except metadata.PackageNotFoundError:
        return None
    return cache_folder() / f"xnys-sessions-v1-{calendar.CALENDAR_START}-{calendar.CALENDAR_END}-{versions}.npz"


def _read(path: Path) -> Table | None:
    try:
        with np.load(path) as held:
            table = (held["sessions"], held["opens"], held["closes"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # missing or damaged
    ok = (table[0].dtype == np.dtype("datetime64[D]") and table[1].dtype == table[2].dtype == np.dtype(np.int64)
          and len(table[0]) == len(table[1]) == len(table[2]) > 0)
    return table if ok else None


def cached_session_table() -> Table:
    """The session table: the copy on disk when there is a good one (~1 ms), else built by the library and
    saved for the next process."""
    path = cache_file()
    table = _read(path) if path is not None else None
    if table is not None:
        return table
    table = calendar._session_table_from_library()
    if path is not None:
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(partial, "wb") as fh:
                np.savez(fh, sessions=table[0], opens=table[1], closes=table[2])
            os.replace(partial, path)  # whole or absent, whatever other processes read meanwhile
        except OSError:  # a read-only install, a file where the folder goes: built each time, as before
            with contextlib.suppress(OSError):  # no partial file can be there either
                partial.unlink(missing_ok=True)
    return table


def install() -> None:
    """Make the core's calendar read its session table through :func:`cached_session_table`."""
    calendar.use_session_table_source(cached_session_table)
