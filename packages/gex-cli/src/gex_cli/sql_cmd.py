"""``gex sql``: run one read-only query on the published views and print the rows (table, CSV or JSON).

Reads the **published snapshot** beside the warehouse (``warehouse/gex.published.duckdb``, rewritten
atomically by ``gex publish``/``gex compute``/``gex backfill``), so it answers at any moment, also while a
job writes the warehouse; before the first snapshot exists it reads the warehouse itself (read-only).
Consumers query the published views of the ``main`` schema (``FROM regime_daily``; see
``docs/sql-contract.md``). Values come in through named parameters, never through the SQL text:
``gex sql "SELECT * FROM regime_daily WHERE session = $day" --param day=2025-03-03``.

The SQL runs sandboxed (:mod:`gex_warehouse.readonly`): one SELECT (or EXPLAIN of one); no file outside the
exports folder, no setting, no extension, no write; anything else is refused with a one-line reason.

Exit codes follow :mod:`gex_cli.main`: 0 rows printed; 1 the query failed or was refused (bad SQL, unknown
view, a write or a file outside the exports), the warehouse is missing, or (no snapshot yet) another
process holds it; 2 usage error (bad ``--format`` or ``--param``, empty query, several statements,
unreadable query file).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from gex_cli.errors import EXIT_BAD_INPUT, EXIT_USAGE
from gex_cli.errors import fail as _fail
from gex_cli.options import PRESET_NAMES
FORMATS = ("table", "csv", "json")
#: Rows the table format prints before it stops (CSV and JSON print everything).
DEFAULT_MAX_ROWS = 1000


def _query_text(query: str) -> str:
    """The SQL: ``query`` itself, or the text of the file it names (``*.sql`` without spaces)."""
    text = query.strip()
    if text.endswith(".sql") and not any(ch.isspace() for ch in text):
        path = Path(text)
        if not path.is_file():
            raise _fail(f"query file {path} not found (pass SQL text or an existing .sql file)", EXIT_USAGE)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise _fail(f"cannot read {path}: {exc}", EXIT_USAGE) from None
    if not text.strip():
        raise _fail("empty query", EXIT_USAGE)
    return text


def _parameters(pairs: list[str]) -> dict[str, str]:
    """``["day=2025-03-03", ...]`` -> ``{"day": "2025-03-03"}`` (values stay text; DuckDB casts them where
    the query compares them with a typed column, or write ``CAST($name AS DOUBLE)``)."""
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip().lstrip("$")
        if not sep or not name.isidentifier():
            raise _fail(f"--param {pair!r}: write NAME=VALUE and use $NAME in the query", EXIT_USAGE)
        params[name] = value
    return params


def _one_line(exc: Exception) -> str:
    """DuckDB's message without the caret drawing under the query (``LINE 1: ...``), on one line."""
    kept = []
    for line in str(exc).splitlines():
        if line.startswith("LINE "):
            break
        if line.strip():
            kept.append(line.strip())
    return " ".join(kept) or type(exc).__name__


def _tables(con: Any) -> list[str]:
    """Tables and views of the opened database's ``main`` schema (what a query may name)."""
    rows = con.execute("SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
                       "AND table_schema = 'main' ORDER BY table_name").fetchall()
    return [r[0] for r in rows]


def _locked_message(message: str, target: Path) -> str:
    """The connection layer's explanation (who holds the file, DuckDB's one-writer rule, wait) plus where
    to read meanwhile: the Parquet exports beside the warehouse."""
    exports = target.parent / "exports"
    state = "" if exports.is_dir() else " (none written there yet)"
    return (
        f"{message} Meanwhile, read the Parquet exports of the published views in {exports}/{state}, e.g. "
        f"`duckdb -c \"SELECT * FROM read_parquet('{exports}/regime_daily/**/*.parquet', hive_partitioning = true)\"`."
    )


def _migrations_pending(con: Any) -> bool:
    """Whether the warehouse lacks migrations the code has (a read-only reader cannot apply them)."""
    from gex_warehouse.migrate import pending

    try:
        return bool(pending(con))
    except Exception:  # noqa: BLE001 - only a hint: never let it hide the query's own error
        return False


def _interval(value: Any) -> str:
    """An Arrow month-day-nano interval as DuckDB prints it: ``1 month 3 days 01:30:00``."""
    parts = []
    if value.months:
        parts.append(f"{value.months} month{'s' if abs(value.months) != 1 else ''}")
    if value.days:
        parts.append(f"{value.days} day{'s' if abs(value.days) != 1 else ''}")
    if value.nanoseconds or not parts:
        sign = "-" if value.nanoseconds < 0 else ""
        micros = abs(value.nanoseconds) // 1000
        seconds, micro = divmod(micros, 1_000_000)
        clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" + (f".{micro:06d}" if micro else "")
        parts.append(sign + clock)
    return " ".join(parts)


def _is_interval(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "nanoseconds") and hasattr(value, "months")


def _cell(value: Any) -> str:
    """A value for the terminal table: NULL spelled out, floats to 6 significant digits (thousands separated
    from a million on), dates ISO."""
    if value is None:
        return "NULL"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:,.0f}" if abs(value) >= 1e6 else f"{value:.6g}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if _is_interval(value):
        return _interval(value)
    if isinstance(value, list):
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    return str(value)


def _json_value(value: Any) -> Any:
    if _is_interval(value):
        return _interval(value)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, (dt.timedelta, decimal.Decimal, bytes)):
        return str(value)
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if _is_interval(value):
        return _interval(value)
    if isinstance(value, (list, dict)):
        return json.dumps(_json_value(value))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back to the same double
    return value


