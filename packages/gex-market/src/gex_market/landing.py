"""The landing-folder layout of a generated market and its file writers.

::

    <landing>/
      chains/<UNDERLYING>_<YYYY-MM-DD>_quotedata.csv   Cboe quote table, snapshot 20:30 New York of that session
      oi/occ_oi_<YYYY-MM-DD>.csv                       OCC open interest published that session's morning
      reference/closes.csv                             date,underlying,open,high,low,close
      reference/rates.csv                              date,tenor,rate

All files are UTF-8 with ``\\n`` line endings, written deterministically (same market, same bytes).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from gex_market.cboe_writer import write_cboe_quote_table
from gex_market.market import MarketSession
from gex_market.rates import TENORS


@dataclass(frozen=True)
class LandingDirs:
    """Folders of a landing area."""

    root: Path
    chains: Path
    oi: Path
    reference: Path


@dataclass(frozen=True)
class ReferenceRow:
    """The reference facts of one session: its bar (points) and rate curve (decimal, continuous)."""

    session: dt.date
    open: float
    high: float
    low: float
    close: float
    rates: tuple[float, ...]

    @classmethod
    def of(cls, ms: MarketSession) -> ReferenceRow:
        return cls(ms.session, ms.open, ms.high, ms.low, ms.close, tuple(ms.rates[t] for t in TENORS))


def make_dirs(root: Path) -> LandingDirs:
    """Create (if missing) and return the folders of the landing area ``root``."""
    dirs = LandingDirs(root, root / "chains", root / "oi", root / "reference")
    for d in (dirs.chains, dirs.oi, dirs.reference):
        d.mkdir(parents=True, exist_ok=True)
    return dirs


def chain_path(dirs: LandingDirs, underlying: str, day: dt.date) -> Path:
    return dirs.chains / f"{underlying}_{day.isoformat()}_quotedata.csv"


def oi_path(dirs: LandingDirs, day: dt.date) -> Path:
    return dirs.oi / f"occ_oi_{day.isoformat()}.csv"


def write_chain(ms: MarketSession, dirs: LandingDirs) -> Path:
    """Write the session's Cboe quote table (header ``Change:`` = the day's index change)."""
    return write_cboe_quote_table(ms.snapshot, chain_path(dirs, ms.snapshot.underlying, ms.session), change=ms.change)


def write_open_interest(ms: MarketSession, dirs: LandingDirs) -> Path:
    """Write the OCC-style file ``date,symbol,open_interest`` published on the session's morning."""
    path = oi_path(dirs, ms.session)
    ms.open_interest.write_csv(path, line_terminator="\n")
    return path


def write_reference(rows: list[ReferenceRow], underlying: str, dirs: LandingDirs) -> tuple[Path, Path]:
    """Write ``reference/closes.csv`` (prices with 2 decimals) and ``reference/rates.csv`` (6 decimals)."""
    days = pl.Series("date", [r.session for r in rows], dtype=pl.Date())
    closes = pl.DataFrame(
        {
            "date": days,
            "underlying": [underlying] * len(rows),
            "open": [r.open for r in rows],
            "high": [r.high for r in rows],
            "low": [r.low for r in rows],
            "close": [r.close for r in rows],
        }
    )
    closes_file = dirs.reference / "closes.csv"
    closes.write_csv(closes_file, float_precision=2, line_terminator="\n")
    rates = pl.DataFrame(
        {
            "date": pl.Series([r.session for r in rows for _ in TENORS], dtype=pl.Date()),
            "tenor": [t for _ in rows for t in TENORS],
            "rate": [x for r in rows for x in r.rates],
        }
    )
    rates_file = dirs.reference / "rates.csv"
    rates.write_csv(rates_file, float_precision=6, line_terminator="\n")
    return closes_file, rates_file
