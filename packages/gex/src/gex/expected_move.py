"""Expected move: what the options price for the next expiries and days (pure polars/numpy).

- **Straddle-implied move of each expiry** (:func:`straddle_moves`): the at-the-money straddle mid
  ``C_mid(K) + P_mid(K)`` (both sides two-sided quotes), linearly interpolated in strike to the expiry's
  forward between the two strikes around it (exactly the straddle when the forward is a strike). The
  forward is the put-call-parity forward of :func:`gex.forwards.parity_forwards` where the expiry has
  one, else ``spot * exp((rate - dividend_yield) * T)`` with the contracts' own carry. Under
  Black-Scholes the ATM-forward straddle is ``2 e^{-rT} F (2 N(sigma sqrt(T) / 2) - 1) ~ 0.8 sigma sqrt(T) F``:
  the market's price of one standard deviation, about, of the move to expiry.
- **IV-implied moves** (:func:`iv_implied_move`): ``sigma_ATM * sqrt(days / 252)`` of spot for 1 and 5
  sessions, from the 30-day constant-maturity ATM implied vol (:func:`gex.volatility.atm_iv_constant_maturity`):
  one standard deviation of the log move over that many sessions.

Points are index points (currency per share); percentages are of spot.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl

from gex.volatility import TRADING_DAYS_PER_YEAR

_SECONDS_PER_DAY = 86_400.0

#: Columns of :func:`straddle_moves`' result.
MOVE_SCHEMA = {
    "expiration": pl.Date,
    "settlement": pl.String,
    "days_to_settlement": pl.Float64,  # calendar days from the valuation instant (act/365 days)
    "forward": pl.Float64,  # index points
    "forward_source": pl.String,  # parity | carry
    "strike_below": pl.Float64,
    "strike_above": pl.Float64,
    "straddle_points": pl.Float64,  # ATM straddle mid at the forward, index points (= the expected move)
    "straddle_pct": pl.Float64,  # straddle / spot * 100
}


def interpolate_straddle(strikes: np.ndarray, straddles: np.ndarray, forward: float) -> tuple[float, float, float]:
    """Straddle at ``forward`` by linear interpolation in strike: ``(value, strike_below, strike_above)``.

    ``strikes`` sorted ascending and unique. NaN when the forward is outside the quoted strikes.

    >>> interpolate_straddle(np.array([95.0, 100.0, 105.0]), np.array([12.0, 8.0, 11.0]), 101.0)
    (8.6, 100.0, 105.0)
    """
    if strikes.size == 0 or not (strikes[0] <= forward <= strikes[-1]):
        return math.nan, math.nan, math.nan
    hi = int(np.searchsorted(strikes, forward, side="left"))
    if strikes[hi] == forward:
        return float(straddles[hi]), float(strikes[hi]), float(strikes[hi])
    lo = hi - 1
    w = (forward - strikes[lo]) / (strikes[hi] - strikes[lo])
    return float(straddles[lo] + w * (straddles[hi] - straddles[lo])), float(strikes[lo]), float(strikes[hi])


def straddle_moves(
    contracts: pl.DataFrame, forwards: pl.DataFrame, spot: float, valuation_ts: dt.datetime
) -> pl.DataFrame:
    """Straddle-implied move of every expiry with a quoted straddle around its forward (:data:`MOVE_SCHEMA`).

    Parameters
    ----------
    contracts:
        Contracts with ``expiration``, ``settlement``, ``settlement_ts`` (aware), ``strike``, ``right``
        (C/P), ``bid``, ``ask`` (currency per share), ``tenor_years``, ``rate`` and ``dividend_yield``
        (decimal per year, continuous), e.g. :attr:`gex.analysis.Analysis.contracts`.
    forwards:
        :func:`gex.forwards.parity_forwards` output (``expiration``, ``settlement``, ``forward``); may be empty.
    spot:
        Underlying, currency per share (> 0).
    valuation_ts:
        The valuation instant; expiries settling at or before it are left out.
    """
    if contracts.is_empty() or not spot > 0:
        return pl.DataFrame(schema=MOVE_SCHEMA)
    quoted = contracts.filter((pl.col("bid") > 0) & (pl.col("ask") >= pl.col("bid"))).with_columns(
        mid=(pl.col("bid") + pl.col("ask")) / 2
    )
    keys = ["expiration", "settlement", "strike"]
    legs = quoted.group_by([*keys, "right"]).agg(pl.col("mid").mean(), pl.col("settlement_ts").first(),
                                                 pl.col("tenor_years").first(), carry=(pl.col("rate") - pl.col("dividend_yield")).mean())
    calls = legs.filter(pl.col("right") == "C").select(*keys, "settlement_ts", "tenor_years", "carry", call_mid="mid")
    puts = legs.filter(pl.col("right") == "P").select(*keys, put_mid="mid")
    pairs = calls.join(puts, on=keys, how="inner").with_columns(straddle=pl.col("call_mid") + pl.col("put_mid"))
    parity = {(e, s): f for e, s, f in forwards.select("expiration", "settlement", "forward").iter_rows()} if forwards.height else {}
    rows = []
    for (expiration, settlement), group in pairs.sort(keys).group_by(["expiration", "settlement"], maintain_order=True):
        seconds = (group["settlement_ts"][0] - valuation_ts).total_seconds()
        if seconds <= 0:
            continue
        if (expiration, settlement) in parity:
            forward, source = float(parity[(expiration, settlement)]), "parity"
        else:
            carry, tenor = float(group["carry"].mean()), float(group["tenor_years"].mean())
            forward, source = spot * math.exp(carry * tenor), "carry"
        value, below, above = interpolate_straddle(group["strike"].to_numpy(), group["straddle"].to_numpy(), forward)
        if not math.isfinite(value):
            continue
        rows.append({"expiration": expiration, "settlement": settlement, "days_to_settlement": seconds / _SECONDS_PER_DAY,
                     "forward": forward, "forward_source": source, "strike_below": below, "strike_above": above,
                     "straddle_points": value, "straddle_pct": 100.0 * value / spot})
    return pl.DataFrame(rows, schema=MOVE_SCHEMA, orient="row") if rows else pl.DataFrame(schema=MOVE_SCHEMA)


def iv_implied_move(atm_iv: float | None, spot: float, sessions: int) -> tuple[float | None, float | None]:
    """One-standard-deviation move over ``sessions`` sessions from an annual ATM vol: ``(points, percent of spot)``.

    ``percent = 100 * sigma * sqrt(sessions / 252)``; ``(None, None)`` without a vol.

    >>> [round(x, 4) for x in iv_implied_move(0.16, 5000.0, 1)]
    [50.3953, 1.0079]
    """
    if atm_iv is None or not math.isfinite(atm_iv) or atm_iv <= 0:
        return None, None
    pct = 100.0 * atm_iv * math.sqrt(sessions / TRADING_DAYS_PER_YEAR)
    return spot * pct / 100.0, pct
