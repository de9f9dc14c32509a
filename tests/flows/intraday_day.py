"""A generated intraday day for the intraday flow's tests and benchmark, until ``gex_market.intraday`` (the
intraday day generator, another branch) merges: the daily generator's chain of the session, requoted at a
spot path through the day, each snapshot stamped with its run instant; open interest fixed all day (the
same ``oi_anchor`` and seed: only quotes, and the spot, move).

The spot path is deterministic (a seeded random walk of ~1% daily volatility ending wherever it ends), so
different instants give different chains and the flip can be crossed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import polars as pl
from gex.chain import ChainSnapshot
from gex_fetch.replay import Reply, ReplayServer
from gex_market import generate_chain
from gex_market.api_shapes import render_responses

#: Opening levels of the test underlyings, points / dollars.
OPEN_LEVEL = {"SPX": 5000.0, "SPY": 500.0, "QQQ": 430.0, "NDX": 18000.0, "RUT": 2000.0}


def spot_path(underlying: str, instants: list[dt.datetime], seed: int = 0, daily_vol: float = 0.01) -> list[float]:
    """A seeded random walk of the spot at ``instants`` (~``daily_vol`` over a 6.5-hour day)."""
    rng = np.random.default_rng([seed, sum(map(ord, underlying))])
    step = daily_vol / np.sqrt(78.0)
    level = OPEN_LEVEL.get(underlying, 100.0)
    return list(level * np.exp(np.cumsum(rng.normal(0.0, step, len(instants)))))


def snapshot_at(underlying: str, session: dt.date, instant: dt.datetime, spot: float, *, seed: int = 0,
                max_contracts: int | None = 1500) -> ChainSnapshot:
    """The chain of ``underlying`` at ``instant`` of ``session`` with the spot at ``spot``: the same open
    interest all day (anchored at the opening level), quotes at ``spot``, stamped ``instant``."""
    anchor = OPEN_LEVEL.get(underlying, 100.0)
    snap = generate_chain(session, spot, underlying=underlying, seed=seed, max_contracts=max_contracts, oi_anchor=anchor)
    utc = instant.astimezone(dt.timezone.utc)
    frame = snap.frame.with_columns(pl.lit(utc).cast(snap.frame.schema["snapshot_ts"]).alias("snapshot_ts"),
                                    pl.lit(utc).cast(snap.frame.schema["valuation_ts"]).alias("valuation_ts"))
    return replace(snap, frame=frame, snapshot_ts=utc, valuation_ts=utc)


def serve_snapshot(server: ReplayServer, snapshot: ChainSnapshot) -> None:
    """Make ``server`` answer Cboe's delayed-quotes request for the snapshot's underlying with it."""
    for r in render_responses(snapshot, "cboe", base_url=server.base_url):
        server.add(r.path, Reply(body=r.body, content_type=r.content_type))
