"""A generated, ingested and computed warehouse for the published-contract tests (built once per test run).

Two underlyings so every window function is checked to stay inside its underlying: SPX (seed 5, 30
sessions: negative then positive gamma, three regime changes, sessions with one and two flip crossings)
and NDX (seed 4, 25 sessions starting a week later). Reference closes files give open/high/low/close;
end-of-day chains add 'chain' closes for the same sessions.
"""

from __future__ import annotations

import datetime as dt
import shutil
from functools import lru_cache
from pathlib import Path

import duckdb
from gex.conventions import NATIVE
from gex_market import generate_market
from gex_warehouse import compute as c
from gex_warehouse.advice import refresh_hedge_advice
from gex_warehouse.connect import connect
from gex_warehouse.load import expand_paths, ingest_file

#: (underlying, seed, sessions, first session, spot before the first session)
MARKETS = (("SPX", 5, 30, dt.date(2025, 1, 2), 5000.0), ("NDX", 4, 25, dt.date(2025, 1, 10), 20000.0))
#: Where the example queries live (see docs/sql-contract.md).
QUERIES_DIR = Path(__file__).resolve().parents[2] / "sql" / "queries"
#: The published views of the contract (DuckDB main schema).
PUBLISHED_VIEWS = (
    "regime_daily", "gex_by_strike", "gex_by_expiry", "gex_by_dte", "gex_profile", "flip_crossings",
    "regime_history", "flip_history", "levels_history", "vol_context", "runs", "hedge_advice", "gex_by_strike_root",
    "expected_move", "level_outcomes",
    "scanner", "early_exercise",
)


@lru_cache(maxsize=1)
def built_warehouse(root: str) -> Path:
    """Generate, ingest and compute the markets under ``root``; returns the warehouse file (do not write to it:
    copy it with :func:`copy_of`)."""
    base = Path(root)
    path = base / "published.duckdb"
    con = connect(path)
    try:
        for underlying, seed, sessions, start, spot in MARKETS:
            landing = base / f"landing_{underlying}"
            generate_market(landing, sessions=sessions, contracts=1500, seed=seed, underlying=underlying,
                            start=start, spot0=spot)
            for file in expand_paths([landing]):
                assert ingest_file(con, file).status == "loaded", file
        for u, s in c.loaded_sessions(con):
            frames = c.compute_session(c.snapshot_from_warehouse(con, u, s), NATIVE, c.rate_for(con, s),
                                       load_id=c.chain_load_id(con, u, s))
            c.write_marts(con, frames)
        refresh_hedge_advice(con, c.loaded_sessions(con))  # as the publish flow does
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return path


def copy_of(warehouse: Path, target: Path) -> Path:
    shutil.copyfile(warehouse, target)
    return target


def read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """A consumer's connection: read-only, instants in UTC."""
    con = connect(warehouse, read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con
