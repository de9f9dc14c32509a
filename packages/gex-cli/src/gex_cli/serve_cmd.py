"""``gex serve``: the nightly flow on a cron schedule (and, with ``--intraday``, the intraday flow every N minutes of
market hours), registered with a Prefect server and served here.

A schedule needs a real Prefect server (``prefect server start``; ``PREFECT_API_URL`` pointing at it): the
temporary API that ``gex nightly`` starts has no scheduler. Prefect and the flows are imported only when the
command runs (``pipelines.serve``), so ``gex --help`` stays fast. See docs/scheduling.md.

Exit codes follow :mod:`gex_cli.main`: 0 stopped by Ctrl-C/SIGTERM, or ``--dry-run`` done; 1 no server
configured, the server does not answer, or the landing folder is missing; 2 usage error (bad cron, unknown
time zone, empty name).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from gex_cli.errors import EXIT_BAD_INPUT, EXIT_USAGE
from gex_cli.errors import fail as _fail
from gex_cli.options import PRESET_NAMES
from gex_cli.flows_cmd import prefect_env
DEFAULT_CRON = "0 22 * * 1-5"  # = pipelines.serve.DEFAULT_CRON (kept here too: --help must not import Prefect)
DEFAULT_TIMEZONE = "America/New_York"
DEFAULT_NAME = "gex-nightly"
#: Zone the preview also shows the run times in, besides UTC (the market's clock).
MARKET_TIMEZONE = "America/New_York"
PREVIEW_RUNS = 5

NO_SERVER = """\
gex: error: no Prefect server is configured (PREFECT_API_URL is not set), and a schedule needs one:
Prefect's temporary local API, which `gex nightly` uses, has no scheduler.
  1. start a server in another terminal (or install deploy/systemd/gex-prefect-server.service):
       uv run prefect server start
  2. point Prefect at it (saved in the active profile; or `export PREFECT_API_URL=...` in this shell):
       uv run prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api
  3. run again:
       uv run gex serve
`gex nightly` runs the same flow once, now, without a server. `gex serve --dry-run` shows what would be
registered without contacting one. See docs/scheduling.md."""


def _when(moment: dt.datetime) -> str:
    """One run time as ``Mon 2026-03-09 22:00 EDT (02:00 UTC Tue 2026-03-10)`` in the market's zone and UTC."""
    from zoneinfo import ZoneInfo

    market = moment.astimezone(ZoneInfo(MARKET_TIMEZONE))
    utc = moment.astimezone(dt.timezone.utc)
    return f"{market:%a %Y-%m-%d %H:%M %Z} = {utc:%a %Y-%m-%d %H:%M} UTC"


def describe(name: str, schedule: Any, params: dict[str, Any], runs: list[dt.datetime]) -> list[str]:
    """The lines saying what is (or would be) registered: deployment, schedule, parameters, next runs."""
    lines = [
        f"deployment: nightly/{name} (flow pipelines.nightly.nightly)",
        f"schedule:   cron {schedule.cron!r} in {schedule.timezone}",
        (f"parameters: landing={params['landing']}, warehouse={params['warehouse']}, "
         f"underlyings={','.join(params['underlyings']) if params['underlyings'] else 'all'}, "
         f"presets={','.join(params.get('presets') or []) or 'native + those the warehouse holds'}, "
         f"watchlist={params.get('watchlist') or 'none (files dropped into the landing folder)'}"),
        f"next {len(runs)} runs ({MARKET_TIMEZONE} = UTC):",
    ]
    lines += [f"  {_when(r)}" for r in runs]
    return lines


