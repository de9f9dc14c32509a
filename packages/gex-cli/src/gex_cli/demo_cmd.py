"""``gex demo``: a year of a generated market through the real flows, in one command, no server needed.

Steps: generate the market (``gex_market``) into a landing folder; the ``ingest`` flow; the ``backfill``
flow over every session but the last (parallel, with the Parquet exports); the ``nightly`` flow for the last
session, as if its files had just arrived; then a summary: the latest regime, the flip history, and where
to look next (SQL, exports, report). Everything runs in this process, on a temporary Prefect API the demo
starts (while it generates the market) and stops itself.
Re-running is cheap: files already loaded and sessions already computed are skipped, so an interrupted
demo (Ctrl-C: exit 130 after one line saying what finished) resumes where it stopped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from gex_cli.errors import EXIT_BAD_INPUT, EXIT_USAGE
from gex_cli.errors import fail as _fail
from gex_cli.flows_cmd import prefect_env
from gex_cli.interrupts import long_command, prefect_ready

#: Contracts per generated session: a thinned SPX-like listing (the full one is ~20,000; the benchmarks use
#: it). 6,000 keeps the whole demo well inside 3 minutes on 2 cores, first run included.
DEMO_CONTRACTS = 6000
#: Minutes between the intraday snapshots of the demo's last session (13 a day: the flow costs seconds per cycle).
DEMO_INTRADAY_EVERY = 30


def _step(n: int, total: int, text: str) -> float:
    typer.secho(f"[{n}/{total}] {text}", bold=True, err=True)
    return time.perf_counter()


def _done(t0: float, text: str) -> None:
    typer.echo(f"      {text} ({time.perf_counter() - t0:.1f} s)", err=True)


def demo(
    sessions: Annotated[int, typer.Option("--sessions", "-n", help="Sessions to generate (about a year: 252).")] = 252,
    contracts: Annotated[int, typer.Option("--contracts", "-c", help="Approximate contracts per session.")] = DEMO_CONTRACTS,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Market seed (the same seed gives the same market).")] = 0,
    intraday_every: Annotated[
        int, typer.Option("--intraday-every", help="Minutes between the last session's intraday snapshots (a divisor "
                                                   "of 60: 5 gives the full 78-snapshot day, 30 gives 13).")
    ] = DEMO_INTRADAY_EVERY,
    warehouse: Annotated[
        Path | None,
        typer.Option("--warehouse", "-w", help="Warehouse file (default: $GEX_WAREHOUSE, else warehouse/gex.duckdb)."),
    ] = None,
    landing: Annotated[
        Path | None, typer.Option("--landing", "-l", help="Landing folder for the generated files (default: landing/ beside the warehouse).")
    ] = None,
) -> None:
    """Run the whole pipeline on a generated year of SPX-like sessions: generate, ingest, backfill, nightly, summary.

    No server to start: the Prefect flows run on Prefect's temporary local API. Takes 1-3 minutes on 2 cores;
    re-running skips what is already done.
    """
    if not 2 <= sessions <= 2520:
        raise _fail(f"--sessions must be between 2 and 2520, not {sessions}", EXIT_USAGE)
    if contracts < 100:
        raise _fail(f"--contracts must be at least 100, not {contracts}", EXIT_USAGE)
    if intraday_every < 1 or 60 % intraday_every:
        raise _fail(f"--intraday-every must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60), not {intraday_every}",
                    EXIT_USAGE)
    prefect_env()
    # Ctrl-C: stop between files or sessions, say what finished, exit 130. The temporary Prefect API starts
    # now, while the market is generated, and stops when the demo ends (or is interrupted, or killed).
    with long_command(prefect=True):
        _demo(sessions, contracts, seed, warehouse, landing, intraday_every)


def _demo(sessions: int, contracts: int, seed: int, warehouse: Path | None, landing: Path | None,
          intraday_every: int = DEMO_INTRADAY_EVERY) -> None:
    began = time.perf_counter()
    from gex_warehouse.config import warehouse_path
    from gex_warehouse.export import exports_path

    target = warehouse_path(warehouse)
    folder = landing if landing is not None else target.parent / "landing"
    exports = exports_path(None, target)
    steps = 7

    t0 = _step(1, steps, f"generating {sessions} sessions of an SPX-like market (~{contracts:,} contracts each) in {folder}")
    from pipelines import runtime

    with runtime.interruptible():  # files are rewritten whole by the next demo
        summary, last_session = _generate(folder, sessions, contracts, seed)
    _done(t0, f"{len(summary.sessions)} sessions {summary.sessions[0]} .. {summary.sessions[-1]}, "
              f"{sum(summary.contracts):,} contracts, {sum(summary.turbulent)} turbulent sessions")

    feed = _hold_back_latest_chain(folder, target.parent / "demo-feed", summary.sessions[-1])

    t0 = _step(2, steps, "starting Prefect (temporary local API, no server needed)")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")  # the demo prints its own summary
    import prefect  # noqa: F401 - imported here so the step's time is visible

    from gex_warehouse.config import ingest_memory_limit
    from gex_warehouse.connect import WarehouseError
    from gex_warehouse.writer import hold

    from pipelines.backfill import backfill
    from pipelines.ingest import ingest
    from pipelines.nightly import nightly

    prefect_ready()  # the API started with the demo: usually up by now
    _done(t0, f"prefect {prefect.__version__}")
    with ExitStack() as holding:
        try:
            holding.enter_context(hold(target, memory_limit=ingest_memory_limit()))  # one writer for the whole demo
        except WarehouseError as exc:
            raise _fail(str(exc), EXIT_BAD_INPUT) from None
        last = summary.sessions[-1]
        t0 = _step(3, steps, f"flow ingest: {folder} -> {target}")
        loads = ingest(str(folder), str(target))
        bad = [r for r in loads if not r.ok]
        _done(t0, f"{sum(r.status == 'loaded' for r in loads)} files loaded, "
                  f"{sum(r.status == 'already loaded' for r in loads)} already loaded, {len(bad)} failed")
        t0 = _step(4, steps, f"flow backfill: sessions {summary.sessions[0]} .. {summary.sessions[-2]} in parallel, then the exports")
        outcomes = backfill(str(target), summary.sessions[0], summary.sessions[-2], exports=str(exports))
        failed = [o for o in outcomes if o.status != "ok"]
        _done(t0, f"{len(outcomes)} sessions computed, {len(failed)} failed"
                  + ("" if outcomes else " (all were computed already)"))
        t0 = _step(5, steps, f"flow intraday: the latest session {last} through the day, a snapshot every "
                             f"{intraday_every} minutes fetched from a local server, ingested, computed, published")
        intraday_runs = _intraday_day(folder, target, exports, last_session, seed, intraday_every)
        failed += [o for r in intraday_runs for o in r.outcomes if o.status != "ok"]
        _done(t0, f"{len(intraday_runs)} intraday snapshots of {feed.underlying} "
                  f"{intraday_runs[0].run_instant:%H:%M} .. {intraday_runs[-1].run_instant:%H:%M} UTC kept "
                  f"(main.regime_snapshots), latest one published as the day's row until the close")
        t0 = _step(6, steps, f"flow nightly: fetch the latest session {last} from a local server in Cboe's delayed-quotes "
                             f"shape, ingest, compute, export, the regimes artifact")
        with _cboe_feed(feed) as base_url:
            from gex_fetch.watchlist import parse_watchlist

            watchlist = parse_watchlist({"watch": [{"source": "cboe", "symbols": [feed.underlying]}]})
            result = nightly(str(folder), str(target), exports=str(exports), watchlist=watchlist,
                             base_urls={"cboe": base_url})
        failed += result.failed
        bad_fetches = result.failed_fetches
        _done(t0, "; ".join(f.line() for f in result.fetches) + f"; {len(result.outcomes)} session{'s' if len(result.outcomes) != 1 else ''} computed")
    t0 = _step(7, steps, "the dashboard report of the latest session and its intraday page (self-contained HTML files)")
    with runtime.interruptible():  # read-only from here
        report = _report(target)
        intraday_page = _intraday_report(target)
        _done(t0, f"{report}, {intraday_page}")
        _summary(target, exports, report, intraday_page, time.perf_counter() - began)
    if bad or failed or bad_fetches:
        for f in bad_fetches:
            typer.echo(f"gex: error: {f.line()}", err=True)
        for r in bad:
            typer.echo(f"gex: error: {r.path.name}: {r.message or r.status}", err=True)
        for o in failed:
            typer.echo(f"gex: error: {o.underlying} {o.session}: {o.message}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)


def _hold_back_latest_chain(folder: Path, feed_dir: Path, session: Any) -> Any:
    """Move the latest session's generated chain out of the landing folder (the demo fetches it instead, as a
    nightly job would) and return it as a snapshot. Re-running the demo regenerates the file: moved again."""
    from gex_sources import read_chain

    [chain] = sorted((folder / "chains").glob(f"*_{session.isoformat()}_quotedata.csv"))
    feed_dir.mkdir(parents=True, exist_ok=True)
    held = feed_dir / chain.name
    chain.replace(held)
    return read_chain(held)


@contextmanager
def _cboe_feed(snapshot: Any) -> Iterator[str]:
    """A local HTTP server (127.0.0.1, a free port) answering Cboe's delayed-quotes URL of ``snapshot``'s
    underlying with the generated chain in that API's exact shape; yields its base URL."""
    from gex_fetch.replay import Reply, ReplayServer
    from gex_market.api_shapes import render_responses

    with ReplayServer() as server:
        for r in render_responses(snapshot, "cboe", base_url=server.base_url):
            server.add(r.path, Reply(body=r.body, content_type=r.content_type))
        yield server.base_url


