"""A migrated, empty warehouse kept on disk and copied when a new warehouse is created.

Why: a new warehouse runs every migration and creates every model: ~0.8 s on 2 cores, ~0.6 s of it the ~60 views
and ~900 column comments. Each command that writes to a new file pays it, and the test suite creates hundreds of
warehouses. Created from the template, a new warehouse is open in ~0.2 s.

The template is built by the normal path (:func:`gex_warehouse.connect._create_empty`, then
:func:`gex_warehouse.migrate.migrate`) the first time it is needed, and kept beside numba's compiled kernels and
the calendar's table (:func:`gex_warehouse.calendar_cache.cache_folder`), under a name carrying everything the
file depends on: the sha256 of every migration and model file (as the migrations record them), the DuckDB library's version and the storage version. A change to any of them builds a
new one (and removes the older templates). A copy gets ``meta.schema_migrations.applied_at`` set to the time of
the copy, so it is what a warehouse created without the template holds (same tables, views, comments and rows;
tested).

Failures never stop a creation: a folder that cannot be written, a damaged template or a file system without hard
links means the warehouse is created the normal way. The copy never replaces a file: it is linked into place
(``os.link`` fails when the target appeared meanwhile, e.g. another process created it first).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from pathlib import Path

import duckdb

from gex_warehouse.calendar_cache import cache_folder
from gex_warehouse.config import STORAGE_VERSION, sql_dir
from gex_warehouse.migrate import MigrationError, discover, discover_models, migrate

#: Prefix of the templates' file names (a new format of the name bumps the version).
PREFIX = "warehouse-template-v1-"


def template_file() -> Path | None:
    """Where the template of this code's schema is kept; ``None`` when the SQL files cannot be read (then the
    migrations themselves will say why)."""
    root = sql_dir()
    try:
        files = [*discover(root), *discover_models(root)]
    except (OSError, MigrationError):
        return None
    digest = hashlib.sha256(f"{duckdb.__version__}|{STORAGE_VERSION}".encode())
    for f in files:  # the sha256 the migrations record for each file
        digest.update(f"{f.file}:{f.sha256}\n".encode())
    return cache_folder() / f"{PREFIX}{digest.hexdigest()[:20]}.duckdb"


def _build(template: Path) -> bool:
    """Build ``template`` by the normal path (into a temporary file renamed into place); whether it exists now."""
    from gex_warehouse.connect import _create_empty

    partial = template.with_name(f".{template.name}.{os.getpid()}.tmp")
    try:
        template.parent.mkdir(parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
        _create_empty(partial)
        con = duckdb.connect(str(partial))
        try:
            migrate(con)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(partial, template)  # whole or absent, whatever other processes read meanwhile
    except (OSError, duckdb.Error, MigrationError):
        return False
    finally:  # also on Ctrl-C: no partial file left in the cache folder
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
    for old in template.parent.glob(f"{PREFIX}*.duckdb"):  # the templates of earlier schemas
        if old != template:
            with contextlib.suppress(OSError):
                old.unlink()
    return True


def create_from_template(target: Path) -> bool:
    """Create the new warehouse ``target`` as a copy of the template (building the template first if needed).

    Returns whether it did; ``False`` (nothing written at ``target``) when there is no usable template or the copy
    failed, and the caller creates the warehouse the normal way. ``target``'s folder must exist."""
    template = template_file()
    if template is None or (not template.is_file() and not _build(template)):
        return False
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(template, partial)
        con = duckdb.connect(str(partial))
        try:
            # the copy's migrations are applied now, as far as anyone reading the log can tell
            con.execute("UPDATE meta.schema_migrations SET applied_at = now()")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.link(partial, target)  # never replaces a file that appeared meanwhile (FileExistsError)
        return True
    except duckdb.Error:  # a damaged template: built again next time
        with contextlib.suppress(OSError):
            template.unlink()
        return False
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
