"""A small versioned migration runner over the DDL files in ``sql/``.

Files are ``sql/<layer>/NNNN_name.sql`` (layer: ``raw``, ``core``, ``mart``); ``NNNN`` is a version number
unique across all layers and gives the order. Each file creates one object with one idempotent statement
(``CREATE SCHEMA/TABLE IF NOT EXISTS``, ``CREATE OR REPLACE VIEW``, an ``INSERT ... WHERE NOT EXISTS``
seed), optionally followed by ``COMMENT ON`` statements documenting that object's units.

Rules, checked on every writer's open:

- a file is applied once, in its own transaction together with its row in
  ``meta.schema_migrations(version, file, sha256, applied_at)``; re-running is a no-op;
- a new file (a version not yet recorded) is applied to an existing warehouse in place, but only if its
  version is above every applied one (the same sequence of statements on every warehouse);
- an applied file whose content changed, or that disappeared, is an error, never silently re-applied:
  change a table or view with a new file (``CREATE OR REPLACE VIEW`` again, ``ALTER TABLE ...``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from gex_warehouse.config import sql_dir

#: Migration file names: 4-digit version, underscore, lowercase words.
FILE_NAME = re.compile(r"^(?P<version>\d{4})_[a-z0-9_]+\.sql$")
#: Layers a migration file may live in, in data-flow order (``published``: the views consumers query,
#: docs/sql-contract.md).
LAYERS = ("raw", "core", "mart", "published")
#: Folders of ``sql/`` that hold no migrations (``queries``: example queries for analysts, run by the tests).
NOT_MIGRATIONS = ("queries",)

_BOOTSTRAP = """
CREATE SCHEMA IF NOT EXISTS meta;
CREATE TABLE IF NOT EXISTS meta.schema_migrations (
    version INTEGER PRIMARY KEY,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL
);
"""


class MigrationError(RuntimeError):
    """The migration files and the warehouse's record of applied migrations disagree."""


@dataclass(frozen=True)
class Migration:
    """One DDL file.

    Attributes
    ----------
    version:
        The ``NNNN`` prefix.
    file:
        Path relative to the ``sql`` folder, with forward slashes (``raw/0010_load_manifest.sql``).
    sha256:
        Hex digest of the file's bytes.
    sql:
        The file's text.
    """

    version: int
    file: str
    sha256: str
    sql: str


def discover(folder: Path | None = None) -> list[Migration]:
    """All migration files under ``folder`` (default :func:`gex_warehouse.config.sql_dir`), by version.

    Raises
    ------
    MigrationError
        For a ``.sql`` file outside the layer folders, a badly named file, or a version used twice.
    """
    root = folder if folder is not None else sql_dir()
    if not root.is_dir():
        raise MigrationError(f"no migration folder at {root}")
    found: dict[int, Migration] = {}
    for path in sorted(root.rglob("*.sql")):
        rel = path.relative_to(root).as_posix()
        layer = rel.split("/", 1)[0]
        if layer in NOT_MIGRATIONS:
            continue
        match = FILE_NAME.match(path.name)
        if layer not in LAYERS or rel.count("/") != 1:
            raise MigrationError(f"{rel}: migration files live in sql/<layer>/ with layer one of {', '.join(LAYERS)}")
        if match is None:
            raise MigrationError(f"{rel}: migration file names are NNNN_lowercase_name.sql")
        data = path.read_bytes()
        migration = Migration(int(match["version"]), rel, hashlib.sha256(data).hexdigest(), data.decode("utf-8"))
        if migration.version in found:
            raise MigrationError(f"{rel}: version {migration.version:04d} is already used by {found[migration.version].file}")
        found[migration.version] = migration
    return [found[v] for v in sorted(found)]


def applied(con: duckdb.DuckDBPyConnection) -> dict[int, tuple[str, str]]:
    """``{version: (file, sha256)}`` of the migrations recorded in the warehouse (empty for a new one)."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'meta' AND table_name = 'schema_migrations'"
    ).fetchall()[0][0]
    if not exists:
        return {}
    rows = con.execute("SELECT version, file, sha256 FROM meta.schema_migrations ORDER BY version").fetchall()
    return {int(v): (f, s) for v, f, s in rows}


def pending(con: duckdb.DuckDBPyConnection, migrations: list[Migration] | None = None) -> list[Migration]:
    """Migrations not yet applied, after checking the applied ones are unchanged.

    Raises
    ------
    MigrationError
        When an applied file changed or vanished, or a new file's version is not above the applied ones.
    """
    files = migrations if migrations is not None else discover()
    by_version = {m.version: m for m in files}
    done = applied(con)
    for version, (file, sha) in done.items():
        current = by_version.get(version)
        if current is None:
            raise MigrationError(
                f"migration {version:04d} ({file}) was applied to this warehouse but its file is gone; restore it"
            )
        if current.sha256 != sha:
            raise MigrationError(
                f"sql/{current.file} changed after it was applied to this warehouse (applied sha256 {sha[:12]}, "
                f"file now {current.sha256[:12]}): applied migrations are never edited; restore the file and add "
                f"the change as a new migration with a higher number"
            )
    todo = [m for m in files if m.version not in done]
    if todo and done and todo[0].version < max(done):
        raise MigrationError(
            f"sql/{todo[0].file} is new but migrations up to {max(done):04d} are already applied: "
            f"renumber it above {max(done):04d}"
        )
    return todo


def migrate(con: duckdb.DuckDBPyConnection, migrations: list[Migration] | None = None) -> list[Migration]:
    """Apply the pending migrations, each in its own transaction; returns those applied (empty: up to date)."""
    con.execute(_BOOTSTRAP)
    todo = pending(con, migrations)
    for m in todo:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(m.sql)
            con.execute(
                "INSERT INTO meta.schema_migrations VALUES (?, ?, ?, now())", [m.version, m.file, m.sha256]
            )
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise MigrationError(f"sql/{m.file} failed: {exc}") from None
    return todo
