"""The key columns of a snapshot's mart rows: ``session``, ``underlying``, ``valuation_ts`` (UTC) and ``preset``.

Built once per snapshot as one-row Series (:func:`key_columns`) and repeated to each mart frame's height with
``new_from_index`` (no query). Why: every chain of a whole-market session keys ten frames, and a Series of Python
datetimes with a time zone is converted through a polars query (~0.3 ms); from epoch microseconds cast to the
zoned dtype it is ~16 us, the same values (tested).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

import polars as pl
from gex.columns import epoch_microseconds

#: dtype of ``valuation_ts`` and every other instant of the marts.
UTC_MICROSECONDS = pl.Datetime("us", "UTC")

def utc_series(name: str, instants: Sequence[dt.datetime | None]) -> pl.Series:
    """A ``Datetime("us", "UTC")`` Series of ``instants`` (time-zone-aware, or ``None``): the Series
    ``pl.Series(name, instants, dtype=UTC_MICROSECONDS)`` is, built from epoch microseconds. A naive instant
    takes that constructor itself (whatever it makes of it)."""
    if any(t is not None and t.tzinfo is None for t in instants):
        return pl.Series(name, instants, dtype=UTC_MICROSECONDS)
    micros = [None if t is None else epoch_microseconds(t) for t in instants]
    return pl.Series(name, micros, dtype=pl.Int64).cast(UTC_MICROSECONDS)


@functools.lru_cache(maxsize=16)
def key_columns(underlying: str, session: dt.date, valuation_ts: dt.datetime, preset: str) -> tuple[pl.Series, ...]:
    """One-row ``session``, ``underlying``, ``valuation_ts`` and ``preset`` Series of a snapshot's mart rows, built
    once per analysis and reused by its frames."""
    return (pl.Series("session", [session], dtype=pl.Date), pl.Series("underlying", [underlying], dtype=pl.String),
            utc_series("valuation_ts", [valuation_ts]), pl.Series("preset", [preset], dtype=pl.String))


def repeated_keys(underlying: str, session: dt.date, valuation_ts: dt.datetime, preset: str, n: int) -> list[pl.Series]:
    """The four key columns of :func:`key_columns`, ``n`` rows each."""
    return [c.new_from_index(0, n) for c in key_columns(underlying, session, valuation_ts, preset)]