def _intraday_day(folder: Path, target: Path, exports: Path, last_session: Any, seed: int, every: int) -> list[Any]:
    """Run the intraday flow at each run instant of the last session (injected clock), each cycle fetching that
    instant's generated chain from a local server in Cboe's shape. The close is left to the nightly step."""
    from gex_fetch.replay import Reply, ReplayServer
    from gex_fetch.watchlist import parse_watchlist
    from gex_market.api_shapes import render_responses
    from gex_market.intraday import intraday_day

    from pipelines import runtime
    from pipelines.intraday import intraday

    day = intraday_day(last_session, seed=seed, every_minutes=every)
    watchlist = parse_watchlist({"watch": [{"source": "cboe", "symbols": [day.underlying]}]})
    runs = []
    with ReplayServer() as server:
        for snapshot in day.snapshots[:-1]:
            runtime.check_stop()
            for r in render_responses(snapshot, "cboe", base_url=server.base_url):
                server.add(r.path, Reply(body=r.body, content_type=r.content_type))
            runs.append(intraday(str(folder), str(target), watchlist=watchlist, every=every,
                                 now=snapshot.snapshot_ts, exports=str(exports), base_urls={"cboe": server.base_url}))
    return runs


def _intraday_report(target: Path) -> Path:
    """Write the intraday page of the latest session beside the warehouse; returns its path."""
    from gex_report import data as report_data
    from gex_report import intraday_data as idd
    from gex_report.intraday_page import write_intraday

    con = report_data.open_read_only(target)
    try:
        loaded = idd.load(con, None, None, "native")
    finally:
        con.close()
    out = target.parent / f"intraday_{loaded.underlying}_{loaded.session}.html"
    write_intraday(loaded, out, warehouse_name=target.name)
    return out


