"""Sandboxed reading: user SQL that can read the published contract and nothing else.

``gex sql`` runs SQL a user typed or a shared ``.sql`` file holds, so "read-only" must mean more than
DuckDB's ``read_only=True`` (which only protects the catalogue: ``COPY ... TO '<the warehouse file>'``
overwrites it, ``read_text('/etc/shadow')`` reads anywhere, ``SET`` and ``CHECKPOINT`` run). Two independent
layers, so that a hole in one is caught by the other:

1. :func:`check_query`, before anything runs: exactly one statement, of type ``SELECT`` (``WITH``,
   ``FROM x``, ``DESCRIBE``, ``SUMMARIZE``, ``SHOW`` and table functions parse as ``SELECT``), or ``EXPLAIN``
   of one. Its syntax tree (``json_serialize_sql``) is walked: a file-reading function (``read_parquet``,
   ``read_csv``, ``read_text``, ``glob``, ...) or a file named in ``FROM '...'`` must name literal paths
   inside the exports folder; dynamic SQL (``query``, ``query_table``) and ``checkpoint()`` are refused.
2. :func:`sandbox`, on the connection itself: ``allowed_directories = [exports]``, then
   ``enable_external_access = false`` and ``lock_configuration = true``. DuckDB 2.0.0 then refuses any file
   outside the exports (``COPY TO``, ``EXPORT``, ``ATTACH``, ``INSTALL``/``LOAD``, ``read_*``) and every
   ``SET``, whatever the parser let through. (Checked on 2.0.0: ``allowed_directories`` cannot be given in
   ``duckdb.connect(config=...)``, "Cannot change/set allowed_directories before the database is
   started", so it is set on the open connection, before access is disabled and the configuration locked.)

Refusals are :class:`QueryRefused`, one line, saying what was refused and why.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from os import PathLike
from pathlib import Path
from typing import Any

import duckdb

from gex_warehouse.connect import WarehouseError, WarehouseLockedError, check_warehouse_file

#: Table functions (and scalar functions) that read files: their path arguments must be literal paths
#: inside the exports folder. Names starting with ``read_`` or ``parquet_`` are treated the same way.
FILE_FUNCTIONS = frozenset({
    "glob", "sniff_csv", "parquet_scan", "csv_scan", "json_scan", "iceberg_scan", "delta_scan", "ducklake_scan",
})
FILE_FUNCTION_PREFIXES = ("read_", "parquet_", "iceberg_", "delta_")
#: Functions refused outright: dynamic SQL cannot be checked before it runs; checkpoints write.
REFUSED_FUNCTIONS = {
    "query": "query() runs SQL from a string, which cannot be checked before it runs: write the SELECT itself",
    "query_table": "query_table() names tables from a string: write FROM <view> instead",
    "checkpoint": "checkpoint() writes to the database file",
    "force_checkpoint": "force_checkpoint() writes to the database file",
}
#: Why each refused statement type is refused (keyed by the statement's first keyword when it is more
#: telling than DuckDB's type: CHECKPOINT parses as CALL, INSTALL as LOAD, RESET and USE as SET).
_REASONS = {
    "COPY": "COPY reads or writes files",
    "EXPORT": "EXPORT DATABASE writes files",
    "IMPORT": "IMPORT DATABASE changes the database",
    "ATTACH": "ATTACH opens another database file",
    "DETACH": "DETACH changes the open databases",
    "INSTALL": "INSTALL downloads an extension",
    "LOAD": "LOAD loads an extension",
    "SET": "SET changes a setting",
    "RESET": "RESET changes a setting",
    "USE": "USE changes the session's default database",
    "PRAGMA": "PRAGMA runs a command or changes a setting",
    "CHECKPOINT": "CHECKPOINT writes to the database file",
    "FORCE": "FORCE CHECKPOINT writes to the database file",
    "VACUUM": "VACUUM rewrites the database file",
    "ANALYZE": "ANALYZE updates the database's statistics",
    "CALL": "CALL runs a procedure (select from the table function instead)",
    "PREPARE": "PREPARE/EXECUTE run other statements",
    "EXECUTE": "PREPARE/EXECUTE run other statements",
    "BEGIN": "transactions are not needed to read",
    "START": "transactions are not needed to read",
    "COMMIT": "transactions are not needed to read",
    "ROLLBACK": "transactions are not needed to read",
    "ABORT": "transactions are not needed to read",
    "END": "transactions are not needed to read",
    "PIVOT": "the PIVOT statement creates a type: write SELECT ... FROM x PIVOT (...) instead",
    "UNPIVOT": "the UNPIVOT statement: write SELECT ... FROM x UNPIVOT (...) instead",
}
_DDL_DML = {"CREATE", "DROP", "ALTER", "INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "COMMENT", "REPLACE",
            "UPSERT", "WITH", "GRANT", "REVOKE"}
_EXPLAIN = re.compile(r"^\s*EXPLAIN\s+(?:ANALY[SZ]E\s+)?(?P<inner>.*)$", re.IGNORECASE | re.DOTALL)
_FIRST_WORD = re.compile(r"[A-Za-z_]+")
_GLOB_CHARS = re.compile(r"[*?\[{]")


class QueryRefused(WarehouseError):
    """User SQL the sandbox does not run (one line: what and why)."""


def _first_keyword(text: str) -> str:
    match = _FIRST_WORD.search(text)
    return match.group(0).upper() if match else ""


def _refuse(keyword: str, reason: str) -> QueryRefused:
    what = f"{keyword} " if keyword else ""
    return QueryRefused(f"refused {what}statement: {reason}; gex sql runs one read-only SELECT on the published views")


def check_query(text: str, exports: str | PathLike[str] | None = None) -> None:
    """Refuse ``text`` unless it is one SELECT (or EXPLAIN of one) reading no file outside ``exports``.

    Raises
    ------
    QueryRefused
        Several statements, a statement that is not a SELECT, a file outside ``exports`` (or any file when
        ``exports`` is ``None``), a path that is not a literal, dynamic SQL.
    duckdb.Error
        The text does not parse (the caller reports DuckDB's message).
    """
    statements = duckdb.extract_statements(text)
    if len(statements) != 1:
        raise QueryRefused(f"give one SQL statement (got {len(statements)}); gex sql runs one read-only SELECT")
    statement = statements[0]
    kind = statement.type.name
    body = statement.query
    if kind == "EXPLAIN":
        match = _EXPLAIN.match(body)
        inner = duckdb.extract_statements(match["inner"]) if match else []
        if len(inner) != 1 or inner[0].type.name != "SELECT":
            raise _refuse("EXPLAIN", "only EXPLAIN of a SELECT is run")
        body = inner[0].query
    elif kind != "SELECT":
        keyword = _first_keyword(body)
        if keyword in _REASONS:
            raise _refuse(keyword, _REASONS[keyword])
        if keyword in _DDL_DML or kind in {"CREATE", "DROP", "ALTER", "INSERT", "UPDATE", "DELETE", "MERGE_INTO"}:
            raise _refuse(keyword, "it changes the database (DDL and DML are refused)")
        raise _refuse(keyword or kind, f"statements of type {kind} are refused")
    _check_tree(body, exports)


def _check_tree(select: str, exports: str | PathLike[str] | None) -> None:
    """Walk the SELECT's syntax tree: refused functions, and every path a file function or ``FROM '...'``
    names must be a literal inside ``exports``."""
    con = duckdb.connect()  # a bare in-memory connection: serialising touches no file
    try:
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [select]).fetchall()[0][0])
    finally:
        con.close()
    if tree.get("error"):
        raise QueryRefused(f"cannot check this query before running it ({tree.get('error_message', 'unknown')}); "
                           "write it as a plain SELECT")
    root = Path(exports).expanduser().resolve() if exports is not None else None
    for node in _nodes(tree):
        if node.get("class") == "FUNCTION" or node.get("type") == "FUNCTION":
            name = str(node.get("function_name", "")).lower()
            if name in REFUSED_FUNCTIONS:
                raise _refuse("SELECT", REFUSED_FUNCTIONS[name])
            if name in FILE_FUNCTIONS or name.startswith(FILE_FUNCTION_PREFIXES):
                arguments = node.get("arguments") or []
                if not arguments:
                    continue
                for path in _literal_paths(name, arguments[0].get("expression")):
                    _check_path(name + "()", path, root)
        elif node.get("type") == "BASE_TABLE":
            name = str(node.get("table_name", ""))
            if _looks_like_path(name) and not node.get("schema_name") and not node.get("catalog_name"):
                _check_path("FROM", name, root)


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _nodes(child)
    elif isinstance(value, list):
        for child in value:
            yield from _nodes(child)


def _literal_paths(function: str, expression: Any) -> list[str]:
    """The string literals of a path argument (one string, or a list of them); refuses anything else."""
    if isinstance(expression, dict):
        if expression.get("class") == "CONSTANT":
            literal = expression.get("literal") or {}
            if literal.get("kind") == "STRING":
                return [str(literal.get("text", ""))]
        if expression.get("class") == "FUNCTION" and expression.get("function_name") == "list_value":
            out: list[str] = []
            for argument in expression.get("arguments") or []:
                out.extend(_literal_paths(function, argument.get("expression")))
            return out
    raise _refuse("SELECT", f"{function}() must name its files with literal paths inside the exports folder")


def _looks_like_path(name: str) -> bool:
    """``FROM 'x.parquet'`` (a replacement scan of a file) rather than a table or view name."""
    return any(ch in name for ch in "/\\:~") or bool(re.search(r"\.[A-Za-z0-9]{1,8}$", name))


def _check_path(where: str, path: str, root: Path | None) -> None:
    if root is None:
        raise _refuse("SELECT", f"{where} reads the file {path!r}: reading files is not allowed here")
    if "://" in path or path.startswith(("s3:", "http:", "https:", "gs:", "az:", "hf:")):
        raise _refuse("SELECT", f"{where} reads {path!r}: remote files are not allowed; only the exports folder {root}/")
    full = os.path.normpath(os.path.abspath(os.path.expanduser(path)))  # '..' folded away first
    if _GLOB_CHARS.search(full):
        # a pattern: the folder before its first wildcard must resolve (symlinks too) inside the exports
        fixed = Path(os.path.dirname(_GLOB_CHARS.split(full, maxsplit=1)[0]) or os.sep).resolve()
    else:
        fixed = Path(full).resolve()
    if fixed != root and root not in fixed.parents:
        raise _refuse("SELECT", f"{where} reads {path!r}, outside the exports folder {root}/ (the only files gex sql may read)")


def sandbox(con: duckdb.DuckDBPyConnection, exports: str | PathLike[str] | None) -> duckdb.DuckDBPyConnection:
    """Lock ``con`` down: instants shown in UTC, no file access but ``exports`` (read), no extension
    loading, configuration locked (every later ``SET`` fails). Returns ``con``."""
    con.execute("SET TimeZone = 'UTC'")  # instants are documented in UTC; never the machine's zone
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    if exports is not None:
        folder = str(Path(exports).expanduser().resolve())
        con.execute("SET allowed_directories = ?", [[folder.rstrip(os.sep) + os.sep]])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


#: Catalogue name of the opened file in a sandboxed connection (``SELECT current_database()``).
CATALOG = "published"


def open_sandboxed(path: str | PathLike[str], *, exports: str | PathLike[str] | None = None) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file ``path`` read-only and :func:`sandbox` it.

    The file is ATTACHed (read-only) to a fresh in-memory database rather than opened with
    ``duckdb.connect(path)``: the Python client caches one database instance per path, so a second
    ``connect`` in the same process would return the first one, with its locked configuration and, once the
    published snapshot has been replaced on disk, the *old* file. A fresh instance opens what the path names
    now.

    Raises
    ------
    WarehouseLockedError
        A writer holds the file.
    WarehouseError
        No such file, or not a DuckDB database.
    """
    target = Path(path)
    check_warehouse_file(target)
    if not target.is_file():
        raise WarehouseError(f"no warehouse at {target}: load data first with `gex ingest PATH --warehouse {target}`")
    con = duckdb.connect(":memory:")
    try:
        try:
            con.execute(f"ATTACH ? AS {CATALOG} (READ_ONLY)", [str(target)])
        except duckdb.IOException as exc:
            if "Could not set lock on file" in str(exc):
                raise WarehouseLockedError(target, exc, True) from None
            raise WarehouseError(f"cannot open {target}: {' '.join(str(exc).split())}") from None
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open {target}: {' '.join(str(exc).split())}") from None
        con.execute(f"USE {CATALOG}")
        return sandbox(con, exports)
    except BaseException:
        con.close()
        raise
