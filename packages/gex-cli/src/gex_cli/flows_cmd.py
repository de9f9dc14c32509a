"""``gex nightly`` and ``gex backfill``: run the Prefect flows of ``pipelines/`` in this process.

The flows run on a temporary local Prefect API that the command starts and stops itself
(:mod:`pipelines.api_server`; set ``PREFECT_API_URL`` to use a real one). Prefect and the flows are imported
only when a command runs, so ``gex --help`` stays fast.

Exit codes follow :mod:`gex_cli.main`: 0 every session computed (or nothing to do); 1 a session failed (the
others are still written), a file failed to load, the warehouse is missing or held by another process;
2 usage error (bad date, empty range, unknown preset); 130 interrupted by Ctrl-C, 143 stopped by SIGTERM
(:mod:`gex_cli.interrupts`: what finished stays, a rerun resumes).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from gex_cli.errors import EXIT_BAD_INPUT, EXIT_USAGE
from gex_cli.errors import fail as _fail
from gex_cli.interrupts import long_command, prefect_ready
from gex_cli.options import PRESET_NAMES

#: Prefect settings these commands default (an environment that sets them wins): a startup timeout the
#: temporary API server meets on 2 cores, and no telemetry (docs/flows.md).
PREFECT_DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
}


def prefect_env() -> None:
    """Set :data:`PREFECT_DEFAULTS` where the environment leaves them unset (before Prefect is imported)."""
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)


def _run(flow: Any, *, lock_wait: float = 0.0, **kwargs: Any) -> Any:
    """Run a flow in-process, holding the warehouse (``kwargs["warehouse"]``) for it first.

    Taking DuckDB's single-writer lock here, before the flow starts, makes a warehouse held by another
    job one clear line and exit 1 (after waiting up to ``lock_wait`` seconds) instead of a failed flow run
    with a traceback; the flow's own hold then reuses this one (same process).
    """
    from contextlib import ExitStack

    from gex_warehouse.config import ingest_memory_limit
    from gex_warehouse.connect import WarehouseError
    from gex_warehouse.writer import hold

    from pipelines import runtime

    def waiting(refused: Any) -> None:  # a scheduled job may wait minutes: say so once, when it starts
        typer.echo(f"warehouse {refused.path} held by {refused.holder()}; waiting up to {lock_wait:.0f} s (--lock-wait)",
                   err=True)

    try:
        with ExitStack() as holding:
            with runtime.interruptible():  # Ctrl-C while waiting for the lock: nothing to undo
                holding.enter_context(hold(kwargs["warehouse"], wait_seconds=lock_wait,
                                           memory_limit=ingest_memory_limit(), on_wait=waiting))
            return flow(**kwargs)
    except WarehouseError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    except FileNotFoundError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None


def _report(outcomes: list[Any], target: str) -> list[str]:
    failures = [f"{o.underlying} {o.session} ({o.preset}): {o.message}" for o in outcomes if o.status != "ok"]
    typer.echo(f"{len(outcomes)} session{'s' if len(outcomes) != 1 else ''} computed ({len(failures)} failed) -> {target}")
    return failures


WarehouseOption = Annotated[
    Path | None,
    typer.Option("--warehouse", "-w", help="Warehouse file (default: $GEX_WAREHOUSE, else warehouse/gex.duckdb)."),
]
ExportsOption = Annotated[
    Path | None,
    typer.Option("--exports", help="Parquet exports folder (default: $GEX_EXPORTS, else exports/ beside the warehouse)."),
]


PresetsOption = Annotated[
    list[str] | None,
    typer.Option("--preset", "-p", help="Conventions to compute under (repeatable): native, perfiliev, perfiliev-early, "
                                       "gflows. Default: native and every preset the warehouse already holds."),
]


def _presets(names: list[str] | None) -> list[str] | None:
    for name in names or []:
        if name not in PRESET_NAMES:
            raise _fail(f"unknown preset {name!r}; choose one of {', '.join(PRESET_NAMES)}", EXIT_USAGE)
    return list(dict.fromkeys(names)) if names else None


def _lock_wait_option(default: float) -> Any:
    return typer.Option(
        "--lock-wait",
        help=f"Seconds to wait for another job to release the warehouse before failing (default {default:.0f}).",
    )


def _date(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _fail(f"{option} {text!r} is not a date like 2024-01-05", EXIT_USAGE) from None


def nightly(
    landing: Annotated[
        Path | None,
        typer.Option("--landing", "-l", help="Landing folder of vendor files (default: $GEX_LANDING, else landing/)."),
    ] = None,
    warehouse: WarehouseOption = None,
    underlying: Annotated[
        list[str] | None, typer.Option("--underlying", "-u", help="Only these underlyings (repeat the option); default all.")
    ] = None,
    exports: ExportsOption = None,
    expect: Annotated[
        list[str] | None,
        typer.Option("--expect", help="Wait for a file matching this glob, relative to the landing folder; "
                                      "{session} is the session as YYYY-MM-DD (repeatable), e.g. 'chains/SPX_{session}_*.csv'."),
    ] = None,
    session: Annotated[
        str | None, typer.Option("--session", help="Session the --expect patterns refer to (default: today's, New York).")
    ] = None,
    deadline: Annotated[
        float, typer.Option("--deadline-minutes", help="Wait up to this long for expected files and for files still being written (0: no wait).")
    ] = 0.0,
    lock_wait: Annotated[float, _lock_wait_option(600)] = 600.0,
    preset: PresetsOption = None,
    watchlist: Annotated[
        Path | None,
        typer.Option("--watchlist", help="Fetch the sources and symbols of this watchlist (TOML, deploy/watchlist.example.toml) "
                                         "into the landing folder first; default $GEX_WATCHLIST, else fetch nothing."),
    ] = None,
) -> None:
    """Nightly flow: fetch the watchlist (if any), ingest the landing folder, compute every pending session, export, summarise the regimes.

    Runs the Prefect flow pipelines.nightly in this process (temporary local API unless PREFECT_API_URL is
    set); the regimes also go to the Prefect table artifact gex-nightly-regimes. While it runs it holds the
    warehouse (DuckDB's single writer): a second job waits up to --lock-wait seconds, then exits 1.
    """
    folder = landing or Path(os.environ.get("GEX_LANDING", "landing"))
    if not folder.is_dir():
        raise _fail(f"no landing folder at {folder}: pass --landing DIR (or set GEX_LANDING)", EXIT_BAD_INPUT)
    day = _date(session, "--session")
    if expect and day is None:
        from gex import calendar

        day = calendar.as_of_session(dt.datetime.now(dt.timezone.utc))
    if deadline < 0 or lock_wait < 0:
        raise _fail("--deadline-minutes and --lock-wait cannot be negative", EXIT_USAGE)
    presets = _presets(preset)
    watch = watchlist or (Path(os.environ["GEX_WATCHLIST"]) if os.environ.get("GEX_WATCHLIST") else None)
    if watch is not None:
        from gex_fetch import WatchlistError, load_watchlist

        try:
            load_watchlist(watch)  # a bad watchlist is a usage error, before anything runs
        except WatchlistError as exc:
            raise _fail(str(exc), EXIT_USAGE) from None
    prefect_env()
    with long_command(prefect=True):
        _nightly(folder, warehouse, underlying, exports, expect, day, deadline, lock_wait, presets, watch)


def _nightly(folder: Path, warehouse: Path | None, underlying: list[str] | None, exports: Path | None,
             expect: list[str] | None, day: dt.date | None, deadline: float, lock_wait: float,
             presets: list[str] | None, watch: Path | None) -> None:
    from gex_warehouse.arrivals import LandingNotReady
    from gex_warehouse.config import warehouse_path

    from pipelines.nightly import nightly as nightly_flow

    prefect_ready()
    target = str(warehouse_path(warehouse))
    try:
        result = _run(nightly_flow, landing=str(folder), warehouse=target, underlyings=underlying or None,
                      exports=None if exports is None else str(exports), expect=expect or None, session=day,
                      deadline_minutes=deadline, lock_wait=lock_wait, presets=presets,
                      watchlist=None if watch is None else str(watch))
    except LandingNotReady as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    for f in result.fetches:
        typer.echo(f.line())
    bad_fetches = [f.line() for f in result.fetches if not f.ok]
    bad_files = [r.message if r.message and str(r.path) in r.message else f"{r.path}: {r.message or r.status}"
                 for r in result.loads if not r.ok]  # one line per file, naming it once
    for row in result.regimes:
        flip = "none" if row["gamma_flip"] is None else f"{row['gamma_flip']:,.2f}"
        typer.echo(f"{row['session']} {row['underlying']} ({row['preset']}): spot {row['spot']:,.2f}, total GEX "
                   f"{row['total_gex_bn_per_1pct']:+,.3f} $bn/1%, flip {flip}, {row['regime']}"
                   + (" (STALE: no newer data for this underlying)" if row.get("data_stale") else ""))
    failures = _report(result.outcomes, target)
    if result.exports is not None:
        typer.echo(f"exports: {len(result.exports.sessions)} (underlying, session) pairs changed, "
                   f"{len(result.exports.rewritten_sessions)} sessions rewritten, {result.exports.files} files "
                   f"-> {result.exports.root}")
    for line in bad_fetches + bad_files + failures:
        typer.echo(f"gex: error: {line}", err=True)
    if bad_fetches or bad_files or failures:
        raise typer.Exit(EXIT_BAD_INPUT)


def backfill(
    start: Annotated[str, typer.Option("--start", help="First session (YYYY-MM-DD), inclusive.")],
    end: Annotated[str, typer.Option("--end", help="Last session (YYYY-MM-DD), inclusive.")],
    warehouse: WarehouseOption = None,
    underlying: Annotated[str | None, typer.Option("--underlying", "-u", help="Only this underlying (SPX, NDX, ...).")] = None,
    preset: PresetsOption = None,
    force: Annotated[bool, typer.Option("--force", help="Recompute sessions already computed.")] = False,
    exports: ExportsOption = None,
    workers: Annotated[int, typer.Option("--workers", help="Sessions analysed at once (threads, or Dask tasks in flight).")] = 2,
    dask: Annotated[
        str | None,
        typer.Option("--dask", help="Run the analysis on an existing Dask cluster at this scheduler address "
                                    "(tcp://host:8786), or on a temporary local one (local, local:N worker "
                                    "processes); needs PREFECT_API_URL set to a Prefect server (docs/distributed.md)."),
    ] = None,
    lock_wait: Annotated[float, _lock_wait_option(0)] = 0.0,
) -> None:
    """Backfill flow: compute every loaded session from --start to --end (inclusive) in parallel, then export.

    Sessions already computed are skipped (so a stopped backfill resumes) unless --force. Runs the Prefect
    flow pipelines.backfill in this process; with --dask the per-session analysis runs on the Dask cluster
    (through prefect-dask) and this process stays the warehouse's only writer.
    """
    first, last = _date(start, "--start"), _date(end, "--end")
    assert first is not None and last is not None
    if last < first:
        raise _fail(f"--end {last} is before --start {first}", EXIT_USAGE)
    presets = _presets(preset)
    if not 1 <= workers <= 256:
        raise _fail(f"--workers must be between 1 and 256, not {workers}", EXIT_USAGE)
    from gex_warehouse.config import warehouse_path

    target = warehouse_path(warehouse)
    if not target.is_file():
        raise _fail(f"no warehouse at {target}: load data first with `gex ingest PATH --warehouse {target}`", EXIT_BAD_INPUT)
    if dask is not None:
        from pipelines.backfill import parse_dask_address

        try:
            parse_dask_address(dask)
        except ValueError as exc:
            raise _fail(str(exc), EXIT_USAGE) from None
    if dask is not None and not os.environ.get("PREFECT_API_URL"):
        raise _fail("--dask needs a Prefect server that the Dask workers can reach: start one with "
                    "`uv run prefect server start` and set PREFECT_API_URL=http://<host>:4200/api "
                    "(without it every Dask worker would start its own temporary API)", EXIT_USAGE)
    prefect_env()
    with long_command(prefect=True):
        from pipelines.backfill import backfill as backfill_flow
        from pipelines.backfill import with_dask

        prefect_ready()
        flow = with_dask(backfill_flow, dask) if dask else backfill_flow
        outcomes = _run(flow, warehouse=str(target), start=first, end=last, underlying=underlying, force=force,
                        presets=presets, exports=None if exports is None else str(exports), lock_wait=lock_wait,
                        workers=workers)
    failures = _report(outcomes, str(target))
    for line in failures:
        typer.echo(f"gex: error: {line}", err=True)
    if failures:
        raise typer.Exit(EXIT_BAD_INPUT)


def publish(
    warehouse: WarehouseOption = None,
    exports: ExportsOption = None,
    lock_wait: Annotated[float, _lock_wait_option(0)] = 0.0,
    force: Annotated[bool, typer.Option("--force", help="Rewrite every computed session's exports (and hedging advice), "
                                                       "not only the out-of-date ones, and rebuild the published "
                                                       "snapshot whole.")] = False,
) -> None:
    """Publish flow: write the published views of every session computed since its last export to Parquet.

    Layout: EXPORTS/<view>/session=<YYYY-MM-DD>/part-0.parquet (hive partitioning; one file per view and
    session, every underlying in it as a column), for dashboards and notebooks that must not wait for the
    warehouse's single writer.
    """
    from gex_warehouse.config import warehouse_path

    target = warehouse_path(warehouse)
    if not target.is_file():
        raise _fail(f"no warehouse at {target}: load data first with `gex ingest PATH --warehouse {target}`", EXIT_BAD_INPUT)
    prefect_env()
    with long_command(prefect=True):
        from pipelines.publish import publish as publish_flow

        prefect_ready()
        result = _run(publish_flow, warehouse=str(target), exports=None if exports is None else str(exports),
                      lock_wait=lock_wait, force=force)
    typer.echo(f"{len(result.views)} views, {len(result.sessions)} (underlying, session) pairs changed, "
               f"{len(result.rewritten_sessions)} sessions rewritten, {result.files} files, {result.rows:,} rows "
               f"-> {result.root}")