def _latest(rows: list[Any]) -> str:
    return str(max(r[0] for r in rows)) if rows else "YYYY-MM-DD"


def _generate(folder: Path, sessions: int, contracts: int, seed: int) -> tuple[Any, Any]:
    """Generate the market; returns its summary and the last :class:`gex_market.market.MarketSession` (the
    intraday step re-quotes its chain through the day)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from gex_market.market import MarketSession, generate_market

    err = Console(stderr=True)
    with Progress(TextColumn("      generate {task.fields[session]}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=True,
                  disable=not err.is_terminal) as bar:
        task = bar.add_task("generate", total=sessions, session="")

        last: list[MarketSession] = []

        def advance(ms: MarketSession) -> None:
            bar.update(task, advance=1, session=ms.session.isoformat())
            last[:] = [ms]

        summary = generate_market(folder, sessions=sessions, contracts=contracts, seed=seed, progress=advance)
        return summary, last[0]


def _report(target: Path) -> Path:
    """Write the report of the latest session beside the warehouse; returns its path."""
    from gex_report import data as report_data
    from gex_report.page import write

    con = report_data.open_read_only(target)
    try:
        loaded = report_data.load(con, None, None)
    finally:
        con.close()
    out = target.parent / f"report_{loaded.underlying}_{loaded.session}.html"
    write(loaded, out, warehouse_name=target.name)
    return out


def _summary(target: Path, exports: Path, report: Path, intraday_page: Path, seconds: float) -> None:
    """Print the latest regime, the flip history and where to look next."""
    from gex_warehouse.connect import connect

    con = connect(target, read_only=True)
    try:
        latest = con.execute(
            "SELECT session, underlying, spot, total_gex_usd_per_1pct, call_gex_usd_per_1pct, put_gex_usd_per_1pct, "
            "gamma_flip, flip_distance_pct, regime, call_wall, put_wall, abs_gamma_strike, zero_dte_gamma_share "
            "FROM regime_daily QUALIFY row_number() OVER (PARTITION BY underlying ORDER BY session DESC) = 1 "
            "ORDER BY underlying"
        ).fetchall()
        history = con.execute(
            """
            SELECT underlying, count(*), min(session), max(session),
                   count(*) FILTER (WHERE regime = 'negative'), count(*) FILTER (WHERE regime_changed),
                   count(gamma_flip), median(abs(flip_distance_pct)), max(regime_started)
            FROM regime_history JOIN flip_history USING (underlying, session, regime)
            GROUP BY underlying ORDER BY underlying
            """
        ).fetchall()
    finally:
        con.close()
    echo = typer.echo
    echo("")
    echo("Latest regime (GEX in $bn per 1% move of the index; levels in index points)")
    echo(f"  {'session':<10}  {'und':<4} {'spot':>9} {'total':>8} {'calls':>8} {'puts':>8} {'flip':>9} {'dist %':>7} "
         f"{'regime':<8} {'call wall':>9} {'put wall':>9} {'0DTE':>5}")
    for s, u, spot, tot, call, put, flip, dist, regime, cw, pw, _abs, zero in latest:
        def lvl(x: float | None) -> str:
            return "-" if x is None else f"{x:,.0f}"
        echo(f"  {s!s:<10}  {u:<4} {spot:>9,.2f} {tot / 1e9:>+8.2f} {call / 1e9:>+8.2f} {put / 1e9:>+8.2f} "
             f"{'none' if flip is None else f'{flip:,.1f}':>9} {'-' if dist is None else f'{dist:+.2f}':>7} {regime:<8} "
             f"{lvl(cw):>9} {lvl(pw):>9} {'-' if zero is None else f'{zero:.0%}':>5}")
    echo("")
    echo("Flip history")
    for u, n, first, last, negative, changes, with_flip, median_dist, since in history:
        echo(f"  {u}: {n} sessions {first} .. {last}; negative dealer gamma on {negative} ({negative / n:.0%}); "
             f"{changes} regime changes, the current regime since {since}; a flip found on {with_flip} sessions, "
             f"median |flip - spot| {median_dist:.2f}%" if median_dist is not None else f"  {u}: {n} sessions")
    echo("")
    w = "" if target == Path("warehouse/gex.duckdb") else f" -w {target}"
    echo(f"Warehouse   {target}  (DuckDB; one writer at a time)")
    echo(f"Snapshot    {target.with_name(target.stem + '.published.duckdb')}  (the published views; readable at any "
         f"moment: gex sql, gex report, duckdb -readonly)")
    echo(f"Report      {report}  (open it in a browser; works offline)")
    echo(f"Intraday    {intraday_page}  (the last session's snapshots: GEX heatmap by strike and time, spot and flip)")
    echo(f"Exports     {exports}/<view>/session=<D>/part-0.parquet  (read these while a job runs)")
    echo("Try (published views: docs/sql-contract.md; more in sql/queries/)")
    echo(f"  uv run gex sql{w} \"SELECT session, regime, round(total_gex_usd_per_1pct / 1e9, 2) AS gex_bn, gamma_flip, "
         f"days_in_regime, round(iv_rv_spread, 3) AS iv_rv FROM regime_daily ORDER BY session DESC LIMIT 10\"")
    echo(f"  uv run gex sql{w} sql/queries/negative_gamma_days_last_year.sql")
    echo(f"  uv run gex sql{w} \"SELECT template, band_shares, execution, clock_interval_minutes, pnl_total_usd_per_day "
         f"FROM hedge_advice WHERE session = (SELECT max(session) FROM hedge_advice)\"")
    echo(f"  uv run gex replay SPX {_latest(latest)} --speed 0{w}   # the last session's snapshots, one frame each")
    echo(f"  uv run gex advise --template long-otm-calls --underlying SPX --session {_latest(latest)}{w}")
    echo(f"  uv run duckdb -c \"SELECT regime, count(*) FROM read_parquet('{exports}/regime_daily/**/*.parquet', "
         f"hive_partitioning = true) GROUP BY ALL\"")
    echo(f"Done in {seconds:.0f} s. Runs are logged in the runs view; the Prefect regimes artifact is gex-nightly-regimes.")
