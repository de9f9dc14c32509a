"""Bucket labels for days: GEX quintile, regime, distance to the gamma flip.

Every function returns one integer label per day (``-1``: in no bucket) and the bucket names in label
order, so the bootstrap (:mod:`gex.evidence.bootstrap`) can compute all buckets on one replicate.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]

#: Regimes in label order (``gex.levels.Regime`` values).
REGIMES = ("positive", "negative", "neutral")
#: Edges of the flip-distance buckets, % of spot; the distance is ``100 * (flip - spot) / spot``
#: (positive: the flip is above spot, i.e. spot is below it). Buckets are ``[lo, hi)``.
FLIP_EDGES_PCT = (-2.0, -1.0, 0.0, 1.0, 2.0)
#: Names of the flip-distance buckets (the last: no flip inside the profile window).
FLIP_BUCKETS = ("< -2%", "-2% to -1%", "-1% to 0%", "0% to +1%", "+1% to +2%", ">= +2%", "no flip")


def quantile_groups(values: npt.ArrayLike, eligible: npt.ArrayLike, n_groups: int = 5) -> IntArray:
    """Equal-count groups ``0 .. n_groups - 1`` (0 = lowest value) of the eligible days; ``-1`` elsewhere.

    The groups are cut over the eligible days only (e.g. the days with a full forward window): the day of
    rank ``r`` (0-based, ascending value, ties in time order) among the ``m`` eligible days is in group
    ``floor(n_groups * r / m)``. Days with a non-finite value are not eligible.

    >>> quantile_groups([5.0, 1.0, 3.0, 2.0, 4.0, 9.0], [True] * 5 + [False], n_groups=5).tolist()
    [4, 0, 2, 1, 3, -1]
    """
    v = np.asarray(values, dtype=np.float64)
    ok = np.asarray(eligible, dtype=bool) & np.isfinite(v)
    out = np.full(v.size, -1, dtype=np.int64)
    where = np.flatnonzero(ok)
    m = where.size
    if m == 0:
        return out
    order = where[np.argsort(v[where], kind="stable")]  # stable: equal values keep time order
    out[order] = (n_groups * np.arange(m)) // m
    return out


def quintile_names(n_groups: int = 5) -> tuple[str, ...]:
    """``("Q1", ..., "Q5")``: Q1 is the lowest GEX."""
    return tuple(f"Q{i + 1}" for i in range(n_groups))


def regime_groups(regimes: npt.ArrayLike) -> IntArray:
    """Label of each day's regime in :data:`REGIMES` order; ``-1`` for a missing or unknown regime."""
    lookup = {name: i for i, name in enumerate(REGIMES)}
    return np.array([lookup.get(str(r), -1) if r is not None else -1 for r in np.asarray(regimes, dtype=object)],
                    dtype=np.int64)


def flip_distance_groups(distance_pct: npt.ArrayLike) -> IntArray:
    """Label of each day's flip distance in :data:`FLIP_BUCKETS` order (NaN/None: ``"no flip"``)."""
    d = np.array([np.nan if x is None else x for x in np.asarray(distance_pct, dtype=object)], dtype=np.float64)
    out = np.searchsorted(np.asarray(FLIP_EDGES_PCT), d, side="right").astype(np.int64)
    out[~np.isfinite(d)] = len(FLIP_BUCKETS) - 1
    return out


def wall_holds(
    closes: npt.ArrayLike,
    highs: npt.ArrayLike,
    lows: npt.ArrayLike,
    call_walls: npt.ArrayLike,
    put_walls: npt.ArrayLike,
) -> dict[str, npt.NDArray[np.float64]]:
    """Did the walls of session ``t`` hold over session ``t+1``? 1.0 yes, 0.0 no, NaN unknown, shape (n,) each.

    - ``call_wall_held_high``: next session's high strictly below the call wall (held intraday);
    - ``call_wall_held_close``: next session's close strictly below the call wall;
    - ``put_wall_held_low``: next session's low strictly above the put wall;
    - ``put_wall_held_close``: next session's close strictly above the put wall.

    NaN on the last session, where the wall or the next session's price is missing.
    """
    c, hi, lo, cw, pw = (np.array([np.nan if x is None else x for x in np.asarray(a, dtype=object)], dtype=np.float64)
                         for a in (closes, highs, lows, call_walls, put_walls))
    n = c.size

    def nxt(a: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        out = np.full(n, np.nan)
        out[:-1] = a[1:]
        return out

    def held(flag: npt.NDArray[np.bool_], *inputs: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        known = np.logical_and.reduce([np.isfinite(x) for x in inputs])
        return np.where(known, flag.astype(np.float64), np.nan)

    with np.errstate(invalid="ignore"):
        nh, nl, nc = nxt(hi), nxt(lo), nxt(c)
        return {
            "call_wall_held_high": held(nh < cw, nh, cw),
            "call_wall_held_close": held(nc < cw, nc, cw),
            "put_wall_held_low": held(nl > pw, nl, pw),
            "put_wall_held_close": held(nc > pw, nc, pw),
        }
