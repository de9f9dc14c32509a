"""Black-Scholes greeks of a multi-leg position (shares, $ per day, $ per vol point)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gex.advisor.inputs import DAYS_PER_YEAR, Leg
from gex.greeks import bs_delta, bs_gamma, bs_price, bs_theta, bs_vega


@dataclass(frozen=True)
class PositionGreeks:
    """Greeks of the whole position at one spot (position = sum of legs x contracts x multiplier).

    Attributes
    ----------
    delta_shares : share-equivalent delta (the hedge target is its negative).
    gamma_shares_per_usd : change of delta_shares per $1 move of spot (long options > 0).
    vega_usd_per_volpt : $ per +1 vol point in every leg's IV.
    theta_usd_per_day : Black-Scholes theta, $ per calendar day.
    carry_usd_per_day : hedged carry ``-1/2 S^2 sum(Gamma_i sigma_i^2) / 365``: what a delta-hedged
        position loses per day at zero realized vol (equals theta net of the hedge's financing).
    value_usd : mark-to-model value, $.
    """

    delta_shares: float
    gamma_shares_per_usd: float
    vega_usd_per_volpt: float
    theta_usd_per_day: float
    carry_usd_per_day: float
    value_usd: float


def _leg_arrays(legs: Sequence[Leg], iv: float | None) -> tuple[np.ndarray, ...]:
    ivs = []
    for leg in legs:
        vol = leg.iv if leg.iv is not None else iv
        if vol is None:
            raise ValueError("no implied vol: give one IV for the market or an iv for every leg")
        if not (0.005 <= vol <= 5.0):
            raise ValueError(f"implied vol {vol} must be a decimal in [0.005, 5] (0.2 = 20%)")
        ivs.append(vol)
    strike = np.array([leg.strike for leg in legs])
    tau = np.array([leg.tau_years for leg in legs])
    is_call = np.array([leg.right == "call" for leg in legs])
    qty = np.array([leg.contracts * leg.multiplier for leg in legs])
    return strike, tau, is_call, qty, np.array(ivs)


def position_greeks(legs: Sequence[Leg], spot: float, iv: float | None = None, rate: float = 0.0) -> PositionGreeks:
    """Black-Scholes greeks of the position at ``spot`` (no dividends), see :class:`PositionGreeks`."""
    if not legs:
        raise ValueError("the position has no legs")
    strike, tau, is_call, qty, vol = _leg_arrays(legs, iv)
    gamma = np.asarray(bs_gamma(spot, strike, rate, vol, tau), dtype=float)
    return PositionGreeks(
        delta_shares=float(qty @ np.asarray(bs_delta(spot, strike, rate, vol, tau, is_call), dtype=float)),
        gamma_shares_per_usd=float(qty @ gamma),
        vega_usd_per_volpt=float(qty @ np.asarray(bs_vega(spot, strike, rate, vol, tau), dtype=float)) / 100.0,
        theta_usd_per_day=float(qty @ np.asarray(bs_theta(spot, strike, rate, vol, tau, is_call), dtype=float)) / DAYS_PER_YEAR,
        carry_usd_per_day=float(-0.5 * spot**2 * (qty @ (gamma * vol**2))) / DAYS_PER_YEAR,
        value_usd=float(qty @ np.asarray(bs_price(spot, strike, rate, vol, tau, is_call), dtype=float)),
    )


def position_gamma(legs: Sequence[Leg], spot: np.ndarray, elapsed_years: float, iv: float | None = None,
                   rate: float = 0.0) -> np.ndarray:
    """Position gamma (shares per $) at spots ``spot`` (any shape) after ``elapsed_years``; expired legs give 0."""
    strike, tau, _, qty, vol = _leg_arrays(legs, iv)
    s = np.asarray(spot, dtype=float)[..., None]
    left = tau - elapsed_years
    g = np.asarray(bs_gamma(s, strike, rate, vol, np.where(left > 0, left, 1.0)), dtype=float)
    return (g * np.where(left > 0, qty, 0.0)).sum(axis=-1)