def _print_table(columns: list[str], rows: list[tuple[Any, ...]], max_rows: int) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False, header_style="bold")
    for name in columns:
        table.add_column(name, overflow="fold")
    for row in rows[:max_rows]:
        table.add_row(*(_cell(v) for v in row))
    out = Console(highlight=False)
    if not out.is_terminal:
        out = Console(highlight=False, width=max(160, 14 * len(columns)))
    out.print(table)
    shown = min(len(rows), max_rows)
    more = f"; {len(rows) - shown:,} more not shown (--max-rows, or --format csv)" if len(rows) > shown else ""
    out.print(f"{len(rows):,} row{'s' if len(rows) != 1 else ''}{more}")


def sql(
    query: Annotated[
        str,
        typer.Argument(help="SQL to run (one statement, e.g. \"SELECT * FROM regime_daily\"), or a .sql file holding it."),
    ],
    warehouse: Annotated[
        Path | None,
        typer.Option("--warehouse", "-w", help="Warehouse file (default: $GEX_WAREHOUSE, else warehouse/gex.duckdb)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="Output: table (readable), csv or json (array of objects).")] = "table",
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Named parameter NAME=VALUE, used as $NAME in the query (repeatable)."),
    ] = None,
    max_rows: Annotated[
        int, typer.Option("--max-rows", help="Rows the table format prints (csv and json print all).", min=1)
    ] = DEFAULT_MAX_ROWS,
    preset: Annotated[
        str, typer.Option("--preset", help="Rows of this preset in the published views: native (default), perfiliev, "
                                         "perfiliev-early, gflows, or '*' for every preset (the preset column tells them apart).")
    ] = "native",
) -> None:
    """Query the published views read-only (regime_daily, vol_context, gex_by_strike, ...), also while a job writes.

    Reads the published snapshot beside the warehouse (or the warehouse itself before the first one); one
    SELECT only, no file outside the exports folder, no settings.

    Example: gex sql "SELECT session, regime, gamma_flip FROM regime_daily WHERE underlying = $u" --param u=SPX.
    Views and columns: docs/sql-contract.md; example queries: sql/queries/.
    """
    if fmt not in FORMATS:
        raise _fail(f"unknown --format {fmt!r}; choose one of {', '.join(FORMATS)}", EXIT_USAGE)
    text = _query_text(query)
    params = _parameters(param or [])
    if preset != "*" and preset not in PRESET_NAMES:
        raise _fail(f"unknown --preset {preset!r}; choose one of {', '.join(PRESET_NAMES)} or '*'", EXIT_USAGE)

    import duckdb
    from gex_warehouse.config import warehouse_path
    from gex_warehouse.connect import WarehouseError, WarehouseLockedError
    from gex_warehouse.export import exports_path
    from gex_warehouse.published import is_snapshot, open_published
    from gex_warehouse.readonly import QueryRefused, check_query

    target = warehouse_path(warehouse)
    exports = exports_path(None, target)
    try:
        check_query(text, exports)  # layer 1: one SELECT, no file outside the exports (readonly.py)
    except QueryRefused as exc:
        raise _fail(str(exc), EXIT_USAGE if str(exc).startswith("give one SQL statement") else EXIT_BAD_INPUT) from None
    except duckdb.Error as exc:
        raise _fail(_one_line(exc), EXIT_BAD_INPUT) from None
    try:
        con = open_published(target, exports=exports)  # layer 2: the connection itself is sandboxed
    except WarehouseLockedError as exc:  # no snapshot yet and a writer holds the warehouse
        raise _fail(_locked_message(str(exc), target), EXIT_BAD_INPUT) from None
    except WarehouseError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    try:
        # the published views filter on this session variable (sql/models/core/preset_selected.sql); the name
        # was checked against the known presets above
        con.execute(f"SET VARIABLE preset = '{preset}'")
        relation = con.sql(text, params=params or None)
        if relation is None:  # cannot happen after check_query (a SELECT has a result); never print rows of nothing
            raise _fail("the statement returned no result; gex sql runs one read-only SELECT", EXIT_BAD_INPUT)
        columns = list(relation.columns)
        arrow = relation.to_arrow_table()
    except duckdb.Error as exc:
        message = _one_line(exc)
        if "read-only mode" in message or "disabled by configuration" in message or "configuration has been locked" in message:
            message = f"refused: {message} (gex sql reads the published views read-only and no file outside {exports}/)"
        elif "does not exist" in message:
            if is_snapshot(con):
                message += f" (the published snapshot has: {', '.join(_tables(con))})"
            elif _migrations_pending(con):
                message += (f" (this warehouse predates the current views: a writer applies the new migrations on open, "
                            f"e.g. `gex compute --all --warehouse {target}`)")
        raise _fail(message, EXIT_BAD_INPUT) from None
    finally:
        con.close()
    rows = list(zip(*(arrow.column(i).to_pylist() for i in range(arrow.num_columns)))) if arrow.num_columns else []
    if fmt == "table":
        _print_table(columns, rows, max_rows)
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_value(v) for v in row])
    else:
        if len(set(columns)) != len(columns):
            raise _fail(f"columns {columns} repeat a name: alias them (AS ...) for JSON output", EXIT_USAGE)
        records = [{name: _json_value(v) for name, v in zip(columns, row)} for row in rows]
        typer.echo(json.dumps(records, indent=2, allow_nan=False))
