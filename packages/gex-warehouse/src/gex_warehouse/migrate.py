"""Schema evolution: stored tables by strictly sequential migrations, views and documentation as code.

Two kinds of files under ``sql/`` (dbt/sqlmesh/alembic's split, ``docs/warehouse.md``):

- ``sql/migrations/NNNN_name.sql``: what changes **stored tables** (schemas, tables, columns, keys, seeds).
  Versions run 0001, 0002, ... without a gap; each is applied once, in its own transaction together with its
  row in ``meta.schema_migrations(version, file, sha256, applied_at)``. An applied file never changes (its
  sha256 is checked on every writer's open); a change is a new file with the next number. A migration that
  adds data the compute fills (a column, a table) also inserts the sessions computed before it into
  ``mart.pending_recompute``, so ``gex compute --all`` + ``gex publish`` leave an upgraded warehouse complete.
- ``sql/models/<schema>/<name>.sql``: **one file per model**: a view (``CREATE OR REPLACE VIEW``, or a table
  macro) with its ``COMMENT ON`` documentation, or the documentation (``COMMENT ON`` only) of a stored table.
  Models are code: every writer's open re-creates them when any file changed (a no-op otherwise), views in
  dependency order; a view whose file was deleted is dropped. Column documentation lives only here; the
  published contract's page (``docs/sql-contract.md``) is generated from it and checked by the tests.

Warehouses made before this scheme (``sql/<layer>/NNNN_*.sql`` files, versions 1..212 with gaps) are adopted:
their migration log is kept as ``meta.legacy_schema_migrations`` and the sequence runs from 0001, whose every
statement is idempotent (``CREATE TABLE IF NOT EXISTS``, ``ADD COLUMN IF NOT EXISTS``, seeds ``WHERE NOT
EXISTS``), so any earlier shape reaches the baseline before 0002 changes it.
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
#: Model file names: the object's name.
MODEL_NAME = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)\.sql$")
MIGRATIONS = "migrations"
MODELS = "models"
#: Schemas models may live in, in data-flow order (``main``: the published contract, docs/sql-contract.md).
MODEL_SCHEMAS = ("raw", "core", "mart", "main")
#: Folders of ``sql/`` that hold neither (``queries``: example queries for analysts, run by the tests).
NOT_MIGRATIONS = ("queries",)

_BOOTSTRAP = """
CREATE SCHEMA IF NOT EXISTS meta;
CREATE TABLE IF NOT EXISTS meta.schema_migrations (
    version INTEGER PRIMARY KEY,
    file VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS meta.models (
    name VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL
);
"""


class MigrationError(RuntimeError):
    """The migration files and the warehouse's record of applied migrations disagree."""


@dataclass(frozen=True)
class Migration:
    """One migration file: ``version`` (the ``NNNN`` prefix), ``file`` (relative to ``sql/``, forward
    slashes: ``migrations/0002_preset_in_mart_keys.sql``), ``sha256`` of its bytes and its text."""

    version: int
    file: str
    sha256: str
    sql: str


@dataclass(frozen=True)
class Model:
    """One model file: ``schema.name`` (``main.regime_daily``), ``kind`` (``view``, ``macro`` or ``docs``),
    ``file`` relative to ``sql/``, ``sha256`` and text."""

    schema: str
    name: str
    kind: str
    file: str
    sha256: str
    sql: str

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


def _root(folder: Path | None) -> Path:
    root = folder if folder is not None else sql_dir()
    if not root.is_dir():
        raise MigrationError(f"no migration folder at {root}")
    return root


def discover(folder: Path | None = None) -> list[Migration]:
    """The migration files under ``folder/migrations`` (default ``sql/``), by version.

    Raises
    ------
    MigrationError
        For a badly named file, a version used twice, or a gap (versions must run 1, 2, 3, ...).
    """
    root = _root(folder)
    found: dict[int, Migration] = {}
    for path in sorted((root / MIGRATIONS).glob("*.sql")):
        match = FILE_NAME.match(path.name)
        rel = path.relative_to(root).as_posix()
        if match is None:
            raise MigrationError(f"{rel}: migration file names are NNNN_lowercase_name.sql")
        data = path.read_bytes()
        migration = Migration(int(match["version"]), rel, hashlib.sha256(data).hexdigest(), data.decode("utf-8"))
        if migration.version in found:
            raise MigrationError(f"{rel}: version {migration.version:04d} is already used by {found[migration.version].file}")
        found[migration.version] = migration
    versions = sorted(found)
    if versions != list(range(1, len(versions) + 1)):
        missing = sorted(set(range(1, (versions[-1] if versions else 0) + 1)) - set(versions))
        raise MigrationError(f"migrations must be numbered 0001, 0002, ... without gaps: missing {missing}")
    for path in root.rglob("*.sql"):
        top = path.relative_to(root).parts[0]
        if top not in (MIGRATIONS, MODELS, *NOT_MIGRATIONS):
            raise MigrationError(f"{path.relative_to(root)}: SQL files live in sql/migrations/, sql/models/<schema>/ or sql/queries/")
    return [found[v] for v in versions]


def _model_kind(sql: str) -> str:
    statements = [s.query.strip().upper() for s in duckdb.extract_statements(sql)]
    head = statements[0] if statements else ""
    if head.startswith("CREATE OR REPLACE VIEW"):
        return "view"
    if head.startswith("CREATE OR REPLACE MACRO"):
        return "macro"
    if statements and all(s.startswith("COMMENT ON") for s in statements):
        return "docs"
    raise MigrationError("a model is CREATE OR REPLACE VIEW/MACRO plus COMMENT ON statements, or COMMENT ON statements only")


def discover_models(folder: Path | None = None) -> list[Model]:
    """The model files under ``folder/models/<schema>/`` (default ``sql/``), sorted by schema (data-flow
    order) then name."""
    root = _root(folder)
    out: list[Model] = []
    for schema in MODEL_SCHEMAS:
        for path in sorted((root / MODELS / schema).glob("*.sql")):
            rel = path.relative_to(root).as_posix()
            match = MODEL_NAME.match(path.name)
            if match is None:
                raise MigrationError(f"{rel}: model file names are the object's lowercase name (.sql)")
            data = path.read_bytes()
            text = data.decode("utf-8")
            try:
                kind = _model_kind(text)
            except MigrationError as exc:
                raise MigrationError(f"{rel}: {exc}") from None
            out.append(Model(schema, match["name"], kind, rel, hashlib.sha256(data).hexdigest(), text))
    extra = {p.parent.name for p in (root / MODELS).glob("*/*.sql")} - set(MODEL_SCHEMAS) if (root / MODELS).is_dir() else set()
    if extra:
        raise MigrationError(f"sql/models/ holds schemas {sorted(extra)}; models live in {', '.join(MODEL_SCHEMAS)}")
    return out


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = ? AND table_name = ?",
        [schema, table],
    ).fetchall()[0][0])


