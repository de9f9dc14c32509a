"""``gex generate``: write a seeded SPX-like market (chains, OCC open interest, closes, rates) into a landing folder.

Exit codes follow :mod:`gex_cli.main`: 0 written; 2 usage error (bad option value), with a one-line message.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from gex_cli.errors import EXIT_USAGE
from gex_cli.errors import fail as _fail
#: Start dates accepted: the burn-in needs ~3 months of calendar before, LEAPS ~3 years after.
START_RANGE = (dt.date(1991, 1, 1), dt.date(2040, 12, 31))
MAX_SESSIONS = 2520  # ten years


def generate(
    sessions: Annotated[int, typer.Option("--sessions", "-n", help="Number of NYSE sessions to generate.")] = 252,
    contracts: Annotated[
        int | None,
        typer.Option(
            "--contracts", "-c", help="Approximate contracts per session (calls + puts). Default: the full listing, ~20,000."
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", "-s", help="Random seed; the same seed gives byte-identical files.")
    ] = 0,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Landing folder (created if missing; files are overwritten).")
    ] = Path("landing"),
    start: Annotated[
        str | None,
        typer.Option("--start", help="First session YYYY-MM-DD (the next session if not one). Default: 2025-01-02."),
    ] = None,
    underlying: Annotated[
        str, typer.Option("--underlying", "-u", help="SPX, NDX, RUT, SPY or QQQ (roots and header name).")
    ] = "SPX",
    spot: Annotated[
        float | None,
        typer.Option("--spot", help="Close before the first session, points. Default: typical for the underlying (SPX 5000)."),
    ] = None,
    intraday_every: Annotated[
        int | None,
        typer.Option(
            "--intraday-every",
            help="Also write intraday snapshots every MINUTES of regular hours (5: 09:35..16:00, 78 files) of the last "
            "session(s) into OUT/intraday/.",
            metavar="MINUTES",
        ),
    ] = None,
    intraday_sessions: Annotated[
        int, typer.Option("--intraday-sessions", help="With --intraday-every: how many of the last sessions get intraday snapshots.")
    ] = 1,
    universe: Annotated[
        int | None,
        typer.Option(
            "--universe",
            help="Generate N underlyings per session (SPX, NDX, RUT, SPY, QQQ, IWM, then single stocks) as one "
            "DataShop-style file per session, instead of one index.",
        ),
    ] = None,
    universe_api: Annotated[
        bool,
        typer.Option("--universe-api", help="With --universe: also write per-symbol Cboe delayed-quotes JSON responses."),
    ] = False,
) -> None:
    """Generate a seeded market: per session a Cboe quote table and an OCC open-interest file, plus closes and rates.

    Layout: OUT/chains/<UNDERLYING>_<date>_quotedata.csv, OUT/oi/occ_oi_<date>.csv, OUT/reference/closes.csv,
    OUT/reference/rates.csv; with --intraday-every, OUT/intraday/<UNDERLYING>_<date>_<HHMM>_quotedata.csv
    (see docs/market-generator.md).
    """
    from gex_market.chain import ROOTS, TYPICAL_SPOT
    from gex_market.intraday import MAX_EVERY_MINUTES

    if universe is not None or universe_api:
        if contracts is not None or underlying.upper() != "SPX" or spot is not None or intraday_every is not None:
            raise _fail("--contracts, --underlying, --spot and --intraday-every apply to one index, not to --universe",
                        EXIT_USAGE)
        _universe(universe, sessions, seed, out, start, universe_api)
        return
    if not 1 <= sessions <= MAX_SESSIONS:
        raise _fail(f"--sessions must be between 1 and {MAX_SESSIONS}, not {sessions}", EXIT_USAGE)
    if contracts is not None and contracts < 100:
        raise _fail(f"--contracts must be at least 100, not {contracts}", EXIT_USAGE)
    if underlying.upper() not in ROOTS:
        raise _fail(f"unknown --underlying {underlying!r}; choose one of {', '.join(ROOTS)}", EXIT_USAGE)
    if spot is None:
        spot = TYPICAL_SPOT.get(underlying.upper(), 5000.0)
    if not (spot > 0 and spot < 1e7):
        raise _fail(f"--spot must be a positive index level, not {spot}", EXIT_USAGE)
    first: dt.date | None = None
    if start is not None:
        try:
            first = dt.date.fromisoformat(start)
        except ValueError:
            raise _fail(f"--start {start!r} is not a date like 2025-01-02", EXIT_USAGE) from None
        if not START_RANGE[0] <= first <= START_RANGE[1]:
            raise _fail(f"--start must be between {START_RANGE[0]} and {START_RANGE[1]}, not {first}", EXIT_USAGE)
    if intraday_every is not None and not 1 <= intraday_every <= MAX_EVERY_MINUTES:
        raise _fail(f"--intraday-every must be between 1 and {MAX_EVERY_MINUTES} minutes, not {intraday_every}", EXIT_USAGE)
    if intraday_every is None and intraday_sessions != 1:
        raise _fail("--intraday-sessions needs --intraday-every MINUTES", EXIT_USAGE)
    if not 1 <= intraday_sessions <= sessions:
        raise _fail(f"--intraday-sessions must be between 1 and --sessions ({sessions}), not {intraday_sessions}", EXIT_USAGE)
    last_year = (first or dt.date(2025, 1, 2)).year + sessions / 252.0
    if last_year > START_RANGE[1].year + 1:
        raise _fail(f"--sessions {sessions} from {first or '2025-01-02'} runs past the exchange calendar", EXIT_USAGE)

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from gex_market.market import MarketSession, generate_market

    err = Console(stderr=True)
    with Progress(
        TextColumn("generate {task.fields[session]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("sessions"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("generate", total=sessions, session="")

        def advance(ms: MarketSession) -> None:
            bar.update(task, advance=1, session=ms.session.isoformat())

        market = dict(sessions=sessions, start=first, contracts=contracts, underlying=underlying.upper(), spot0=spot)
        if intraday_every is None:
            summary = generate_market(out, seed=seed, progress=advance, **market)  # type: ignore[arg-type]
            days = []
        else:
            from gex_market.intraday import generate_intraday_market

            summary, days = generate_intraday_market(
                out, every_minutes=intraday_every, intraday_sessions=intraday_sessions, seed=seed, progress=advance, **market
            )
    typer.echo(summary.describe())
    for day in days:
        typer.echo(day.describe())


#: Largest --universe (the listed US market is ~4,000-5,000 underlyings) and its session limit.
MAX_UNIVERSE = 10_000
MAX_UNIVERSE_SESSIONS = 252


def _universe(n: int | None, sessions: int, seed: int, out: Path, start: str | None, api: bool) -> None:
    """``gex generate --universe N``: N underlyings per session, one DataShop-style file per session."""
    if n is None:
        raise _fail("--universe-api needs --universe N", EXIT_USAGE)
    if not 3 <= n <= MAX_UNIVERSE:
        raise _fail(f"--universe must be between 3 (the indices) and {MAX_UNIVERSE}, not {n}", EXIT_USAGE)
    if not 1 <= sessions <= MAX_UNIVERSE_SESSIONS:
        raise _fail(f"--sessions with --universe must be between 1 and {MAX_UNIVERSE_SESSIONS}, not {sessions}", EXIT_USAGE)
    first: dt.date | None = None
    if start is not None:
        try:
            first = dt.date.fromisoformat(start)
        except ValueError:
            raise _fail(f"--start {start!r} is not a date like 2025-01-02", EXIT_USAGE) from None
        if not START_RANGE[0] <= first <= START_RANGE[1] - dt.timedelta(days=800):
            raise _fail(f"--start must be between {START_RANGE[0]} and 2038-10-22, not {first}", EXIT_USAGE)

    from gex_market.universe import generate_universe

    summary = generate_universe(out, n, sessions=sessions, start=first, seed=seed, api=api)
    typer.echo(summary.describe())
