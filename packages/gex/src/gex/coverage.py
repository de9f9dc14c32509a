"""Chain completeness: detect partial chains (UI month filters) from the expiries a snapshot covers.

A full listed chain for an index or an ETF spans many months, out to LEAPS; a download filtered to one
month in the vendor's UI covers one calendar month only, or stops within weeks. A partial chain's
total is not the underlying's total, so it is flagged, never presented as one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from gex.columns import epoch_days

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


#: English month names, as polars' ``%B`` prints them (not the C locale's: the reason must not depend on it).
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_EPOCH = dt.date(1970, 1, 1)


def chain_coverage(frame: pl.DataFrame, session: dt.date) -> Coverage:
    """Expiry coverage of a canonical chain frame as of ``session``.

    Partial when every unexpired expiration falls in one calendar month, or the furthest expiration is
    less than :data:`MIN_FULL_CHAIN_HORIZON_DAYS` away. Equal to :func:`chain_coverage_reference` (which
    states it with :func:`coverage_table`); computed on the expiration days with numpy because it runs for
    every chain, where the polars query costs ~1.5 ms and numpy ~0.05 ms.

    >>> import polars as pl, datetime as dt
    >>> f = pl.DataFrame({"expiration": [dt.date(2025, 10, d) for d in (1, 3, 10, 17)]})
    >>> chain_coverage(f, dt.date(2025, 9, 25)).partial
    True
    """
    expiration = frame["expiration"]
    if expiration.dtype != pl.Date or type(session) is not dt.date:
        return chain_coverage_reference(frame, session)
    today = (session - _EPOCH).days
    all_days = epoch_days(expiration)  # days since 1970-01-01; nulls (NaN) are never unexpired
    days = all_days[~np.isnan(all_days)].astype(np.int64)
    unique = np.unique(days[days >= today])
    if unique.size == 0:
        return Coverage(0, None, None, 0, True, "no unexpired expirations")
    first, last = _EPOCH + dt.timedelta(days=int(unique[0])), _EPOCH + dt.timedelta(days=int(unique[-1]))
    months = int(np.unique(unique.astype("datetime64[D]").astype("datetime64[M]")).size)
    horizon = int(unique[-1]) - today
    reason = None
    if months == 1:
        reason = f"all {unique.size} expirations fall in {_MONTHS[first.month - 1]} {first.year} (month-filtered download?)"
    elif horizon < MIN_FULL_CHAIN_HORIZON_DAYS:
        reason = f"furthest expiration {last.isoformat()} is only {horizon} days out"
    return Coverage(int(unique.size), first, last, months, reason is not None, reason)


def chain_coverage_reference(frame: pl.DataFrame, session: dt.date) -> Coverage:
    """:func:`chain_coverage` through :func:`coverage_table` (the polars statement it is tested against)."""
    one = pl.DataFrame({"_chain": [0], "session": [session]}, schema={"_chain": pl.Int64, "session": pl.Date})
    rows = frame.select(pl.lit(0, pl.Int64).alias("_chain"), pl.col("expiration"))
    return Coverage(**coverage_table(rows, one, "_chain").drop("_chain", "session").row(0, named=True))


def coverage_table(frame: pl.DataFrame, chains: pl.DataFrame, by: str) -> pl.DataFrame:
    """:func:`chain_coverage` of many chains at once (a whole-market file has thousands).

    Parameters
    ----------
    frame:
        Contracts of every chain: columns ``by`` (the chain's id) and ``expiration``.
    chains:
        One row per chain: ``by`` and ``session`` (the date the coverage is judged from).

    Returns
    -------
    pl.DataFrame
        ``chains`` (same rows and order) plus the :class:`Coverage` fields as columns: ``expirations``
        (Int32), ``first_expiration``, ``last_expiration``, ``months_covered`` (Int32), ``partial``, ``reason``.
    """
    e = pl.col("expiration")
    unexpired = frame.select(by, "expiration").join(chains.select(by, "session"), on=by).filter(e >= pl.col("session"))
    found = unexpired.group_by(by).agg(
        expirations=e.n_unique().cast(pl.Int32),
        first_expiration=e.min(),
        last_expiration=e.max(),
        months_covered=(e.dt.year() * 12 + e.dt.month()).n_unique().cast(pl.Int32),
    )
    out = chains.join(found, on=by, how="left", maintain_order="left").with_columns(
        pl.col("expirations", "months_covered").fill_null(0)
    )
    horizon = (pl.col("last_expiration") - pl.col("session")).dt.total_days()
    reason = (
        pl.when(pl.col("expirations") == 0)
        .then(pl.lit("no unexpired expirations"))
        .when(pl.col("months_covered") == 1)
        .then(
            pl.format(
                "all {} expirations fall in {} (month-filtered download?)",
                "expirations",
                pl.col("first_expiration").dt.strftime("%B %Y"),
            )
        )
        .when(horizon < MIN_FULL_CHAIN_HORIZON_DAYS)
        .then(pl.format("furthest expiration {} is only {} days out", pl.col("last_expiration").cast(pl.String), horizon))
    )
    return out.with_columns(partial=reason.is_not_null(), reason=reason)
