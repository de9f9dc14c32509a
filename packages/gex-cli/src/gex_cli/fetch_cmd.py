"""``gex fetch SOURCE SYMBOL...`` / ``gex fetch --watchlist FILE``: fetch chains, open interest or rates into
the landing archive (``<landing>/fetch/``, see docs/sources.md).

One line per (source, symbol): ``fetched``, ``unchanged`` (same content as the latest bundle: nothing
written) or ``failed: reason``. Exit codes (:mod:`gex_cli.errors`): 0 every symbol fetched or unchanged;
1 any failed; 2 usage error (unknown source, bad symbol, bad watchlist, missing arguments); 3 a bug.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from gex_cli.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_USAGE
from gex_cli.errors import fail as _fail


def fetch(
    source: Annotated[str | None, typer.Argument(help="cboe (free, default feed), tradier, polygon, schwab, occ, treasury or fred.",
                                                 show_default=False)] = None,
    symbols: Annotated[list[str] | None, typer.Argument(help="Symbols: SPX SPY QQQ (fred: DGS3MO; treasury: a year).",
                                                       show_default=False)] = None,
    landing: Annotated[Path | None, typer.Option("--landing", "-l", help="Landing folder; the archive goes to <landing>/fetch "
                                                 "(default: the watchlist's, else $GEX_LANDING, else landing/).")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Replace the source's scheme and host (a local replay "
                                                 "server, a proxy); the documented path is kept. Default: $GEX_<SOURCE>_BASE_URL.")] = None,
    watchlist: Annotated[Path | None, typer.Option("--watchlist", "-w", help="Fetch everything a watchlist TOML file lists "
                                                   "(deploy/watchlist.example.toml).")] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", help="Fetches in flight at once (default 4, or the watchlist's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with every outcome.")] = False,
) -> None:
    """Fetch option chains (Cboe, Tradier, Polygon, Schwab), OCC open interest or Treasury/FRED rates into the archive."""
    from gex_fetch import FetchSettings, fetch_many, get_source
    from gex_fetch.errors import FetchError
    from gex_fetch.sources.treasury import current_year
    from gex_fetch.symbols import SymbolError, normalise
    from gex_fetch.watchlist import WatchlistError, load_watchlist

    if concurrency is not None and not 1 <= concurrency <= 32:
        raise _fail("--concurrency must be from 1 to 32", EXIT_USAGE)
    if watchlist is not None:
        if source or symbols:
            raise _fail("give either --watchlist FILE or SOURCE SYMBOL..., not both", EXIT_USAGE)
        try:
            wl = load_watchlist(watchlist)
        except WatchlistError as exc:
            raise _fail(str(exc), EXIT_USAGE) from None
        if base_url and len({e.source for e in wl.entries}) > 1:
            raise _fail("--base-url with a watchlist of several sources is ambiguous: set base_url per [[watch]] "
                        "or GEX_<SOURCE>_BASE_URL", EXIT_USAGE)
        jobs = wl.jobs()
        settings = wl.settings({e.source: base_url for e in wl.entries} if base_url else None)
        workers = concurrency or wl.concurrency
        folder = landing or (Path(wl.landing) if wl.landing else None)
    else:
        if not source:
            raise _fail("give a SOURCE and SYMBOLs (gex fetch cboe SPX SPY) or --watchlist FILE", EXIT_USAGE)
        try:
            src = get_source(source)
        except FetchError as exc:
            raise _fail(str(exc), EXIT_USAGE) from None
        names = list(symbols or ([current_year()] if src.name == "treasury" else []))
        if not names:
            raise _fail(f"give at least one symbol to fetch from {src.name}", EXIT_USAGE)
        try:
            syms = list(dict.fromkeys(normalise(s) for s in names))
        except SymbolError as exc:
            raise _fail(str(exc), EXIT_USAGE) from None
        jobs = [(src.name, s) for s in syms]
        settings = {src.name: FetchSettings(base_url=base_url)}
        workers = concurrency or 4
        folder = landing
    folder = folder or Path(os.environ.get("GEX_LANDING", "landing"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(f"cannot create the landing folder {folder}: {exc.strerror or exc}", EXIT_BAD_INPUT) from None

    outcomes = fetch_many(jobs, folder, settings=settings, concurrency=workers)
    if as_json:
        typer.echo(json.dumps({"landing": str(folder), "ok": all(o.ok for o in outcomes),
                               "outcomes": [o.to_dict() for o in outcomes]}, indent=2))
    else:
        for o in outcomes:
            typer.echo(o.line())
        counts = {k: sum(o.status == k for o in outcomes) for k in ("fetched", "unchanged", "failed")}
        typer.echo(f"{len(outcomes)} fetch{'es' if len(outcomes) != 1 else ''}: {counts['fetched']} fetched, "
                   f"{counts['unchanged']} unchanged, {counts['failed']} failed -> {folder / 'fetch'}")
    if any(o.kind == "internal" for o in outcomes):
        raise typer.Exit(EXIT_INTERNAL)
    if not all(o.ok for o in outcomes):
        raise typer.Exit(EXIT_BAD_INPUT)
