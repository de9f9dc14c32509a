"""Where the warehouse lives and the few settings every module shares.

Location: ``--warehouse`` (an explicit path) beats the ``GEX_WAREHOUSE`` environment variable, which beats
the default ``warehouse/gex.duckdb`` relative to the current directory.

Storage version: the warehouse is written by DuckDB 2.x but created with storage version
:data:`STORAGE_VERSION` so that the ``duckdb`` shell of PyPI's ``duckdb-cli`` (1.5.x, which cannot read
2.0-format files) opens it; DuckDB keeps a file's storage version when a newer release writes to it.
See ``docs/warehouse.md`` ("Storage version").
"""

from __future__ import annotations

import functools
import os
from importlib import metadata
from os import PathLike
from pathlib import Path

#: Environment variable naming the warehouse file.
ENV_WAREHOUSE = "GEX_WAREHOUSE"
#: Default warehouse file, relative to the current directory.
DEFAULT_WAREHOUSE = Path("warehouse") / "gex.duckdb"
#: Storage format new warehouse files are created with: the newest one duckdb-cli 1.5.x reads.
STORAGE_VERSION = "v1.4.0"
#: Environment variable setting DuckDB's memory limit for ingest (``gex ingest``), e.g. "512MB".
ENV_INGEST_MEMORY = "GEX_WAREHOUSE_MEMORY_LIMIT"
#: DuckDB memory limit while ingesting. Without a limit DuckDB's buffer pool may grow towards 80% of the
#: machine while a multi-GB file streams through; below ~512 MB a one-million-contract append runs twice as
#: slow (measured: 0.5 s at 512 MB, 1.0 s at 256-384 MB).
DEFAULT_INGEST_MEMORY = "512MB"
#: Tighter cap while a file streams many chains (DataShop, IvyDB, canonical): each append is small, and the
#: buffer pool would otherwise fill with cached blocks next to the reader's own buffers (peak resident
#: memory for a 2 GB DataShop file: ~0.98 GB at 512 MB, ~0.84 GB at 256 MB).
STREAMING_INGEST_MEMORY = "256MB"
#: Test-only hook: seconds to sleep between the steps of a load, inside its transaction (see load.py).
ENV_TEST_SLEEP = "GEX_WAREHOUSE_TEST_SLEEP_IN_TRANSACTION"

_PACKAGE_DIR = Path(__file__).resolve().parent


def warehouse_path(explicit: str | PathLike[str] | None = None) -> Path:
    """The warehouse file: ``explicit`` if given, else ``$GEX_WAREHOUSE``, else ``warehouse/gex.duckdb``.

    >>> warehouse_path("/tmp/w.duckdb")
    PosixPath('/tmp/w.duckdb')
    """
    if explicit is not None and str(explicit) != "":
        return Path(explicit)
    env = os.environ.get(ENV_WAREHOUSE, "").strip()
    return Path(env) if env else DEFAULT_WAREHOUSE


def sql_dir() -> Path:
    """The folder of migration files: ``gex_warehouse/sql`` in a built wheel, the repository's ``sql/`` in a
    source checkout (workspace packages are installed editable, so the repository's files are the truth)."""
    packaged = _PACKAGE_DIR / "sql"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parents[3] / "sql"


def ingest_memory_limit() -> str:
    """DuckDB ``memory_limit`` for ingest: ``$GEX_WAREHOUSE_MEMORY_LIMIT`` or :data:`DEFAULT_INGEST_MEMORY`."""
    return os.environ.get(ENV_INGEST_MEMORY, "").strip() or DEFAULT_INGEST_MEMORY


@functools.cache
def code_version() -> str:
    """Versions of the packages that compute marts, e.g. ``"gex 0.1.0; gex-warehouse 0.1.0"`` (stored with
    every row so a result can be traced to the code; deterministic, so recomputing is byte-identical). Here, not in
    :mod:`gex_warehouse.compute`, so that readers (the published snapshot's signature) do not import the analysis
    and numba's kernels (``gex sql``, ``gex report``, ``gex scan``; measured on ``gex sql``: ~0.5 s a run)."""
    parts = []
    for name in ("gex", "gex-warehouse"):
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} unknown")
    return "; ".join(parts)
