"""Chain completeness: detect partial chains (UI month filters) from the expiries a snapshot covers.

A full listed chain for an index or an ETF spans many months, out to LEAPS; a download filtered to one
month in the vendor's UI covers one calendar month only, or stops within weeks. A partial chain's
total is not the underlying's total, so it is flagged, never presented as one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

#: A chain whose furthest expiry is nearer than this (calendar days) is treated as partial.
MIN_FULL_CHAIN_HORIZON_DAYS = 60


@dataclass(frozen=True)
class Coverage:
    """Which expiries a snapshot has, and whether it looks like a partial (filtered) chain."""

    expirations: int
    first_expiration: dt.date | None
    last_expiration: dt.date | None
    months_covered: int
    partial: bool
    reason: str | None


def chain_coverage(frame: pl.DataFrame, session: dt.date) -> Coverage:
    """Expiry coverage of a canonical chain frame as of ``session``.

    Partial when every unexpired expiration falls in one calendar month, or the furthest expiration is
    less than :data:`MIN_FULL_CHAIN_HORIZON_DAYS` away.

    >>> import polars as pl, datetime as dt
    >>> f = pl.DataFrame({"expiration": [dt.date(2025, 10, d) for d in (1, 3, 10, 17)]})
    >>> chain_coverage(f, dt.date(2025, 9, 25)).partial
    True
    """
    exp = frame.select(pl.col("expiration").filter(pl.col("expiration") >= session).unique().sort()).to_series()
    if exp.is_empty():
        return Coverage(0, None, None, 0, True, "no unexpired expirations")
    first, last = exp.min(), exp.max()
    months = exp.dt.strftime("%Y-%m").n_unique()
    horizon = (last - session).days
    reason = None
    if months == 1:
        reason = f"all {exp.len()} expirations fall in {first:%B %Y} (month-filtered download?)"
    elif horizon < MIN_FULL_CHAIN_HORIZON_DAYS:
        reason = f"furthest expiration {last} is only {horizon} days out"
    return Coverage(exp.len(), first, last, months, reason is not None, reason)
