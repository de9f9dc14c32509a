"""Columns without polars' per-call query cost: physical values of date and time columns as numpy arrays (the one
copy of these readers the core has), and frames built from Series.

Why: ``Series.to_physical()`` runs as a polars query (~0.15 ms a call, whatever the column's length), and the
analysis asks for these values ~10 times a chain, on every chain of a whole-market session; numpy's
``datetime64`` view of the same column costs ~4 us. The values are the same integers (tested against
``to_physical``, nulls included).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import polars as pl


def epoch_days(column: pl.Series) -> np.ndarray:
    """Days since 1970-01-01 of a ``Date`` column as float64, shape ``(n,)``, NaN where null: the values of
    ``column.to_physical().cast(pl.Float64).to_numpy()`` (what any other dtype gets)."""
    if column.dtype != pl.Date:
        return column.to_physical().cast(pl.Float64).to_numpy()
    values = column.to_numpy()  # datetime64[D]; a null is NaT
    days = values.view(np.int64).astype(np.float64)
    days[np.isnat(values)] = np.nan
    return days


def date_days(column: pl.Series) -> np.ndarray | None:
    """A ``Date`` column without nulls as days since 1970-01-01 (int64, shape ``(n,)``); ``None`` for another
    dtype or a null (callers then run their polars reference)."""
    if column.dtype != pl.Date or column.null_count():
        return None
    return column.to_numpy().view(np.int64)  # datetime64[D]'s integers


def utc_microseconds(column: pl.Series) -> np.ndarray | None:
    """The physical values (microseconds since the epoch, int64 shape ``(n,)``) of a time-zone-aware microsecond
    ``Datetime`` column without nulls; ``None`` for anything else (callers then run their polars reference).

    Why: comparing or subtracting a Python datetime in polars builds a literal and runs a query, ~0.2-0.7 ms a
    call, and these run for every chain of a whole-market session."""
    dtype = column.dtype
    if not isinstance(dtype, pl.Datetime) or dtype.time_unit != "us" or dtype.time_zone is None or column.null_count():
        return None
    return column.to_numpy().view(np.int64)  # datetime64[us] in UTC


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def epoch_microseconds(instant: dt.datetime) -> int:
    """Microseconds from 1970-01-01 UTC to the aware ``instant`` (exact integer arithmetic)."""
    return (instant - _EPOCH) // dt.timedelta(microseconds=1)


# Frames from Series without polars' eager query path: ``pl.DataFrame(list_of_series)`` checks each Series in Python
# (~80 us for 30 columns) and ``with_columns`` runs a query (~0.1-0.3 ms); ``hstack`` is one native call (~3-10 us).
# The analysis builds ~20 frames a chain, on every chain of a whole-market session.


def frame_of(columns: Sequence[pl.Series]) -> pl.DataFrame:
    """``pl.DataFrame(columns)`` for a list of Series: the same frame, and the same ``ShapeError`` (unequal
    heights) or ``DuplicateError`` (a name twice)."""
    if not columns:
        return pl.DataFrame()
    return columns[0].to_frame().hstack(list(columns[1:]))


def with_series(frame: pl.DataFrame, *series: pl.Series) -> pl.DataFrame:
    """``frame.with_columns(*series)`` for Series of ``frame``'s height: a Series named as a column of ``frame``
    replaces it in place, the others are appended in order. ``frame`` itself is not changed. A Series of another
    height (which ``with_columns`` may broadcast or refuse), or two Series of one name, take ``with_columns`` itself."""
    if any(s.len() != frame.height for s in series) or len({s.name for s in series}) != len(series):
        return frame.with_columns(*series)
    out = frame.clone()  # shallow: the columns are shared, not copied
    names = set(out.columns)
    added: list[pl.Series] = []
    for s in series:
        if s.name in names:
            out.replace_column(out.get_column_index(s.name), s)
        else:
            added.append(s)
            names.add(s.name)
    return out.hstack(added) if added else out
