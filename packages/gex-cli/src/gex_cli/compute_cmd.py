"""``gex compute``: analyse loaded chains into the warehouse marts (``mart.*``).

Exit codes follow :mod:`gex_cli.main`: 0 every selected session computed (or nothing pending); 1 a session
failed to compute, the warehouse is missing or held by another process, or ``--session`` names a chain that
is not loaded; 2 usage error (bad date, unknown preset, both or neither of ``--session``/``--all``).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Annotated

import typer

from gex_cli.errors import EXIT_BAD_INPUT, EXIT_USAGE
from gex_cli.errors import fail as _fail
from gex_cli.interrupts import long_command
from gex_cli.options import PRESET_NAMES


def compute(
    session: Annotated[str | None, typer.Option("--session", help="Compute this session (YYYY-MM-DD) only.")] = None,
    all_sessions: Annotated[
        bool, typer.Option("--all", help="Compute every pending session (loaded but not computed, or loaded again since).")
    ] = False,
    underlying: Annotated[str | None, typer.Option("--underlying", "-u", help="Only this underlying (SPX, NDX, ...).")] = None,
    warehouse: Annotated[
        Path | None,
        typer.Option("--warehouse", "-w", help="Warehouse file (default: $GEX_WAREHOUSE, else warehouse/gex.duckdb)."),
    ] = None,
    preset: Annotated[str, typer.Option("--preset", "-p", help="Conventions: native, perfiliev, perfiliev-early, gflows.")] = "native",
    force: Annotated[bool, typer.Option("--force", help="Recompute sessions even when their marts are current.")] = False,
) -> None:
    """Compute dealer GEX marts (by strike, expiry, DTE, profile, flip, daily regime) for loaded chains.

    Each session's marts are replaced in one transaction (recomputing gives identical rows); every attempt
    is logged in mart.runs. The rate is the session's curve at 30 days from core.rates (else fallback_rate).
    """
    if session is None and not all_sessions:
        raise _fail("say which sessions: --session YYYY-MM-DD or --all", EXIT_USAGE)
    if session is not None and all_sessions:
        raise _fail("give --session or --all, not both", EXIT_USAGE)
    if preset not in PRESET_NAMES:
        raise _fail(f"unknown preset {preset!r}; choose one of {', '.join(PRESET_NAMES)}", EXIT_USAGE)
    day: dt.date | None = None
    if session is not None:
        try:
            day = dt.date.fromisoformat(session)
        except ValueError:
            raise _fail(f"--session {session!r} is not a date like 2024-01-05", EXIT_USAGE) from None
    symbol = underlying.upper().lstrip("^") if underlying else None

    from gex_warehouse.config import warehouse_path

    target = warehouse_path(warehouse)
    if not target.is_file():
        raise _fail(f"no warehouse at {target}: load data first with `gex ingest PATH --warehouse {target}`", EXIT_BAD_INPUT)
    with long_command():  # Ctrl-C: stop between sessions (or roll the current one back), say so, exit 130
        _compute(target, day, symbol, preset, force)


def _compute(target: Path, day: dt.date | None, symbol: str | None, preset: str, force: bool) -> None:
    from gex.conventions import preset as get_preset
    from rich.console import Console
    from rich.table import Table

    from gex_warehouse import compute as c
    from gex_warehouse.config import ingest_memory_limit
    from gex_warehouse.connect import WarehouseError, connect
    from gex_warehouse.load import checkpoint
    from gex_warehouse.writer import busy

    from pipelines import runtime

    conventions = get_preset(preset)
    try:
        con = connect(target, memory_limit=ingest_memory_limit())
    except WarehouseError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None

    table = Table(title="gex compute", title_justify="left")
    for name, justify in (("session", "left"), ("underlying", "left"), ("spot", "right"), ("total GEX $bn/1%", "right"),
                          ("flip", "right"), ("regime", "left"), ("notes", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    failures: list[str] = []
    try:
        if day is not None:
            todo = [(u, s) for u, s in c.loaded_sessions(con, symbol) if s == day]
            if not todo:
                raise _fail(f"no chain of {symbol or 'any underlying'} for session {day} in {target}", EXIT_BAD_INPUT)
            if not force:
                pending = set(c.pending_sessions(con, symbol, preset=preset))
                todo = [key for key in todo if key in pending]
        else:
            todo = c.loaded_sessions(con, symbol) if force else c.pending_sessions(con, symbol, preset=preset)
        runtime.tally.plan("sessions computed", len(todo))
        for u, s in todo:
            runtime.check_stop()  # a stop request ends the run between sessions (each is one transaction)
            started, t0 = dt.datetime.now(dt.timezone.utc), time.perf_counter()
            rows_in, rows_out, status, message = 0, 0, "ok", None
            try:
                with runtime.stoppable(), busy(con):
                    snapshot = c.snapshot_from_warehouse(con, u, s)
                    rate, load_id = c.rate_for(con, s), c.chain_load_id(con, u, s)
                rows_in = snapshot.frame.height
                frames = c.compute_session(snapshot, conventions, rate, load_id=load_id)  # pure: Ctrl-C stops it at once
                with runtime.stoppable(), busy(con):
                    rows_out = c.write_marts(con, frames)
                a = frames.analysis
                message = "; ".join(a.warnings) or None
                flip = "none" if a.gamma_flip is None else f"{a.gamma_flip:,.2f}"
                notes = "partial chain" if a.coverage.partial else ""
                table.add_row(str(s), u, f"{a.spot:,.2f}", f"{a.total_gex / 1e9:+,.3f}", flip, a.regime, notes)
            except (ValueError, KeyError) as exc:  # bad data in a loaded chain: report it, go on with the others
                status, message = "failed", f"{type(exc).__name__}: {exc}"
                failures.append(f"{u} {s}: {exc}")
                table.add_row(str(s), u, "", "", "", "", "FAILED (see below)")
            finished = started + dt.timedelta(seconds=time.perf_counter() - t0)
            with runtime.stoppable(), busy(con):
                c.record_run(
                    con,
                    c.RunRecord("compute", u, s, rows_in, rows_out, status, started, finished,
                                json.dumps(conventions.as_record(), sort_keys=True), message),
                )
                runtime.tally.done("sessions computed")  # still busy: no Ctrl-C between commit and count
        checkpoint(con)  # no write-ahead log left for the duckdb 1.5 shell (docs/warehouse.md)
    finally:
        con.close()

    out = Console(highlight=False)
    if not out.is_terminal:
        out = Console(highlight=False, width=160)
    if todo:
        out.print(table)
    out.print(f"{len(todo)} session{'s' if len(todo) != 1 else ''} computed ({len(failures)} failed) -> {target}"
              if todo else f"nothing to compute (marts are current; --force recomputes) -> {target}")
    for line in failures:
        typer.echo(f"gex: error: {line}", err=True)
    if failures:
        raise typer.Exit(EXIT_BAD_INPUT)
