"""Lifetime forecast of a band policy: expected cost, hedging-error std, gross P&L and trades."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gex.advisor.inputs import DAYS_PER_YEAR, Leg
from gex.advisor.policy import BandPolicy
from gex.advisor.position import _leg_arrays
from gex.greeks import bs_gamma


@dataclass(frozen=True)
class Forecast:
    """Expected totals over a horizon for a policy, integrated over time and the lognormal spot law.

    cost_usd : expected total hedging cost, $.
    hedge_error_std_usd : std of the total hedging error (tracking + discrete monitoring), $.
    gross_pnl_usd : expected gamma revenue minus carry (before costs), $.
    trades : expected number of trades.
    """

    cost_usd: float
    hedge_error_std_usd: float
    gross_pnl_usd: float
    trades: float

    @property
    def net_pnl_usd(self) -> float:
        return self.gross_pnl_usd - self.cost_usd


def forecast(legs: Sequence[Leg], spot: float, policy: BandPolicy, realized_vol: float, iv: float | None = None,
             horizon_days: float | None = None, n_time: int = 96, n_space: int = 1201) -> Forecast:
    """Integrate the policy's rates over ``[0, horizon]`` and the driftless lognormal law of spot.

    Parameters
    ----------
    legs : the position; spot : $ per share today; policy : the rule (e.g. ``Advice.policy``);
    realized_vol : vol of the spot paths, decimal per year; iv : the legs' implied vol (hedging vol) when
    they carry none; horizon_days : calendar days to integrate (default: to the first expiry);
    n_time, n_space : quadrature nodes in time and spot.

    Time uses Gauss-Legendre nodes in ``u`` with ``t = T (1 - u^2)`` (gamma grows like ``tau^-1/2``
    near expiry); spot uses a log-spaced grid over +/- 8 standard deviations with trapezoid weights.
    The hedge-error variance adds up over time (martingale increments); the spread of the cost across
    paths is not included (small next to the tracking error in the validated cases).
    """
    horizon = min(leg.tau_years for leg in legs) if horizon_days is None else horizon_days / DAYS_PER_YEAR
    strike, tau, _, qty, vol = _leg_arrays(legs, iv)
    u, wu = np.polynomial.legendre.leggauss(n_time)
    u, wu = 0.5 * (u + 1), 0.5 * wu
    t = horizon * (1 - u**2)
    wt = wu * 2 * horizon * u
    z = np.linspace(-8.0, 8.0, n_space)
    cost = var = gross = trades = 0.0
    for tj, wj in zip(t, wt, strict=True):
        s_sd = realized_vol * math.sqrt(tj) if tj > 0 else 0.0
        # spot grid: the law of S_t (its std ``s_sd`` shrinks near t = 0; the grid follows it)
        zz = z * max(s_sd, 1e-12)
        s = spot * np.exp(-0.5 * s_sd**2 + zz)
        dens = np.exp(-0.5 * z**2)
        dens /= np.trapezoid(dens, z)
        left = tau - tj
        alive = left > 0
        g_leg = np.asarray(bs_gamma(s[:, None], strike, policy.rate, vol, np.where(alive, left, 1.0)), dtype=float)
        g_leg = g_leg * np.where(alive, qty, 0.0)
        g = g_leg.sum(axis=1)
        tr, c, v = policy.rates(g, s, realized_vol, max(float(left.min()), 0.0))
        carry = 0.5 * s**2 * (g_leg * (realized_vol**2 - vol**2)).sum(axis=1)
        cost += wj * np.trapezoid(c * dens, z)
        var += wj * np.trapezoid(v * dens, z)
        gross += wj * np.trapezoid(carry * dens, z)
        trades += wj * np.trapezoid(tr * dens, z)
    return Forecast(float(cost), float(math.sqrt(var)), float(gross), float(trades))
