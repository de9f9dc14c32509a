"""A hand-built published snapshot with a day of intraday snapshots, for the page, server and replay tests.

It has the published views' exact columns (docs/sql-contract.md: ``main.regime_snapshots``,
``main.gex_strike_snapshots``, and the ``main.regime_daily`` columns the readers use) as plain tables. The
numbers are built so the contract's identities hold (net = call + put per strike, the snapshot total = the
sum of its strikes' net, the flip where the strike profile's cumulative net changes sign), which lets tests
check what is drawn against what was written without running the compute path.

:func:`write_published` writes the file the way the warehouse publishes it: into a temporary file, then
``os.replace`` onto the target, so a reader never sees half a file.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

NY = ZoneInfo("America/New_York")
SESSION = dt.date(2025, 3, 14)
STRIKE_STEP = 5.0


def snapshot_rows(session: dt.date, minutes: list[int], *, underlying: str = "SPX", spot0: float = 5600.0,
                  eod: bool = False, load_prefix: str = "L") -> tuple[list[tuple], list[tuple]]:
    """(regime rows, strike rows) of snapshots taken ``minutes`` after 09:30 New York (plus the 16:00 close
    snapshot when ``eod``)."""
    regime, strikes = [], []
    instants = [(dt.datetime.combine(session, dt.time(9, 30), NY) + dt.timedelta(minutes=m), True) for m in minutes]
    if eod:
        instants.append((dt.datetime.combine(session, dt.time(16, 0), NY), False))
    for i, (local, intraday) in enumerate(instants):
        ts = local.astimezone(dt.timezone.utc)
        spot = spot0 * (1 + 0.002 * math.sin(i / 2.0))
        centre = spot - 20.0 + 4.0 * i  # the net profile crosses zero around here: the flip moves up through the day
        rows = []
        for k in range(-60, 61):
            strike = round(spot0 / STRIKE_STEP) * STRIKE_STEP + k * STRIKE_STEP
            call = 2e8 * math.exp(-((strike - centre - 30) / 60.0) ** 2) * (1 + 0.05 * i)
            put = -2e8 * math.exp(-((strike - centre + 30) / 60.0) ** 2)
            rows.append((strike, call, put, call + put))
        call_total = sum(r[1] for r in rows)
        put_total = sum(r[2] for r in rows)
        total = call_total + put_total
        zero = 0.3 * total
        above = [r for r in rows if r[0] >= spot]
        below = [r for r in rows if r[0] <= spot]
        call_wall = max(above, key=lambda r: r[1])[0]
        put_wall = min(below, key=lambda r: r[2])[0]
        abs_strike = max(rows, key=lambda r: abs(r[1]) + abs(r[2]))[0]
        flip = centre
        regime.append((
            underlying, session, ts, ts, intraday, spot, total, call_total, put_total, flip, (flip - spot) / spot * 100,
            "positive" if total > 0 else "negative" if total < 0 else "neutral", call_wall, put_wall, abs_strike, zero,
            0.25 + 0.01 * i, session - dt.timedelta(days=1),
            f"start of day: OI as of the close of {session - dt.timedelta(days=1)}", len(rows) * 2, "native",
            f"{load_prefix}{i}",
        ))
        strikes.extend((underlying, session, ts, ts, strike, c, p, n, "native") for strike, c, p, n in rows)
    return regime, strikes


REGIME_DDL = """CREATE TABLE main.regime_snapshots (underlying VARCHAR, session DATE, snapshot_ts TIMESTAMPTZ,
valuation_ts TIMESTAMPTZ, intraday BOOLEAN, spot DOUBLE, total_gex_usd_per_1pct DOUBLE, call_gex_usd_per_1pct DOUBLE,
put_gex_usd_per_1pct DOUBLE, gamma_flip DOUBLE, flip_distance_pct DOUBLE, regime VARCHAR, call_wall DOUBLE,
put_wall DOUBLE, abs_gamma_strike DOUBLE, zero_dte_gex_usd_per_1pct DOUBLE, zero_dte_gamma_share DOUBLE,
oi_date DATE, oi_note VARCHAR, contracts_used INTEGER, preset VARCHAR, load_id VARCHAR)"""
STRIKE_DDL = """CREATE TABLE main.gex_strike_snapshots (underlying VARCHAR, session DATE, snapshot_ts TIMESTAMPTZ,
valuation_ts TIMESTAMPTZ, strike DOUBLE, call_gex_usd_per_1pct DOUBLE, put_gex_usd_per_1pct DOUBLE,
net_gex_usd_per_1pct DOUBLE, preset VARCHAR)"""


def write_published(target: Path, regime: list[tuple], strikes: list[tuple]) -> Path:
    """Write a published snapshot holding these rows (and the daily row: the latest snapshot of each
    session) atomically onto ``target``."""
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.unlink(missing_ok=True)
    con = duckdb.connect(str(temporary))
    try:
        con.execute(REGIME_DDL)
        con.execute(STRIKE_DDL)
        con.executemany("INSERT INTO main.regime_snapshots VALUES (" + ", ".join("?" * 22) + ")", regime)
        con.executemany("INSERT INTO main.gex_strike_snapshots VALUES (" + ", ".join("?" * 9) + ")", strikes)
        con.execute(
            "CREATE TABLE main.regime_daily AS SELECT session, underlying, spot, valuation_ts, total_gex_usd_per_1pct, "
            "call_gex_usd_per_1pct, put_gex_usd_per_1pct, gamma_flip, flip_distance_pct, regime, call_wall, put_wall, "
            "abs_gamma_strike, zero_dte_gamma_share, preset, load_id, snapshot_ts, intraday FROM main.regime_snapshots "
            "QUALIFY row_number() OVER (PARTITION BY underlying, session, preset ORDER BY NOT intraday DESC, valuation_ts DESC) = 1")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(temporary, target)
    return target
