"""Key strikes (walls, absolute gamma strike) and the dealer-gamma regime, each definition named.

Definitions (recorded verbatim with every result, see :data:`LEVEL_DEFINITIONS`):

- call wall: the strike at or above spot with the largest call GEX magnitude;
- put wall: the strike at or below spot with the largest put GEX magnitude (the most negative put GEX
  under the classic convention);
- most negative net strike: the strike with the most negative net GEX (anywhere);
- absolute gamma strike: the strike with the largest ``|call GEX| + |put GEX|`` (not netted).

Magnitudes make the definitions independent of the dealer-positioning sign convention; under the
classic convention they are exactly "largest call GEX" and "most negative put GEX".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

LEVEL_DEFINITIONS: dict[str, str] = {
    "call_wall": "strike >= spot with the largest |call GEX|",
    "put_wall": "strike <= spot with the largest |put GEX|",
    "most_negative_net_strike": "strike with the most negative net GEX",
    "abs_gamma_strike": "strike with the largest |call GEX| + |put GEX| (not netted)",
    "regime": "sign of total GEX at spot from the same model as the profile",
}

Regime = Literal["positive", "negative", "neutral"]


@dataclass(frozen=True)
class Levels:
    """Key strikes, currency per share; ``None`` when no strike qualifies."""

    call_wall: float | None
    put_wall: float | None
    most_negative_net_strike: float | None
    abs_gamma_strike: float | None


def _arg_strike(score: pl.Expr, *, largest: bool, where: pl.Expr | None = None) -> pl.Expr:
    """The strike with the largest (``largest``) or smallest non-zero, non-null ``score`` among the rows
    ``where`` keeps, as an aggregate expression (null when none qualifies). Ties go to the lowest strike:
    sorted by score, then strike."""
    keep = score.is_not_null() & (score != 0)
    if where is not None:
        keep = keep & where
    return pl.col("strike").filter(keep).sort_by([score.filter(keep), pl.col("strike").filter(keep)],
                                                 descending=[largest, False]).first()


def key_levels(by_strike: pl.DataFrame, spot: float) -> Levels:
    """Walls and absolute gamma strike from a by-strike GEX table.

    Parameters
    ----------
    by_strike:
        Output of :func:`gex.gex.per_strike_gex` (one row per strike; ``call_gex_usd_per_1pct``,
        ``put_gex_usd_per_1pct``, ``net_gex_usd_per_1pct``; dollars per 1% move).
    spot:
        Underlying price, currency per share.

    Examples
    --------
    >>> import polars as pl
    >>> t = pl.DataFrame({"strike": [90.0, 95.0, 100.0, 105.0, 110.0],
    ...     "call_gex_usd_per_1pct": [1.0, 2.0, 6.0, 9.0, 3.0],
    ...     "put_gex_usd_per_1pct": [-8.0, -12.0, -5.0, -1.0, 0.0]})
    >>> t = t.with_columns(net_gex_usd_per_1pct=pl.col("call_gex_usd_per_1pct") + pl.col("put_gex_usd_per_1pct"))
    >>> key_levels(t, spot=101.0)
    Levels(call_wall=105.0, put_wall=95.0, most_negative_net_strike=95.0, abs_gamma_strike=95.0)
    """
    columns = ("strike", "call_gex_usd_per_1pct", "put_gex_usd_per_1pct", "net_gex_usd_per_1pct")
    if any(by_strike[c].null_count() for c in columns):
        return key_levels_reference(by_strike, spot)
    strike, call, put, net = (by_strike[c].to_numpy().astype(np.float64, copy=False) for c in columns)
    levels = key_levels_arrays(strike, call, put, net, spot)
    return key_levels_reference(by_strike, spot) if levels is None else levels


def _arg_strike_np(strike: np.ndarray, score: np.ndarray, *, largest: bool, where: np.ndarray | None = None) -> float | None:
    """:func:`_arg_strike` on finite arrays: the strike of the largest (smallest) non-zero score among the
    rows ``where`` keeps, ties to the lowest strike; ``None`` when no row qualifies."""
    keep = score != 0
    if where is not None:
        keep &= where
    if not keep.any():
        return None
    scores = score[keep]
    best = scores.max() if largest else scores.min()
    return float(strike[keep][scores == best].min())


def key_levels_arrays(strike: np.ndarray, call: np.ndarray, put: np.ndarray, net: np.ndarray,
                      spot: float) -> Levels | None:
    """:func:`key_levels` of a by-strike table given as arrays, each shape ``(n,)`` (strike in currency per
    share, GEX in dollars per 1% move); ``None`` when a value is not finite (NaN orders apart in polars'
    sort: :func:`key_levels_reference` decides those). Why: it runs for every chain and expiry filter, and
    numpy on a few hundred strikes is ~30x cheaper than a polars query."""
    if not (np.isfinite(strike).all() and np.isfinite(call).all() and np.isfinite(put).all()
            and np.isfinite(net).all()):
        return None
    most_negative = _arg_strike_np(strike, net, largest=False)
    return Levels(
        call_wall=_arg_strike_np(strike, np.abs(call), largest=True, where=strike >= spot),
        put_wall=_arg_strike_np(strike, np.abs(put), largest=True, where=strike <= spot),
        most_negative_net_strike=most_negative if net.size and net.min() < 0 else None,
        abs_gamma_strike=_arg_strike_np(strike, np.abs(call) + np.abs(put), largest=True),
    )


def key_levels_reference(by_strike: pl.DataFrame, spot: float) -> Levels:
    """:func:`key_levels` computed with polars expressions (same arguments and result): the plain statement of
    the definitions that :func:`key_levels` is tested against and falls back to for non-finite values."""
    call, put, net = pl.col("call_gex_usd_per_1pct"), pl.col("put_gex_usd_per_1pct"), pl.col("net_gex_usd_per_1pct")
    strike = pl.col("strike")
    # one select (one pass of polars) for all four levels
    row = by_strike.select(
        call_wall=_arg_strike(call.abs(), largest=True, where=strike >= spot),
        put_wall=_arg_strike(put.abs(), largest=True, where=strike <= spot),
        most_negative=_arg_strike(net, largest=False),
        abs_gamma=_arg_strike(call.abs() + put.abs(), largest=True),
        lowest_net=net.min(),  # None for an empty table (no contract could be valued)
    ).row(0)
    call_wall, put_wall, most_negative, abs_gamma, lowest_net = (None if v is None else float(v) for v in row)
    return Levels(
        call_wall=call_wall,
        put_wall=put_wall,
        most_negative_net_strike=most_negative if lowest_net is not None and lowest_net < 0 else None,
        abs_gamma_strike=abs_gamma,
    )


def regime_of(gex_at_spot: float) -> Regime:
    """``positive`` (dealers long gamma: they dampen moves), ``negative`` (they amplify), or ``neutral``.

    >>> regime_of(2.5e9), regime_of(-1.0), regime_of(0.0)
    ('positive', 'negative', 'neutral')
    """
    if gex_at_spot > 0:
        return "positive"
    if gex_at_spot < 0:
        return "negative"
    return "neutral"