def serve(
    cron: Annotated[
        str | None, typer.Option("--cron", help="Cron expression (minute hour day month weekday), read in --timezone. "
                                               f"Default: {DEFAULT_CRON}; with --watchlist, its EOD fetch time after "
                                               "each NYSE close (early closes included, holidays skipped).")
    ] = None,
    timezone: Annotated[
        str, typer.Option("--timezone", "--tz", help="IANA time zone the cron is read in (DST-aware wall clock).")
    ] = DEFAULT_TIMEZONE,
    landing: Annotated[
        Path | None,
        typer.Option("--landing", "-l", help="Landing folder of vendor files (default: $GEX_LANDING, else landing/)."),
    ] = None,
    warehouse: Annotated[
        Path | None,
        typer.Option("--warehouse", "-w", help="Warehouse file (default: $GEX_WAREHOUSE, else warehouse/gex.duckdb)."),
    ] = None,
    underlying: Annotated[
        list[str] | None,
        typer.Option("--underlying", "-u", help="Only this underlying (repeat for several; default: all loaded)."),
    ] = None,
    name: Annotated[str, typer.Option("--name", help="Deployment name (the full name is nightly/NAME).")] = DEFAULT_NAME,
    preset: Annotated[
        list[str] | None,
        typer.Option("--preset", "-p", help="Conventions computed every night (repeatable): native, perfiliev, "
                                           "perfiliev-early, gflows. Default: native and every preset the warehouse holds."),
    ] = None,
    watchlist: Annotated[
        Path | None,
        typer.Option("--watchlist", help="Fetch this watchlist's sources and symbols before each run (TOML, "
                                         "deploy/watchlist.example.toml); default: files dropped into --landing."),
    ] = None,
    intraday: Annotated[
        bool,
        typer.Option("--intraday", help="Also serve the intraday deployment intraday/gex-intraday (needs --watchlist): "
                                        "fetch, compute and publish every --intraday-every minutes of NYSE regular "
                                        "hours (holidays, weekends and early closes respected)."),
    ] = False,
    intraday_every: Annotated[
        int, typer.Option("--intraday-every", help="Minutes between intraday snapshots, a divisor of 60 (default 5: "
                                                   "09:35 ... 16:00 New York).")
    ] = 5,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", "--check", help="Validate and print what would be registered and the next 5 runs; "
                     "contact no server."),
    ] = False,
) -> None:
    """Run the nightly flow on a schedule: register the deployment nightly/NAME with a Prefect server and serve it.

    Needs a running Prefect server (`uv run prefect server start`) and PREFECT_API_URL pointing at it.
    Runs the scheduled runs until Ctrl-C; the schedule is paused on exit.
    Default schedule: 22:00 New York time, Monday to Friday. See docs/scheduling.md.
    """
    if not name.strip() or "/" in name:
        raise _fail(f"--name {name!r}: give a non-empty deployment name without '/'", EXIT_USAGE)
    if underlying and not all(u.strip().lstrip("^") for u in underlying):
        raise _fail("--underlying: give a symbol such as SPX", EXIT_USAGE)
    folder = (landing or Path(os.environ.get("GEX_LANDING", "landing"))).resolve()
    prefect_env()
    from gex_warehouse.config import warehouse_path

    from pipelines import serve as serving

    if not folder.is_dir():
        raise _fail(f"no landing folder at {folder}: pass --landing DIR (or set GEX_LANDING)", EXIT_BAD_INPUT)
    # Absolute paths: the runs execute later, in a subprocess, possibly from another directory.
    target = warehouse_path(warehouse).resolve()
    wanted = [u.strip().upper().lstrip("^") for u in underlying] if underlying else None
    for p in preset or []:
        if p not in PRESET_NAMES:
            raise _fail(f"unknown preset {p!r}; choose one of {', '.join(PRESET_NAMES)}", EXIT_USAGE)
    watch = None
    if watchlist is not None:
        from gex_fetch import WatchlistError, load_watchlist

        try:
            fetch_time = load_watchlist(watchlist).time
        except WatchlistError as exc:
            raise _fail(str(exc), EXIT_USAGE) from None
        watch = str(watchlist.resolve())
    params = serving.parameters(str(folder), str(target), wanted, list(dict.fromkeys(preset)) if preset else None, watch)
    if watch is not None and cron is None:
        # the watchlist's EOD fetch time: fire at both possible slots, the run checks which one is the session's
        from gex_fetch.schedule import cron_for

        cron, timezone = cron_for(fetch_time), "America/New_York"
        params["fetch_at"] = fetch_time.strftime("%H:%M")
    extra, intraday_lines = _intraday(serving, intraday, intraday_every, watch, params, dry_run)
    try:
        schedule = serving.parse_schedule(cron or DEFAULT_CRON, timezone)
    except serving.ScheduleError as exc:
        raise _fail(f"--{exc.field}: {exc}", EXIT_USAGE) from None
    runs = schedule.next_runs(PREVIEW_RUNS)
    if "fetch_at" in params:  # the cron also fires at the other close's slot; those runs end at once
        import datetime as dt

        from gex_fetch.schedule import next_runs

        runs = next_runs(fetch_time, dt.datetime.now(dt.timezone.utc), PREVIEW_RUNS)

    if dry_run:
        typer.echo("dry run: nothing registered, no server contacted")
        for line in describe(name, schedule, params, runs) + intraday_lines:
            typer.echo(line)
        return

    url = serving.api_url()
    if url is None:
        typer.echo(NO_SERVER, err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    problem = serving.check_server(url)
    if problem is not None:
        if problem.startswith("no Prefect server answers"):
            problem += (": start it with `uv run prefect server start` (or `systemctl start gex-prefect-server`), "
                        "or fix PREFECT_API_URL (docs/scheduling.md)")
        raise _fail(problem, EXIT_BAD_INPUT)

    typer.echo(f"serving on the Prefect server at {url}")
    for line in describe(name, schedule, params, runs) + intraday_lines:
        typer.echo(line)
    typer.echo(f"each run executes in a subprocess of this one; trigger one now with "
               f"`uv run prefect deployment run 'nightly/{name}'`. Ctrl-C stops serving (and pauses the schedule).")
    try:
        serving.serve_nightly(schedule, params, name, extra)
    except SystemExit as exc:  # Prefect's SIGTERM handler exits with 0 (systemctl stop): same message
        if exc.code not in (0, None):
            raise
    if extra and not serving.pause(serving.INTRADAY_NAME, "intraday"):
        typer.echo("the server did not confirm pausing the intraday schedule (runs may show as Late until the next "
                   "`gex serve`)")
    if serving.pause(name):
        typer.echo("stopped serving; the schedule is paused until the next `gex serve`")
    else:
        typer.echo("stopped serving; the server did not confirm pausing the schedule (runs may show as Late "
                   "until the next `gex serve`)")


def _intraday(serving: Any, wanted: bool, every: int, watch: str | None, params: dict[str, Any],
              dry_run: bool) -> tuple[tuple[Any, ...], list[str]]:
    """The intraday deployment to serve beside the nightly one (``--intraday``) and the lines describing it;
    ``((), [])`` without ``--intraday``. Usage errors (no watchlist, a bad interval) exit 2."""
    if not wanted:
        return (), []
    from gex_fetch.schedule import check_every, intraday_cron, next_intraday_runs

    if watch is None:
        raise _fail("--intraday needs --watchlist FILE: the intraday flow fetches what it lists every cycle", EXIT_USAGE)
    try:
        check_every(every)
    except ValueError as exc:
        raise _fail(f"--intraday-every: {exc}", EXIT_USAGE) from None
    iparams = serving.intraday_parameters(params["landing"], params["warehouse"], watch, every, params.get("presets"))
    runs = next_intraday_runs(dt.datetime.now(dt.timezone.utc), every, PREVIEW_RUNS)
    lines = [
        f"deployment: intraday/{serving.INTRADAY_NAME} (flow pipelines.intraday.intraday)",
        f"schedule:   cron {intraday_cron(every)!r} in America/New_York, gated by the NYSE calendar "
        f"(every {every} min from the open to the close; 13:00 on early closes; no holidays)",
        f"next {len(runs)} intraday runs ({MARKET_TIMEZONE} = UTC):",
        *(f"  {_when(r)}" for r in runs),
    ]
    deployment = () if dry_run else (serving.build_intraday_deployment(every, iparams),)
    return deployment, lines
