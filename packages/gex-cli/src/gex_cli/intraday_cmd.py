"""``gex intraday``: the intraday flow (``pipelines.intraday``) in this process: one cycle now (``--once``), or a
cycle at every intraday run instant (every ``--every`` minutes of NYSE regular hours) until Ctrl-C.

The scheduled way, which survives a logout, is ``gex serve --watchlist FILE --intraday`` (docs/scheduling.md).
Prefect and the flows are imported only when the command runs, so ``gex --help`` stays fast.

Exit codes (:mod:`gex_cli.errors`): 0 every symbol fetched, loaded and computed (or nothing due); 1 a symbol,
a file or a snapshot failed (the others are written), the warehouse is held by another job; 2 usage error
(bad watchlist, interval, preset); 130 interrupted by Ctrl-C, 143 by SIGTERM (what finished stays).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from gex_cli.errors import EXIT_BAD_INPUT, EXIT_USAGE
from gex_cli.errors import fail as _fail
from gex_cli.flows_cmd import ExportsOption, PresetsOption, WarehouseOption, _presets, _run, prefect_env
from gex_cli.interrupts import long_command, prefect_ready

DEFAULT_EVERY = 5  # = gex_fetch.schedule.DEFAULT_EVERY_MINUTES (kept here too: --help must not import it)


def intraday(
    watchlist: Annotated[
        Path | None,
        typer.Option("--watchlist", help="What to fetch every cycle (TOML, deploy/watchlist.example.toml); "
                                         "default $GEX_WATCHLIST."),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Run one cycle now (even outside market hours) and exit.")] = False,
    every: Annotated[
        int, typer.Option("--every", help="Minutes between snapshots, a divisor of 60: runs at open+N, open+2N, ..., "
                                          "the close (09:35 ... 16:00 New York at 5; 13:00 on early closes).")
    ] = DEFAULT_EVERY,
    landing: Annotated[
        Path | None,
        typer.Option("--landing", "-l", help="Landing folder the fetches are archived in (default: $GEX_LANDING, "
                                             "else landing/; created if missing)."),
    ] = None,
    warehouse: WarehouseOption = None,
    exports: ExportsOption = None,
    preset: PresetsOption = None,
    parquet: Annotated[
        bool, typer.Option("--parquet", help="Also rewrite the Parquet exports (and hedging advice) of the touched "
                                             "sessions every cycle (default: the nightly's publish writes them).")
    ] = False,
    lock_wait: Annotated[
        float, typer.Option("--lock-wait", help="Seconds a cycle waits for another job to release the warehouse "
                                                "before failing (default 60).")
    ] = 60.0,
) -> None:
    """Intraday flow: fetch the watchlist, ingest the snapshots, compute, publish (levels feed, alerts), every N minutes.

    With --once, one cycle now. Without, a cycle at each run instant of NYSE regular hours (holidays, weekends
    and the hours after early closes skipped) until Ctrl-C. Open interest is start-of-day all day.
    """
    from gex_fetch.schedule import check_every

    try:
        check_every(every)
    except ValueError as exc:
        raise _fail(f"--every: {exc}", EXIT_USAGE) from None
    if lock_wait < 0:
        raise _fail("--lock-wait cannot be negative", EXIT_USAGE)
    presets = _presets(preset)
    watch = watchlist or (Path(os.environ["GEX_WATCHLIST"]) if os.environ.get("GEX_WATCHLIST") else None)
    if watch is None:
        raise _fail("give --watchlist FILE (or set GEX_WATCHLIST): the intraday flow fetches what it lists", EXIT_USAGE)
    from gex_fetch import WatchlistError, load_watchlist

    try:
        wl = load_watchlist(watch)  # a bad watchlist is a usage error, before anything runs
    except WatchlistError as exc:
        raise _fail(str(exc), EXIT_USAGE) from None
    folder = landing or Path(wl.landing or os.environ.get("GEX_LANDING", "landing"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(f"cannot create the landing folder {folder}: {exc.strerror or exc}", EXIT_BAD_INPUT) from None
    prefect_env()
    with long_command(prefect=True):
        failed = _cycles(wl, folder, warehouse, exports, presets, every, lock_wait, once, parquet)
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


def _cycles(wl: Any, folder: Path, warehouse: Path | None, exports: Path | None, presets: list[str] | None,
            every: int, lock_wait: float, once: bool, parquet: bool) -> bool:
    """Run the cycle(s); returns whether any cycle had a failure (printed as it happened)."""
    from gex_fetch.schedule import next_intraday_runs
    from gex_warehouse.config import warehouse_path

    from pipelines import runtime
    from pipelines.intraday import intraday as intraday_flow

    prefect_ready()
    target = str(warehouse_path(warehouse))
    kwargs = dict(landing=str(folder), warehouse=target, watchlist=str(Path(wl.path).resolve()), every=every,
                  presets=presets, exports=None if exports is None else str(exports), lock_wait=lock_wait,
                  parquet=parquet)
    if once:
        return _report(_run(intraday_flow, gate=False, **kwargs), target)
    failed = False
    while True:
        instant = next_intraday_runs(dt.datetime.now(dt.timezone.utc), every, 1)[0]
        typer.echo(f"next intraday cycle at {instant:%a %Y-%m-%d %H:%M %Z} (Ctrl-C to stop)")
        wait = (instant - dt.datetime.now(dt.timezone.utc)).total_seconds()
        if wait > 0:
            runtime.wait_or_stop(wait)  # Ctrl-C while waiting: nothing to undo
        failed |= _report(_run(intraday_flow, gate=True, now=instant, **kwargs), target)


def _report(result: Any, target: str) -> bool:
    """Print one cycle's outcome; returns whether something failed."""
    if result.skipped:
        typer.echo(f"skipped: {result.skipped}")
        return False
    for f in result.fetches:
        typer.echo(f.line())
    for o in result.outcomes:
        if o.status == "ok":
            flip = "none" if o.gamma_flip is None else f"{o.gamma_flip:,.2f}"
            typer.echo(f"{o.session} {o.underlying} ({o.preset}): spot {o.spot:,.2f}, total GEX "
                       f"{o.total_gex_usd_per_1pct / 1e9:+,.3f} $bn/1%, flip {flip}, {o.regime}")
    for message in result.alerts:
        typer.echo(f"alert: {message}")
    lines = [f.line() for f in result.failed_fetches]
    lines += [r.message if r.message and str(r.path) in r.message else f"{r.path}: {r.message or r.status}"
              for r in result.failed_loads]
    lines += [f"{o.underlying} {o.session} ({o.preset}): {o.message}" for o in result.failed]
    typer.echo(f"{len(result.outcomes)} snapshot computations ({len(result.failed)} failed) -> {target}; "
               f"{result.seconds.get('latency', 0.0):.2f} s from the last response to the published snapshot")
    for line in lines:
        typer.echo(f"gex: error: {line}", err=True)
    return bool(lines)