def applied(con: duckdb.DuckDBPyConnection) -> dict[int, tuple[str, str]]:
    """``{version: (file, sha256)}`` of the migrations recorded in the warehouse (empty for a new one)."""
    if not _table_exists(con, "meta", "schema_migrations"):
        return {}
    rows = con.execute("SELECT version, file, sha256 FROM meta.schema_migrations ORDER BY version").fetchall()
    return {int(v): (f, s) for v, f, s in rows}


def is_legacy(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse was made by a version with per-layer migration files (``raw/0010_...``)."""
    return any(not file.startswith(f"{MIGRATIONS}/") for file, _ in applied(con).values())


def _adopt_legacy(con: duckdb.DuckDBPyConnection) -> None:
    """Keep a legacy migration log as ``meta.legacy_schema_migrations`` and start the sequence afresh."""
    con.execute("BEGIN TRANSACTION")
    try:
        if _table_exists(con, "meta", "legacy_schema_migrations"):
            con.execute("INSERT INTO meta.legacy_schema_migrations SELECT * FROM meta.schema_migrations")
            con.execute("DROP TABLE meta.schema_migrations")
        else:
            con.execute("ALTER TABLE meta.schema_migrations RENAME TO legacy_schema_migrations")
        con.execute(_BOOTSTRAP)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def pending(con: duckdb.DuckDBPyConnection, migrations: list[Migration] | None = None) -> list[Migration]:
    """Migrations not yet applied, after checking the applied ones are the files' first versions, unchanged.

    A legacy warehouse (see :func:`is_legacy`) has every migration pending.

    Raises
    ------
    MigrationError
        When an applied file changed or vanished (e.g. the warehouse was upgraded by a newer version).
    """
    files = migrations if migrations is not None else discover()
    if is_legacy(con):
        return list(files)
    by_version = {m.version: m for m in files}
    done = applied(con)
    for version, (file, sha) in done.items():
        current = by_version.get(version)
        if current is None:
            raise MigrationError(
                f"this warehouse has migration {version:04d} ({file}), which this version of gex does not know: "
                f"it was upgraded by a newer version; use that version (or newer)"
            )
        if current.sha256 != sha:
            raise MigrationError(
                f"sql/{current.file} changed after it was applied to this warehouse (applied sha256 {sha[:12]}, "
                f"file now {current.sha256[:12]}): applied migrations are never edited; restore the file and add "
                f"the change as the next migration"
            )
    return [m for m in files if m.version not in done]


def level(con: duckdb.DuckDBPyConnection) -> int:
    """The warehouse's schema level: the highest applied migration (0 for a new or legacy warehouse)."""
    if is_legacy(con):
        return 0
    return max(applied(con), default=0)


def migrate(con: duckdb.DuckDBPyConnection, migrations: list[Migration] | None = None,
            models: list[Model] | None = None) -> list[Migration]:
    """Apply the pending migrations (each in its own transaction), then re-create the models if anything
    changed; returns the migrations applied (empty: the tables were up to date)."""
    con.execute(_BOOTSTRAP)
    if is_legacy(con):
        _adopt_legacy(con)
    todo = pending(con, migrations)
    for m in todo:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(m.sql)
            con.execute("INSERT INTO meta.schema_migrations VALUES (?, ?, ?, now())", [m.version, m.file, m.sha256])
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise MigrationError(f"sql/{m.file} failed: {exc}") from None
    apply_models(con, models, force=bool(todo))
    return todo


def _managed_views(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Views and macros the writer owns: those of the model schemas (``main`` holds nothing else)."""
    views = con.execute(
        "SELECT schema_name || '.' || view_name FROM duckdb_views() WHERE database_name = current_database() "
        "AND NOT internal AND NOT temporary AND schema_name IN (SELECT unnest(?))",
        [list(MODEL_SCHEMAS)],
    ).fetchall()
    return {v for (v,) in views}


def _code(sql: str) -> str:
    """``sql`` without ``--`` comments and string literals (names mentioned there are not dependencies)."""
    return re.sub(r"'(?:[^']|'')*'", "''", re.sub(r"--[^\n]*", "", sql))


def _dependency_order(models: list[Model]) -> list[Model]:
    """``models`` sorted so that each comes after the models its SQL names (``schema.name``); a cycle is an
    error. (A failed statement aborts a DuckDB transaction, so views cannot be retried until they bind.)"""
    by_name = {m.qualified: m for m in models}
    uses = {
        m.qualified: {f"{a}.{b}" for a, b in re.findall(r"\b(raw|core|mart|main)\.\"?([a-z_][a-z0-9_]*)", _code(m.sql))}
        & set(by_name) - {m.qualified}
        for m in models
    }
    ordered: list[Model] = []
    done: set[str] = set()
    while len(ordered) < len(models):
        ready = [n for n in by_name if n not in done and uses[n] <= done]
        if not ready:
            raise MigrationError(f"models depend on each other in a cycle: {sorted(set(by_name) - done)}")
        for n in sorted(ready):
            ordered.append(by_name[n])
            done.add(n)
    return ordered


def apply_models(con: duckdb.DuckDBPyConnection, models: list[Model] | None = None, *, force: bool = False) -> bool:
    """Re-create every model when a model file changed, appeared or vanished (or ``force``), in one
    transaction; returns whether it did. Views are created dependencies first (see :func:`_dependency_order`);
    views of the model schemas without a file are dropped."""
    files = models if models is not None else discover_models()
    recorded = dict(con.execute("SELECT name, sha256 FROM meta.models").fetchall())
    wanted = {m.qualified: m.sha256 for m in files}
    if recorded == wanted and not force:
        return False
    con.execute("BEGIN TRANSACTION")
    try:
        keep = {m.qualified for m in files if m.kind in ("view", "macro")}
        for view in sorted(_managed_views(con) - keep):
            schema, name = view.split(".", 1)
            con.execute(f'DROP VIEW IF EXISTS {schema}."{name}"')  # names from the catalogue, not from users
        for m in _dependency_order([m for m in files if m.kind in ("view", "macro")]):
            try:
                con.execute(m.sql)
            except duckdb.Error as exc:
                raise MigrationError(f"sql/{m.file} failed: {exc}") from None
        for m in files:
            if m.kind == "docs":
                try:
                    con.execute(m.sql)
                except duckdb.Error as exc:
                    raise MigrationError(f"sql/{m.file} failed: {exc}") from None
        con.execute("DELETE FROM meta.models")
        if files:
            con.executemany("INSERT INTO meta.models VALUES (?, ?, ?)", [[m.qualified, m.kind, m.sha256] for m in files])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return True


def undocumented(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Tables, views and columns of the model schemas without a comment (``schema.table.column``): the
    models must document everything (tests assert this list is empty)."""
    rows = con.execute(
        """
        SELECT schema_name || '.' || table_name FROM duckdb_tables()
        WHERE database_name = current_database() AND schema_name IN (SELECT unnest($s)) AND coalesce(comment, '') = ''
        UNION ALL
        SELECT schema_name || '.' || view_name FROM duckdb_views()
        WHERE database_name = current_database() AND schema_name IN (SELECT unnest($s)) AND NOT internal
          AND coalesce(comment, '') = ''
        UNION ALL
        SELECT schema_name || '.' || table_name || '.' || column_name FROM duckdb_columns()
        WHERE database_name = current_database() AND schema_name IN (SELECT unnest($s)) AND coalesce(comment, '') = ''
        ORDER BY 1
        """,
        {"s": list(MODEL_SCHEMAS)},
    ).fetchall()
    return [r[0] for r in rows]
