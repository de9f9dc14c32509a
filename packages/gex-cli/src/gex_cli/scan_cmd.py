"""``gex scan``: rank the underlyings of one session by dealer gamma (the published view ``main.scanner``).

Reads the **published snapshot** beside the warehouse (or the warehouse itself, read-only, before the first
snapshot), like ``gex sql`` and ``gex report``, so it answers while a job writes. Sorting and filtering happen in
:mod:`gex_warehouse.scanner` (fixed SQL, bound values).

Exit codes (:mod:`gex_cli.errors`): 0 rows printed (also when no row passes the filters: the output says so);
1 no warehouse, a writer holds it before any snapshot, no computed session, an unknown session, or a snapshot that
predates the scanner; 2 usage error (unknown sort key or regime, bad date, a minimum above its maximum, ...).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from gex_cli import jsonout
from gex_cli.errors import EXIT_BAD_INPUT, EXIT_USAGE
from gex_cli.errors import fail as _fail
from gex_cli.options import PRESET_NAMES

#: Sort keys and regimes, as literals so `gex --help` imports no warehouse code (tests check they match).
SORT_NAMES = ("net-gex", "gex-adv", "call-share", "flip-distance", "gex-change", "underlying")
REGIME_NAMES = ("positive", "negative", "neutral")
#: Suffixes accepted in dollar amounts: 2.5bn, 300m, 40k (case-insensitive; "b" = "bn").
_SCALE = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "bn": 1e9}
_AMOUNT = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*(bn|b|m|k)?\s*$", re.IGNORECASE)


def parse_dollars(text: str, option: str) -> float:
    """A dollar amount such as ``2.5bn``, ``-300m``, ``40k`` or ``1e9``, in dollars.

    >>> parse_dollars("2.5bn", "--min-gex"), parse_dollars("-300M", "--max-gex"), parse_dollars("1e9", "--min-gex")
    (2500000000.0, -300000000.0, 1000000000.0)
    """
    match = _AMOUNT.match(text)
    if match is None:
        raise _fail(f"{option} {text!r}: give dollars per 1% move, e.g. 2.5bn, -300m, 40k or 1e9", EXIT_USAGE)
    value = float(match[1]) * _SCALE[(match[2] or "").lower()]
    if not math.isfinite(value):
        raise _fail(f"{option} {text!r} is not a finite amount", EXIT_USAGE)
    return value


def _dollars(value: Any) -> str:
    """Signed dollars with a readable suffix: ``+2.00bn``, ``-350.0m``, ``+12.3k``."""
    if value is None:
        return "n/a"
    size = abs(value)
    for factor, suffix, pattern in ((1e9, "bn", "+,.2f"), (1e6, "m", "+.1f"), (1e3, "k", "+.1f")):
        if size >= factor:
            return f"{format(value / factor, pattern)}{suffix}"
    return f"{value:+.0f}"


def _pct(value: Any, pattern: str = "+.2f") -> str:
    return "n/a" if value is None else f"{format(value, pattern)}%"


def _regime(row: dict[str, Any]) -> str:
    now = row.get("regime") or "n/a"
    if row.get("regime_changed"):
        return f"{now} (was {row.get('previous_regime')})"
    return str(now)


def _print(result: Any, preset: str, rank_column: str | None) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console(highlight=False)
    if not out.is_terminal:
        out = Console(highlight=False, width=160)
    rows = result.rows.to_dicts()
    title = (f"{result.session}  preset {preset}  sorted by {result.sort}  "
             f"{len(rows)} of {result.underlyings_in_session} underlyings")
    if not rows:
        out.print(f"{title}: no underlying passes the filters")
        return
    table = Table(title=title, header_style="bold", title_justify="left")
    headers = ("rank", "underlying", "spot", "net GEX $/1%", "call share", "GEX/ADV", "flip", "flip dist", "regime",
               "0-DTE share")
    for name in headers:
        table.add_column(name, justify="left" if name in ("underlying", "regime") else "right")
    for row in rows:
        rank = row.get(rank_column) if rank_column else None
        table.add_row(
            "" if rank is None else str(rank),
            str(row["underlying"]),
            "n/a" if row["spot"] is None else f"{row['spot']:,.2f}",
            _dollars(row["total_gex_usd_per_1pct"]),
            "n/a" if row["call_gamma_share"] is None else f"{row['call_gamma_share']:.1%}",
            "n/a" if row["gex_to_adv"] is None else f"{row['gex_to_adv']:+.2%}",
            "none" if row["gamma_flip"] is None else f"{row['gamma_flip']:,.2f}",
            _pct(row["flip_distance_pct"]),
            _regime(row) + (" [intraday]" if row.get("intraday") else "") + (" [stale]" if row.get("data_stale") else "")
            + (" [partial]" if row.get("partial_chain") else ""),
            "n/a" if row["zero_dte_gamma_share"] is None else f"{row['zero_dte_gamma_share']:.1%}",
        )
    out.print(table)
    out.print("rank: dense rank of the sort measure in the session (ties share a rank); GEX/ADV: net GEX per 1% move "
              "as a share of the shares' 20-session average daily dollar volume (n/a without volumes)")


def _bounds(low: float | None, high: float | None, option: str) -> Any:
    from gex_warehouse.scanner import Range

    try:
        return Range(low, high)
    except ValueError as exc:
        raise _fail(f"--min-{option}/--max-{option}: {exc}", EXIT_USAGE) from None


def scan(
    session: Annotated[
        str | None, typer.Option("--session", help="Session to scan, YYYY-MM-DD (default: the latest computed one).")
    ] = None,
    sort: Annotated[
        str, typer.Option("--sort", "-s", help="net-gex (most positive first), gex-adv (|GEX/ADV| largest first), "
                          "call-share (most call-heavy first), flip-distance (closest to the flip first), gex-change "
                          "(|change since the previous session| largest first), underlying.")
    ] = "net-gex",
    reverse: Annotated[bool, typer.Option("--reverse", help="Reverse the sort (e.g. most negative net GEX first).")] = False,
    regime: Annotated[
        list[str] | None, typer.Option("--regime", help="Keep this regime: positive, negative or neutral (repeatable).")
    ] = None,
    changed: Annotated[bool, typer.Option("--changed", help="Only underlyings whose regime changed since their previous session.")] = False,
    underlying: Annotated[list[str] | None, typer.Option("--underlying", "-u", help="Only these underlyings (repeatable).")] = None,
    min_gex: Annotated[str | None, typer.Option("--min-gex", help="Minimum net GEX, dollars per 1% move (2.5bn, -300m, 40k, 1e9).")] = None,
    max_gex: Annotated[str | None, typer.Option("--max-gex", help="Maximum net GEX, dollars per 1% move.")] = None,
    min_call_share: Annotated[float | None, typer.Option("--min-call-share", help="Minimum call-gamma share, fraction 0..1.")] = None,
    max_call_share: Annotated[float | None, typer.Option("--max-call-share", help="Maximum call-gamma share, fraction 0..1.")] = None,
    min_gex_adv: Annotated[float | None, typer.Option("--min-gex-adv", help="Minimum GEX / average daily dollar volume, fraction (0.05 = 5%), signed.")] = None,
    max_gex_adv: Annotated[float | None, typer.Option("--max-gex-adv", help="Maximum GEX / average daily dollar volume, fraction, signed.")] = None,
    min_flip_distance: Annotated[float | None, typer.Option("--min-flip-distance", help="Minimum |flip - spot| / spot, percent.")] = None,
    max_flip_distance: Annotated[float | None, typer.Option("--max-flip-distance", help="Maximum |flip - spot| / spot, percent (1 = within 1%).")] = None,
    top: Annotated[int | None, typer.Option("--top", "-n", help="Print the first N rows after sorting.", min=1)] = None,
    preset: Annotated[str, typer.Option("--preset", help="Conventions of the rows: native (default), perfiliev, perfiliev-early, gflows.")] = "native",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (session, preset, sort, rows with every scanner column).")] = False,
    warehouse: Annotated[
        Path | None, typer.Option("--warehouse", "-w", help="Warehouse file (default: $GEX_WAREHOUSE, else warehouse/gex.duckdb).")
    ] = None,
) -> None:
    """Rank the underlyings of a session: net GEX, GEX per dollar volume, call-gamma share, flip distance, regime.

    Reads the published view main.scanner (docs/sql-contract.md) from the published snapshot, so it works while a
    job writes the warehouse. A filter on a measure drops the rows where it is unknown (e.g. --min-gex-adv drops
    indices, which have no share volume). Example: gex scan --sort flip-distance --regime negative --top 20.
    """
    if sort not in SORT_NAMES:
        raise _fail(f"unknown --sort {sort!r}; choose one of {', '.join(SORT_NAMES)}", EXIT_USAGE)
    regimes = tuple(r.strip().lower() for r in regime or [])
    bad = [r for r in regimes if r not in REGIME_NAMES]
    if bad:
        raise _fail(f"unknown --regime {bad[0]!r}; choose among {', '.join(REGIME_NAMES)}", EXIT_USAGE)
    if preset not in PRESET_NAMES:
        raise _fail(f"unknown --preset {preset!r}; choose one of {', '.join(PRESET_NAMES)}", EXIT_USAGE)
    day: dt.date | None = None
    if session is not None and session != "latest":
        try:
            day = dt.date.fromisoformat(session)
        except ValueError:
            raise _fail(f"--session {session!r} is not a date like 2025-01-06 (or 'latest')", EXIT_USAGE) from None
    for name, value in (("--min-call-share", min_call_share), ("--max-call-share", max_call_share)):
        if value is not None and not 0 <= value <= 1:
            raise _fail(f"{name} {value:g}: give a fraction between 0 and 1 (0.6 = 60% of gross gamma in calls)", EXIT_USAGE)
    for name, value in (("--min-flip-distance", min_flip_distance), ("--max-flip-distance", max_flip_distance)):
        if value is not None and not value >= 0:
            raise _fail(f"{name} {value:g}: give a distance in percent, >= 0 (it applies to |flip - spot| / spot)", EXIT_USAGE)
    for name, value in (("--min-gex-adv", min_gex_adv), ("--max-gex-adv", max_gex_adv)):
        if value is not None and not math.isfinite(value):
            raise _fail(f"{name} {value}: give a finite fraction", EXIT_USAGE)

    from gex_warehouse.scanner import SORT_KEYS, ScanError, ScanFilter
    from gex_warehouse.scanner import scan as run_scan

    ranges = (
        ("gex", _bounds(None if min_gex is None else parse_dollars(min_gex, "--min-gex"),
                        None if max_gex is None else parse_dollars(max_gex, "--max-gex"), "gex")),
        ("call_share", _bounds(min_call_share, max_call_share, "call-share")),
        ("gex_adv", _bounds(min_gex_adv, max_gex_adv, "gex-adv")),
        ("flip_distance", _bounds(min_flip_distance, max_flip_distance, "flip-distance")),
    )
    filters = ScanFilter(
        regimes=regimes,
        changed_only=changed,
        underlyings=tuple(u.strip().upper().lstrip("^") for u in underlying or []),
        ranges=tuple((name, bounds) for name, bounds in ranges if bounds.active),
    )

    import duckdb
    from gex_warehouse.config import warehouse_path
    from gex_warehouse.connect import WarehouseError, WarehouseLockedError
    from gex_warehouse.published import open_published

    target = warehouse_path(warehouse)
    try:
        con = open_published(target)
    except WarehouseLockedError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    except WarehouseError as exc:
        raise _fail(str(exc), EXIT_BAD_INPUT) from None
    try:
        con.execute(f"SET VARIABLE preset = '{preset}'")  # checked against PRESET_NAMES above
        result = run_scan(con, day, sort=sort, reverse=reverse, filters=filters, top=top)
    except ScanError as exc:
        raise _fail(f"{exc} (preset {preset}; {target})", EXIT_BAD_INPUT) from None
    except duckdb.Error as exc:
        raise _fail(f"cannot read the scanner from {target}: {' '.join(str(exc).split())}", EXIT_BAD_INPUT) from None
    finally:
        con.close()
    if as_json:
        jsonout.echo({
            "session": result.session,
            "preset": preset,
            "sort": sort,
            "reverse": reverse,
            "underlyings_in_session": result.underlyings_in_session,
            "rows": result.rows.to_dicts(),
        })
        return
    _print(result, preset, SORT_KEYS[sort].rank_column)
