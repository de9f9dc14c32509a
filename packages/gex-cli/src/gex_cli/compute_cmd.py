"""``gex compute``: analyse loaded chains into the warehouse marts (``mart.*``).

Exit codes follow :mod:`gex_cli.main`: 0 every selected session computed (or nothing pending); 1 a session
failed to compute, the warehouse is missing or held by another process, or ``--session`` names a chain that
is not loaded; 2 usage error (bad date, unknown preset, both or neither of ``--session``/``--all``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from gex_cli.errors import EXIT_BAD_INPUT, EXIT_USAGE
from gex_cli.errors import fail as _fail
from gex_cli.interrupts import long_command
from gex_cli.options import PRESET_NAMES


#: Computed rows ``gex compute`` prints (failures are always printed); a whole-market session has thousands.
TABLE_ROWS = 50


def compute(
    session: Annotated[str | None, typer.Option("--session", help="Compute this session (YYYY-MM-DD) only.")] = None,
    all_sessions: Annotated[
        bool, typer.Option("--all", help="Compute every pending session (loaded but not computed, loaded again since, "
                                         "or made incomplete by an upgrade).")
    ] = False,
    underlying: Annotated[str | None, typer.Option("--underlying", "-u", help="Only this underlying (SPX, NDX, ...).")] = None,
    warehouse: Annotated[
        Path | None,
        typer.Option("--warehouse", "-w", help="Warehouse file (default: $GEX_WAREHOUSE, else warehouse/gex.duckdb)."),
    ] = None,
    preset: Annotated[
        list[str] | None,
        typer.Option("--preset", "-p", help="Conventions to compute under (repeatable): native, perfiliev, perfiliev-early, "
                                           "gflows. Default: native and every preset the warehouse already holds."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Recompute sessions even when their marts are current.")] = False,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Analysis processes (default: every core for 200 snapshots or more, "
                                              "else 1: the analysis runs in this process)."),
    ] = None,
) -> None:
    """Compute dealer GEX marts (by strike, expiry, DTE, profile, flip, daily regime) for loaded chains.

    Each session's marts are replaced in one transaction per preset (recomputing gives identical rows); native
    and preset rows of one session coexist. Every attempt is logged in mart.runs. The rate is the session's
    curve at 30 days from core.rates (else fallback_rate).
    """
    if session is None and not all_sessions:
        raise _fail("say which sessions: --session YYYY-MM-DD or --all", EXIT_USAGE)
    if session is not None and all_sessions:
        raise _fail("give --session or --all, not both", EXIT_USAGE)
    for name in preset or []:
        if name not in PRESET_NAMES:
            raise _fail(f"unknown preset {name!r}; choose one of {', '.join(PRESET_NAMES)}", EXIT_USAGE)
    day: dt.date | None = None
    if session is not None:
        try:
            day = dt.date.fromisoformat(session)
        except ValueError:
            raise _fail(f"--session {session!r} is not a date like 2024-01-05", EXIT_USAGE) from None

    from gex_service import compute as svc
    from gex_warehouse.config import warehouse_path

    symbol = svc.normalise_symbol(underlying)
    target = warehouse_path(warehouse)
    if not target.is_file():
        raise _fail(f"no warehouse at {target}: load data first with `gex ingest PATH --warehouse {target}`", EXIT_BAD_INPUT)
    with long_command():  # Ctrl-C: stop between sessions (or roll the current one back), say so, exit 130
        _compute(target, day, symbol, preset, force, workers)


def _compute(target: Path, day: dt.date | None, symbol: str | None, preset: list[str] | None, force: bool,
             workers: int | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    from gex_service import compute as svc
    from gex_warehouse.config import ingest_memory_limit
    from gex_warehouse.connect import WarehouseError, connect
    from gex_warehouse.load import checkpoint
    from gex_warehouse.published import refresh_snapshot
    from gex_warehouse.writer import busy

    from pipelines import runtime

    try:
        con = connect(target, memory_limit=ingest_memory_limit())
    except WarehouseError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None

    table = Table(title="gex compute", title_justify="left")
    for name, justify in (("session", "left"), ("underlying", "left"), ("preset", "left"), ("spot", "right"),
                          ("total GEX $bn/1%", "right"), ("flip", "right"), ("regime", "left"), ("notes", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    try:
        try:
            if day is not None:
                jobs = svc.plan(con, presets=preset, underlying=symbol, session=day, force=True)
                if not jobs:
                    raise _fail(f"no chain of {symbol or 'any underlying'} for session {day} in {target}", EXIT_BAD_INPUT)
                if not force:
                    pending = set(svc.plan(con, presets=preset, underlying=symbol, session=day))
                    jobs = [j for j in jobs if j in pending]
            else:
                jobs = svc.plan(con, presets=preset, underlying=symbol, force=force)
        except svc.UnknownUnderlyingError as exc:
            raise _fail(str(exc), EXIT_BAD_INPUT) from None
        runtime.tally.plan("sessions computed", len(jobs))

        @contextmanager
        def guard() -> Iterator[None]:
            with runtime.stoppable(), busy(con):
                yield

        def stop() -> bool:
            runtime.check_stop()  # a stop request ends the run between batches (each is one transaction)
            return False

        died = None
        try:
            outcomes = svc.compute(con, jobs, flow="compute", workers=svc.workers_for(len(jobs), workers),
                                   should_stop=stop, guard=guard,
                                   on_written=lambda n: runtime.tally.done("sessions computed", n))
        except svc.WorkerDiedError as exc:  # what was written is kept (whole batches); say so, then fail
            outcomes, died = exc.outcomes, str(exc)
        checkpoint(con)  # no write-ahead log left for the duckdb 1.5 shell (docs/warehouse.md)
        snapshot_error = None
        try:
            refresh_snapshot(con, target)  # readers (gex sql/report/advise) read this copy, never locked
        except WarehouseError as exc:
            snapshot_error = f"the published snapshot was not refreshed: {exc}"
    finally:
        con.close()

    failures = [line for line in (died, snapshot_error) if line]
    shown = 0
    for o in outcomes:
        if o.status != "ok":
            failures.append(f"{o.underlying} {o.session} ({o.preset}): {o.message}")
            table.add_row(str(o.session), o.underlying, o.preset, "", "", "", "", "FAILED (see below)")
            continue
        shown += 1
        if shown > TABLE_ROWS:  # a whole-market run: the rest is in the warehouse, ranked by `gex scan`
            continue
        flip = "none" if o.gamma_flip is None else f"{o.gamma_flip:,.2f}"
        table.add_row(str(o.session), o.underlying, o.preset, f"{o.spot:,.2f}", f"{(o.total_gex_usd_per_1pct or 0) / 1e9:+,.3f}",
                      flip, o.regime or "", "partial chain" if o.partial_chain else "")
    out = Console(highlight=False)
    if not out.is_terminal:
        out = Console(highlight=False, width=160)
    if outcomes:
        out.print(table)
    if shown > TABLE_ROWS:
        out.print(f"... and {shown - TABLE_ROWS:,} more computed rows: `gex scan` ranks them, main.regime_daily holds them")
    n = len(outcomes)
    out.print(f"{n} session{'s' if n != 1 else ''} computed ({len(failures)} failed) -> {target}"
              if outcomes else f"nothing to compute (marts are current; --force recomputes) -> {target}")
    for line in failures:
        typer.echo(f"gex: error: {line}", err=True)
    if failures:
        raise typer.Exit(EXIT_BAD_INPUT)
